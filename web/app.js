// app.js - the workbench's entry point: who is signed in, the hash router that draws one
// screen at a time into <main>, the keyboard shortcuts shared by every screen, and the
// status line. Screens live in their own modules (queue.js, casepage.js, intake.js,
// panel.js, users.js, signin.js); each `show` returns an object that may handle keys.

import {get, del, setCsrfToken, whenUnauthorized, ApiError} from './api.js';
import {h, replace} from './dom.js';
import * as signin from './signin.js';
import * as queue from './queue.js';
import * as casePage from './casepage.js';
import * as intake from './intake.js';
import * as panel from './panel.js';
import * as users from './users.js';
import {hasPendingEdits, forgetEdits} from './review.js';

const main = document.getElementById('main');
const toastEl = document.getElementById('toast');
const help = document.getElementById('help');
const nav = document.getElementById('main-nav');
const whoami = document.getElementById('whoami');
const signoutButton = document.getElementById('signout');

let session = null;   // {user: {id, username, role, reviewer_id}, csrf_token}
let screen = null;    // what the current screen's `show` returned
let routeSeq = 0;     // bumps on every navigation; late answers of old screens are dropped
let lastRoute = null; // {name, id} of the screen on display

// ---------------------------------------------------------------- announcements

let toastTimer = null;
function toast(message) {
  clearTimeout(toastTimer);
  toastEl.textContent = message;
  toastTimer = setTimeout(() => { toastEl.textContent = ''; }, 6000);
}

// An error box for a failed call: the problem's detail and one line per invalid field.
function errorBox(err) {
  const box = h('div', {class: 'error', role: 'alert'});
  box.append(h('strong', null, err instanceof ApiError && err.status ? `Error ${err.status}: ` : 'Error: '),
    err.message || String(err));
  if (err.fields && err.fields.length)
    box.append(h('ul', null, err.fields.map((f) => h('li', null, h('code', null, f.pointer || '/'), ' ', f.detail))));
  return box;
}

// ---------------------------------------------------------------- session

function setSession(s) {
  if (!s) {
    forgetEdits(); // nothing of one user's work may show through to the next
    casePage.forget();
  }
  session = s;
  setCsrfToken(s ? s.csrf_token : null);
  nav.hidden = !s;
  signoutButton.hidden = !s;
  whoami.textContent = s ? `${s.user.username} · ${s.user.role}` : '';
  for (const a of nav.querySelectorAll('[data-roles]'))
    a.hidden = !s || !a.dataset.roles.split(' ').includes(s.user.role);
}

async function signOut() {
  try {
    await del('/api/session');
  } catch (e) {
    // the session may be over already; signing out locally is what matters
  }
  setSession(null);
  clearTimeout(toastTimer);
  toastEl.textContent = '';
  location.hash = '#/signin';
}

whenUnauthorized(() => {
  if (!session) return;
  setSession(null);
  toast('Your session has ended; please sign in again.');
  location.hash = '#/signin';
});

// ---------------------------------------------------------------- routing

function parseRoute(hash) {
  const [path, query] = (hash.replace(/^#/, '') || '/queue').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = Object.fromEntries(new URLSearchParams(query || ''));
  if (parts[0] === 'cases' && parts[1]) return {name: 'case', id: parts[1], tab: parts[2], params};
  return {name: parts[0] || 'queue', params};
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function currentCtx(seq) {
  return {
    main,
    user: session.user,
    navigate,
    toast,
    errorBox,
    alive: () => seq === routeSeq,
  };
}

async function route() {
  const seq = ++routeSeq;
  const r = parseRoute(location.hash);
  if (!session && r.name !== 'signin') {
    location.replace('#/signin');
    return;
  }
  if (r.name === 'signin') {
    if (session) {
      location.replace('#/queue');
      return;
    }
    screen = signin.show({main, toast, onSignedIn});
    lastRoute = r;
    return;
  }
  for (const a of nav.querySelectorAll('a[data-nav]')) {
    const here = a.dataset.nav === r.name || (r.name === 'case' && a.dataset.nav === 'queue');
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const ctx = currentCtx(seq);
  const sameCase = lastRoute && lastRoute.name === 'case' && r.name === 'case' && lastRoute.id === r.id;
  lastRoute = r;
  try {
    if (r.name === 'queue') screen = await queue.show(ctx, r.params);
    else if (r.name === 'case') screen = await casePage.show(ctx, r.id, r.tab, {sameCase});
    else if (r.name === 'new') screen = await intake.show(ctx);
    else if (r.name === 'panel') screen = await panel.show(ctx);
    else if (r.name === 'users') screen = await users.show(ctx);
    else {
      screen = null;
      replace(main, h('div', {class: 'card'}, h('h1', {tabindex: '-1'}, 'No such page'),
        h('p', null, h('a', {href: '#/queue'}, 'Back to the queue'))));
    }
  } catch (err) {
    if (seq !== routeSeq) return;
    screen = null;
    replace(main, h('h1', {tabindex: '-1'}, 'Something went wrong'), errorBox(err),
      h('p', null, h('a', {href: '#/queue'}, 'Back to the queue')));
  }
}

async function onSignedIn(s) {
  setSession(s);
  location.hash = '#/queue';
}

// ---------------------------------------------------------------- keyboard

function isTyping(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag !== 'INPUT') return false;
  return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(target.type);
}

let pendingG = false;

document.addEventListener('keydown', (e) => {
  if (e.defaultPrevented || help.open) return;
  // Ctrl+Enter saves wherever the cursor is
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    if (screen && screen.onKey && screen.onKey(e)) e.preventDefault();
    return;
  }
  if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target) || !session) return;
  if (pendingG) {
    pendingG = false;
    if (e.key === 'q') {
      e.preventDefault();
      navigate('#/queue');
      return;
    }
  }
  if (e.key === '?') {
    e.preventDefault();
    help.showModal();
    return;
  }
  if (e.key === 'g') {
    pendingG = true;
    setTimeout(() => { pendingG = false; }, 1200);
    return;
  }
  if (e.key === '/') {
    e.preventDefault();
    if (screen && screen.focusSearch) screen.focusSearch();
    else {
      sessionStorage.setItem('imr.focusSearch', '1');
      navigate('#/queue');
    }
    return;
  }
  if (screen && screen.onKey && screen.onKey(e)) e.preventDefault();
});

document.getElementById('help-button').addEventListener('click', () => help.showModal());
signoutButton.addEventListener('click', signOut);
document.getElementById('skip-link').addEventListener('click', (e) => {
  e.preventDefault(); // the hash belongs to the router
  main.focus();
});
window.addEventListener('beforeunload', (e) => {
  if (hasPendingEdits()) e.preventDefault();
});
window.addEventListener('hashchange', route);

// ---------------------------------------------------------------- start

(async function start() {
  try {
    const s = await get('/api/session');
    setSession(s);
  } catch (e) {
    setSession(null);
  }
  route();
})();
