// sale-detail: one sale (#/sales/{id}): its facts, lines and returns, and what can be done next:
// confirm a draft (with an optional payment), register a payment, take a return with an optional
// refund, cancel (a draft, or a confirmed sale with no payments and no returns); the last two for
// admins only.
import { h, pageView, toast, confirmDialog } from '../dom.js';
import { api, guard, isAdmin, idempotency } from '../api.js';
import { field, input, select, formError, clearErrors, showError, busy } from '../forms.js';
import { table, statusBadge } from '../lists.js';
import { money, qty, when } from '../format.js';
import { QTY_SCALE, formatDecimal, parseQuantity } from '../decimal.js';
import { paymentForm } from './payments.js';
import { t as receiptT } from '../i18n.js'; // the Receipt link (an alias: merges with the page's own t import)

const METHODS = [['cash', 'Cash'], ['card', 'Card'], ['transfer', 'Transfer']];
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
    if (!byId.has(id)) byId.set(id, { product: l.product || { id, name: `Product ${id}`, sku: '' }, sold: 0n, returned: 0n });
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
  return table(['Time', 'Items', 'Returned total', 'Refund', 'Note'], (sale.returns || []).map((r) => h('tr', { class: 'return-row' },
    h('td', { 'data-label': 'Time' }, when(r.created_at)),
    h('td', { 'data-label': 'Items' }, (r.items || []).map((l, i) => [i ? h('br') : null, `${qty(l.quantity)} × ${l.product ? l.product.name : `Product ${productId(l)}`}`])),
    h('td', { 'data-label': 'Returned total', class: 'num' }, money(r.returned_total)),
    h('td', { 'data-label': 'Refund', class: 'num' }, r.refund ? `${money(unsigned(r.refund.amount))} ${r.refund.method || ''}` : 'No refund'),
    h('td', { 'data-label': 'Note' }, r.note || '—'))), 'Returns');
}

