// product-form: the product create/edit form and the product delete, shared by the products list
// and the product page. SPEC §10: the form never sends the stock it loaded (stock only on create,
// as the opening stock; later changes are stock movements), and a PATCH or DELETE carries the
// ETag the product was loaded with (If-Match): a 412 means someone changed it meanwhile, so the
// form says so and shows the product as it is now.
import { h, toast, confirmDialog } from '../dom.js';
import { api, request } from '../api.js';
import { busy, entityForm } from '../forms.js';
import { t } from '../i18n.js';

// The options of the category and unit selects: { cats: [[id, name]], uoms: [[id, label]] }.
export async function catalogOptions() {
  const [cats, uoms] = await Promise.all([api('GET', '/categories?limit=200'), api('GET', '/uom?limit=200')]);
  return { cats: cats.items.map((c) => [c.id, c.name]), uoms: uoms.items.map((u) => [u.id, `${u.name} (${u.abbreviation})`]) };
}

// The product id and its ETag as GET /products/{id} answers now: { product, etag }.
export async function loadProduct(id) {
  const r = await request('GET', `/products/${encodeURIComponent(id)}`);
  return { product: r.data, etag: r.etag };
}

const CHANGED = 'product.changed'; // catalog keys
const GONE_STALE = 'product.gone_stale';

// Shows the product form in slot: a new product when id is null, else the product id loaded
// afresh (with its ETag). opts: the select options; onSaved(product) after a save; onLoaded(p,
// etag), when given, sees the product each time it is loaded (the product page shows it anew after a
// 412); notice, a message shown above the fields (the 412 reload).
export async function openProductForm(slot, id, opts, onSaved, onLoaded, notice) {
  const loaded = id === null ? null : await loadProduct(id);
  const p = loaded && loaded.product;
  if (p && onLoaded) onLoaded(p, loaded.etag);
  const fields = [
    { name: 'sku', label: t('product.sku'), required: true },
    { name: 'name', label: t('product.name'), required: true },
    { name: 'category_id', label: t('product.category'), options: [['', t('product.no_category')], ...opts.cats] },
    { name: 'uom_id', label: t('product.unit'), options: opts.uoms, required: true },
    { name: 'price', label: t('product.price'), inputmode: 'decimal', required: true },
    { name: 'cost', label: t('product.cost'), inputmode: 'decimal', required: true },
    // Only a new product takes a stock (its opening stock); afterwards stock changes are movements.
    p ? null : { name: 'stock', label: t('product.stock'), inputmode: 'decimal', required: true, hint: t('product.stock_hint') },
    { name: 'min_stock', label: t('product.min_stock'), inputmode: 'decimal', required: true, hint: t('product.min_stock_hint') },
  ].filter(Boolean);
  const values = p ? { ...p, category_id: p.category ? p.category.id : '', uom_id: p.uom ? p.uom.id : '' } : { stock: '0', min_stock: '0' };
  const form = entityForm({
    title: p ? t('product.edit') : t('product.new'), values, fields,
    onSubmit: async (d) => {
      const body = { ...d, category_id: d.category_id ? Number(d.category_id) : null, uom_id: d.uom_id ? Number(d.uom_id) : null };
      let saved;
      if (p) {
        delete body.stock;
        try {
          saved = await api('PATCH', `/products/${p.id}`, body, loaded.etag ? { 'If-Match': loaded.etag } : {});
        } catch (e) {
          if (e.status !== 412) throw e;
          await openProductForm(slot, p.id, opts, onSaved, onLoaded, t(CHANGED));
          return;
        }
      } else saved = await api('POST', '/products', body);
      toast(p ? t('product.saved') : t('product.created'));
      slot.replaceChildren();
      await onSaved(saved);
    },
    onCancel: () => slot.replaceChildren(),
  });
  if (notice) form.querySelector('h2').after(h('p', { class: 'notice changed', role: 'alert' }, notice));
  slot.replaceChildren(form);
  form.querySelector('input').focus();
  return form;
}

// Deletes product p (as the caller showed it, with the ETag it loaded, or null to load it now)
// after asking; onDone(deleted) afterwards: deleted false when it was not deleted because the
// product had changed (the caller shows it anew). Failures other than 412 are thrown.
export async function deleteProduct(p, etag, button, onDone) {
  if (!etag) {
    const now = await loadProduct(p.id);
    if (now.product.updated_at !== p.updated_at) { toast(t(GONE_STALE), true); await onDone(false); return; }
    etag = now.etag;
  }
  if (!(await confirmDialog(t('product.delete_confirm', { name: p.name }), t('common.delete')))) return;
  try {
    await busy(button, () => api('DELETE', `/products/${p.id}`, undefined, etag ? { 'If-Match': etag } : {}));
  } catch (e) {
    if (e.status !== 412) throw e;
    toast(t(GONE_STALE), true);
    await onDone(false);
    return;
  }
  toast(t('product.deleted'));
  await onDone(true);
}
