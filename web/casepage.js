// casepage.js - one case: its header (number, status, clock, reviewer) and tabs for the
// overview (case file, parties, documents), eligibility screening, reviewer assignment,
// the review itself (review.js), the letter (preview and PDF) and the audit trail. Tabs
// are addresses (#/cases/ID/letter) so that Back, bookmarks and links work; switching tabs
// reuses the case already read, every action reads it again.

import {get, post, casePath, withQuery, caseFileOf as caseFile} from './api.js';
import {h, replace, field, select, statusBadge, priorityBadge, clockBadge, when, list,
  plural} from './dom.js';
import * as review from './review.js';

const TABS = [
  ['overview', 'Overview'],
  ['eligibility', 'Eligibility'],
  ['assignment', 'Assignment'],
  ['review', 'Review'],
  ['letter', 'Letter'],
  ['history', 'History'],
];

let cache = null;          // {id, data}: the case on display
let refreshFocus = false;  // the next drawing follows a change: focus the tab's heading

export function forget() {
  cache = null;
}

export async function show(ctx, id, tab, {sameCase} = {}) {
  let c = sameCase && cache && cache.id === id ? cache.data : null;
  if (!c) {
    c = await get(casePath(id));
    if (!ctx.alive()) return null;
    cache = {id, data: c};
  }
  if (!TABS.some(([t]) => t === tab)) tab = defaultTab(c);
  document.title = `${c.case_number || c.id} · ${TABS.find(([t]) => t === tab)[1]} · IMR workbench`;

  const page = {ctx, c, id, tab, refresh: (nextTab) => refresh(ctx, id, nextTab || tab)};
  const body = await TAB_RENDER[tab](page);
  if (!ctx.alive()) return null;

  const tabLinks = TABS.map(([t, label]) =>
    h('a', {href: `#/cases/${encodeURIComponent(id)}/${t}`, 'aria-current': t === tab ? 'page' : null, 'data-tab': t}, label));
  replace(ctx.main,
    header(c),
    h('nav', {class: 'tabs', 'aria-label': 'Case sections'}, tabLinks),
    h('section', {'aria-labelledby': `tab-${tab}`}, body.el));

  const afterAction = refreshFocus;
  refreshFocus = false;
  if (afterAction) (ctx.main.querySelector(`#tab-${tab}`) || ctx.main.querySelector('h1')).focus();
  else if (sameCase) tabLinks.find((a) => a.dataset.tab === tab).focus();
  else ctx.main.querySelector('h1').focus();
  if (body.after) body.after();

  return {
    onKey(e) {
      if (e.key === '[' || e.key === ']') {
        const i = TABS.findIndex(([t]) => t === tab);
        const next = TABS[(i + (e.key === ']' ? 1 : TABS.length - 1)) % TABS.length][0];
        ctx.navigate(`#/cases/${encodeURIComponent(id)}/${next}`);
        return true;
      }
      return body.onKey ? body.onKey(e) : false;
    },
  };
}

// Read the case again after a change and show `tab` (focus goes to the tab's heading).
async function refresh(ctx, id, tab) {
  cache = {id, data: await get(casePath(id))};
  const hash = `#/cases/${encodeURIComponent(id)}/${tab}`;
  refreshFocus = true;
  ctx.navigate(hash);
}

function defaultTab(c) {
  switch (c.status) {
    case 'received': case 'ineligible': return 'eligibility';
    case 'eligible': return 'assignment';
    case 'issued': return 'letter';
    default: return 'review';
  }
}

function header(c) {
  const cf = caseFile(c);
  const items = (cf.disputed_items || []).map((i) => i.request);
  return h('div', {class: 'card'},
    h('div', {class: 'case-head'},
      h('h1', {tabindex: '-1'}, `Case ${c.case_number || c.id}`),
      h('div', {class: 'meta'},
        statusBadge(c.status),
        priorityBadge(c.priority),
        h('span', null, 'Due ', h('strong', null, c.due_date || '—')),
        c.days_left === null || c.days_left === undefined ? null : clockBadge(c))),
    h('p', {class: 'small'}, h('span', {class: 'muted'}, 'Disputed: '), items.join('; ') || '—'),
    h('p', {class: 'small'}, h('span', {class: 'muted'}, 'Reviewer: '),
      c.reviewer ? `${c.reviewer.id} — ${c.reviewer.credentials || ''}` : 'not assigned'));
}

