// sale-detail: one sale (#/sales/{id}): its facts, lines and returns, and what can be done next:
// confirm a draft (with an optional payment), register a payment, take a return with an optional
// refund, cancel (a draft, or a confirmed sale with no payments and no returns); the last two for
// admins only.
import { h, pageView, toast, confirmDialog } from '../dom.js';
import { api, guard, isAdmin, idempotency, ApiError } from '../api.js';
import { field, input, select, formError, clearErrors, showError, busy } from '../forms.js';
import { table, statusBadge } from '../lists.js';
import { money, moneyEl, qty, when } from '../format.js';
import { QTY_SCALE, formatDecimal, parseQuantity } from '../decimal.js';
import { paymentForm, methodWord } from './payments.js';
import { t, errorText } from '../i18n.js';

const methods = () => [['cash', t('method.cash')], ['card', t('method.card')], ['transfer', t('method.transfer')]];
const productId = (l) => (l.product ? l.product.id : l.product_id);
const units = (v) => parseQuantity(String(v)) ?? 0n;
// Money without its sign (a refund may be written as a negative payment).
const unsigned = (v) => (typeof v === 'string' ? v.replace(/^-/, '') : Math.abs(Number(v)));

// The sale's products with what was sold and what is already returned, in thousandths:
// [{ product, sold, returned }] in the order of the lines (lines of one product summed).
function returnable(sale) {
  const byId = new Map();
  for (const l of sale.items || []) {
    const id = productId(l);
    if (!byId.has(id)) byId.set(id, { product: l.product || { id, name: t('receipt.product', { id }), sku: '' }, sold: 0n, returned: 0n });
    byId.get(id).sold += units(l.quantity);
  }
  for (const r of sale.returns || []) for (const l of r.items || []) {
    const x = byId.get(productId(l));
    if (x) x.returned += units(l.quantity);
  }
  return [...byId.values()];
}

// The returns of the sale: one row per return with its lines, total and refund.
function returnsTable(sale) {
  const L = { time: t('return.col.time'), items: t('return.col.items'), total: t('return.col.returned_total'), refund: t('return.col.refund'), note: t('return.col.note') };
  return table([L.time, L.items, L.total, L.refund, L.note], (sale.returns || []).map((r) => h('tr', { class: 'return-row' },
    h('td', { 'data-label': L.time }, when(r.created_at)),
    h('td', { 'data-label': L.items }, (r.items || []).map((l, i) => [i ? h('br') : null, `${qty(l.quantity)} × ${l.product ? l.product.name : t('receipt.product', { id: productId(l) })}`])),
    h('td', { 'data-label': L.total, class: 'num' }, moneyEl(r.returned_total)),
    h('td', { 'data-label': L.refund, class: 'num' }, r.refund ? [moneyEl(unsigned(r.refund.amount)), ' ', methodWord(r.refund.method)] : t('return.no_refund')),
    h('td', { 'data-label': L.note }, r.note || '—'))), t('return.caption'));
}

