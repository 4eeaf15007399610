// users.js - the administrators' screen for accounts and API tokens: the users with their
// roles (and panel id for reviewers), a form to create a user, every API token with its
// owner, expiry and state, a form to create a token for any user (the secret is shown once,
// here, and never again) and revocation. Calls /api/users and /api/tokens (docs/api.md).

import {get, post, del, ApiError} from './api.js';
import {h, replace, field, select, when} from './dom.js';

const ROLES = [
  ['intake', 'Intake'],
  ['reviewer', 'Reviewer'],
  ['administrator', 'Administrator'],
  ['analyst', 'Analyst'],
];
const roleLabel = (r) => (ROLES.find(([v]) => v === r) || [r, r])[1];

export async function show(ctx) {
  if (ctx.user.role !== 'administrator') {
    replace(ctx.main, h('div', {class: 'card'}, h('h1', {tabindex: '-1'}, 'Users'),
      h('p', null, 'Only administrators manage user accounts and API tokens.')));
    ctx.main.querySelector('h1').focus();
    return null;
  }
  const [users, tokens, panel] = await Promise.all([get('/api/users'), get('/api/tokens'),
    get('/api/reviewers').catch(() => ({reviewers: []}))]);
  if (!ctx.alive()) return null;
  document.title = 'Users · IMR workbench';
  const state = {users: users.users || [], tokens: tokens.tokens || [], reviewers: panel.reviewers || []};

  const usersBox = h('div');
  const tokensBox = h('div');
  const secretBox = h('div', {'aria-live': 'polite'});
  const tokenForm = newTokenForm(ctx, state, secretBox, reload);

  async function reload() {
    const [u, t] = await Promise.all([get('/api/users'), get('/api/tokens')]);
    state.users = u.users || [];
    state.tokens = t.tokens || [];
    draw();
  }
  function draw() {
    replace(usersBox, usersTable(state.users));
    replace(tokensBox, tokensTable(ctx, state, reload));
    tokenForm.setUsers(state.users);
  }
  draw();

  replace(ctx.main,
    h('h1', {tabindex: '-1'}, 'Users and API tokens'),
    h('section', {class: 'card', 'aria-labelledby': 'users-title'},
      h('h2', {id: 'users-title'}, 'Users'),
      h('p', {class: 'small muted'}, 'Every account with its role. A reviewer account is tied to the reviewer\u2019s panel id; ',
        'it sees only the cases assigned to that reviewer.'),
      usersBox),
    newUserForm(ctx, state, reload),
    h('section', {class: 'card', 'aria-labelledby': 'tokens-title'},
      h('h2', {id: 'tokens-title'}, 'API tokens'),
      h('p', {class: 'small muted'}, 'Bearer tokens for scripts and other systems. The database keeps only a hash: ',
        'a token is shown once, when it is created. Revoke one that is lost or no longer needed.'),
      tokensBox),
    h('section', {class: 'card', 'aria-labelledby': 'new-token-title'}, tokenForm.el, secretBox));
  ctx.main.querySelector('h1').focus();
  return null;
}

function usersTable(users) {
  if (!users.length) return h('p', {class: 'muted'}, 'No users.');
  return h('table', {class: 'users'},
    h('thead', null, h('tr', null, ['Username', 'Role', 'Reviewer', 'Created', 'State'].map((t) => h('th', {scope: 'col'}, t)))),
    h('tbody', null, users.map((u) => h('tr', {'data-username': u.username},
      h('th', {scope: 'row'}, u.username),
      h('td', null, roleLabel(u.role)),
      h('td', null, u.reviewer_id || '—'),
      h('td', null, when(u.created_at)),
      h('td', null, u.disabled ? h('span', {class: 'q-no'}, 'disabled') : 'active')))));
}

function tokensTable(ctx, state, reload) {
  if (!state.tokens.length) return h('p', {class: 'muted'}, 'No API tokens yet.');
  const now = new Date().toISOString();
  return h('table', {class: 'tokens'},
    h('thead', null, h('tr', null, ['Token', 'User', 'Label', 'Created', 'Expires', 'State', ''].map((t) =>
      (t ? h('th', {scope: 'col'}, t) : h('th', {scope: 'col'}, h('span', {class: 'visually-hidden'}, 'Action')))))),
    h('tbody', null, state.tokens.map((t) => {
      const expired = t.expires_at && t.expires_at < now;
      const out = h('div');
      let action = null;
      if (!t.revoked && !expired) {
        action = h('button', {type: 'button', 'aria-label': `Revoke token ${t.id} of ${t.username}`}, 'Revoke');
        action.addEventListener('click', async () => {
          action.disabled = true;
          try {
            await del(`/api/tokens/${encodeURIComponent(t.id)}`);
            ctx.toast(`Token ${t.id} of ${t.username} revoked.`);
            await reload();
          } catch (err) {
            replace(out, ctx.errorBox(err));
            action.disabled = false;
          }
        });
      }
      return h('tr', {'data-token': t.id},
        h('th', {scope: 'row'}, h('code', null, t.id)),
        h('td', null, t.username || t.user_id),
        h('td', null, t.label || '—'),
        h('td', null, when(t.created_at)),
        h('td', null, when(t.expires_at)),
        h('td', {class: 'token-state'}, t.revoked ? h('span', {class: 'q-no'}, 'revoked')
          : expired ? h('span', {class: 'q-no'}, 'expired') : h('span', {class: 'q-yes'}, 'active')),
        h('td', null, action, out));
    })));
}

