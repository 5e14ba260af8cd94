// sale-new: the new sale form (#/sales/new): find products, add lines, a live preview of the line
// totals and the total computed exactly as the API will (decimal.js), then create the draft.
import { h, append, setView, toast } from '../dom.js';
import { api, qs, guard } from '../api.js';
import { field, input, select, formError, clearErrors, showError, busy } from '../forms.js';
import { money, qty } from '../format.js';
import { MONEY_SCALE, formatDecimal, lineTotal, saleTotal } from '../decimal.js';

// Cents (BigInt) as shown money; "—" for a line the API would refuse (null).
const cents = (c) => (c === null ? '—' : money(formatDecimal(c, MONEY_SCALE)));

export async function newSalePage() {
  const lines = []; // {product, quantity, unit_price}, the values as typed
  const customer = input('customer', { autocomplete: 'off' });
  const find = input('find', { type: 'search', placeholder: 'Name or SKU', autocomplete: 'off' });
  const pick = select('product', [['', 'Type to search products']]);
  const addQty = input('add_quantity', { inputmode: 'decimal', value: '1' });
  const found = new Map();
  let seq = 0, timer;
  const search = async () => {
    const my = ++seq;
    const r = await api('GET', '/products' + qs({ q: find.value.trim(), limit: 30 }));
    if (my !== seq) return;
    found.clear();
    pick.replaceChildren(...(r.items.length ? r.items.map((p) => { found.set(String(p.id), p); return h('option', { value: String(p.id) }, `${p.name} (${p.sku}) · ${money(p.price)} · ${qty(p.stock)} in stock`); }) : [h('option', { value: '' }, 'No product matches')]));
  };
  find.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(guard(search), 250); });
  const tbody = h('tbody');
  const totalEl = h('strong', { class: 'sale-total' });
  const form = h('form', { class: 'card', novalidate: true });
  // The total is the sum of the rounded line totals; a line the API would refuse adds nothing.
  const sumUp = () => {
    totalEl.textContent = cents(saleTotal(lines.map((l) => lineTotal(l.quantity, l.unit_price))));
  };
  const renderLines = () => {
    tbody.replaceChildren(...lines.map((l, i) => {
      const q = input(`items[${i}].quantity`, { inputmode: 'decimal', value: l.quantity, 'aria-label': `Quantity of ${l.product.name}`, class: 'narrow' });
      const pr = input(`items[${i}].unit_price`, { inputmode: 'decimal', value: l.unit_price, 'aria-label': `Unit price of ${l.product.name}`, class: 'narrow' });
      const lt = h('td', { class: 'num', 'data-label': 'Line total' });
      const upd = () => { l.quantity = q.value; l.unit_price = pr.value; lt.textContent = cents(lineTotal(l.quantity, l.unit_price)); sumUp(); };
      q.addEventListener('input', upd); pr.addEventListener('input', upd);
      lt.textContent = cents(lineTotal(l.quantity, l.unit_price));
      return h('tr', {},
        h('td', { 'data-label': 'Product' }, l.product.name, h('small', { class: 'muted' }, ' ', l.product.sku)),
        h('td', { 'data-label': 'Quantity' }, q, h('span', { class: 'field-error', dataset: { errorFor: `items[${i}].quantity` } })),
        h('td', { 'data-label': 'Unit price' }, pr, h('span', { class: 'field-error', dataset: { errorFor: `items[${i}].unit_price` } }),
          h('span', { class: 'field-error', dataset: { errorFor: `items[${i}].product_id` } })),
        lt,
        h('td', { class: 'row-actions' }, h('button', { type: 'button', onclick: () => { lines.splice(i, 1); renderLines(); } }, 'Remove')));
    }));
    if (!lines.length) tbody.append(h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No lines yet: find a product and add it.')));
    sumUp();
  };
  const addBtn = h('button', { type: 'button', onclick: () => {
    const p = found.get(pick.value);
    if (!p) { toast('Choose a product first.', true); return; }
    lines.push({ product: p, quantity: addQty.value || '1', unit_price: p.price });
    renderLines();
    find.value = ''; addQty.value = '1'; find.focus();
  } }, 'Add line');
  const createBtn = h('button', { type: 'submit', class: 'primary' }, 'Create draft sale');
  append(form, [h('h1', {}, 'New sale'), field('Customer (optional)', customer),
    h('fieldset', { class: 'add-line' }, h('legend', {}, 'Add a product'), field('Find product', find), field('Product', pick), field('Quantity', addQty), h('div', { class: 'actions' }, addBtn)),
    h('div', { class: 'table-wrap' }, h('table', { class: 'lines' },
      h('thead', {}, h('tr', {}, ['Product', 'Quantity', 'Unit price', 'Line total', ''].map((t) => h('th', { scope: 'col' }, t)))), tbody)),
    h('p', { class: 'total-line' }, 'Total: ', totalEl),
    h('span', { class: 'field-error', dataset: { errorFor: 'items' } }), formError(),
    h('div', { class: 'actions' }, createBtn, h('a', { class: 'button', href: '#/sales' }, 'Cancel'))]);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (!lines.length) { showError(form, { message: 'Add at least one product line.', field: 'items' }); return; }
    await busy(createBtn, async () => {
      try {
        const sale = await api('POST', '/sales', { customer: customer.value.trim() || null, items: lines.map((l) => ({ product_id: l.product.id, quantity: l.quantity, unit_price: l.unit_price })) });
        toast(`Draft sale ${sale.id} created.`);
        location.hash = `#/sales/${sale.id}`;
      } catch (e) { if (e.status !== 401) showError(form, e); }
    });
  });
  renderLines();
  setView(form);
  await search();
  find.focus();
}
