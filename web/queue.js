// queue.js - the case queue: filters (status, priority, overdue, reviewer, case number),
// the list sorted by due date with days left and overdue cases flagged, and j/k/Enter to
// move through it. The filters live in the address (#/queue?status=…) so that Back and
// bookmarks keep them.

import {get, withQuery} from './api.js';
import {h, replace, field, checkbox, select, STATUSES, statusLabel, statusBadge, priorityBadge,
  clockBadge} from './dom.js';

const PAGE = 50;
const LAST_OPENED = 'imr.lastOpenedCase';

export async function show(ctx, params) {
  const isReviewer = ctx.user.role === 'reviewer';
  const filters = {
    status: params.status || '',
    priority: params.priority || '',
    overdue: params.overdue === '1',
    reviewer_id: isReviewer ? '' : params.reviewer_id || '',
    q: params.q || '',
    sort: params.sort === '-due_date' ? '-due_date' : 'due_date',
    offset: Math.max(0, parseInt(params.offset, 10) || 0),
  };
  const [reviewers, page] = await Promise.all([
    isReviewer ? Promise.resolve({reviewers: []}) : get('/api/reviewers').catch(() => ({reviewers: []})),
    load(filters),
  ]);
  if (!ctx.alive()) return null;
  document.title = 'Queue · IMR workbench';

  // ------------------------------------------------------------ filters
  const status = select([['', 'Any status'], ...STATUSES.map((s) => [s, statusLabel(s)])], {name: 'status', value: filters.status});
  const priority = select([['', 'Any priority'], ['standard', 'Standard'], ['expedited', 'Expedited']], {name: 'priority', value: filters.priority});
  const overdue = checkbox('Overdue only', {name: 'overdue', checked: filters.overdue});
  const reviewer = select([['', 'Any reviewer'], ...reviewers.reviewers.map((r) => [r.id, r.id])], {name: 'reviewer_id', value: filters.reviewer_id});
  const search = h('input', {type: 'search', name: 'q', value: filters.q, placeholder: 'CM15-…   ( / )', 'aria-keyshortcuts': '/',
    autocomplete: 'off', spellcheck: 'false', size: 14});
  const form = h('form', {class: 'filters', role: 'search', 'aria-label': 'Filter the queue'},
    field('Case number', search, 'Cases whose number starts with this. Press / to come back here.', {hideHint: true}),
    field('Status', status),
    field('Priority', priority),
    isReviewer ? null : field('Reviewer', reviewer),
    overdue.el);

  // ------------------------------------------------------------ list
  const count = h('p', {class: 'muted small', 'aria-live': 'polite'});
  const sortButton = h('button', {type: 'button', class: 'sort'});
  const tbody = h('tbody');
  const table = h('table', {class: 'queue', 'aria-labelledby': 'queue-title'},
    h('colgroup', null, h('col', {class: 'c-case'}), h('col'), h('col', {class: 'c-status'}), h('col', {class: 'c-prio'}),
      isReviewer ? null : h('col', {class: 'c-rev'}), h('col', {class: 'c-due'}), h('col', {class: 'c-left'})),
    h('thead', null, h('tr', null,
      h('th', {scope: 'col'}, 'Case'),
      h('th', {scope: 'col'}, 'Disputed items'),
      h('th', {scope: 'col'}, 'Status'),
      h('th', {scope: 'col'}, 'Priority'),
      isReviewer ? null : h('th', {scope: 'col'}, 'Reviewer'),
      h('th', {scope: 'col', 'aria-sort': filters.sort === 'due_date' ? 'ascending' : 'descending'}, sortButton),
      h('th', {scope: 'col'}, 'Days left'))),
    tbody);
  const pager = h('div', {class: 'pager'});

  let rows = [];
  let selected = -1;

  function render(data) {
    const cases = data.cases || [];
    // a row that has the focus or the selection keeps it when the list is drawn again
    const focusedRow = document.activeElement && document.activeElement.closest && document.activeElement.closest('tr[data-id]');
    const keepFocus = focusedRow && tbody.contains(focusedRow) ? focusedRow.dataset.id : null;
    const keepSelected = selected >= 0 && rows[selected] ? rows[selected].id : sessionStorage.getItem(LAST_OPENED);
    rows = cases.map((c) => {
      const link = h('a', {href: `#/cases/${encodeURIComponent(c.id)}`,
        onclick: () => sessionStorage.setItem(LAST_OPENED, c.id)}, c.case_number || c.id);
      const tr = h('tr', {class: c.overdue ? 'is-overdue' : null, 'data-id': c.id},
        h('td', null, link),
        h('td', {title: (c.requests || []).join('; ')}, (c.requests || []).join('; ') || '—'),
        h('td', null, statusBadge(c.status)),
        h('td', null, priorityBadge(c.priority)),
        isReviewer ? null : h('td', {title: c.reviewer_credentials || ''}, c.reviewer_id || h('span', {class: 'muted'}, 'unassigned')),
        h('td', null, c.due_date || '—'),
        h('td', {class: 'left'}, clockBadge(c)));
      tr.addEventListener('click', (e) => {
        if (e.target.closest('a')) return;
        open(c.id);
      });
      return {tr, link, id: c.id};
    });
    if (!rows.length)
      replace(tbody, h('tr', null, h('td', {colspan: isReviewer ? 6 : 7, class: 'muted'}, 'No case matches these filters.')));
    else
      replace(tbody, rows.map((r) => r.tr));
    const total = data.total; // every case the filters select, on all pages
    const first = filters.offset + 1;
    const last = filters.offset + cases.length;
    count.textContent = cases.length ? `${first}–${last} of ${total} cases`
      : total ? `No cases on this page (${total} in all)` : 'No cases';
    sortButton.textContent = filters.sort === 'due_date' ? 'Due ▲' : 'Due ▼';
    sortButton.setAttribute('aria-label', `Due date, ${filters.sort === 'due_date' ? 'soonest' : 'latest'} first; activate to reverse`);
    const more = last < total;
    replace(pager,
      filters.offset > 0 ? h('button', {type: 'button', onclick: () => turn(-PAGE)}, '← Previous') : null,
      more ? h('button', {type: 'button', onclick: () => turn(PAGE)}, 'Next →') : null);
    selected = rows.findIndex((r) => r.id === (keepFocus || keepSelected));
    paintSelection();
    if (keepFocus && selected >= 0) rows[selected].link.focus();
  }

  function paintSelection() {
    rows.forEach((r, i) => {
      r.tr.classList.toggle('selected', i === selected);
      if (i === selected) r.tr.setAttribute('aria-current', 'true');
      else r.tr.removeAttribute('aria-current');
    });
  }

  function move(delta) {
    if (!rows.length) return;
    selected = selected < 0 ? (delta > 0 ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, selected + delta));
    paintSelection();
    rows[selected].link.focus();
    rows[selected].tr.scrollIntoView({block: 'nearest'});
  }

  function open(id) {
    sessionStorage.setItem(LAST_OPENED, id);
    ctx.navigate(`#/cases/${encodeURIComponent(id)}`);
  }

  // Keep the address in step with the filters without adding a history entry per key.
  function remember() {
    const hash = withQuery('#/queue', {
      status: filters.status, priority: filters.priority, overdue: filters.overdue,
      reviewer_id: filters.reviewer_id, q: filters.q,
      sort: filters.sort === 'due_date' ? '' : filters.sort, offset: filters.offset || '',
    });
    history.replaceState(null, '', hash);
  }

  let loading = 0;
  async function reload() {
    const mine = ++loading;
    remember();
    table.setAttribute('aria-busy', 'true');
    try {
      const data = await load(filters);
      if (mine === loading && ctx.alive()) render(data);
    } catch (err) {
      if (mine === loading && ctx.alive()) replace(tbody, h('tr', null, h('td', {colspan: 7}, ctx.errorBox(err))));
    } finally {
      table.removeAttribute('aria-busy');
    }
  }

  function turn(delta) {
    filters.offset = Math.max(0, filters.offset + delta);
    reload();
  }

  let debounce = null;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      filters.q = search.value.trim();
      filters.offset = 0;
      reload();
    }, 150);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && search.value) {
      search.value = '';
      search.dispatchEvent(new Event('input'));
    } else if (e.key === 'ArrowDown' || (e.key === 'Enter' && rows.length)) {
      e.preventDefault();
      if (e.key === 'Enter' && rows.length === 1) open(rows[0].id);
      else move(1);
    }
  });
  form.addEventListener('submit', (e) => e.preventDefault());
  form.addEventListener('change', (e) => {
    if (e.target === search) return;
    filters.status = status.value;
    filters.priority = priority.value;
    filters.overdue = overdue.input.checked;
    filters.reviewer_id = isReviewer ? '' : reviewer.value;
    filters.offset = 0;
    reload();
  });
  sortButton.addEventListener('click', () => {
    filters.sort = filters.sort === 'due_date' ? '-due_date' : 'due_date';
    filters.offset = 0;
    table.querySelector('th[aria-sort]').setAttribute('aria-sort', filters.sort === 'due_date' ? 'ascending' : 'descending');
    reload();
  });

  render(page);
  replace(ctx.main,
    h('div', {class: 'queue-head'},
      h('h1', {id: 'queue-title', tabindex: '-1'}, isReviewer ? 'My cases' : 'Case queue'),
      count),
    form,
    h('div', {class: 'scroll-x'}, table),
    pager);

  if (sessionStorage.getItem('imr.focusSearch')) {
    sessionStorage.removeItem('imr.focusSearch');
    search.focus();
  } else if (selected >= 0) {
    rows[selected].link.focus({preventScroll: false});
  } else {
    ctx.main.querySelector('h1').focus();
  }

  return {
    focusSearch() {
      search.focus();
      search.select();
    },
    onKey(e) {
      if (e.key === 'j') {
        move(1);
        return true;
      }
      if (e.key === 'k') {
        move(-1);
        return true;
      }
      // Enter on a link follows it by itself; elsewhere it opens the selected case
      if (e.key === 'Enter' && selected >= 0 && !e.target.closest('a, button, input, select, textarea')) {
        open(rows[selected].id);
        return true;
      }
      return false;
    },
  };
}

function load(f) {
  return get(withQuery('/api/cases', {
    status: f.status, priority: f.priority, overdue: f.overdue, reviewer_id: f.reviewer_id, q: f.q,
    sort: f.sort === 'due_date' ? '' : f.sort, limit: PAGE, offset: f.offset || '',
  }));
}
