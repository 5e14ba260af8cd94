// lists: tables of rows and the pager under a paginated list.
import { h } from './dom.js';
import { guard } from './api.js';
import { qty } from './format.js';

// Rows per page of every list.
export const PAGE = 50;

// A table with column headers, rows (<tr> elements; a "Nothing here yet." row when empty) and
// an optional caption.
export function table(headers, rows, caption) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length, class: 'empty' }, 'Nothing here yet.')))));
}

// Paging under a list: "1–50 of 234" with Previous and Next. r is the list answer ({items,
// total}), offset where it starts; go(newOffset) loads another page. null when one page holds all.
export function pager(r, offset, go) {
  if (r.total <= PAGE && offset === 0) return null;
  const first = r.items.length ? offset + 1 : 0, last = offset + r.items.length;
  const prev = h('button', { type: 'button', disabled: offset === 0, onclick: guard(() => go(Math.max(0, offset - PAGE))) }, 'Previous');
  const next = h('button', { type: 'button', disabled: last >= r.total, onclick: guard(() => go(offset + PAGE)) }, 'Next');
  return h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev,
    h('span', { class: 'muted' }, `${qty(first)}–${qty(last)} of ${qty(r.total)}`), next);
}
