// panel.js - the reviewer panel: every expert reviewer with specialties, licensure,
// practice, load and affiliations, and what each meets of the general qualifications;
// administrators add a reviewer or change a profile here (PUT /api/reviewers/{id}).

import {get, put, ApiError} from './api.js';
import {h, replace, field, select} from './dom.js';
import {panelTable} from './casepage.js';

export async function show(ctx) {
  const data = await get('/api/reviewers');
  if (!ctx.alive()) return null;
  document.title = 'Reviewer panel · IMR workbench';
  const reviewers = data.reviewers || [];
  const admin = ctx.user.role === 'administrator';
  replace(ctx.main,
    h('h1', {tabindex: '-1'}, 'Reviewer panel'),
    h('div', {class: 'card'},
      h('p', {class: 'small muted'}, `${reviewers.length} reviewers. A case goes automatically to the least loaded one who meets `,
        'every qualification, fits the disputed treatment and has no affiliation with a party.'),
      reviewers.length ? panelTable(reviewers) : h('p', null, 'The panel is empty.')),
    admin ? profileForm(ctx, reviewers) : null);
  ctx.main.querySelector('h1').focus();
  return null;
}

const splitList = (s) => s.split(/[,;\n]/).map((x) => x.trim()).filter(Boolean);

// Add or change a profile. Affiliations are written one per line as "kind: name".
function profileForm(ctx, reviewers) {
  const pick = select([['', 'A new reviewer'], ...reviewers.map((r) => [r.id, `Change ${r.id}`])], {name: 'pick'});
  const id = h('input', {name: 'id', required: true, 'aria-required': 'true', autocomplete: 'off', spellcheck: 'false'});
  const specialties = h('input', {name: 'specialties'});
  const subspecialties = h('input', {name: 'subspecialties'});
  const boards = h('input', {name: 'board_certifications'});
  const licensure = h('input', {name: 'licensure'});
  const years = h('input', {name: 'years_in_practice', type: 'number', min: 0, max: 80});
  const hours = h('input', {name: 'hours_per_week', type: 'number', min: 0, max: 168});
  const capacity = h('input', {name: 'capacity', type: 'number', min: 0, max: 1000});
  const affiliations = h('textarea', {name: 'affiliations', rows: 3, spellcheck: 'false'});
  const out = h('div');

  pick.addEventListener('change', () => {
    const r = reviewers.find((x) => x.id === pick.value);
    const p = r ? r.profile || r : {};
    id.value = r ? r.id : '';
    id.readOnly = !!r;
    specialties.value = (p.specialties || []).join(', ');
    subspecialties.value = (p.subspecialties || []).join(', ');
    boards.value = (p.board_certifications || []).join(', ');
    licensure.value = (p.licensure || []).join(', ');
    years.value = p.years_in_practice ?? '';
    hours.value = p.hours_per_week ?? '';
    capacity.value = p.capacity ?? '';
    affiliations.value = (p.affiliations || []).map((a) => `${a.kind}: ${a.name}`).join('\n');
  });

  const form = h('form', {class: 'card', novalidate: true, 'aria-labelledby': 'profile-title'},
    h('h2', {id: 'profile-title'}, 'Add or change a reviewer'),
    field('Reviewer', pick),
    h('div', {class: 'grid2'},
      field('Panel id', id, 'letters, digits, - _ .'),
      field('Specialties', specialties, 'separated by commas'),
      field('Subspecialties', subspecialties),
      field('Board certifications', boards),
      field('Licensure (states)', licensure),
      field('Years in practice', years),
      field('Hours a week in practice', hours),
      field('Capacity (open cases)', capacity)),
    field('Affiliations', affiliations, 'one per line, "kind: name", e.g. employer: Acme Logistics'),
    out,
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Save the profile')));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!id.value.trim()) {
      replace(out, h('div', {class: 'error', role: 'alert'}, 'The panel id is required.'));
      id.focus();
      return;
    }
    const number = (el) => (el.value === '' ? undefined : Number(el.value));
    const previous = reviewers.find((x) => x.id === id.value.trim());
    const profile = {
      ...((previous && previous.profile) || {}),
      specialties: splitList(specialties.value),
      subspecialties: splitList(subspecialties.value),
      board_certifications: splitList(boards.value),
      licensure: splitList(licensure.value),
      years_in_practice: number(years),
      hours_per_week: number(hours),
      capacity: number(capacity),
      affiliations: affiliations.value.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
        const m = /^([^:]+):\s*(.+)$/.exec(l);
        return m ? {kind: m[1].trim(), name: m[2].trim()} : {kind: 'other', name: l};
      }),
    };
    try {
      await put(`/api/reviewers/${encodeURIComponent(id.value.trim())}`, profile);
      ctx.toast(`Reviewer ${id.value.trim()} saved.`);
      ctx.navigate('#/panel');
    } catch (err) {
      replace(out, ctx.errorBox(err instanceof ApiError ? err : new Error(String(err))));
    }
  });
  return form;
}
