// products: the products page (#/products): search and filters, stock badges, and for admins
// create/edit/delete (product-form.js). A product's name leads to its page (#/products/{id}).
import { h, setView } from '../dom.js';
import { qs, guard, isAdmin } from '../api.js';
import { field, input, select } from '../forms.js';
import { PAGE, pagedList } from '../lists.js';
import { money, qty } from '../format.js';
import { catalogOptions, openProductForm, deleteProduct } from './product-form.js';
import { exportLink } from '../csv.js';
import { t } from '../i18n.js';

export function stockBadge(p) {
  const st = Number(p.stock), min = Number(p.min_stock);
  if (st <= 0) return h('span', { class: 'badge out' }, 'Out of stock');
  if (st <= min) return h('span', { class: 'badge low' }, 'Low stock');
  return null;
}

export async function productsPage() {
  const admin = isAdmin();
  const opts = await catalogOptions();
  const q = input('q', { type: 'search', placeholder: 'Name or SKU', autocomplete: 'off' });
  const cat = select('category_id', [['', 'All categories'], ...opts.cats]);
  const stock = select('stock', [['all', 'All'], ['in', 'In stock'], ['low', 'Low stock'], ['out', 'Out of stock']]);
  const slot = h('div');
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const list = pagedList({
    url: (at) => '/products' + qs({ q: q.value.trim(), category_id: cat.value, stock: stock.value, limit: PAGE, offset: at }),
    headers: ['SKU', 'Name', 'Category', 'Price', 'Stock', 'Actions'],
    onPage: (r) => { count.textContent = `${qty(r.total)} product${r.total === 1 ? '' : 's'}`; },
    row: (p) => h('tr', { dataset: { id: p.id } },
      h('td', { 'data-label': 'SKU' }, p.sku),
      h('td', { 'data-label': 'Name', class: 'product-name' }, h('a', { href: `#/products/${p.id}` }, p.name)),
      h('td', { 'data-label': 'Category' }, p.category ? p.category.name : '—'),
      h('td', { 'data-label': 'Price', class: 'num' }, money(p.price)),
      h('td', { 'data-label': 'Stock', class: 'num stock' }, `${qty(p.stock)} ${p.uom ? p.uom.abbreviation : ''}`, ' ', stockBadge(p)),
      h('td', { class: 'row-actions' },
        h('a', { class: 'button', href: `#/products/${p.id}` }, 'Open'),
        admin ? h('button', { type: 'button', onclick: guard(() => openProductForm(slot, p.id, opts, () => load())) }, 'Edit') : null,
        admin ? h('button', { type: 'button', class: 'danger', onclick: guard((ev) => deleteProduct(p, null, ev.currentTarget, () => load())) }, 'Delete') : null)),
  });
  const load = list.load;
  let timer;
  // A new search or filter starts at the first page.
  q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(guard(() => load(0)), 250); });
  cat.addEventListener('change', guard(() => load(0)));
  stock.addEventListener('change', guard(() => load(0)));
  setView(
    h('div', { class: 'page-head' }, h('h1', {}, 'Products'),
      h('div', { class: 'actions' },
        exportLink('/products', () => ({ q: q.value.trim(), category_id: cat.value, stock: stock.value })),
        admin ? h('a', { class: 'button csv-import', href: '#/products/import' }, t('csv.import.link')) : null,
        admin ? h('button', { type: 'button', class: 'primary', onclick: guard(() => openProductForm(slot, null, opts, () => load())) }, 'New product') : null)),
    slot,
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() }, field('Search', q), field('Category', cat), field('Stock', stock)),
    count, list.el);
  await load();
}
