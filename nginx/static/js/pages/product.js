// product: one product (#/products/{id}): its details, the forms that change its stock (receive
// for everyone; count and adjust for admins) and its stock card, the ledger of every change
// (GET /stock/movements, newest first). Admins also edit and delete it here (product-form.js).
import { h, pageView, toast } from '../dom.js';
import { api, qs, guard, isAdmin, idempotency } from '../api.js';
import { field, input, select, formError, clearErrors, showError, busy } from '../forms.js';
import { PAGE, pagedList } from '../lists.js';
import { money, qty, when } from '../format.js';
import { catalogOptions, loadProduct, openProductForm, deleteProduct } from './product-form.js';
import { stockBadge } from './products.js';
import { exportLink } from '../csv.js';

// What each kind of movement reads as on the stock card.
export const KIND_LABELS = {
  receipt: 'Receipt', count: 'Count', adjustment: 'Adjustment', loss: 'Loss', damage: 'Damage',
  sale: 'Sale', cancel: 'Sale cancelled', return: 'Return', opening: 'Opening stock',
};
const kindLabel = (k) => KIND_LABELS[k] || k;
// A signed quantity: "+10", "-1", "0".
export const signedQty = (v) => (Number(v) > 0 ? '+' : '') + qty(v);

// A form that records one stock movement of product p (POST /stock/movements with an
// Idempotency-Key: a resubmission after a lost answer is recorded once). spec: title, kinds
// ([[kind, label]]; a select when there are several), qtyLabel, qtyHint, cost (a unit cost
// field), submitLabel, cls (the form's class). after() runs once it is recorded.
function movementForm(p, spec, after) {
  const kind = spec.kinds.length > 1 ? select('kind', spec.kinds) : null;
  const quantity = input('quantity', { inputmode: 'decimal', required: true, autocomplete: 'off' });
  const unitCost = spec.cost ? input('unit_cost', { inputmode: 'decimal', autocomplete: 'off' }) : null;
  const reference = input('reference', { autocomplete: 'off' });
  const note = h('textarea', { name: 'note', rows: 2 });
  const btn = h('button', { type: 'submit', class: 'primary' }, spec.submitLabel);
  const idem = idempotency();
  const form = h('form', { class: `card movement-form ${spec.cls}`, novalidate: true }, h('h2', {}, spec.title),
    h('div', { class: 'grid' }, kind ? field('Type', kind) : null, field(spec.qtyLabel, quantity, spec.qtyHint),
      unitCost ? field('Unit cost (optional)', unitCost) : null, field('Reference (optional)', reference), field('Note (optional)', note)),
    formError(), h('div', { class: 'actions' }, btn));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(form);
    const body = { product_id: p.id, kind: kind ? kind.value : spec.kinds[0][0], quantity: quantity.value.trim() };
    if (unitCost && unitCost.value.trim()) body.unit_cost = unitCost.value.trim();
    if (reference.value.trim()) body.reference = reference.value.trim();
    if (note.value.trim()) body.note = note.value.trim();
    await busy(btn, async () => {
      try {
        const m = await api('POST', '/stock/movements', body, { 'Idempotency-Key': idem.key(body) });
        idem.done();
        toast(`${kindLabel(m.kind)} recorded: stock ${qty(m.stock_before)} → ${qty(m.stock_after)}.`);
        await after();
      } catch (e) {
        if (e.status === 401) return;
        if (e.code === 'insufficient_stock') {
          showError(form, { message: `Not enough stock: ${qty(p.stock)} ${p.uom ? p.uom.abbreviation : ''} in stock, and stock never goes below zero. Nothing was changed.`, field: null });
        } else showError(form, e);
      }
    });
  });
  return form;
}