// A button that runs `fn`, shows its error next to it and refreshes the case on success.
function action(page, label, fn, {primary = false, done, tab} = {}) {
  const out = h('div');
  const button = h('button', {type: 'button', class: primary ? 'primary' : null}, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    replace(out);
    try {
      const result = await fn();
      if (done) page.ctx.toast(typeof done === 'function' ? done(result) : done);
      await page.refresh(tab);
    } catch (err) {
      replace(out, page.ctx.errorBox(err));
      button.disabled = false;
    }
  });
  return {button, out};
}

function tabHeading(tab, text) {
  return h('h2', {id: `tab-${tab}`, tabindex: '-1'}, text);
}

const can = {
  intake: (u) => u.role === 'intake' || u.role === 'administrator',
  assignByHand: (u) => u.role === 'administrator',
};

// ---------------------------------------------------------------- overview

function overview(page) {
  const {c} = page;
  const cf = caseFile(c);
  const d = c.dates || {};
  const claimant = cf.claimant || {};
  const facts = h('dl', {class: 'facts'},
    h('dt', null, 'Claimant'), h('dd', null, [claimant.age ? `${claimant.age} years` : null, claimant.sex].filter(Boolean).join(', ') || '—'),
    h('dt', null, 'Date of injury'), h('dd', null, cf.date_of_injury || '—'),
    h('dt', null, 'UR decision'), h('dd', null, d.ur_decision_date || cf.ur_decision_date || '—'),
    h('dt', null, 'Application signed'), h('dd', null, d.application_signed || '—'),
    h('dt', null, 'Application received'), h('dd', null, d.application_received || c.application_received || '—'),
    h('dt', null, 'Records received'), h('dd', null, d.records_received || c.records_received || '—'),
    h('dt', null, 'Due'), h('dd', null, c.due_date || '—', ' ', clockBadge(c)),
    h('dt', null, 'Registered'), h('dd', null, when(d.created_at || c.created_at)));

  const parties = (cf.parties || []).length
    ? h('ul', {class: 'plain'}, cf.parties.map((p) => h('li', null, h('span', {class: 'muted'}, `${(p.role || '').replace(/_/g, ' ')}: `), p.name || '—')))
    : h('p', {class: 'muted'}, 'No parties named.');

  const items = h('table', null,
    h('thead', null, h('tr', null, h('th', {scope: 'col'}, 'Request'), h('th', {scope: 'col'}, 'UR decision'),
      h('th', {scope: 'col'}, 'Claims administrator guideline'))),
    h('tbody', null, (cf.disputed_items || []).map((i) =>
      h('tr', null, h('td', null, i.request), h('td', null, i.ur_decision || '—'), h('td', null, i.claims_administrator_guideline || '—')))));

  const docs = c.documents || [];
  const docList = docs.length
    ? h('table', null,
      h('thead', null, h('tr', null, ['Kind', 'Title', 'Date', 'Author'].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', null, docs.map((doc) => h('tr', null, h('td', null, (doc.kind || '').replace(/_/g, ' ')),
        h('td', null, doc.title || '—'), h('td', null, doc.date || '—'), h('td', null, doc.author || '—')))))
    : h('p', {class: 'muted'}, 'No documents added since intake.');

  return {
    el: h('div', null,
      tabHeading('overview', 'Overview'),
      h('div', {class: 'cols2'},
        h('div', {class: 'card'}, h('h3', null, 'Application'), facts),
        h('div', {class: 'card'}, h('h3', null, 'Parties'), parties)),
      h('div', {class: 'card'}, h('h3', null, 'Disputed items'), items),
      h('div', {class: 'card'}, h('h3', null, 'Documents'), docList,
        can.intake(page.ctx.user) && !['ineligible', 'issued'].includes(c.status) ? addDocument(page) : null)),
  };
}

