// sales: the sales list (#/sales) with its status filter.
import { h, setView } from '../dom.js';
import { qs, guard } from '../api.js';
import { field, select } from '../forms.js';
import { PAGE, pagedList, statusBadge } from '../lists.js';
import { moneyEl, when } from '../format.js';
import { t } from '../i18n.js';

export async function salesPage() {
  const status = select('status', [['', t('sales.all')], ['draft', t('sales.filter.draft')], ['confirmed', t('sales.filter.confirmed')], ['cancelled', t('sales.filter.cancelled')]]);
  const L = {
    customer: t('sale.customer'), status: t('sale.status'), total: t('sale.total'), paid: t('sale.paid'),
    outstanding: t('sale.outstanding'), created: t('sale.created'),
  };
  const list = pagedList({
    url: (at) => '/sales' + qs({ status: status.value, limit: PAGE, offset: at }),
    headers: ['#', L.customer, L.status, L.total, L.paid, L.outstanding, L.created],
    row: (x) => h('tr', {},
      h('td', { 'data-label': '#' }, h('a', { href: `#/sales/${x.id}` }, t('sale.name', { id: x.id }))),
      h('td', { 'data-label': L.customer }, x.customer || '—'),
      h('td', { 'data-label': L.status }, statusBadge(x.status)),
      h('td', { 'data-label': L.total, class: 'num' }, moneyEl(x.total)),
      h('td', { 'data-label': L.paid, class: 'num' }, moneyEl(x.paid_total)),
      h('td', { 'data-label': L.outstanding, class: 'num' }, moneyEl(x.outstanding)),
      h('td', { 'data-label': L.created }, when(x.created_at))),
  });
  status.addEventListener('change', guard(() => list.load(0)));
  setView(h('div', { class: 'page-head' }, h('h1', {}, t('nav.sales')), h('a', { class: 'button primary', href: '#/sales/new' }, t('title.new_sale'))),
    h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() }, field(t('sale.status'), status)), list.el);
  await list.load();
}
