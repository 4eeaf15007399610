// spans.js - evidence spans in the record text. The engine gives each span as UTF-8 byte
// offsets (start inclusive, end exclusive) into the case file's `clinical_summary` or
// `records[i].text`; JavaScript strings count UTF-16 code units. This module converts the
// offsets in one pass over the text and draws the text with <mark> around every span
// (overlapping spans split into segments, each segment knowing every span it belongs to).

// UTF-8 length of the code point starting at s[i], and how many UTF-16 units it takes.
function codePointSizes(s, i) {
  const c = s.charCodeAt(i);
  if (c < 0x80) return [1, 1];
  if (c < 0x800) return [2, 1];
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return [4, 2];
  }
  return [3, 1]; // the rest of the BMP (a lone surrogate is written as U+FFFD: 3 bytes too)
}

// Map byte offsets to UTF-16 indexes: a Map from each offset asked for to its index. An
// offset inside a multi-byte character maps to that character's start; an offset past the
// end maps to undefined (the span is then dropped by the caller).
export function utf16Offsets(text, byteOffsets) {
  const wanted = [...new Set(byteOffsets)].filter((b) => Number.isInteger(b) && b >= 0).sort((a, b) => a - b);
  const out = new Map();
  let byte = 0;
  let unit = 0;
  let k = 0;
  while (k < wanted.length && unit < text.length) {
    const [nb, nu] = codePointSizes(text, unit);
    while (k < wanted.length && wanted[k] < byte + nb) out.set(wanted[k++], unit);
    byte += nb;
    unit += nu;
  }
  while (k < wanted.length && wanted[k] === byte) out.set(wanted[k++], unit);
  return out;
}

// The UTF-8 length of a string (for tests and checks).
export function utf8Length(text) {
  let n = 0;
  for (let i = 0; i < text.length;) {
    const [nb, nu] = codePointSizes(text, i);
    n += nb;
    i += nu;
  }
  return n;
}

// Convert spans [{start, end, ...}] given in bytes into spans in UTF-16 units over `text`;
// spans that fall outside the text or are empty are left out.
export function toUnits(text, spans) {
  const map = utf16Offsets(text, spans.flatMap((s) => [s.start, s.end]));
  const out = [];
  for (const s of spans) {
    const start = map.get(s.start);
    const end = map.get(s.end);
    if (start === undefined || end === undefined || end <= start) continue;
    out.push({...s, start, end});
  }
  return out;
}

// Draw `text` into `container` with each span ({start, end, id, status, label} in UTF-16
// units) wrapped in <mark class="ev s-<status>" data-spans="id id ...">. Returns the mark
// elements by span id, so that a criterion can find and scroll to its evidence.
export function drawMarked(container, text, spans) {
  const bounds = new Set([0, text.length]);
  for (const s of spans) {
    bounds.add(s.start);
    bounds.add(s.end);
  }
  const cuts = [...bounds].sort((a, b) => a - b);
  const starting = new Map();
  for (const s of spans) {
    if (!starting.has(s.start)) starting.set(s.start, []);
    starting.get(s.start).push(s);
  }
  const active = new Set();
  const marksBySpan = new Map();
  const frag = document.createDocumentFragment();
  for (let i = 0; i + 1 < cuts.length; i++) {
    const from = cuts[i];
    const to = cuts[i + 1];
    for (const s of active) if (s.end <= from) active.delete(s);
    for (const s of starting.get(from) || []) active.add(s);
    const piece = text.slice(from, to);
    if (!active.size) {
      frag.append(piece);
      continue;
    }
    const covering = [...active];
    const mark = document.createElement('mark');
    mark.className = `ev s-${strongest(covering)}`;
    mark.dataset.spans = covering.map((s) => s.id).join(' ');
    mark.title = [...new Set(covering.map((s) => s.label))].join('\n');
    mark.textContent = piece;
    for (const s of covering) {
      if (!marksBySpan.has(s.id)) marksBySpan.set(s.id, []);
      marksBySpan.get(s.id).push(mark);
    }
    frag.append(mark);
  }
  container.replaceChildren(frag);
  return marksBySpan;
}

// A segment under several criteria shows the most telling status.
const RANK = {not_met: 3, met: 2, unknown: 1};
function strongest(spans) {
  let best = 'unknown';
  for (const s of spans) if ((RANK[s.status] || 0) > RANK[best]) best = s.status;
  return best;
}