// The return form: a quantity per product (up to sold minus returned), an optional refund and a
// note; POST /sales/{id}/returns with an Idempotency-Key. The API names a bad line by its place in
// the items sent (items[i].quantity): that is shown beside the product's own field.
function returnForm(sale, after) {
  const rows = returnable(sale);
  const inputs = rows.map((x, j) => input(`items[${j}].quantity`, { inputmode: 'decimal', class: 'narrow', autocomplete: 'off', 'aria-label': `Quantity of ${x.product.name} to return` }));
  const amount = input('refund.amount', { inputmode: 'decimal', autocomplete: 'off' });
  const method = select('refund.method', METHODS);
  const note = h('textarea', { name: 'note', rows: 2 });
  const btn = h('button', { type: 'submit', class: 'primary' }, 'Record return');
  const idem = idempotency();
  const form = h('form', { class: 'card return-form', novalidate: true }, h('h2', {}, 'Take a return'),
    h('p', { class: 'muted' }, 'The returned goods go back into stock.'),
    h('div', { class: 'table-wrap' }, h('table', { class: 'lines' },
      h('thead', {}, h('tr', {}, ['Product', 'Sold', 'Returned', 'Return now'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.map((x, j) => h('tr', {},
        h('td', { 'data-label': 'Product' }, x.product.name, h('small', { class: 'muted' }, ' ', x.product.sku || '')),
        h('td', { 'data-label': 'Sold', class: 'num' }, qty(formatDecimal(x.sold, QTY_SCALE))),
        h('td', { 'data-label': 'Returned', class: 'num' }, qty(formatDecimal(x.returned, QTY_SCALE))),
        h('td', { 'data-label': 'Return now' }, inputs[j],
          h('small', { class: 'muted' }, ` up to ${qty(formatDecimal(x.sold - x.returned, QTY_SCALE))}`),
          h('span', { class: 'field-error', role: 'alert', dataset: { errorFor: `items[${j}].quantity` } }),
          h('span', { class: 'field-error', role: 'alert', dataset: { errorFor: `items[${j}].product_id` } }))))))),
    h('span', { class: 'field-error', role: 'alert', dataset: { errorFor: 'items' } }),
    h('div', { class: 'grid' }, field('Refund amount (optional)', amount, `Up to ${money(sale.paid_total)}, what was paid. Leave empty for no refund.`),
      field('Refund method', method), field('Note (optional)', note)),
    formError(), h('div', { class: 'actions' }, btn));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(form);
    const sent = []; // sent[i]: the row of items[i]
    const items = [];
    inputs.forEach((el, j) => {
      const v = el.value.trim();
      if (v !== '' && v !== '0') { sent.push(j); items.push({ product_id: rows[j].product.id, quantity: v }); }
    });
    if (!items.length) { showError(form, { message: 'Enter the quantity to return of at least one product.', field: 'items' }); return; }
    const body = { items };
    if (amount.value.trim()) body.refund = { amount: amount.value.trim(), method: method.value };
    if (note.value.trim()) body.note = note.value.trim();
    await busy(btn, async () => {
      try {
        await api('POST', `/sales/${sale.id}/returns`, body, { 'Idempotency-Key': idem.key(body) });
        idem.done();
        toast('Return recorded.');
        await after();
      } catch (e) {
        if (e.status === 401) return;
        const m = /^items\[(\d+)\](\..+)?$/.exec(e.field || '');
        if (m && sent[Number(m[1])] !== undefined) showError(form, { message: e.message, field: `items[${sent[Number(m[1])]}]${m[2] || '.quantity'}` });
        else if (e.code === 'overrefund') showError(form, { message: e.message || `The refund is more than what was paid (${money(sale.paid_total)}).`, field: 'refund.amount' });
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
  const parts = [
    h('div', { class: 'page-head' }, h('h1', {}, `Sale ${sale.id} `, statusBadge(sale.status)), h('a', { class: 'button', href: '#/sales' }, 'All sales')),
    sale.status === 'confirmed' ? h('p', { class: 'receipt-link' }, h('a', { class: 'button', href: `#/sales/${sale.id}/receipt` }, receiptT('receipt.link'))) : null,
    h('dl', { class: 'facts card' },
      h('dt', {}, 'Customer'), h('dd', {}, sale.customer || '—'),
      h('dt', {}, 'Created'), h('dd', {}, when(sale.created_at)),
      sale.confirmed_at ? [h('dt', {}, 'Confirmed'), h('dd', {}, when(sale.confirmed_at))] : null,
      sale.cancelled_at ? [h('dt', {}, 'Cancelled'), h('dd', {}, when(sale.cancelled_at))] : null,
      h('dt', {}, 'Total'), h('dd', { class: 'sale-total' }, money(sale.total)),
      hasReturnsApi ? [h('dt', {}, 'Returned'), h('dd', { class: 'sale-returned' }, money(sale.returned_total))] : null,
      h('dt', {}, hasReturnsApi ? 'Paid (net of refunds)' : 'Paid'), h('dd', { class: 'sale-paid' }, money(sale.paid_total)),
      hasReturnsApi ? [h('dt', {}, 'Refunded'), h('dd', { class: 'sale-refunded' }, money(sale.refunded_total))] : null,
      h('dt', {}, 'Outstanding'), h('dd', { class: 'sale-outstanding' }, money(sale.outstanding), owed ? h('small', { class: 'muted' }, ' (the shop owes the customer)') : null)),
    table(['Product', 'SKU', 'Quantity', 'Unit price', 'Line total'], (sale.items || []).map((l) => h('tr', {},
      h('td', { 'data-label': 'Product' }, l.product ? l.product.name : '—'),
      h('td', { 'data-label': 'SKU' }, l.product ? l.product.sku : '—'),
      h('td', { 'data-label': 'Quantity', class: 'num' }, qty(l.quantity)),
      h('td', { 'data-label': 'Unit price', class: 'num' }, money(l.unit_price)),
      h('td', { 'data-label': 'Line total', class: 'num' }, money(l.line_total)))), 'Lines'),
    returns.length ? returnsTable(sale) : null,
  ];
  if (sale.status === 'draft') {
    const withPay = h('input', { type: 'checkbox', name: 'with_payment', checked: true });
    const amount = input('payment.amount', { inputmode: 'decimal', value: sale.total });
    const method = select('payment.method', METHODS);
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
  if (admin && sale.status === 'confirmed' && returnable(sale).some((x) => x.sold > x.returned)) parts.push(returnForm(sale, () => saleDetailPage(sale.id)));
  // SPEC §10 makes only the cancel of a confirmed sale admin-only, but the route table refuses
  // every cancel to staff (403): staff are shown no Cancel at all, not a button that fails.
  // Anyone may cancel a draft; only an admin a confirmed sale (SPEC §10).
  const cancellable = sale.status === 'draft' || (admin &&
    sale.status === 'confirmed' && Number(sale.paid_total) === 0 && !(Number(sale.refunded_total) > 0) && !returns.length);
  if (cancellable) {
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
