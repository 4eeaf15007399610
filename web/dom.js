// dom.js - building the workbench's DOM without HTML strings (so no case text can ever become
// markup), and the small wording helpers every screen shares: dates, review clocks, statuses.

// h('button', {class: 'primary', onclick: f}, 'Save') -> <button class="primary">Save</button>
// Props: `class`, `text`, event handlers as `on<event>`, DOM properties for form state
// (value, checked, disabled, hidden, selected, open), everything else as an attribute
// (false / null / undefined leave it out, true writes it empty).
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (PROPERTIES.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'open', 'indeterminate']);

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// Replace everything inside `el` at once (one layout, no flash of an empty box).
export function replace(el, ...children) {
  const frag = document.createDocumentFragment();
  append(frag, children);
  el.replaceChildren(frag);
  return el;
}

// A labelled form control: <div class="field"><label for=id>…</label>control hint</div>.
export function field(labelText, control, hint, {hideHint = false} = {}) {
  if (!control.id) control.id = uid('f');
  const hintEl = hint ? h('span', {class: hideHint ? 'visually-hidden' : 'hint', id: control.id + '-hint'}, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', {class: 'field'}, h('label', {for: control.id}, labelText), control, hintEl);
}

// A checkbox with its label to the right.
export function checkbox(labelText, props) {
  const input = h('input', {type: 'checkbox', id: uid('c'), ...props});
  return {input, el: h('label', {class: 'check', for: input.id}, input, h('span', null, labelText))};
}

export function select(options, props) {
  const s = h('select', props);
  for (const [value, label] of options)
    s.append(h('option', {value, selected: value === (props && props.value)}, label));
  if (props && props.value !== undefined) s.value = props.value;
  return s;
}

let counter = 0;
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

// ---------------------------------------------------------------- wording

const STATUS_LABELS = {
  received: 'Received',
  eligible: 'Eligible',
  ineligible: 'Ineligible',
  assigned: 'Assigned',
  in_review: 'In review',
  issued: 'Issued',
  correcting: 'Correcting',
};
export const STATUSES = Object.keys(STATUS_LABELS);

export function statusLabel(status) {
  return STATUS_LABELS[status] || status || '—';
}

export function statusBadge(status) {
  return h('span', {class: 'badge status'}, statusLabel(status));
}

export function priorityBadge(priority) {
  return priority === 'expedited'
    ? h('span', {class: 'badge expedited'}, 'Expedited')
    : h('span', {class: 'muted small'}, 'Standard');
}

const CRITERION_LABELS = {met: 'Met', not_met: 'Not met', unknown: 'Unknown'};
export function criterionLabel(status) {
  return CRITERION_LABELS[status] || status;
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many || one + 's'}`;
}

// The review clock of a case, in words: "3 days left", "due today", "2 days overdue".
export function clockText(c) {
  if (c.days_left === null || c.days_left === undefined) return '—';
  if (c.days_left < 0) return `${plural(-c.days_left, 'day')} overdue`;
  if (c.days_left === 0) return 'due today';
  return `${plural(c.days_left, 'day')} left`;
}

export function clockBadge(c) {
  if (c.overdue) return h('span', {class: 'badge overdue'}, clockText(c));
  return h('span', {class: 'muted'}, clockText(c));
}

// "2015-08-19T10:00:00Z" -> "2015-08-19 10:00 UTC"; dates stay as written.
export function when(iso) {
  if (!iso) return '—';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

export function list(values) {
  return values && values.length ? values.join(', ') : '—';
}