// The return form: a quantity per product (up to sold minus returned), an optional refund and a
// note; POST /sales/{id}/returns with an Idempotency-Key. The API names a bad line by its place in
// the items sent (items[i].quantity): that is shown beside the product's own field.
function returnForm(sale, after) {
  const rows = returnable(sale);
  const inputs = rows.map((x, j) => input(`items[${j}].quantity`, { inputmode: 'decimal', class: 'narrow', autocomplete: 'off', 'aria-label': t('return.quantity_of', { name: x.product.name }) }));
  const amount = input('refund.amount', { inputmode: 'decimal', autocomplete: 'off' });
  const method = select('refund.method', methods());
  const note = h('textarea', { name: 'note', rows: 2 });
  const btn = h('button', { type: 'submit', class: 'primary' }, t('return.submit'));
  const idem = idempotency();
  const RL = { product: t('return.col.product'), sold: t('return.col.sold'), returned: t('return.col.returned'), now: t('return.col.now') };
  const form = h('form', { class: 'card return-form', novalidate: true }, h('h2', {}, t('return.title')),
    h('p', { class: 'muted' }, t('return.intro')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'lines' },
      h('thead', {}, h('tr', {}, [RL.product, RL.sold, RL.returned, RL.now].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows.map((x, j) => h('tr', {},
        h('td', { 'data-label': RL.product }, x.product.name, h('small', { class: 'muted' }, ' ', x.product.sku || '')),
        h('td', { 'data-label': RL.sold, class: 'num' }, qty(formatDecimal(x.sold, QTY_SCALE))),
        h('td', { 'data-label': RL.returned, class: 'num' }, qty(formatDecimal(x.returned, QTY_SCALE))),
        h('td', { 'data-label': RL.now }, inputs[j],
          h('small', { class: 'muted' }, ' ', t('return.up_to', { n: qty(formatDecimal(x.sold - x.returned, QTY_SCALE)) })),
          h('span', { class: 'field-error', role: 'alert', dataset: { errorFor: `items[${j}].quantity` } }),
          h('span', { class: 'field-error', role: 'alert', dataset: { errorFor: `items[${j}].product_id` } }))))))),
    h('span', { class: 'field-error', role: 'alert', dataset: { errorFor: 'items' } }),
    h('div', { class: 'grid' }, field(t('return.refund_amount'), amount, t('return.refund_hint', { paid: money(sale.paid_total) })),
      field(t('return.refund_method'), method), field(t('common.note_optional'), note)),
    formError(), h('div', { class: 'actions' }, btn));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(form);
    const sent = []; // sent[i]: the row of items[i]
    const items = [];
    inputs.forEach((el, j) => {
      const v = el.value.trim();
      if (v !== '' && v !== '0') { sent.push(j); items.push({ product_id: rows[j].product.id, quantity: v }); }
    });
    if (!items.length) { showError(form, { message: t('return.need_quantity'), field: 'items' }); return; }
    const body = { items };
    if (amount.value.trim()) body.refund = { amount: amount.value.trim(), method: method.value };
    if (note.value.trim()) body.note = note.value.trim();
    await busy(btn, async () => {
      try {
        await api('POST', `/sales/${sale.id}/returns`, body, { 'Idempotency-Key': idem.key(body) });
        idem.done();
        toast(t('return.recorded'));
        await after();
      } catch (e) {
        if (e.status === 401) return;
        const m = /^items\[(\d+)\](\..+)?$/.exec(e.field || '');
        if (m && sent[Number(m[1])] !== undefined) showError(form, { message: errorText(e), field: `items[${sent[Number(m[1])]}]${m[2] || '.quantity'}` });
        else if (e.code === 'overrefund') showError(form, { message: t('return.overrefund', { paid: money(sale.paid_total) }), field: 'refund.amount' });
        else showError(form, e);
      }
    });
  });
  return form;
}

