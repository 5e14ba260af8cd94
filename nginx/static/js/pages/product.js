// product: one product (#/products/{id}): its details, the forms that change its stock (receive
// for everyone; count and adjust for admins) and its stock card, the ledger of every change
// (GET /stock/movements, newest first). Admins also edit and delete it here (product-form.js).
import { h, pageView, toast } from '../dom.js';
import { api, qs, guard, isAdmin, idempotency } from '../api.js';
import { field, input, select, formError, clearErrors, showError, busy } from '../forms.js';
import { PAGE, pagedList } from '../lists.js';
import { moneyEl, qty, when } from '../format.js';
import { t, errorText } from '../i18n.js';
import { catalogOptions, loadProduct, openProductForm, deleteProduct } from './product-form.js';
import { stockBadge } from './products.js';

// What each kind of movement reads as on the stock card (catalog key kind.<kind>).
export const KINDS = ['receipt', 'count', 'adjustment', 'loss', 'damage', 'sale', 'cancel', 'return', 'opening'];
export const kindLabel = (k) => (KINDS.includes(k) ? t(`kind.${k}`) : k);
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
    h('div', { class: 'grid' }, kind ? field(t('movement.type'), kind) : null, field(spec.qtyLabel, quantity, spec.qtyHint),
      unitCost ? field(t('movement.unit_cost_optional'), unitCost) : null, field(t('common.reference_optional'), reference), field(t('common.note_optional'), note)),
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
        toast(t('movement.recorded', { kind: kindLabel(m.kind), before: qty(m.stock_before), after: qty(m.stock_after) }));
        await after();
      } catch (e) {
        if (e.status === 401) return;
        if (e.code === 'insufficient_stock') {
          showError(form, { message: t('movement.insufficient', { stock: `${qty(p.stock)} ${p.uom ? p.uom.abbreviation : ''}`.trim() }), field: null });
        } else showError(form, e);
      }
    });
  });
  return form;
}

// The stock card of product id: a paged table of its movements, newest first.
function stockCard(id) {
  const L = {
    time: t('movement.col.time'), kind: t('movement.col.kind'), qty: t('movement.col.quantity'), stock: t('movement.col.stock'),
    cost: t('movement.col.unit_cost'), note: t('movement.col.note'), ref: t('movement.col.reference'), user: t('movement.col.user'),
  };
  return pagedList({
    url: (at) => '/stock/movements' + qs({ product_id: id, limit: PAGE, offset: at }),
    headers: [L.time, L.kind, L.qty, L.stock, L.cost, L.note, L.ref, L.user],
    attrs: { class: 'stock-card', 'aria-live': 'polite' },
    row: (m) => h('tr', { dataset: { kind: m.kind } },
      h('td', { 'data-label': L.time }, when(m.created_at)),
      h('td', { 'data-label': L.kind }, h('span', { class: `badge kind-${m.kind}` }, kindLabel(m.kind))),
      h('td', { 'data-label': L.qty, class: 'num mv-qty' }, signedQty(m.quantity)),
      h('td', { 'data-label': L.stock, class: 'num mv-stock' }, `${qty(m.stock_before)} → ${qty(m.stock_after)}`),
      h('td', { 'data-label': L.cost, class: 'num' }, m.unit_cost === null || m.unit_cost === undefined ? '—' : moneyEl(m.unit_cost)),
      h('td', { 'data-label': L.note }, m.note || '—'),
      h('td', { 'data-label': L.ref }, m.sale_id ? h('a', { href: `#/sales/${m.sale_id}` }, m.reference || t('sale.name', { id: m.sale_id })) : (m.reference || '—')),
      h('td', { 'data-label': L.user, class: 'mv-user' }, m.user ? m.user.email : '—')),
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
  const forms = [movementForm(p, { title: t('movement.receive.title'), cls: 'receive', kinds: [['receipt', t('kind.receipt')]], qtyLabel: t('movement.receive.quantity'), qtyHint: t('movement.receive.hint'), cost: true, submitLabel: t('movement.receive.submit') }, reload)];
  if (admin) {
    forms.push(movementForm(p, { title: t('movement.count.title'), cls: 'count', kinds: [['count', t('kind.count')]], qtyLabel: t('movement.count.quantity'), qtyHint: t('movement.count.hint', { stock: qty(p.stock) }), submitLabel: t('movement.count.submit') }, reload));
    forms.push(movementForm(p, { title: t('movement.adjust.title'), cls: 'adjust', kinds: [['adjustment', t('movement.adjust.adjustment')], ['loss', t('kind.loss')], ['damage', t('kind.damage')]], qtyLabel: t('movement.adjust.quantity'), qtyHint: t('movement.adjust.hint'), submitLabel: t('movement.adjust.submit') }, reload));
  }
  // The heading and the facts, drawn again when the edit form loads the product anew (a 412).
  const title = h('h1');
  const facts = h('dl', { class: 'facts card product-facts' });
  const show = (x, tag) => {
    if (tag !== undefined) etag = tag;
    const unit = x.uom ? x.uom.abbreviation : '';
    title.replaceChildren(x.name, ' ', stockBadge(x) || '');
    facts.replaceChildren(...[
      h('dt', {}, t('product.sku')), h('dd', {}, x.sku),
      h('dt', {}, t('product.category')), h('dd', {}, x.category ? x.category.name : '—'),
      h('dt', {}, t('product.unit')), h('dd', {}, x.uom ? `${x.uom.name} (${x.uom.abbreviation})` : '—'),
      h('dt', {}, t('product.price')), h('dd', { class: 'product-price' }, moneyEl(x.price)),
      h('dt', {}, t('product.cost')), h('dd', {}, moneyEl(x.cost)),
      h('dt', {}, t('product.stock')), h('dd', { class: 'product-stock' }, `${qty(x.stock)} ${unit}`),
      h('dt', {}, t('product.min_stock')), h('dd', {}, qty(x.min_stock)),
      h('dt', {}, t('product.updated')), h('dd', {}, when(x.updated_at))]);
  };
  show(p);
  setView(
    h('div', { class: 'page-head' }, title,
      h('div', { class: 'actions' },
        admin ? h('button', { type: 'button', onclick: guard(() => openProductForm(slot, p.id, opts, reload, show)) }, t('common.edit')) : null,
        admin ? h('button', { type: 'button', class: 'danger', onclick: guard(async (ev) => {
          await deleteProduct(p, etag, ev.currentTarget, async (deleted) => { if (deleted) location.hash = '#/products'; else await reload(); });
        }) }, t('common.delete')) : null,
        h('a', { class: 'button', href: '#/products' }, t('product.all')))),
    slot,
    facts,
    h('div', { class: 'movement-forms' }, forms),
    h('h2', {}, t('movement.card')), card.el);
  try { await card.load(); } catch (e) {
    if (e.status === 401) return;
    card.el.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, e.status === 404 ? t('movement.card_unavailable') : errorText(e)));
  }
}
