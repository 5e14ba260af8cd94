// payments: the payment form (on the payments page and under a confirmed sale) and the payments
// list (#/payments) with its method filter; refunds (kind refund, a negative amount) are listed too.
import { h, setView, toast } from '../dom.js';
import { api, qs, guard, idempotency } from '../api.js';
import { field, input, select, formError, clearErrors, showError, busy } from '../forms.js';
import { PAGE, pagedList } from '../lists.js';
import { money, when } from '../format.js';
import { exportLink } from '../csv.js';

// The "Register a payment" form: for sale (its number fixed, the amount its outstanding), or for
// any sale number when sale is null. after() runs once a payment is recorded. A resubmission of
// the same body reuses its Idempotency-Key, so a retry never records it twice.
export function paymentForm(sale, after) {
  const saleId = input('sale_id', { inputmode: 'numeric', value: sale ? String(sale.id) : '', required: true });
  const amount = input('amount', { inputmode: 'decimal', value: sale ? sale.outstanding : '', required: true });
  const method = select('method', [['cash', 'Cash'], ['card', 'Card'], ['transfer', 'Transfer']]);
  const reference = input('reference', { autocomplete: 'off' });
  // When the money came in, in the browser's time zone; empty means now.
  const paidAt = input('paid_at', { type: 'datetime-local', step: 1 });
  const btn = h('button', { type: 'submit', class: 'primary' }, 'Register payment');
  const form = h('form', { class: 'card', novalidate: true }, h('h2', {}, 'Register a payment'),
    h('div', { class: 'grid' }, sale ? null : field('Sale number', saleId), field('Amount', amount), field('Method', method),
      field('Paid at (optional)', paidAt, 'Leave empty for now.'), field('Reference (optional)', reference)),
    formError(), h('div', { class: 'actions' }, btn));
  const idem = idempotency();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(form);
    const body = { sale_id: Number(saleId.value), amount: amount.value, method: method.value };
    if (reference.value.trim()) body.reference = reference.value.trim();
    if (paidAt.value) {
      const t = new Date(paidAt.value);
      if (Number.isNaN(t.getTime())) { showError(form, { message: 'Enter a valid date and time.', field: 'paid_at' }); return; }
      body.paid_at = t.toISOString();
    }
    await busy(btn, async () => {
      try {
        await api('POST', '/payments', body, { 'Idempotency-Key': idem.key(body) });
        idem.done();
        toast('Payment registered.');
        await after();
      } catch (e) { if (e.status !== 401) showError(form, e); }
    });
  });
  return form;
}

export async function paymentsPage() {
  const method = select('method', [['', 'All methods'], ['cash', 'Cash'], ['card', 'Card'], ['transfer', 'Transfer']]);
  const list = pagedList({
    url: (at) => '/payments' + qs({ method: method.value, limit: PAGE, offset: at }),
    headers: ['Paid at', 'Sale', 'Kind', 'Method', 'Amount', 'Reference'],
    row: (p) => h('tr', { class: p.kind === 'refund' ? 'refund' : null },
      h('td', { 'data-label': 'Paid at' }, when(p.paid_at)),
      h('td', { 'data-label': 'Sale' }, h('a', { href: `#/sales/${p.sale_id}` }, `Sale ${p.sale_id}`)),
      h('td', { 'data-label': 'Kind' }, p.kind === 'refund' ? h('span', { class: 'badge refund' }, 'Refund') : 'Payment'),
      h('td', { 'data-label': 'Method' }, p.method),
      h('td', { 'data-label': 'Amount', class: 'num' }, money(p.amount)),
      h('td', { 'data-label': 'Reference' }, p.reference || '—')),
  });
  method.addEventListener('change', guard(() => list.load(0)));
  setView(h('div', { class: 'page-head' }, h('h1', {}, 'Payments'), exportLink('/payments', () => ({ method: method.value }))), paymentForm(null, () => list.load(0)), h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() }, field('Method', method)), list.el);
  await list.load();
}