function addDocument(page) {
  const kind = select([['medical_record', 'Medical record'], ['application', 'Application'], ['ur_decision', 'UR decision'],
    ['correspondence', 'Correspondence'], ['other', 'Other']], {name: 'kind', value: 'medical_record'});
  const title = h('input', {name: 'title'});
  const date = h('input', {name: 'date', type: 'date'});
  const author = h('input', {name: 'author'});
  const text = h('textarea', {name: 'text', rows: 6});
  const out = h('div');
  const form = h('form', {novalidate: true},
    h('div', {class: 'grid2'}, field('Kind', kind), field('Title', title), field('Date', date), field('Author', author)),
    field('Text', text, 'medical records are read by the engine when it drafts'),
    out,
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Add the document')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {kind: kind.value};
    for (const [k, el] of [['title', title], ['date', date], ['author', author], ['text', text]])
      if (el.value.trim()) body[k] = el.value;
    try {
      await post(casePath(page.id, '/documents'), body);
      page.ctx.toast('Document added.');
      await page.refresh('overview');
    } catch (err) {
      replace(out, page.ctx.errorBox(err));
    }
  });
  return h('details', {class: 'small'}, h('summary', null, 'Add a document'), form);
}

// ---------------------------------------------------------------- eligibility

const CHECK = /^(passed|failed|not checked): (.*)$/s;

function eligibility(page) {
  const {c, ctx} = page;
  const e = c.eligibility;
  const parts = [tabHeading('eligibility', 'Eligibility screening')];
  if (!e) {
    parts.push(h('p', null, 'This application has not been screened yet. Screening checks the signature, the filing ',
      'deadline, the attached UR decision, the kind of dispute and earlier applications for the same treatment.'));
    if (can.intake(ctx.user) && c.status === 'received') {
      const a = action(page, 'Screen eligibility', () => post(casePath(page.id, '/screen')), {
        primary: true,
        done: (r) => (r && r.eligibility && r.eligibility.eligible === false ? 'Not eligible: the case is closed with a notice.' : 'Screened.'),
      });
      parts.push(h('div', {class: 'actions'}, a.button), a.out);
    }
    return {el: h('div', {class: 'card'}, parts)};
  }
  parts.push(h('p', null,
    e.eligible ? h('span', {class: 'badge passed'}, 'Eligible') : h('span', {class: 'badge failed'}, 'Not eligible'),
    ' ', h('span', {class: 'muted small'}, e.screened_at ? `screened ${when(e.screened_at)}` : '')));
  parts.push(h('h3', null, 'Checks'), h('ul', {class: 'checks'}, (e.checks || []).map((line) => {
    const m = CHECK.exec(line);
    const verdict = m ? m[1] : '';
    const cls = verdict === 'passed' ? 'passed' : verdict === 'failed' ? 'failed' : 'unknown';
    return h('li', null, h('span', {class: `badge ${cls}`}, verdict === 'not checked' ? 'Not checked' : verdict === 'passed' ? 'Passed' : verdict === 'failed' ? 'Failed' : '—'),
      h('span', null, m ? m[2] : line));
  })));
  if ((e.reasons || []).length)
    parts.push(h('h3', null, 'Reasons given to the parties'), h('ul', {class: 'plain'}, e.reasons.map((r) => h('li', null, r))));
  if (e.duplicate_of)
    parts.push(h('p', null, 'Earlier application for the same dispute: ',
      h('a', {href: `#/cases/${encodeURIComponent(e.duplicate_of)}`}, e.duplicate_of)));
  if (c.status === 'eligible')
    parts.push(h('p', {class: 'actions'}, h('a', {href: `#/cases/${encodeURIComponent(page.id)}/assignment`}, 'Next: assign a reviewer →')));
  const card = h('div', {class: 'card'}, parts);
  if (c.status !== 'ineligible') return {el: card};
  // an ineligible application is closed with a notice; show it
  const src = withQuery(casePath(page.id, '/letter'), {format: 'html'});
  return {
    el: h('div', null, card, h('div', {class: 'card'},
      h('h3', null, 'Notice sent to the parties'),
      h('iframe', {class: 'letter', sandbox: '', src, title: 'Ineligibility notice'}),
      h('p', {class: 'actions'}, h('a', {class: 'button', href: withQuery(casePath(page.id, '/letter'), {format: 'text'}),
        target: '_blank', rel: 'noopener'}, 'Open the notice as text')))),
  };
}

