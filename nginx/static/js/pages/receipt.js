// receipt: the printable receipt of a confirmed sale (#/sales/{id}/receipt): the shop, the sale's
// number and confirmation time, the customer, its lines (with each product's unit), the totals,
// the payments (refunds included) and the returns. A draft or cancelled sale has no receipt: a
// message says so. "Print" is window.print(); the @media print block of style.css hides the
// shell and the buttons, so the paper shows the receipt alone.
import { h, pageView } from '../dom.js';
import { api, session } from '../api.js';
import { t, tx } from '../i18n.js';
import { moneyEl, qty, when } from '../format.js';

const productId = (l) => (l.product ? l.product.id : l.product_id);
const productName = (l) => (l.product ? l.product.name : t('receipt.product', { id: productId(l) }));

// The unit abbreviation of every product of the sale (GET /products/{id}, one per product): a
// product deleted since the sale has none, and its quantity is shown without a unit.
async function unitsOf(sale) {
  const ids = [...new Set((sale.items || []).map(productId))];
  const out = new Map();
  await Promise.all(ids.map(async (id) => {
    try {
      const p = await api('GET', `/products/${encodeURIComponent(id)}`);
      if (p && p.uom) out.set(id, p.uom.abbreviation || p.uom.name || '');
    } catch (e) { if (e.status !== 404) throw e; }
  }));
  return out;
}

// Every payment of the sale (refunds are negative ones), oldest first, page by page.
async function paymentsOf(id) {
  const all = [];
  for (let offset = 0; offset < 10000; offset += 200) {
    const r = await api('GET', `/payments?sale_id=${encodeURIComponent(id)}&limit=200&offset=${offset}`);
    const items = (r && r.items) || [];
    all.push(...items);
    if (items.length < 200) break;
  }
  return all.sort((a, b) => String(a.paid_at).localeCompare(String(b.paid_at)) || a.id - b.id);
}

const withUnit = (v, u) => (u ? `${qty(v)} ${u}` : qty(v));
const methodText = (m) => (m ? t(`receipt.method.${m}`) : '—');

function linesTable(caption, items, units) {
  return h('table', { class: 'receipt-lines' }, h('caption', {}, caption),
    h('thead', {}, h('tr', {}, [['receipt.col.product', ''], ['receipt.col.quantity', 'num'],
      ['receipt.col.unit_price', 'num'], ['receipt.col.line_total', 'num']].map(([k, c]) => h('th', { scope: 'col', class: c }, t(k))))),
    h('tbody', {}, items.map((l) => h('tr', { class: 'receipt-line' },
      h('td', { 'data-label': t('receipt.col.product') }, h('span', { class: 'receipt-sku' }, l.product ? l.product.sku : ''), ' ', productName(l)),
      h('td', { 'data-label': t('receipt.col.quantity'), class: 'num' }, withUnit(l.quantity, units.get(productId(l)))),
      h('td', { 'data-label': t('receipt.col.unit_price'), class: 'num' }, moneyEl(l.unit_price)),
      h('td', { 'data-label': t('receipt.col.line_total'), class: 'num' }, moneyEl(l.line_total))))));
}

export async function receiptPage(id) {
  const setView = pageView();
  const sale = await api('GET', `/sales/${encodeURIComponent(id)}`);
  const back = h('a', { class: 'button no-print', href: `#/sales/${sale.id}` }, t('receipt.back'));
  if (sale.status !== 'confirmed' && sale.status !== 'returned') {
    setView(h('div', { class: 'page-head' }, h('h1', {}, t('receipt.title', { id: sale.id })), back),
      h('p', { class: 'form-error receipt-none', role: 'alert' }, t(sale.status === 'draft' ? 'receipt.not_confirmed' : 'receipt.cancelled')));
    return;
  }
  const [units, payments] = await Promise.all([unitsOf(sale), paymentsOf(sale.id)]);
  const returns = sale.returns || [];
  const shop = (session.tenant && session.tenant.name) || 'stock';
  const print = h('button', { type: 'button', class: 'primary no-print', onclick: () => window.print() }, t('receipt.print'));
  const row = (k, v, cls) => [h('dt', {}, t(k)), h('dd', { class: `num ${cls}` }, v)];
  setView(
    h('div', { class: 'page-head no-print' }, h('h1', {}, t('receipt.title', { id: sale.id })), h('div', { class: 'actions' }, print, back)),
    h('article', { class: 'receipt card', 'aria-label': t('receipt.title', { id: sale.id }) },
      h('header', { class: 'receipt-head' },
        h('h2', { class: 'receipt-shop' }, shop),
        h('p', {}, h('strong', {}, t('receipt.number', { id: sale.id }))),
        h('p', {}, t('receipt.confirmed_at', { when: when(sale.confirmed_at) })),
        h('p', {}, t('receipt.customer', { name: sale.customer || '—' }))),
      linesTable(t('receipt.lines'), sale.items || [], units),
      h('dl', { class: 'receipt-totals' },
        row('receipt.total', moneyEl(sale.total), 'receipt-total'),
        sale.returned_total !== undefined ? row('receipt.returned', moneyEl(sale.returned_total), 'receipt-returned') : null,
        row('receipt.paid', moneyEl(sale.paid_total), 'receipt-paid'),
        row('receipt.outstanding', moneyEl(sale.outstanding), 'receipt-outstanding')),
      h('section', { class: 'receipt-payments' }, h('h3', {}, t('receipt.payments')),
        payments.length ? h('table', { class: 'receipt-lines' },
          h('thead', {}, h('tr', {}, [['receipt.col.date', ''], ['receipt.col.method', ''], ['receipt.col.reference', ''],
            ['receipt.col.amount', 'num']].map(([k, c]) => h('th', { scope: 'col', class: c }, t(k))))),
          h('tbody', {}, payments.map((p) => h('tr', { class: 'receipt-line receipt-payment' },
            h('td', { 'data-label': t('receipt.col.date') }, when(p.paid_at)),
            h('td', { 'data-label': t('receipt.col.method') }, p.kind === 'refund' ? t('receipt.refund_of', { method: methodText(p.method) }) : methodText(p.method)),
            h('td', { 'data-label': t('receipt.col.reference') }, p.reference || '—'),
            h('td', { 'data-label': t('receipt.col.amount'), class: 'num' }, moneyEl(p.amount))))))
          : h('p', { class: 'muted' }, t('receipt.no_payments'))),
      returns.length ? h('section', { class: 'receipt-returns' }, h('h3', {}, t('receipt.returns')),
        returns.map((r) => h('div', { class: 'receipt-return' },
          h('p', {}, t('receipt.return_of', { id: r.id, when: when(r.created_at) }),
            r.note ? [' — ', r.note] : null),
          linesTable(t('receipt.return_lines', { id: r.id }), r.items || [], units),
          h('p', { class: 'num' }, tx('receipt.returned_total', { amount: moneyEl(r.returned_total) }),
            r.refund ? [' · ', tx('receipt.refunded', { amount: moneyEl(String(r.refund.amount).replace(/^-/, '')) })] : null)))) : null,
      h('p', { class: 'receipt-thanks' }, t('receipt.thanks'))));
}