export async function saleDetailPage(id) {
  const setView = pageView();
  const admin = isAdmin();
  const sale = await api('GET', `/sales/${encodeURIComponent(id)}`);
  const returns = sale.returns || [];
  const hasReturnsApi = sale.returned_total !== undefined;
  const owed = Number(sale.outstanding) < 0;
  const LL = [[t('sale.col.product')], [t('product.sku')], [t('sale.col.quantity')], [t('sale.col.unit_price')], [t('sale.col.line_total')]];
  const parts = [
    h('div', { class: 'page-head' }, h('h1', {}, t('sale.name', { id: sale.id }), ' ', statusBadge(sale.status)), h('a', { class: 'button', href: '#/sales' }, t('sale.all'))),
    sale.status === 'confirmed' ? h('p', { class: 'receipt-link' }, h('a', { class: 'button', href: `#/sales/${sale.id}/receipt` }, t('receipt.link'))) : null,
    h('dl', { class: 'facts card' },
      h('dt', {}, t('sale.customer')), h('dd', {}, sale.customer || '—'),
      h('dt', {}, t('sale.created')), h('dd', {}, when(sale.created_at)),
      sale.confirmed_at ? [h('dt', {}, t('sale.confirmed')), h('dd', {}, when(sale.confirmed_at))] : null,
      sale.cancelled_at ? [h('dt', {}, t('sale.cancelled')), h('dd', {}, when(sale.cancelled_at))] : null,
      h('dt', {}, t('sale.total')), h('dd', { class: 'sale-total' }, moneyEl(sale.total)),
      hasReturnsApi ? [h('dt', {}, t('sale.returned')), h('dd', { class: 'sale-returned' }, moneyEl(sale.returned_total))] : null,
      h('dt', {}, hasReturnsApi ? t('sale.paid_net') : t('sale.paid')), h('dd', { class: 'sale-paid' }, moneyEl(sale.paid_total)),
      hasReturnsApi ? [h('dt', {}, t('sale.refunded')), h('dd', { class: 'sale-refunded' }, moneyEl(sale.refunded_total))] : null,
      h('dt', {}, t('sale.outstanding')), h('dd', { class: 'sale-outstanding' }, moneyEl(sale.outstanding), owed ? h('small', { class: 'muted' }, ' ', t('sale.owed')) : null)),
    table(LL.map((x) => x[0]), (sale.items || []).map((l) => h('tr', {},
      h('td', { 'data-label': LL[0][0] }, l.product ? l.product.name : '—'),
      h('td', { 'data-label': LL[1][0] }, l.product ? l.product.sku : '—'),
      h('td', { 'data-label': LL[2][0], class: 'num' }, qty(l.quantity)),
      h('td', { 'data-label': LL[3][0], class: 'num' }, moneyEl(l.unit_price)),
      h('td', { 'data-label': LL[4][0], class: 'num' }, moneyEl(l.line_total)))), t('sale.lines')),
    returns.length ? returnsTable(sale) : null,
  ];
  if (sale.status === 'draft') {
    const withPay = h('input', { type: 'checkbox', name: 'with_payment', checked: true });
    const amount = input('payment.amount', { inputmode: 'decimal', value: sale.total });
    const method = select('payment.method', methods());
    const payFields = h('div', { class: 'grid' }, field(t('payment.amount'), amount), field(t('payment.method'), method));
    withPay.addEventListener('change', () => { payFields.hidden = !withPay.checked; });
    const btn = h('button', { type: 'submit', class: 'primary' }, t('sale.confirm.submit'));
    const form = h('form', { class: 'card', novalidate: true },
      h('h2', {}, t('sale.confirm.title')), h('p', { class: 'muted' }, t('sale.confirm.intro')),
      h('div', { class: 'field check' }, h('label', {}, withPay, ' ', t('sale.confirm.with_payment'))), payFields,
      formError(), h('div', { class: 'actions' }, btn));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault(); clearErrors(form);
      await busy(btn, async () => {
        try {
          await api('POST', `/sales/${sale.id}/confirm`, withPay.checked ? { payment: { amount: amount.value, method: method.value } } : {});
          toast(t('sale.confirm.done'));
          await saleDetailPage(sale.id);
        } catch (e) { if (e.status !== 401) showError(form, e); }
      });
    });
    parts.push(form);
  }
  if (sale.status === 'confirmed' && Number(sale.outstanding) > 0) parts.push(paymentForm(sale, () => saleDetailPage(sale.id)));
  if (admin && sale.status === 'confirmed' && returnable(sale).some((x) => x.sold > x.returned)) parts.push(returnForm(sale, () => saleDetailPage(sale.id)));
  // SPEC §10 makes only the cancel of a confirmed sale admin-only, but the route table refuses
  // every cancel to staff (403): staff are shown no Cancel at all, not a button that fails.
  // Anyone may cancel a draft; only an admin a confirmed sale (SPEC §10).
  const cancellable = sale.status === 'draft' || (admin &&
    sale.status === 'confirmed' && Number(sale.paid_total) === 0 && !(Number(sale.refunded_total) > 0) && !returns.length);
  if (cancellable) {
    const err = formError();
    const cancelBtn = h('button', { type: 'button', class: 'danger', onclick: guard(async () => {
      if (!(await confirmDialog(t(sale.status === 'confirmed' ? 'sale.cancel.ask_confirmed' : 'sale.cancel.ask', { id: sale.id }), t('sale.cancel.submit')))) return;
      await busy(cancelBtn, async () => {
        try { await api('POST', `/sales/${sale.id}/cancel`); toast(t('sale.cancel.done')); await saleDetailPage(sale.id); }
        catch (e) { if (e.status !== 401) err.textContent = e instanceof ApiError ? errorText(e) : e.message; }
      });
    }) }, t('sale.cancel.submit'));
    parts.push(h('div', { class: 'card' }, h('h2', {}, t('sale.cancel.title')), err, h('div', { class: 'actions' }, cancelBtn)));
  }
  setView(parts);
}
