// sale-new: the new sale form (#/sales/new): find products, add lines, a live preview of the line
// totals and the total computed exactly as the API will (decimal.js), then create the draft.
import { h, append, setView, toast } from '../dom.js';
import { api, qs, guard } from '../api.js';
import { field, input, select, formError, clearErrors, showError, busy } from '../forms.js';
import { money, moneyEl, qty } from '../format.js';
import { t } from '../i18n.js';
import { MONEY_SCALE, formatDecimal, lineTotal, saleTotal } from '../decimal.js';

// Cents (BigInt) as shown money (an element, format.js); "—" for a line the API would refuse (null).
const cents = (c) => (c === null ? '—' : moneyEl(formatDecimal(c, MONEY_SCALE)));

export async function newSalePage() {
  const lines = []; // {product, quantity, unit_price}, the values as typed
  const customer = input('customer', { autocomplete: 'off' });
  const find = input('find', { type: 'search', placeholder: t('product.search_placeholder'), autocomplete: 'off' });
  const pick = select('product', [['', t('salenew.type_to_search')]]);
  const addQty = input('add_quantity', { inputmode: 'decimal', value: '1' });
  const found = new Map();
  let seq = 0, timer;
  const search = async () => {
    const my = ++seq;
    const r = await api('GET', '/products' + qs({ q: find.value.trim(), limit: 30 }));
    if (my !== seq) return;
    found.clear();
    pick.replaceChildren(...(r.items.length ? r.items.map((p) => { found.set(String(p.id), p); return h('option', { value: String(p.id) }, t('salenew.option', { name: p.name, sku: p.sku, price: money(p.price), stock: qty(p.stock) })); }) : [h('option', { value: '' }, t('salenew.no_match'))]));
  };
  find.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(guard(search), 250); });
  const tbody = h('tbody');
  const totalEl = h('strong', { class: 'sale-total' });
  const form = h('form', { class: 'card', novalidate: true });
  // The total is the sum of the rounded line totals; a line the API would refuse adds nothing.
  const sumUp = () => {
    totalEl.replaceChildren(cents(saleTotal(lines.map((l) => lineTotal(l.quantity, l.unit_price)))));
  };
  const L = { product: t('salenew.col.product'), qty: t('salenew.col.quantity'), price: t('salenew.col.unit_price'), total: t('salenew.col.line_total') };
  const renderLines = () => {
    tbody.replaceChildren(...lines.map((l, i) => {
      const q = input(`items[${i}].quantity`, { inputmode: 'decimal', value: l.quantity, 'aria-label': t('salenew.quantity_of', { name: l.product.name }), class: 'narrow' });
      const pr = input(`items[${i}].unit_price`, { inputmode: 'decimal', value: l.unit_price, 'aria-label': t('salenew.price_of', { name: l.product.name }), class: 'narrow' });
      const lt = h('td', { class: 'num', 'data-label': L.total });
      const upd = () => { l.quantity = q.value; l.unit_price = pr.value; lt.replaceChildren(cents(lineTotal(l.quantity, l.unit_price))); sumUp(); };
      q.addEventListener('input', upd); pr.addEventListener('input', upd);
      lt.replaceChildren(cents(lineTotal(l.quantity, l.unit_price)));
      return h('tr', {},
        h('td', { 'data-label': L.product }, l.product.name, h('small', { class: 'muted' }, ' ', l.product.sku)),
        h('td', { 'data-label': L.qty }, q, h('span', { class: 'field-error', dataset: { errorFor: `items[${i}].quantity` } })),
        h('td', { 'data-label': L.price }, pr, h('span', { class: 'field-error', dataset: { errorFor: `items[${i}].unit_price` } }),
          h('span', { class: 'field-error', dataset: { errorFor: `items[${i}].product_id` } })),
        lt,
        h('td', { class: 'row-actions' }, h('button', { type: 'button', onclick: () => { lines.splice(i, 1); renderLines(); } }, t('salenew.remove'))));
    }));
    if (!lines.length) tbody.append(h('tr', {}, h('td', { colspan: 5, class: 'empty' }, t('salenew.no_lines'))));
    sumUp();
  };
  const addBtn = h('button', { type: 'button', onclick: () => {
    const p = found.get(pick.value);
    if (!p) { toast(t('salenew.choose_first'), true); return; }
    lines.push({ product: p, quantity: addQty.value || '1', unit_price: p.price });
    renderLines();
    find.value = ''; addQty.value = '1'; find.focus();
  } }, t('salenew.add_line'));
  const createBtn = h('button', { type: 'submit', class: 'primary' }, t('salenew.create'));
  append(form, [h('h1', {}, t('title.new_sale')), field(t('salenew.customer_optional'), customer),
    h('fieldset', { class: 'add-line' }, h('legend', {}, t('salenew.add_product')), field(t('salenew.find'), find), field(t('salenew.product'), pick), field(t('salenew.quantity'), addQty), h('div', { class: 'actions' }, addBtn)),
    h('div', { class: 'table-wrap' }, h('table', { class: 'lines' },
      h('thead', {}, h('tr', {}, [L.product, L.qty, L.price, L.total, ''].map((x) => h('th', { scope: 'col' }, x)))), tbody)),
    h('p', { class: 'total-line' }, t('salenew.total'), ' ', totalEl),
    h('span', { class: 'field-error', dataset: { errorFor: 'items' } }), formError(),
    h('div', { class: 'actions' }, createBtn, h('a', { class: 'button', href: '#/sales' }, t('common.cancel')))]);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (!lines.length) { showError(form, { message: t('salenew.need_line'), field: 'items' }); return; }
    await busy(createBtn, async () => {
      try {
        const sale = await api('POST', '/sales', { customer: customer.value.trim() || null, items: lines.map((l) => ({ product_id: l.product.id, quantity: l.quantity, unit_price: l.unit_price })) });
        toast(t('salenew.created', { id: sale.id }));
        location.hash = `#/sales/${sale.id}`;
      } catch (e) { if (e.status !== 401) showError(form, e); }
    });
  });
  renderLines();
  setView(form);
  await search();
  find.focus();
}