// ---------------------------------------------------------------- assignment

async function assignment(page) {
  const {c, ctx} = page;
  const cf = caseFile(c);
  const [fit, audit] = await Promise.all([
    get(casePath(page.id, '/candidates')).catch((err) => ({error: err, candidates: []})),
    get(casePath(page.id, '/audit')).catch(() => ({entries: []})),
  ]);
  const candidates = fit.candidates || [];
  const lastAssign = (audit.entries || []).filter((e) => e.action === 'case.assign')
    .sort((a, b) => b.seq - a.seq)[0];
  const change = lastAssign && lastAssign.after && typeof lastAssign.after === 'object' ? lastAssign.after.change : null;
  const assignable = ['eligible', 'assigned', 'in_review'].includes(c.status);

  const current = h('div', {class: 'card'}, tabHeading('assignment', 'Reviewer assignment'));
  if (c.reviewer || c.assignment) {
    const a = c.assignment || {};
    current.append(h('dl', {class: 'facts'},
      h('dt', null, 'Reviewer'), h('dd', null, h('strong', null, (c.reviewer && c.reviewer.id) || a.reviewer_id)),
      h('dt', null, 'Credentials'), h('dd', null, (c.reviewer && c.reviewer.credentials) || '—'),
      h('dt', null, 'How'), h('dd', null, a.method === 'manual' ? 'chosen by hand' : a.method === 'auto' ? 'automatic' : a.method || '—'),
      a.reason ? [h('dt', null, 'Reason'), h('dd', null, a.reason)] : null,
      h('dt', null, 'By'), h('dd', null, `${a.assigned_by || '—'}, ${when(a.assigned_at)}`),
      change && (change.specialty_fit || []).length
        ? [h('dt', null, 'Why qualified'), h('dd', null, h('ul', {class: 'plain'}, change.specialty_fit.map((s) => h('li', null, s))))]
        : null,
      change && (change.warnings || []).length
        ? [h('dt', null, 'Warnings'), h('dd', null, h('ul', {class: 'plain'}, change.warnings.map((s) => h('li', null, s))))]
        : null));
  } else {
    current.append(h('p', null, c.status === 'received'
      ? 'Screen the application for eligibility before assigning a reviewer.'
      : 'No reviewer is assigned yet.'));
  }
  if (assignable && can.intake(ctx.user)) {
    const auto = action(page, c.reviewer ? 'Reassign automatically' : 'Assign automatically',
      () => post(casePath(page.id, '/assign'), {}), {primary: !c.reviewer, done: 'Reviewer assigned.'});
    current.append(h('p', {class: 'muted small'}, 'Automatic assignment picks the least loaded reviewer who is licensed in ',
      'California, in active practice long enough, of a fitting specialty and free of any affiliation with the parties',
      fit.automatic_choice ? [': now ', h('strong', null, fit.automatic_choice), '.'] : '.'),
    h('div', {class: 'actions'}, auto.button), auto.out);
  }

  const parties = (cf.parties || []).map((p) => [(p.role || 'party').replace(/_/g, ' '), p.name].join(': ')).filter(Boolean);
  const panelCard = h('div', {class: 'card'},
    h('h3', {id: 'candidates-title'}, 'Who may review this case'),
    h('p', {class: 'small muted'}, `Parties of this case: ${parties.length ? parties.join('; ') : 'none named'}`.replace(/\.?$/, '. '),
      'Each active panel member against the rules of assignment for this case: California licence, years and hours ',
      'of practice, no affiliation with a party, the same or a similar specialty for every disputed item, and caseload.'),
    fit.error ? page.ctx.errorBox(fit.error) : candidatesTable(fit));
  if (assignable && can.assignByHand(ctx.user)) panelCard.append(manualForm(page, candidates));
  return {el: h('div', null, current, panelCard)};
}

// A rule met or not, in words as well as colour.
function verdict(ok, yes, no) {
  return h('span', {class: ok ? 'q-yes' : 'q-no'}, ok ? `✓ ${yes}` : `✗ ${no}`);
}