// Mark the fields a problem document points at, and show it.
function showProblem(ctx, out, err, controls) {
  for (const el of Object.values(controls)) el.removeAttribute('aria-invalid');
  const fields = err instanceof ApiError || err.fields ? err.fields || [] : [];
  for (const f of fields) {
    const el = controls[(f.pointer || '').replace(/^\//, '')];
    if (el) el.setAttribute('aria-invalid', 'true');
  }
  replace(out, ctx.errorBox(err));
  const first = fields.map((f) => controls[(f.pointer || '').replace(/^\//, '')]).find(Boolean);
  if (first) first.focus();
}

function newUserForm(ctx, state, reload) {
  const username = h('input', {name: 'username', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-required': 'true'});
  const password = h('input', {name: 'password', type: 'password', autocomplete: 'new-password', required: true, 'aria-required': 'true'});
  const role = select(ROLES, {name: 'role', value: 'intake'});
  const reviewer = select([['', 'None'], ...state.reviewers.map((r) => [r.id, `${r.id} — ${((r.profile || r).specialties || []).join(', ')}`])],
    {name: 'reviewer_id', value: '', disabled: true});
  role.addEventListener('change', () => {
    reviewer.disabled = role.value !== 'reviewer';
    if (reviewer.disabled) reviewer.value = '';
  });
  const out = h('div');
  const form = h('form', {class: 'card', novalidate: true, 'aria-labelledby': 'new-user-title'},
    h('h2', {id: 'new-user-title'}, 'Create a user'),
    h('div', {class: 'grid2'},
      field('Username', username, '3 to 64 letters, digits and . _ - @'),
      field('Password', password, 'at least 10 characters; tell it to the user by a safe channel'),
      field('Role', role),
      field('Reviewer (panel id)', reviewer, 'reviewer accounts only: whose cases the account sees')),
    out,
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Create the user')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {username: username.value.trim(), password: password.value, role: role.value};
    if (role.value === 'reviewer' && reviewer.value) body.reviewer_id = reviewer.value;
    try {
      const u = await post('/api/users', body);
      ctx.toast(`User ${u.username} created (${roleLabel(u.role)}).`);
      username.value = '';
      password.value = '';
      replace(out);
      await reload();
    } catch (err) {
      showProblem(ctx, out, err, {username, password, role, reviewer_id: reviewer});
    }
  });
  return form;
}

// A new token for any user; its secret is shown once, in `secretBox`, until dismissed.
function newTokenForm(ctx, state, secretBox, reload) {
  const user = select([], {name: 'user_id'});
  const label = h('input', {name: 'label', autocomplete: 'off'});
  const expires = h('input', {name: 'expires_at', type: 'date'});
  const out = h('div');
  function setUsers(users) {
    const keep = user.value;
    replace(user, users.filter((u) => !u.disabled).map((u) => h('option', {value: u.id}, `${u.username} (${roleLabel(u.role)})`)));
    if (keep && users.some((u) => u.id === keep)) user.value = keep;
  }
  const el = h('form', {novalidate: true},
    h('h2', {id: 'new-token-title'}, 'Create an API token'),
    h('div', {class: 'grid2'},
      field('For user', user),
      field('Label', label, 'what the token is for, e.g. nightly import'),
      field('Expires', expires, 'optional: 90 days when empty, at most 365')),
    out,
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Create the token')));
  el.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {user_id: user.value};
    if (label.value.trim()) body.label = label.value.trim();
    if (expires.value) body.expires_at = `${expires.value}T00:00:00Z`;
    try {
      const t = await post('/api/tokens', body);
      replace(out);
      label.value = '';
      expires.value = '';
      const owner = state.users.find((u) => u.id === t.user_id);
      const done = h('button', {type: 'button'}, 'I have copied it');
      const box = h('div', {class: 'secret', role: 'group', 'aria-labelledby': 'secret-title'},
        h('h3', {id: 'secret-title'}, `New token for ${owner ? owner.username : t.user_id}`),
        h('p', {class: 'small'}, 'Copy it now: it is shown only this once. Send it as ',
          h('code', null, 'Authorization: Bearer \u2026'), `. It expires ${when(t.expires_at)}.`),
        h('p', null, h('code', {class: 'token-secret', tabindex: '0'}, t.token)),
        h('div', {class: 'actions'}, done));
      done.addEventListener('click', () => {
        replace(secretBox);
        el.querySelector('button[type="submit"]').focus();
      });
      replace(secretBox, box);
      ctx.toast(`Token ${t.id} created; copy it now.`);
      await reload();
      box.querySelector('.token-secret').focus();
    } catch (err) {
      showProblem(ctx, out, err, {user_id: user, label, expires_at: expires});
    }
  });
  return {el, setUsers};
}
