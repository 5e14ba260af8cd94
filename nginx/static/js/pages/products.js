// products: the products page (#/products): search and filters, stock badges, and for admins
// create/edit/delete (product-form.js). A product's name leads to its page (#/products/{id}).
import { h, setView } from '../dom.js';
import { qs, guard, isAdmin } from '../api.js';
import { field, input, select } from '../forms.js';
import { PAGE, pagedList } from '../lists.js';
import { moneyEl, qty } from '../format.js';
import { t, tn } from '../i18n.js';
import { catalogOptions, openProductForm, deleteProduct } from './product-form.js';

export function stockBadge(p) {
  const st = Number(p.stock), min = Number(p.min_stock);
  if (st <= 0) return h('span', { class: 'badge out' }, t('product.out_of_stock'));
  if (st <= min) return h('span', { class: 'badge low' }, t('product.low_stock'));
  return null;
}

export async function productsPage() {
  const admin = isAdmin();
  const opts = await catalogOptions();
  const q = input('q', { type: 'search', placeholder: t('product.search_placeholder'), autocomplete: 'off' });
  const cat = select('category_id', [['', t('product.all_categories')], ...opts.cats]);
  const stock = select('stock', [['all', t('product.stock_all')], ['in', t('product.in_stock')], ['low', t('product.low_stock')], ['out', t('product.out_of_stock')]]);
  const slot = h('div');
  const L = { sku: t('product.sku'), name: t('product.name'), category: t('product.category'), price: t('product.price'), stock: t('product.stock') };
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const list = pagedList({
    url: (at) => '/products' + qs({ q: q.value.trim(), category_id: cat.value, stock: stock.value, limit: PAGE, offset: at }),
    headers: [L.sku, L.name, L.category, L.price, L.stock, t('common.actions')],
    onPage: (r) => { count.textContent = tn('products.count', r.total, { n: qty(r.total) }); },
    row: (p) => h('tr', { dataset: { id: p.id } },
      h('td', { 'data-label': L.sku }, p.sku),
      h('td', { 'data-label': L.name, class: 'product-name' }, h('a', { href: `#/products/${p.id}` }, p.name)),
      h('td', { 'data-label': L.category }, p.category ? p.category.name : '—'),
      h('td', { 'data-label': L.price, class: 'num' }, moneyEl(p.price)),
      h('td', { 'data-label': L.stock, class: 'num stock' }, `${qty(p.stock)} ${p.uom ? p.uom.abbreviation : ''}`, ' ', stockBadge(p)),
      h('td', { class: 'row-actions' },
        h('a', { class: 'button', href: `#/products/${p.id}` }, t('common.open')),
        admin ? h('button', { type: 'button', onclick: guard(() => openProductForm(slot, p.id, opts, () => load())) }, t('common.edit')) : null,
        admin ? h('button', { type: 'button', class: 'danger', onclick: guard((ev) => deleteProduct(p, null, ev.currentTarget, () => load())) }, t('common.delete')) : null)),
  });
  const load = list.load;
  let timer;
  // A new search or filter starts at the first page.
  q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(guard(() => load(0)), 250); });
  cat.addEventListener('change', guard(() => load(0)));
  stock.addEventListener('change', guard(() => load(0)));
  setView(
    h('div', { class: 'page-head' }, h('h1', {}, t('nav.products')),
      admin ? h('button', { type: 'button', class: 'primary', onclick: guard(() => openProductForm(slot, null, opts, () => load())) }, t('product.new')) : null),
    slot,
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() }, field(t('product.search'), q), field(t('product.category'), cat), field(t('product.stock'), stock)),
    count, list.el);
  await load();
}
