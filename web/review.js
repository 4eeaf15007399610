// review.js - the review tab of a case: the newest draft's items (decision, criteria met /
// not met / unknown with their evidence, missing documentation, the guideline relied on and
// the rationale, all editable), the records beside them with every evidence span
// highlighted (a criterion scrolls to and lights up its own), saving the decisions, the
// reviewer's attestation that issues the final letter, and the correction of an issued
// letter (started from the Letter tab: edits and a stated reason make a new draft version).

import {post, casePath, caseFileOf as caseFile} from './api.js';
import {h, replace, field, checkbox, criterionLabel, plural} from './dom.js';
import {toUnits, drawMarked} from './spans.js';

// Unsaved edits per case, kept across tab switches: caseId -> {version, dirty, items}.
const pending = new Map();
// After saving, the item being worked on keeps the focus: caseId -> item index.
const focusAfterSave = new Map();
// Issued cases whose correction was asked for on the Letter tab and is not saved yet.
const correctionStarts = new Set();

export function hasPendingEdits() {
  return [...pending.values()].some((p) => p.dirty);
}

export function forgetEdits() {
  pending.clear();
  focusAfterSave.clear();
  correctionStarts.clear();
}

// Who may correct an issued letter: the assigned reviewer, or an administrator (who may
// start it; issuing stays the assigned reviewer's own act).
export function mayCorrect(user, c) {
  return user.role === 'administrator'
    || (user.role === 'reviewer' && !!c.reviewer && user.reviewer_id === c.reviewer.id);
}

// The Letter tab's "Correct this letter": the Review tab opens the issued version for edits.
export function startCorrection(caseId) {
  correctionStarts.add(caseId);
}

const DECISIONS = [
  ['Upheld', 'Upheld', 'not medically necessary'],
  ['Overturned', 'Overturned', 'medically necessary'],
];

// The reviewer's attestation, in the workbench's own words.
const ATTESTATION = 'I am the expert reviewer assigned to this case. I have reviewed the complete case file '
  + 'provided, I have no affiliation with any party to this dispute, and the determination above, including '
  + 'each decision and its rationale, is my own professional judgment under the medical treatment guidelines.';

// Every text an evidence span may point into, in the engine's numbering: the case file's
// clinical summary, its records, then the medical records added as documents (in the
// order the service hands them to the engine). Other documents follow, closed.
export function recordSources(c) {
  const cf = caseFile(c);
  const out = [];
  if (typeof cf.clinical_summary === 'string')
    out.push({key: 'clinical_summary', title: 'Clinical summary', text: cf.clinical_summary});
  const records = Array.isArray(cf.records) ? cf.records : [];
  records.forEach((r, i) => out.push({key: `records[${i}]`, title: r.type || 'Record', date: r.date, author: r.author, text: r.text || ''}));
  let n = records.length;
  const others = [];
  for (const d of c.documents || []) {
    if (d.kind === 'medical_record' && typeof d.text === 'string')
      out.push({key: `records[${n++}]`, title: d.title || 'Medical record', date: d.date, author: d.author, text: d.text});
    else if (d.text)
      others.push({key: `document:${d.id}`, title: d.title || (d.kind || 'document').replace(/_/g, ' '), date: d.date, author: d.author, text: d.text, closed: true});
  }
  return out.concat(others);
}

// The records pane: every source text with its evidence spans marked. Returns the pane, the
// <mark> elements of each span and the title of the record each span is in.
function recordsPane(sources, spansBySource, withDraft) {
  const marksBySpan = new Map();
  const sourceOfSpan = new Map();
  const pane = h('aside', {class: 'records-pane', 'aria-labelledby': 'records-title'},
    h('h2', {id: 'records-title'}, 'Records'),
    withDraft
      ? h('p', {class: 'small muted'}, 'Highlighted: the passages the draft relies on (green underline: criterion met; red: not met). ',
        'Select a criterion to find its evidence.')
      : null);
  for (const src of sources) {
    const textEl = h('div', {class: 'record-text'});
    const spans = toUnits(src.text, spansBySource.get(src.key) || []);
    const marks = drawMarked(textEl, src.text, spans);
    for (const [id, ms] of marks) {
      marksBySpan.set(id, ms);
      sourceOfSpan.set(id, src.title);
    }
    const meta = [src.date, src.author].filter(Boolean).join(' · ');
    const title = src.title.charAt(0).toUpperCase() + src.title.slice(1);
    pane.append(h('details', {class: 'record', open: !src.closed, 'data-source': src.key},
      h('summary', null, title, meta ? h('span', {class: 'muted'}, ` — ${meta}`) : null,
        spans.length ? h('span', {class: 'muted small'}, ` (${plural(spans.length, 'highlight')})`) : null),
      textEl));
  }
  if (!sources.length) pane.append(h('p', {class: 'muted'}, 'The case file holds no record text.'));
  return {pane, marksBySpan, sourceOfSpan};
}

