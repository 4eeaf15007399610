// intake.js - registering a new IMR application: the case file (docs/case-file.md) as JSON,
// pasted or loaded from a file, plus the intake fields the screening needs (when the
// application was received and signed, whether the UR decision is attached, the kind of
// dispute). Errors come back per field, as JSON Pointers into the case file.

import {post} from './api.js';
import {h, replace, field, checkbox, select} from './dom.js';

export function show(ctx) {
  document.title = 'New case · IMR workbench';
  const caseJson = h('textarea', {class: 'code', name: 'case_file', rows: 16, spellcheck: 'false', required: true,
    'aria-required': 'true', placeholder: '{"case_number": "CM15-0000001", "claimant": {"age": 49, "sex": "male"}, …}'});
  const file = h('input', {type: 'file', accept: 'application/json,.json'});
  file.addEventListener('change', async () => {
    const f = file.files && file.files[0];
    if (f) caseJson.value = await f.text();
  });
  const received = h('input', {type: 'date', name: 'application_received'});
  const signed = h('input', {type: 'date', name: 'application_signed'});
  const recordsReceived = h('input', {type: 'date', name: 'records_received'});
  const disputeType = select([['medical_necessity', 'Medical necessity'], ['liability', 'Liability for the injury'],
    ['compensability', 'Compensability'], ['timeliness_of_ur', 'Timeliness of the UR'], ['other', 'Other']],
  {name: 'dispute_type', value: 'medical_necessity'});
  const attached = checkbox('A copy of the UR decision is attached', {name: 'ur_decision_attached', checked: true});
  const mailed = checkbox('The UR decision was served by mail (5 more days to file)', {name: 'ur_decision_mailed'});
  const cnc = checkbox('The UR decision is a conditional non-certification', {name: 'ur_conditional_noncertification'});
  const out = h('div');
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Register the application');

  const form = h('form', {class: 'card', novalidate: true, 'aria-labelledby': 'new-title'},
    h('h1', {id: 'new-title', tabindex: '-1'}, 'New application'),
    h('p', {class: 'small muted'}, 'Paste the case file (JSON: case number, claimant, date of injury, disputed items, ',
      'clinical summary or records) or load it from a file. The fields below complete the application for screening.'),
    field('Case file (JSON)', caseJson),
    field('Or load a case file', file),
    h('fieldset', null, h('legend', null, 'Application'),
      h('div', {class: 'grid2'},
        field('Received', received, 'empty: today'),
        field('Signed', signed, 'empty: not signed'),
        field('Medical records received', recordsReceived, 'starts the review clock'),
        field('Kind of dispute', disputeType)),
      attached.el, mailed.el, cnc.el),
    out,
    h('div', {class: 'actions'}, submit, h('a', {href: '#/queue'}, 'Cancel')));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    let body;
    try {
      body = JSON.parse(caseJson.value);
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('expected a JSON object');
    } catch (err) {
      caseJson.setAttribute('aria-invalid', 'true');
      replace(out, h('div', {class: 'error', role: 'alert'}, `The case file is not valid JSON: ${err.message}`));
      caseJson.focus();
      return;
    }
    caseJson.removeAttribute('aria-invalid');
    const dates = {application_received: received, application_signed: signed, records_received: recordsReceived};
    for (const [k, el] of Object.entries(dates)) if (el.value) body[k] = el.value;
    body.dispute_type = disputeType.value;
    body.ur_decision_attached = attached.input.checked;
    if (mailed.input.checked) body.ur_decision_mailed = true;
    if (cnc.input.checked) body.ur_conditional_noncertification = true;
    submit.disabled = true;
    try {
      const c = await post('/api/cases', body);
      ctx.toast(`Case ${c.case_number || c.id} registered.`);
      ctx.navigate(`#/cases/${encodeURIComponent(c.id)}/eligibility`);
    } catch (err) {
      replace(out, ctx.errorBox(err));
      out.querySelector('.error').focus?.();
      submit.disabled = false;
    }
  });

  replace(ctx.main, form);
  form.querySelector('h1').focus();
  return null;
}
