// sales: the sales list (#/sales) with its status filter, and the status badge of a sale.
import { h, setView } from '../dom.js';
import { api, qs, guard } from '../api.js';
import { field, select } from '../forms.js';
import { PAGE, table, pager } from '../lists.js';
import { money, when } from '../format.js';

// The badge of a sale's status (draft, confirmed, cancelled).
export const statusBadge = (st) => h('span', { class: `badge status-${st}` }, st);

export async function salesPage() {
  const status = select('status', [['', 'All'], ['draft', 'Draft'], ['confirmed', 'Confirmed'], ['cancelled', 'Cancelled']]);
  const list = h('div');
  let offset = 0;
  const load = async (at = offset) => {
    const r = await api('GET', '/sales' + qs({ status: status.value, limit: PAGE, offset: at }));
    offset = at;
    list.replaceChildren(table(['#', 'Customer', 'Status', 'Total', 'Paid', 'Outstanding', 'Created'], r.items.map((x) => h('tr', {},
      h('td', { 'data-label': '#' }, h('a', { href: `#/sales/${x.id}` }, `Sale ${x.id}`)),
      h('td', { 'data-label': 'Customer' }, x.customer || '—'),
      h('td', { 'data-label': 'Status' }, statusBadge(x.status)),
      h('td', { 'data-label': 'Total', class: 'num' }, money(x.total)),
      h('td', { 'data-label': 'Paid', class: 'num' }, money(x.paid_total)),
      h('td', { 'data-label': 'Outstanding', class: 'num' }, money(x.outstanding)),
      h('td', { 'data-label': 'Created' }, when(x.created_at))))), pager(r, offset, load) || '');
  };
  status.addEventListener('change', guard(() => load(0)));
  setView(h('div', { class: 'page-head' }, h('h1', {}, 'Sales'), h('a', { class: 'button primary', href: '#/sales/new' }, 'New sale')),
    h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() }, field('Status', status)), list);
  await load();
}
