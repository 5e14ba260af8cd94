// sale-detail: one sale (#/sales/{id}): its facts and lines, and what can be done next: confirm a
// draft (with an optional payment), register a payment, cancel.
import { h, setView, toast, confirmDialog } from '../dom.js';
import { api, guard } from '../api.js';
import { field, input, select, formError, clearErrors, showError, busy } from '../forms.js';
import { table, statusBadge } from '../lists.js';
import { money, qty, when } from '../format.js';
import { paymentForm } from './payments.js';

export async function saleDetailPage(id) {
  const sale = await api('GET', `/sales/${encodeURIComponent(id)}`);
  const parts = [
    h('div', { class: 'page-head' }, h('h1', {}, `Sale ${sale.id} `, statusBadge(sale.status)), h('a', { class: 'button', href: '#/sales' }, 'All sales')),
    h('dl', { class: 'facts card' },
      h('dt', {}, 'Customer'), h('dd', {}, sale.customer || '—'),
      h('dt', {}, 'Created'), h('dd', {}, when(sale.created_at)),
      sale.confirmed_at ? [h('dt', {}, 'Confirmed'), h('dd', {}, when(sale.confirmed_at))] : null,
      sale.cancelled_at ? [h('dt', {}, 'Cancelled'), h('dd', {}, when(sale.cancelled_at))] : null,
      h('dt', {}, 'Total'), h('dd', { class: 'sale-total' }, money(sale.total)),
      h('dt', {}, 'Paid'), h('dd', { class: 'sale-paid' }, money(sale.paid_total)),
      h('dt', {}, 'Outstanding'), h('dd', { class: 'sale-outstanding' }, money(sale.outstanding))),
    table(['Product', 'SKU', 'Quantity', 'Unit price', 'Line total'], (sale.items || []).map((l) => h('tr', {},
      h('td', { 'data-label': 'Product' }, l.product ? l.product.name : '—'),
      h('td', { 'data-label': 'SKU' }, l.product ? l.product.sku : '—'),
      h('td', { 'data-label': 'Quantity', class: 'num' }, qty(l.quantity)),
      h('td', { 'data-label': 'Unit price', class: 'num' }, money(l.unit_price)),
      h('td', { 'data-label': 'Line total', class: 'num' }, money(l.line_total)))), 'Lines'),
  ];
  if (sale.status === 'draft') {
    const withPay = h('input', { type: 'checkbox', name: 'with_payment', checked: true });
    const amount = input('payment.amount', { inputmode: 'decimal', value: sale.total });
    const method = select('payment.method', [['cash', 'Cash'], ['card', 'Card'], ['transfer', 'Transfer']]);
    const payFields = h('div', { class: 'grid' }, field('Amount', amount), field('Method', method));
    withPay.addEventListener('change', () => { payFields.hidden = !withPay.checked; });
    const btn = h('button', { type: 'submit', class: 'primary' }, 'Confirm sale');
    const form = h('form', { class: 'card', novalidate: true },
      h('h2', {}, 'Confirm'), h('p', { class: 'muted' }, 'Confirming takes the stock of every line.'),
      h('div', { class: 'field check' }, h('label', {}, withPay, ' Record a payment now')), payFields,
      formError(), h('div', { class: 'actions' }, btn));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault(); clearErrors(form);
      await busy(btn, async () => {
        try {
          await api('POST', `/sales/${sale.id}/confirm`, withPay.checked ? { payment: { amount: amount.value, method: method.value } } : {});
          toast('Sale confirmed.');
          await saleDetailPage(sale.id);
        } catch (e) { if (e.status !== 401) showError(form, e); }
      });
    });
    parts.push(form);
  }
  if (sale.status === 'confirmed' && Number(sale.outstanding) > 0) parts.push(paymentForm(sale, () => saleDetailPage(sale.id)));
  if (sale.status === 'draft' || (sale.status === 'confirmed' && Number(sale.paid_total) === 0)) {
    const err = formError();
    const cancelBtn = h('button', { type: 'button', class: 'danger', onclick: guard(async () => {
      if (!(await confirmDialog(`Cancel sale ${sale.id}?${sale.status === 'confirmed' ? ' Its stock will be returned.' : ''}`, 'Cancel sale'))) return;
      await busy(cancelBtn, async () => {
        try { await api('POST', `/sales/${sale.id}/cancel`); toast('Sale cancelled.'); await saleDetailPage(sale.id); }
        catch (e) { if (e.status !== 401) err.textContent = e.message; }
      });
    }) }, 'Cancel sale');
    parts.push(h('div', { class: 'card' }, h('h2', {}, 'Cancel'), err, h('div', { class: 'actions' }, cancelBtn)));
  }
  setView(parts);
}
