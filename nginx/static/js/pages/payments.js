// payments: the payment form (on the payments page and under a confirmed sale) and the payments
// list (#/payments) with its method filter; refunds (kind refund, a negative amount) are listed too.
import { h, setView, toast } from '../dom.js';
import { api, qs, guard, idempotency } from '../api.js';
import { field, input, select, formError, clearErrors, showError, busy } from '../forms.js';
import { PAGE, pagedList } from '../lists.js';
import { moneyEl, when } from '../format.js';
import { t } from '../i18n.js';

const METHODS = ['cash', 'card', 'transfer'];
const methodOptions = () => METHODS.map((m) => [m, t(`method.${m}`)]);
// A payment method as the payments list shows it ('cash').
export const methodWord = (m) => (METHODS.includes(m) ? t(`method.word.${m}`) : m || '');

// The "Register a payment" form: for sale (its number fixed, the amount its outstanding), or for
// any sale number when sale is null. after() runs once a payment is recorded. A resubmission of
// the same body reuses its Idempotency-Key, so a retry never records it twice.
export function paymentForm(sale, after) {
  const saleId = input('sale_id', { inputmode: 'numeric', value: sale ? String(sale.id) : '', required: true });
  const amount = input('amount', { inputmode: 'decimal', value: sale ? sale.outstanding : '', required: true });
  const method = select('method', methodOptions());
  const reference = input('reference', { autocomplete: 'off' });
  // When the money came in, in the browser's time zone; empty means now.
  const paidAt = input('paid_at', { type: 'datetime-local', step: 1 });
  const btn = h('button', { type: 'submit', class: 'primary' }, t('payment.submit'));
  const form = h('form', { class: 'card', novalidate: true }, h('h2', {}, t('payment.title')),
    h('div', { class: 'grid' }, sale ? null : field(t('payment.sale_number'), saleId), field(t('payment.amount'), amount), field(t('payment.method'), method),
      field(t('payment.paid_at_optional'), paidAt, t('payment.paid_at_hint')), field(t('common.reference_optional'), reference)),
    formError(), h('div', { class: 'actions' }, btn));
  const idem = idempotency();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(form);
    const body = { sale_id: Number(saleId.value), amount: amount.value, method: method.value };
    if (reference.value.trim()) body.reference = reference.value.trim();
    if (paidAt.value) {
      const at = new Date(paidAt.value);
      if (Number.isNaN(at.getTime())) { showError(form, { message: t('payment.bad_time'), field: 'paid_at' }); return; }
      body.paid_at = at.toISOString();
    }
    await busy(btn, async () => {
      try {
        await api('POST', '/payments', body, { 'Idempotency-Key': idem.key(body) });
        idem.done();
        toast(t('payment.done'));
        await after();
      } catch (e) { if (e.status !== 401) showError(form, e); }
    });
  });
  return form;
}

export async function paymentsPage() {
  const method = select('method', [['', t('method.all')], ...methodOptions()]);
  const L = { paidAt: t('payment.col.paid_at'), sale: t('payment.col.sale'), kind: t('payment.col.kind'), method: t('payment.col.method'), amount: t('payment.col.amount'), ref: t('payment.col.reference') };
  const list = pagedList({
    url: (at) => '/payments' + qs({ method: method.value, limit: PAGE, offset: at }),
    headers: [L.paidAt, L.sale, L.kind, L.method, L.amount, L.ref],
    row: (p) => h('tr', { class: p.kind === 'refund' ? 'refund' : null },
      h('td', { 'data-label': L.paidAt }, when(p.paid_at)),
      h('td', { 'data-label': L.sale }, h('a', { href: `#/sales/${p.sale_id}` }, t('sale.name', { id: p.sale_id }))),
      h('td', { 'data-label': L.kind }, p.kind === 'refund' ? h('span', { class: 'badge refund' }, t('payment.kind.refund')) : t('payment.kind.payment')),
      h('td', { 'data-label': L.method }, methodWord(p.method)),
      h('td', { 'data-label': L.amount, class: 'num' }, moneyEl(p.amount)),
      h('td', { 'data-label': L.ref }, p.reference || '—')),
  });
  method.addEventListener('change', guard(() => list.load(0)));
  setView(h('h1', {}, t('nav.payments')), paymentForm(null, () => list.load(0)), h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() }, field(t('payment.method'), method)), list.el);
  await list.load();
}
