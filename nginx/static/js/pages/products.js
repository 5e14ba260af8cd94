// products: the products page (#/products): search and filters, stock badges, create/edit.
import { h, setView, toast, confirmDialog } from '../dom.js';
import { api, qs, guard } from '../api.js';
import { field, input, select, busy, entityForm } from '../forms.js';
import { PAGE, pagedList } from '../lists.js';
import { money, qty } from '../format.js';

function stockBadge(p) {
  const st = Number(p.stock), min = Number(p.min_stock);
  if (st <= 0) return h('span', { class: 'badge out' }, 'Out of stock');
  if (st <= min) return h('span', { class: 'badge low' }, 'Low stock');
  return null;
}

export async function productsPage() {
  const [cats, uoms] = await Promise.all([api('GET', '/categories?limit=200'), api('GET', '/uom?limit=200')]);
  const catOptions = cats.items.map((c) => [c.id, c.name]);
  const uomOptions = uoms.items.map((u) => [u.id, `${u.name} (${u.abbreviation})`]);
  const q = input('q', { type: 'search', placeholder: 'Name or SKU', autocomplete: 'off' });
  const cat = select('category_id', [['', 'All categories'], ...catOptions]);
  const stock = select('stock', [['all', 'All'], ['in', 'In stock'], ['low', 'Low stock'], ['out', 'Out of stock']]);
  const slot = h('div');
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const list = pagedList({
    url: (at) => '/products' + qs({ q: q.value.trim(), category_id: cat.value, stock: stock.value, limit: PAGE, offset: at }),
    headers: ['SKU', 'Name', 'Category', 'Price', 'Stock', 'Actions'],
    onPage: (r) => { count.textContent = `${qty(r.total)} product${r.total === 1 ? '' : 's'}`; },
    row: (p) => h('tr', { dataset: { id: p.id } },
      h('td', { 'data-label': 'SKU' }, p.sku),
      h('td', { 'data-label': 'Name', class: 'product-name' }, p.name),
      h('td', { 'data-label': 'Category' }, p.category ? p.category.name : '—'),
      h('td', { 'data-label': 'Price', class: 'num' }, money(p.price)),
      h('td', { 'data-label': 'Stock', class: 'num stock' }, `${qty(p.stock)} ${p.uom ? p.uom.abbreviation : ''}`, ' ', stockBadge(p)),
      h('td', { class: 'row-actions' },
        h('button', { type: 'button', onclick: () => openForm(p) }, 'Edit'),
        h('button', { type: 'button', class: 'danger', onclick: guard(async (ev) => {
          if (!(await confirmDialog(`Delete product "${p.name}"? This cannot be undone.`, 'Delete'))) return;
          try { await busy(ev.target, () => api('DELETE', `/products/${p.id}`)); toast('Product deleted.'); await list.load(); }
          catch (e) { if (e.status !== 401) toast(e.message, true); }
        }) }, 'Delete'))),
  });
  const load = list.load;
  let timer;
  // A new search or filter starts at the first page.
  q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(guard(() => load(0)), 250); });
  cat.addEventListener('change', guard(() => load(0)));
  stock.addEventListener('change', guard(() => load(0)));
  const openForm = (p) => {
    const values = p ? { ...p, category_id: p.category ? p.category.id : '', uom_id: p.uom ? p.uom.id : '' } : { stock: '0', min_stock: '0' };
    const form = entityForm({
      title: p ? 'Edit product' : 'New product', values,
      fields: [
        { name: 'sku', label: 'SKU', required: true },
        { name: 'name', label: 'Name', required: true },
        { name: 'category_id', label: 'Category', options: [['', '(none)'], ...catOptions] },
        { name: 'uom_id', label: 'Unit', options: uomOptions, required: true },
        { name: 'price', label: 'Price', inputmode: 'decimal', required: true },
        { name: 'cost', label: 'Cost', inputmode: 'decimal', required: true },
        { name: 'stock', label: 'Stock', inputmode: 'decimal', required: true },
        { name: 'min_stock', label: 'Minimum stock', inputmode: 'decimal', required: true, hint: 'At or below this the product is shown as low on stock.' },
      ],
      onSubmit: async (d) => {
        const body = { ...d, category_id: d.category_id ? Number(d.category_id) : null, uom_id: d.uom_id ? Number(d.uom_id) : null };
        if (p) await api('PUT', `/products/${p.id}`, body); else await api('POST', '/products', body);
        toast(p ? 'Product saved.' : 'Product created.');
        slot.replaceChildren();
        await load();
      },
      onCancel: () => slot.replaceChildren(),
    });
    slot.replaceChildren(form);
    form.querySelector('input').focus();
  };
  setView(
    h('div', { class: 'page-head' }, h('h1', {}, 'Products'), h('button', { type: 'button', class: 'primary', onclick: () => openForm(null) }, 'New product')),
    slot,
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() }, field('Search', q), field('Category', cat), field('Stock', stock)),
    count, list.el);
  await load();
}