// The stock card of product id: a paged table of its movements, newest first.
function stockCard(id) {
  return pagedList({
    url: (at) => '/stock/movements' + qs({ product_id: id, limit: PAGE, offset: at }),
    headers: ['Time', 'Kind', 'Quantity', 'Stock', 'Unit cost', 'Note', 'Reference', 'User'],
    attrs: { class: 'stock-card', 'aria-live': 'polite' },
    row: (m) => h('tr', { dataset: { kind: m.kind } },
      h('td', { 'data-label': 'Time' }, when(m.created_at)),
      h('td', { 'data-label': 'Kind' }, h('span', { class: `badge kind-${m.kind}` }, kindLabel(m.kind))),
      h('td', { 'data-label': 'Quantity', class: 'num mv-qty' }, signedQty(m.quantity)),
      h('td', { 'data-label': 'Stock', class: 'num mv-stock' }, `${qty(m.stock_before)} → ${qty(m.stock_after)}`),
      h('td', { 'data-label': 'Unit cost', class: 'num' }, m.unit_cost === null || m.unit_cost === undefined ? '—' : money(m.unit_cost)),
      h('td', { 'data-label': 'Note' }, m.note || '—'),
      h('td', { 'data-label': 'Reference' }, m.sale_id ? h('a', { href: `#/sales/${m.sale_id}` }, m.reference || `Sale ${m.sale_id}`) : (m.reference || '—')),
      h('td', { 'data-label': 'User', class: 'mv-user' }, m.user ? m.user.email : '—')),
  });
}

export async function productPage(id) {
  const setView = pageView();
  const admin = isAdmin();
  const { product: p, etag: etag0 } = await loadProduct(id);
  let etag = etag0; // of the product as shown (the Delete sends it)
  const opts = admin ? await catalogOptions() : null;
  const reload = () => productPage(p.id);
  const slot = h('div');
  const card = stockCard(p.id);
  const forms = [movementForm(p, { title: 'Receive goods', cls: 'receive', kinds: [['receipt', 'Receipt']], qtyLabel: 'Quantity received', qtyHint: 'More than zero.', cost: true, submitLabel: 'Record receipt' }, reload)];
  if (admin) {
    forms.push(movementForm(p, { title: 'Count stock', cls: 'count', kinds: [['count', 'Count']], qtyLabel: 'Counted quantity', qtyHint: `What is on the shelf; the stock (${qty(p.stock)}) is set to it.`, submitLabel: 'Record count' }, reload));
    forms.push(movementForm(p, { title: 'Adjust stock', cls: 'adjust', kinds: [['adjustment', 'Adjustment (+ or −)'], ['loss', 'Loss'], ['damage', 'Damage']], qtyLabel: 'Quantity', qtyHint: 'Adjustment: signed, e.g. -2 or 5. Loss and damage: more than zero, taken off the stock.', submitLabel: 'Record adjustment' }, reload));
  }
  // The heading and the facts, drawn again when the edit form loads the product anew (a 412).
  const title = h('h1');
  const facts = h('dl', { class: 'facts card product-facts' });
  const show = (x, tag) => {
    if (tag !== undefined) etag = tag;
    const unit = x.uom ? x.uom.abbreviation : '';
    title.replaceChildren(x.name, ' ', stockBadge(x) || '');
    facts.replaceChildren(...[
      h('dt', {}, 'SKU'), h('dd', {}, x.sku),
      h('dt', {}, 'Category'), h('dd', {}, x.category ? x.category.name : '—'),
      h('dt', {}, 'Unit'), h('dd', {}, x.uom ? `${x.uom.name} (${x.uom.abbreviation})` : '—'),
      h('dt', {}, 'Price'), h('dd', {}, money(x.price)),
      h('dt', {}, 'Cost'), h('dd', {}, money(x.cost)),
      h('dt', {}, 'Stock'), h('dd', { class: 'product-stock' }, `${qty(x.stock)} ${unit}`),
      h('dt', {}, 'Minimum stock'), h('dd', {}, qty(x.min_stock)),
      h('dt', {}, 'Updated'), h('dd', {}, when(x.updated_at))]);
  };
  show(p);
  setView(
    h('div', { class: 'page-head' }, title,
      h('div', { class: 'actions' },
        admin ? h('button', { type: 'button', onclick: guard(() => openProductForm(slot, p.id, opts, reload, show)) }, 'Edit') : null,
        admin ? h('button', { type: 'button', class: 'danger', onclick: guard(async (ev) => {
          await deleteProduct(p, etag, ev.currentTarget, async (deleted) => { if (deleted) location.hash = '#/products'; else await reload(); });
        }) }, 'Delete') : null,
        h('a', { class: 'button', href: '#/products' }, 'All products'))),
    slot,
    facts,
    h('div', { class: 'movement-forms' }, forms),
    h('div', { class: 'page-head' }, h('h2', {}, 'Stock card'), exportLink('/stock/movements', () => ({ product_id: p.id }))), card.el);
  try { await card.load(); } catch (e) {
    if (e.status === 401) return;
    card.el.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, e.status === 404 ? 'The stock card is not available on this server yet.' : e.message));
  }
}
