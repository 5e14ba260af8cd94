// lists: tables of rows, paged lists with their pager, and the badges shown in rows.
import { h } from './dom.js';
import { api, guard } from './api.js';
import { qty } from './format.js';
import { t } from './i18n.js';

// A sale's status as text (draft, confirmed, cancelled, returned).
export const statusText = (st) => t(`status.${st}`);
// The badge of a sale's status.
export const statusBadge = (st) => h('span', { class: `badge status-${st}` }, statusText(st));

// Rows per page of every list.
export const PAGE = 50;

// A table with column headers, rows (<tr> elements; a "Nothing here yet." row when empty) and
// an optional caption.
export function table(headers, rows, caption) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length, class: 'empty' }, t('list.empty'))))));
}

// A paged list: el shows the page's table (headers, one row(item) per item) and its pager;
// load(at) shows the page that starts at offset at (load() the current one again), asking
// url(at) (a path with limit PAGE and that offset). An answer that comes after a newer request's
// is dropped, so a slow page never replaces a newer one. onPage(r), when given, sees each answer
// shown. attrs are el's attributes.
export function pagedList({ url, headers, row, onPage, attrs = {} }) {
  const el = h('div', attrs);
  let seq = 0, offset = 0;
  const load = async (at = offset) => {
    const my = ++seq;
    const r = await api('GET', url(at));
    if (my !== seq) return;
    offset = at;
    if (onPage) onPage(r);
    el.replaceChildren(table(headers, r.items.map(row)), pager(r, offset, load) || '');
  };
  return { el, load };
}

// Paging under a list: "1–50 of 234" with Previous and Next. r is the list answer ({items,
// total}), offset where it starts; go(newOffset) loads another page. null when one page holds all.
export function pager(r, offset, go) {
  if (r.total <= PAGE && offset === 0) return null;
  const first = r.items.length ? offset + 1 : 0, last = offset + r.items.length;
  const prev = h('button', { type: 'button', disabled: offset === 0, onclick: guard(() => go(Math.max(0, offset - PAGE))) }, t('list.previous'));
  const next = h('button', { type: 'button', disabled: last >= r.total, onclick: guard(() => go(offset + PAGE)) }, t('list.next'));
  return h('nav', { class: 'pager', 'aria-label': t('list.pages') }, prev,
    h('span', { class: 'muted' }, t('list.range', { first: qty(first), last: qty(last), total: qty(r.total) })), next);
}