// How every panel member fits this case, rule by rule (GET /api/cases/{id}/candidates).
function candidatesTable(fit) {
  const rows = fit.candidates || [];
  if (!rows.length) return h('p', {class: 'muted'}, 'No active reviewer is on the panel.');
  const rules = fit.rules || {};
  return h('div', {class: 'scroll-x'}, h('table', {class: 'candidates', 'aria-labelledby': 'candidates-title'},
    h('thead', null, h('tr', null, ['Reviewer', 'Specialties', 'Licence', 'Practice', 'Conflicts', 'Specialty fit', 'Load', 'Qualifies']
      .map((t) => h('th', {scope: 'col'}, t)))),
    h('tbody', null, rows.map((r) => {
      const ok = r.rules || {};
      return h('tr', {class: r.current ? 'chosen' : null, 'data-id': r.id},
        h('th', {scope: 'row'}, r.id,
          r.current ? h('div', {class: 'small muted'}, 'assigned now') : null,
          fit.automatic_choice === r.id ? h('div', {class: 'small muted'}, 'automatic choice') : null),
        h('td', null, list(r.specialties), (r.subspecialties || []).length ? h('div', {class: 'small muted'}, list(r.subspecialties)) : null),
        h('td', {class: 'licence'}, list(r.licensure), h('div', {class: 'small'},
          verdict(ok.licensed, rules.required_licensure || 'licensed', `not licensed in ${rules.required_licensure || 'the state'}`))),
        h('td', {class: 'practice'},
          h('div', null, verdict(ok.years_in_practice, `${r.years_in_practice ?? '—'} years`,
            `${r.years_in_practice ?? 'no'} years (more than ${rules.min_years_in_practice ?? 5} needed)`)),
          h('div', null, verdict(ok.hours_per_week, `${r.hours_per_week ?? '—'} h/week`,
            `${r.hours_per_week ?? 'no'} h/week (${rules.min_hours_per_week ?? 24} needed)`))),
        h('td', {class: 'conflicts'}, (r.conflicts || []).length
          ? h('ul', {class: 'qlist'}, r.conflicts.map((p) => h('li', {class: 'q-no'}, `✗ conflict: ${p}`)))
          : verdict(true, 'none', '')),
        h('td', {class: 'fit'}, h('ul', {class: 'qlist'}, (r.specialty_fit || []).map((f) =>
          h('li', {class: f.ok ? 'q-yes' : 'q-no'}, `${f.ok ? '✓' : '✗'} ${f.request}: ${f.ok ? f.fit : 'no same or similar specialty'}`)))),
        h('td', {class: 'load'}, verdict(ok.capacity, `${r.open_cases} / ${r.capacity}`, `${r.open_cases} / ${r.capacity}, full`)),
        h('td', {class: 'qualifies'},
          r.qualified ? h('strong', {class: 'q-yes'}, '✓ Yes') : h('strong', {class: 'q-no'}, '✗ No'),
          !r.qualified ? h('div', {class: 'small'}, r.manual_allowed ? 'by hand, with a reason' : 'refused, even by hand') : null,
          (r.reasons || []).length ? h('ul', {class: 'plain small'}, r.reasons.map((t) => h('li', null, t))) : null));
    }))));
}

// The panel with each reviewer's general qualifications spelled out (the Reviewer panel
// screen; how a reviewer fits one case is the candidates table above).
export function panelTable(reviewers, chosenId) {
  return h('table', {class: 'panel'},
    h('thead', null, h('tr', null, ['Reviewer', 'Specialties', 'Licensure', 'Practice', 'Load', 'Affiliations', 'Qualifications']
      .map((t) => h('th', {scope: 'col'}, t)))),
    h('tbody', null, reviewers.map((r) => {
      const p = r.profile || r;
      const q = r.qualifications || {};
      const affiliations = p.affiliations || [];
      return h('tr', {class: r.id === chosenId ? 'chosen' : null},
        h('th', {scope: 'row'}, r.id, r.active === false ? h('div', {class: 'small muted'}, 'inactive') : null),
        h('td', null, list(p.specialties), (p.subspecialties || []).length ? h('div', {class: 'small muted'}, list(p.subspecialties)) : null),
        h('td', null, list(p.licensure)),
        h('td', null, p.years_in_practice != null ? `${p.years_in_practice} years` : '—',
          h('div', {class: 'small muted'}, p.hours_per_week != null ? `${p.hours_per_week} h/week` : '')),
        h('td', null, `${r.open_cases ?? '—'} / ${p.capacity ?? '—'}`),
        h('td', null, affiliations.length
          ? h('ul', {class: 'plain'}, affiliations.map((a) => h('li', null, `${(a.kind || '').replace(/_/g, ' ')}: ${a.name}`)))
          : '—'),
        h('td', {class: 'small'}, qualifications(q)));
    })));
}