export function render(page) {
  const {c, ctx} = page;
  const det = c.determination;
  const reviewerId = (c.reviewer && c.reviewer.id) || (c.assignment && c.assignment.reviewer_id) || c.reviewer_id;
  const heading = h('h2', {id: 'tab-review', tabindex: '-1'}, 'Review');
  const mayWork = ctx.user.role === 'administrator' || ctx.user.role === 'reviewer';

  if (!det) {
    const card = h('div', {class: 'card'}, heading);
    if (!reviewerId) {
      card.append(h('p', null, 'No reviewer is assigned yet. ',
        h('a', {href: `#/cases/${encodeURIComponent(page.id)}/assignment`}, 'Assign one'), ' first.'));
      return {el: h('div', {class: 'review'}, h('div', null, card), recordsPane(recordSources(c), new Map(), false).pane)};
    }
    card.append(h('p', null, 'There is no draft yet. The engine reads the records, applies the guidelines to each ',
      'disputed item and proposes a decision with its criteria, evidence and rationale; nothing is final until you issue it.'));
    if (mayWork && ['assigned', 'in_review', 'correcting'].includes(c.status)) {
      const out = h('div');
      const button = h('button', {type: 'button', class: 'primary'}, 'Draft with the engine');
      button.addEventListener('click', async () => {
        button.disabled = true;
        try {
          await post(casePath(page.id, '/draft'));
          ctx.toast('The engine\u2019s draft is ready.');
          await page.refresh('review');
        } catch (err) {
          replace(out, ctx.errorBox(err));
          button.disabled = false;
        }
      });
      card.append(h('div', {class: 'actions'}, button), out);
    }
    return {el: h('div', {class: 'review'}, h('div', null, card), recordsPane(recordSources(c), new Map(), false).pane)};
  }

  const versions = (c.determinations || []).map((v) => v.version);
  const version = versions.length ? Math.max(...versions) : 0;
  const issued = det.status === 'final';
  const newest = (c.determinations || []).find((v) => v.version === version) || {};
  // a correction being started: the issued version's items, editable, saved with a reason
  const starting = issued && c.status === 'issued' && correctionStarts.has(page.id) && mayCorrect(ctx.user, c);
  if (!starting) correctionStarts.delete(page.id);
  const editable = starting || (mayWork && !issued && ['assigned', 'in_review', 'correcting'].includes(c.status));
  let edits = pending.get(page.id);
  if (!edits || edits.version !== version) {
    edits = {
      version,
      dirty: false,
      items: det.items.map((it) => ({decision: it.decision, rationale: it.rationale || '', reviewer_guideline: it.reviewer_guideline || ''})),
    };
    pending.set(page.id, edits);
  }

  // ------------------------------------------------------------ records with evidence
  const spansBySource = new Map();
  const critSpans = new Map(); // "i-j" -> [span id]
  const spanCrit = new Map();  // span id -> "i-j"
  det.items.forEach((it, i) => (it.criteria || []).forEach((cr, j) => {
    const key = `${i}-${j}`;
    critSpans.set(key, []);
    (cr.evidence || []).forEach((ev, k) => {
      const id = `e${i}-${j}-${k}`;
      if (!spansBySource.has(ev.source)) spansBySource.set(ev.source, []);
      spansBySource.get(ev.source).push({id, start: ev.start, end: ev.end, status: cr.status, label: cr.text});
      critSpans.get(key).push(id);
      spanCrit.set(id, key);
    });
  }));
  const {pane, marksBySpan, sourceOfSpan} = recordsPane(recordSources(c), spansBySource, true);

  let activeMarks = [];
  let pressed = null;
  function showEvidence(key, button) {
    for (const m of activeMarks) m.classList.remove('active');
    if (pressed) pressed.setAttribute('aria-pressed', 'false');
    pressed = button;
    button.setAttribute('aria-pressed', 'true');
    const ids = critSpans.get(key) || [];
    activeMarks = ids.flatMap((id) => marksBySpan.get(id) || []);
    if (!activeMarks.length) {
      ctx.toast('No passage of the records is tied to this criterion.');
      return;
    }
    for (const m of activeMarks) {
      m.classList.add('active');
      const d = m.closest('details');
      if (d) d.open = true;
    }
    const first = activeMarks[0];
    const top = first.getBoundingClientRect().top - pane.getBoundingClientRect().top + pane.scrollTop;
    pane.scrollTo({top: Math.max(0, top - pane.clientHeight / 3)});
    const paneBox = pane.getBoundingClientRect();
    if (paneBox.top > window.innerHeight || paneBox.bottom < 0) pane.scrollIntoView({block: 'nearest'});
    const texts = [...new Set(ids.map((id) => sourceOfSpan.get(id)).filter(Boolean))];
    ctx.toast(`Evidence: \u201c${first.textContent}\u201d in ${texts.join(', ')}`);
  }

  // ------------------------------------------------------------ the items
  const criterionButtons = new Map();
  const articles = det.items.map((it, i) => itemCard(it, i));
  let current = Math.max(0, edits.items.findIndex((e) => e.decision === 'Undetermined'));

  function itemCard(it, i) {
    const e = edits.items[i];
    const name = `decision-${i}`;
    const radios = DECISIONS.map(([value, label, meaning]) => {
      const input = h('input', {type: 'radio', name, value, checked: e.decision === value, disabled: !editable});
      input.addEventListener('change', () => setDecision(i, value, false));
      return h('label', null, input, h('span', null, h('strong', null, label), ` \u2014 ${meaning}`));
    });
    const t = it.treatment || {};
    const treatment = [t.kind && t.kind.replace(/_/g, ' '), (t.generics || []).join(' + '), t.drug_class && t.drug_class.replace(/_/g, ' '),
      t.body_part, t.procedure].filter(Boolean).join(' · ');
    const criteria = (it.criteria || []).map((cr, j) => {
      const key = `${i}-${j}`;
      const n = (critSpans.get(key) || []).filter((id) => marksBySpan.has(id)).length;
      const button = h('button', {type: 'button', class: 'criterion', 'aria-pressed': 'false', 'data-criterion': cr.id},
        h('span', {class: `badge ${cr.status}`}, criterionLabel(cr.status)),
        h('span', {class: 'ctext'}, cr.text),
        h('span', {class: 'evcount'}, n ? plural(n, 'passage') : 'no evidence'));
      button.addEventListener('click', () => showEvidence(key, button));
      criterionButtons.set(key, button);
      return h('li', null, button);
    });
    const guideline = h('textarea', {class: 'autosize', rows: 2, readonly: !editable, value: e.reviewer_guideline});
    guideline.addEventListener('input', () => {
      e.reviewer_guideline = guideline.value;
      markDirty();
    });
    const rationale = h('textarea', {class: 'autosize textarea-rationale', rows: 9, readonly: !editable, value: e.rationale});
    rationale.addEventListener('input', () => {
      e.rationale = rationale.value;
      markDirty();
    });
    const citations = (it.citations || []).map((ct) => h('li', null,
      [ct.guideline, ct.edition, ct.section, ct.pages && `pages ${ct.pages}`].filter(Boolean).join(', ')));
    const art = h('article', {class: 'card item', id: `item-${i}`, 'aria-labelledby': `item-${i}-title`},
      h('div', {class: 'item-head'},
        h('h2', {id: `item-${i}-title`, tabindex: '-1'}, `${i + 1}. ${it.request}`),
        h('span', {class: `badge ${it.decision}`, title: 'saved decision'}, issued ? it.decision : `Draft: ${it.decision}`)),
      h('p', {class: 'small muted'}, [it.ur_decision && `UR decision: ${it.ur_decision}`, treatment].filter(Boolean).join(' \u2014 ')),
      h('fieldset', null, h('legend', null, 'Decision'), h('div', {class: 'decision-choices'}, radios),
        it.decision === 'Undetermined' && it.undetermined_reason
          ? h('p', {class: 'small muted'}, `The engine could not decide: ${it.undetermined_reason}`) : null),
      h('h3', null, 'Criteria'),
      criteria.length ? h('ol', {class: 'criteria'}, criteria) : h('p', {class: 'muted small'}, 'No criteria were applied.'),
      (it.missing_documentation || []).length
        ? [h('h3', null, 'Missing documentation'), h('ul', {class: 'plain'}, it.missing_documentation.map((m) => h('li', null, m)))]
        : null,
      field('Guideline relied on', guideline),
      citations.length ? h('details', {class: 'small'}, h('summary', null, `Citations (${citations.length})`), h('ul', {class: 'plain'}, citations)) : null,
      field('Decision rationale', rationale));
    art.addEventListener('focusin', () => setCurrent(i, false));
    return art;
  }

  function setCurrent(i, focus) {
    current = i;
    articles.forEach((a, k) => a.classList.toggle('current', k === i));
    if (focus) {
      const title = articles[i].querySelector('h2');
      title.focus();
      articles[i].scrollIntoView({block: 'nearest'});
    }
  }

  function setDecision(i, value, fromKey) {
    if (!editable) return;
    edits.items[i].decision = value;
    for (const r of articles[i].querySelectorAll(`input[name="decision-${i}"]`)) r.checked = r.value === value;
    markDirty();
    if (fromKey) ctx.toast(`Item ${i + 1} marked ${value} (not saved yet: Ctrl+Enter saves).`);
  }

  // ------------------------------------------------------------ saving
  const dirtyNote = h('span', {class: 'dirty-note', 'aria-live': 'polite'});
  const saveOut = h('div');
  const saveButton = h('button', {type: 'button', class: 'primary', 'aria-keyshortcuts': 'Control+Enter', disabled: !editable},
    starting ? 'Save the correction' : 'Save decisions');
  const reasonBox = h('textarea', {id: 'correction-reason', name: 'correction_reason', rows: 2, required: true, 'aria-required': 'true'});
  reasonBox.addEventListener('input', () => {
    if (reasonBox.value.trim() && reasonBox.getAttribute('aria-invalid') === 'true') {
      reasonBox.removeAttribute('aria-invalid');
      replace(saveOut);
    }
  });
  saveButton.addEventListener('click', save);
  function markDirty() {
    edits.dirty = true;
    dirtyNote.textContent = 'Unsaved changes';
    refreshIssueChecklist();
  }
  async function save() {
    if (!editable) return;
    const body = {
      items: edits.items.map((e, index) => ({index, decision: e.decision, rationale: e.rationale, reviewer_guideline: e.reviewer_guideline})),
    };
    if (starting) {
      reasonBox.setAttribute('aria-invalid', String(!reasonBox.value.trim()));
      if (!reasonBox.value.trim()) {
        replace(saveOut, ctx.errorBox(Object.assign(new Error('A correction needs its reason.'),
          {fields: [{pointer: '/correction_reason', detail: 'say why the issued letter is corrected'}]})));
        reasonBox.focus();
        return;
      }
      body.correction_reason = reasonBox.value.trim();
    }
    saveButton.disabled = true;
    replace(saveOut);
    try {
      await post(casePath(page.id, '/decisions'), body);
      pending.delete(page.id);
      correctionStarts.delete(page.id);
      focusAfterSave.set(page.id, current);
      ctx.toast(starting ? `Correction saved: version ${version + 1} is a draft to attest and issue.` : 'Decisions saved.');
      await page.refresh('review');
    } catch (err) {
      replace(saveOut, ctx.errorBox(err));
      saveButton.disabled = false;
    }
  }
  if (edits.dirty) dirtyNote.textContent = 'Unsaved changes';
  const saveCard = h('div', {class: 'card'},
    starting ? field('Reason for the correction (required)', reasonBox, 'kept with the new version and named in the audit trail') : null,
    h('div', {class: 'actions'}, saveButton, dirtyNote,
      h('span', {class: 'small muted'}, `version ${version} \u00b7 ${issued ? 'issued' : 'draft'}`)),
    saveOut);

  // ------------------------------------------------------------ attest and issue
  const checklist = h('ul', {class: 'plain small'});
  const agree = checkbox('I make the attestation above.', {name: 'agree'});
  const signature = h('input', {name: 'signature', autocomplete: 'name', value: ''});
  const issueOut = h('div');
  const issueButton = h('button', {type: 'button', class: 'primary'}, 'Issue the final letter');
  function problems() {
    const list = [];
    edits.items.forEach((e, i) => {
      if (e.decision !== 'Upheld' && e.decision !== 'Overturned') list.push(`Decide item ${i + 1} (Upheld or Overturned).`);
      if (!e.rationale.trim()) list.push(`Write the rationale of item ${i + 1}.`);
    });
    if (edits.dirty) list.push('Save your changes.');
    if (!agree.input.checked) list.push('Tick the attestation.');
    if (!signature.value.trim()) list.push('Sign with your name.');
    return list;
  }
  function refreshIssueChecklist() {
    const p = problems();
    replace(checklist, p.length ? p.map((t) => h('li', null, t)) : h('li', {class: 'q-yes'}, 'Ready to issue.'));
    if (!p.length) replace(issueOut); // an earlier "not ready" no longer holds
  }
  agree.input.addEventListener('change', refreshIssueChecklist);
  signature.addEventListener('input', refreshIssueChecklist);
  issueButton.addEventListener('click', async () => {
    const p = problems();
    if (p.length) {
      replace(issueOut, h('div', {class: 'error', role: 'alert'}, 'Not ready to issue: ', p.join(' ')));
      return;
    }
    issueButton.disabled = true;
    replace(issueOut);
    try {
      await post(casePath(page.id, '/issue'), {statement: ATTESTATION, signature: signature.value.trim()});
      ctx.toast('The final letter is issued.');
      await page.refresh('letter');
    } catch (err) {
      replace(issueOut, ctx.errorBox(err));
      issueButton.disabled = false;
    }
  });
  refreshIssueChecklist();
  const issueCard = editable && !starting
    ? h('div', {class: 'card', role: 'group', 'aria-labelledby': 'issue-title'},
      h('h2', {id: 'issue-title'}, 'Attest and issue'),
      h('p', {id: 'attestation-statement'}, ATTESTATION),
      agree.el,
      field('Signature', signature, 'your name as the signing reviewer'),
      h('h3', {class: 'small'}, 'Before issuing'), checklist,
      h('div', {class: 'actions'}, issueButton), issueOut)
    : null;

  const cancel = h('button', {type: 'button'}, 'Cancel the correction');
  cancel.addEventListener('click', () => {
    correctionStarts.delete(page.id);
    pending.delete(page.id);
    ctx.navigate(`#/cases/${encodeURIComponent(page.id)}/letter`);
  });
  const keys = h('p', {class: 'small muted'}, 'Keys: j / k move between items, u / o mark Upheld / Overturned, Ctrl+Enter saves.');
  const intro = starting
    ? [h('p', {class: 'notice'}, `Correcting version ${version}, which stays as it was issued. Change what must change, `,
      'state the reason below and save: the correction becomes a new draft version, which the assigned reviewer then ',
      'attests and issues.'), h('div', {class: 'actions'}, cancel), keys]
    : issued
      ? h('p', {class: 'notice'}, 'This determination is issued and can no longer change. ',
        h('a', {href: `#/cases/${encodeURIComponent(page.id)}/letter`}, 'See the letter'), mayCorrect(ctx.user, c)
          ? ' (a correction starts there).' : '.')
      : !editable
        ? h('p', {class: 'notice'}, 'You can read this draft; only the assigned reviewer or an administrator can change it.')
        : keys;
  const correctionNote = !issued && newest.correction_of
    ? h('p', {class: 'notice correction-note'}, `This draft corrects version ${newest.correction_of}. Reason: ${newest.correction_reason || '—'}`)
    : null;

  pane.addEventListener('click', (e) => {
    const mark = e.target.closest('mark.ev');
    if (!mark) return;
    const key = spanCrit.get(mark.dataset.spans.split(' ')[0]);
    const button = criterionButtons.get(key);
    if (button) {
      button.focus();
      showEvidence(key, button);
    }
  });

  const el = h('div', {class: 'review'},
    h('div', null, h('div', {class: 'card'}, heading, correctionNote, intro), articles, editable ? saveCard : null, issueCard),
    pane);
  return {
    el,
    after() {
      if (focusAfterSave.has(page.id)) {
        current = Math.min(articles.length - 1, focusAfterSave.get(page.id));
        focusAfterSave.delete(page.id);
        setCurrent(current, true);
      }
      articles.forEach((a, k) => a.classList.toggle('current', k === current));
    },
    onKey(e) {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        if (editable) save();
        return editable;
      }
      if (e.key === 'j' || e.key === 'k') {
        setCurrent(Math.min(articles.length - 1, Math.max(0, current + (e.key === 'j' ? 1 : -1))), true);
        return true;
      }
      if ((e.key === 'u' || e.key === 'o') && editable) {
        setDecision(current, e.key === 'u' ? 'Upheld' : 'Overturned', true);
        return true;
      }
      return false;
    },
  };
}
