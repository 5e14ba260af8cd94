// sales: the sales list (#/sales) with its status filter.
import { h, setView } from '../dom.js';
import { qs, guard } from '../api.js';
import { field, select } from '../forms.js';
import { PAGE, pagedList, statusBadge } from '../lists.js';
import { money, when } from '../format.js';
import { exportLink } from '../csv.js';

export async function salesPage() {
  const status = select('status', [['', 'All'], ['draft', 'Draft'], ['confirmed', 'Confirmed'], ['cancelled', 'Cancelled']]);
  const list = pagedList({
    url: (at) => '/sales' + qs({ status: status.value, limit: PAGE, offset: at }),
    headers: ['#', 'Customer', 'Status', 'Total', 'Paid', 'Outstanding', 'Created'],
    row: (x) => h('tr', {},
      h('td', { 'data-label': '#' }, h('a', { href: `#/sales/${x.id}` }, `Sale ${x.id}`)),
      h('td', { 'data-label': 'Customer' }, x.customer || '—'),
      h('td', { 'data-label': 'Status' }, statusBadge(x.status)),
      h('td', { 'data-label': 'Total', class: 'num' }, money(x.total)),
      h('td', { 'data-label': 'Paid', class: 'num' }, money(x.paid_total)),
      h('td', { 'data-label': 'Outstanding', class: 'num' }, money(x.outstanding)),
      h('td', { 'data-label': 'Created' }, when(x.created_at))),
  });
  status.addEventListener('change', guard(() => list.load(0)));
  setView(h('div', { class: 'page-head' }, h('h1', {}, 'Sales'),
    h('div', { class: 'actions' }, exportLink('/sales', () => ({ status: status.value })), h('a', { class: 'button primary', href: '#/sales/new' }, 'New sale'))),
    h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() }, field('Status', status)), list.el);
  await list.load();
}