// The general qualifications in a few words: all met, or which are not.
const QUALIFICATIONS = [
  ['licensed', 'not licensed in California'],
  ['years_in_practice', 'not enough years in practice'],
  ['hours_per_week', 'too few hours a week in practice'],
  ['has_capacity', 'no capacity left'],
];
function qualifications(q) {
  if (!q || !Object.keys(q).length) return '—';
  const unmet = QUALIFICATIONS.filter(([k]) => q[k] === false).map(([, text]) => text);
  if (!unmet.length) return h('span', {class: 'q-yes'}, '✓ meets all four');
  return h('ul', {class: 'qlist'}, unmet.map((t) => h('li', {class: 'q-no'}, `✗ ${t}`)));
}

// An administrator's choice by hand: any active reviewer, with a reason; the server refuses
// one the rules of the law exclude (a conflict, no California licence, ...) with its reason.
function manualForm(page, candidates) {
  const note = (r) => (r.qualified ? 'qualifies' : r.manual_allowed ? 'override needed' : 'refused');
  const who = select([['', 'Choose a reviewer'], ...candidates.map((r) => [r.id, `${r.id} — ${list(r.specialties)} (${note(r)})`])],
    {name: 'reviewer_id', required: true});
  const reason = h('textarea', {name: 'reason', rows: 2, required: true, 'aria-required': 'true'});
  const out = h('div');
  const form = h('form', {novalidate: true},
    h('h3', null, 'Assign by hand'),
    h('div', {class: 'grid2'}, field('Reviewer', who), field('Reason (required)', reason, 'recorded in the audit trail, e.g. continuity with an earlier review')),
    out,
    h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Assign this reviewer')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const problems = [];
    if (!who.value) problems.push({pointer: '/reviewer_id', detail: 'choose a reviewer'});
    if (!reason.value.trim()) problems.push({pointer: '/reason', detail: 'a manual assignment needs a stated reason'});
    who.setAttribute('aria-invalid', String(!who.value));
    reason.setAttribute('aria-invalid', String(!reason.value.trim()));
    if (problems.length) {
      const err = Object.assign(new Error('The assignment is incomplete.'), {fields: problems});
      replace(out, page.ctx.errorBox(err));
      (who.value ? reason : who).focus();
      return;
    }
    try {
      await post(casePath(page.id, '/assign'), {reviewer_id: who.value, reason: reason.value.trim()});
      page.ctx.toast(`Assigned to ${who.value}.`);
      await page.refresh('assignment');
    } catch (err) {
      replace(out, page.ctx.errorBox(err));
    }
  });
  return form;
}

// ---------------------------------------------------------------- letter

function letter(page) {
  const {c} = page;
  const versions = (c.determinations || []).slice().sort((a, b) => b.version - a.version);
  const parts = [tabHeading('letter', 'Letter')];
  if (c.status === 'ineligible') {
    parts.push(h('p', null, 'The application was not eligible; the case was closed with the notice below.'),
      h('iframe', {class: 'letter', sandbox: '', title: 'Ineligibility notice',
        src: withQuery(casePath(page.id, '/letter'), {format: 'html'})}));
    return {el: h('div', {class: 'card'}, parts)};
  }
  if (!versions.length) {
    parts.push(h('p', null, 'There is no draft yet. ', h('a', {href: `#/cases/${encodeURIComponent(page.id)}/review`}, 'Go to the review'), ' to make one.'));
    return {el: h('div', {class: 'card'}, parts)};
  }
  const finals = versions.filter((v) => v.status === 'final');
  let version = (finals[0] || versions[0]).version;
  const corrections = c.status === 'issued' && review.mayCorrect(page.ctx.user, c) ? correctionCard(page, finals[0]) : null;
  const picker = select(versions.map((v) => [String(v.version),
    `Version ${v.version} — ${v.status === 'final' ? 'issued' : 'draft'}, ${when(v.issued_at || v.created_at)}`]),
  {name: 'version', value: String(version)});
  const frame = h('iframe', {class: 'letter', sandbox: '', title: 'Letter preview'});
  const note = h('p', {class: 'small'});
  const pdf = h('a', {class: 'button primary', download: ''}, 'Download PDF');
  const text = h('a', {class: 'button', target: '_blank', rel: 'noopener'}, 'Open as text');
  function show() {
    const v = versions.find((x) => x.version === version);
    const q = (format, extra) => withQuery(casePath(page.id, '/letter'), {format, version, ...extra});
    frame.src = q('html');
    pdf.href = q('pdf', {download: 1});
    text.href = q('text');
    const corrects = v.correction_of ? ` It corrects version ${v.correction_of}: ${v.correction_reason || ''}` : '';
    note.textContent = v.status === 'final'
      ? `Issued ${when(v.issued_at || v.created_at)}. An issued letter never changes; a correction is a new version.${corrects}`
      : `Draft preview: the letter as it would read if issued now. It is not sent to anyone.${corrects}`;
  }
  picker.addEventListener('change', () => {
    version = Number(picker.value);
    show();
  });
  show();
  parts.push(h('div', {class: 'filters'}, field('Version', picker), h('div', {class: 'actions'}, pdf, text)), note, frame);
  return {el: h('div', null, h('div', {class: 'card'}, parts), corrections)};
}

// An issued letter is never edited: a correction is a new version, drafted on the Review tab
// from the issued one, with a stated reason, then attested and issued by the reviewer.
function correctionCard(page, issued) {
  const button = h('button', {type: 'button'}, 'Correct this letter');
  button.addEventListener('click', () => {
    review.startCorrection(page.id);
    page.ctx.navigate(`#/cases/${encodeURIComponent(page.id)}/review`);
  });
  return h('div', {class: 'card', role: 'group', 'aria-labelledby': 'correct-title'},
    h('h3', {id: 'correct-title'}, 'Corrections'),
    h('p', {class: 'small'}, `Version ${issued ? issued.version : ''} stays as it was issued. A correction starts from it: `,
      'you edit the decisions and rationales, state the reason for the correction, and the assigned reviewer attests and ',
      'issues it as the next version, which names the version it corrects.'),
    h('div', {class: 'actions'}, button));
}

// ---------------------------------------------------------------- history

async function history(page) {
  const data = await get(casePath(page.id, '/audit'));
  const entries = (data.entries || []).slice().sort((a, b) => b.seq - a.seq);
  const describe = (e) => {
    const after = e.after;
    if (!after || typeof after !== 'object') return after ? String(after) : '';
    return summarize(after.change ? {status: after.status, ...after.change} : after);
  };
  return {
    el: h('div', {class: 'card'},
      tabHeading('history', 'Audit trail'),
      h('p', {class: 'small muted'}, `${plural(entries.length, 'entry', 'entries')}, newest first. Every change to the case is recorded with who made it and when.`),
      h('table', {class: 'audit'},
        h('thead', null, h('tr', null, ['#', 'When', 'Who', 'What', 'Details'].map((t) => h('th', {scope: 'col'}, t)))),
        h('tbody', null, entries.map((e) => h('tr', null,
          h('td', null, String(e.seq)), h('td', {class: 'nowrap'}, when(e.at)), h('td', null, e.actor),
          h('td', null, e.action), h('td', {class: 'change'}, describe(e))))))),
  };
}

// An audit entry's details in words: "status: eligible; checks: passed: …" (empty values
// left out), readable without knowing JSON.
function summarize(v) {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(summarize).filter(Boolean).join('; ');
  if (typeof v !== 'object') return String(v);
  return Object.entries(v)
    .filter(([, x]) => x !== null && x !== '' && !(Array.isArray(x) && !x.length))
    .map(([k, x]) => `${k.replace(/_/g, ' ')}: ${summarize(x)}`)
    .join(' · ');
}

const TAB_RENDER = {
  overview,
  eligibility,
  assignment,
  review: (page) => review.render(page),
  letter,
  history,
};
