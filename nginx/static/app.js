// stock web UI: one page, no build step. Every value is shown through textContent /
// createElement (never innerHTML), the session lives in the HttpOnly cookie and the CSRF token
// only in memory.
const API = '/api/v1';
const state = { csrf: null, user: null, tenant: null };
const view = document.getElementById('view');

// ---------- formatting ----------
const LOCALE = undefined; // the browser's
const moneyFmt = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const qtyFmt = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 3 });
const dateTimeFmt = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short' });
const dayFmt = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeZone: 'UTC' });
const shortDayFmt = new Intl.DateTimeFormat(LOCALE, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const money = (v) => (v === null || v === undefined || v === '' || isNaN(Number(v)) ? '—' : moneyFmt.format(Number(v)));
const qty = (v) => (v === null || v === undefined || isNaN(Number(v)) ? '—' : qtyFmt.format(Number(v)));
const when = (v) => (v ? dateTimeFmt.format(new Date(v)) : '—');
const day = (v) => (v ? dayFmt.format(new Date(v + 'T00:00:00Z')) : '—');
const isoDay = (d) => d.toISOString().slice(0, 10);

// ---------- DOM ----------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}
function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const SVGNS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
function setView(...children) {
  view.replaceChildren(...children.flat().filter(Boolean));
}
let uid = 0;
const nextId = (p) => `${p}-${++uid}`;

// A labelled input with a place for its error (aria-describedby).
function field(label, input, hint) {
  const id = input.id || (input.id = nextId('f'));
  const err = h('span', { class: 'field-error', id: `${id}-err`, role: 'alert', 'aria-live': 'polite' });
  input.setAttribute('aria-describedby', `${id}-err`);
  if (input.name) err.dataset.errorFor = input.name;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('small', {}, hint) : null, err);
}
function input(name, attrs = {}) {
  return h('input', { name, type: 'text', ...attrs });
}
function select(name, options, attrs = {}) {
  const el = h('select', { name, ...attrs });
  for (const [value, label] of options) el.append(h('option', { value: String(value) }, label));
  return el;
}
function formError() {
  return h('p', { class: 'form-error', role: 'alert', 'aria-live': 'polite' });
}
function clearErrors(form) {
  form.querySelectorAll('.field-error, .form-error').forEach((e) => { e.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
}
// Shows an API error beside its field (error.field) or at the form.
function showError(form, err) {
  const message = err && err.message ? err.message : String(err);
  let target = null;
  if (err && err.field) {
    target = form.querySelector(`.field-error[data-error-for="${CSS.escape(err.field)}"]`);
    const el = form.querySelector(`[name="${CSS.escape(err.field)}"]`);
    if (el) { el.setAttribute('aria-invalid', 'true'); if (target) el.focus(); }
  }
  if (!target) target = form.querySelector('.form-error');
  if (target) target.textContent = message;
  else toast(message, true);
}
// Busy state on a button while a request runs.
async function busy(button, fn) {
  if (!button) return fn();
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = label + '…';
  try { return await fn(); } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = label;
  }
}
function toast(message, bad) {
  let box = document.getElementById('toasts');
  if (!box) { box = h('div', { id: 'toasts', 'aria-live': 'polite' }); document.body.append(box); }
  const t = h('div', { class: 'toast' + (bad ? ' bad' : ''), role: 'status' }, message);
  // At most three at a time: on a phone a pile of them would cover the page.
  while (box.children.length >= 3) box.firstChild.remove();
  box.append(t);
  setTimeout(() => t.remove(), 4000);
}
const dialog = document.getElementById('confirm-dialog');
function confirmDialog(text, okLabel = 'Confirm') {
  return new Promise((resolve) => {
    document.getElementById('confirm-text').textContent = text;
    document.getElementById('confirm-ok').textContent = okLabel;
    dialog.returnValue = '';
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
  });
}

// ---------- API ----------
class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `Request failed (${status})`);
    this.status = status; this.code = e.code; this.field = e.field;
  }
}
async function api(method, path, body, extraHeaders = {}) {
  const headers = { Accept: 'application/json', ...extraHeaders };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
  let res;
  try {
    res = await fetch(API + path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { error: { message: 'The server cannot be reached. Check the connection and try again.' } });
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.status === 401 && path !== '/auth/login') {
    state.csrf = null; state.user = null; state.tenant = null;
    showSignIn('Your session has expired. Please sign in again.');
    throw new ApiError(401, data);
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}
const qs = (o) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) if (v !== '' && v !== null && v !== undefined) p.set(k, v);
  const t = p.toString();
  return t ? '?' + t : '';
};
// Handlers that fail with a 401 have already moved to sign-in: swallow that one.
function guard(fn) {
  return async (...a) => {
    try { await fn(...a); } catch (e) { if (!(e instanceof ApiError && e.status === 401)) toast(e.message, true); }
  };
}

// ---------- shell ----------
const top = document.getElementById('top');
function showShell() {
  top.hidden = false;
  document.getElementById('tenant-name').textContent = state.tenant ? state.tenant.name : '';
  document.getElementById('user-email').textContent = state.user ? state.user.email : '';
}
document.getElementById('sign-out').addEventListener('click', async (ev) => {
  await busy(ev.currentTarget, async () => {
    try { await api('POST', '/auth/logout'); } catch (e) { /* signed out anyway */ }
  });
  state.csrf = null; state.user = null; state.tenant = null;
  showSignIn('You have signed out.');
});

function showSignIn(message) {
  top.hidden = true;
  document.title = 'Sign in · stock';
  const tenant = input('tenant', { required: true, autocomplete: 'organization' });
  const email = input('email', { type: 'email', required: true, autocomplete: 'username' });
  const password = input('password', { type: 'password', required: true, autocomplete: 'current-password' });
  const err = formError();
  const btn = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', { class: 'card signin', novalidate: true },
    h('h1', {}, 'Sign in to stock'),
    message ? h('p', { class: 'notice' }, message) : null,
    field('Shop (tenant)', tenant), field('Email', email), field('Password', password), err,
    h('div', { class: 'actions' }, btn));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    await busy(btn, async () => {
      try {
        const r = await api('POST', '/auth/login', { tenant: tenant.value.trim(), email: email.value.trim(), password: password.value });
        state.csrf = r.csrf_token; state.user = r.user; state.tenant = r.tenant;
        showShell();
        if (!location.hash || location.hash === '#/' || location.hash === '#/signin') location.hash = '#/products';
        else route();
      } catch (e) {
        if (e.status === 401) err.textContent = 'The shop, email or password is not right.';
        else showError(form, e);
        password.value = '';
      }
    });
  });
  setView(form);
  tenant.focus();
}

// ---------- generic list + form page (units, categories) ----------
function table(headers, rows, caption) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length, class: 'empty' }, 'Nothing here yet.')))));
}

// Paging under a list: "1–50 of 234" with Previous and Next. r is the list answer ({items,
// total}), offset where it starts; go(newOffset) loads another page.
const PAGE = 50;
function pager(r, offset, go) {
  if (r.total <= PAGE && offset === 0) return null;
  const first = r.items.length ? offset + 1 : 0, last = offset + r.items.length;
  const prev = h('button', { type: 'button', disabled: offset === 0, onclick: guard(() => go(Math.max(0, offset - PAGE))) }, 'Previous');
  const next = h('button', { type: 'button', disabled: last >= r.total, onclick: guard(() => go(offset + PAGE)) }, 'Next');
  return h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev,
    h('span', { class: 'muted' }, `${qty(first)}–${qty(last)} of ${qty(r.total)}`), next);
}

// Builds a create/edit form. fields: [{name, label, type, options, required, hint}]
function entityForm({ title, fields, values, onSubmit, onCancel, submitLabel }) {
  const inputs = {};
  const parts = fields.map((f) => {
    let el;
    if (f.options) el = select(f.name, f.options, { required: f.required });
    else if (f.type === 'textarea') el = h('textarea', { name: f.name, rows: 2 });
    else el = input(f.name, { type: f.type || 'text', required: f.required, inputmode: f.inputmode, autocomplete: 'off' });
    if (values && values[f.name] !== undefined && values[f.name] !== null) el.value = String(values[f.name]);
    inputs[f.name] = el;
    return field(f.label, el, f.hint);
  });
  const btn = h('button', { type: 'submit', class: 'primary' }, submitLabel || 'Save');
  const form = h('form', { class: 'card entity-form', novalidate: true },
    h('h2', {}, title), h('div', { class: 'grid' }, parts), formError(),
    h('div', { class: 'actions' }, btn, onCancel ? h('button', { type: 'button', onclick: onCancel }, 'Cancel') : null));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const data = {};
    for (const [k, el] of Object.entries(inputs)) data[k] = el.value;
    await busy(btn, async () => {
      try { await onSubmit(data); } catch (e) { if (e.status !== 401) showError(form, e); }
    });
  });
  return form;
}

function simpleResource({ path, title, singular, fields, columns }) {
  return async function page() {
    const slot = h('div');
    const list = h('div', { 'aria-live': 'polite' });
    let offset = 0;
    const load = async (at = offset) => {
      const r = await api('GET', `${path}?limit=${PAGE}&offset=${at}`);
      offset = at;
      const rows = r.items.map((it) => h('tr', {},
        columns.map((c) => h('td', { 'data-label': c[0] }, c[1](it))),
        h('td', { class: 'row-actions' },
          h('button', { type: 'button', onclick: () => openForm(it) }, 'Edit'),
          h('button', { type: 'button', class: 'danger', onclick: guard(async (ev) => {
            if (!(await confirmDialog(`Delete ${singular} "${it.name}"? This cannot be undone.`, 'Delete'))) return;
            try {
              await busy(ev.target, () => api('DELETE', `${path}/${it.id}`));
              toast(`${singular[0].toUpperCase() + singular.slice(1)} deleted.`);
              await load();
            } catch (e) {
              if (e.status !== 401) toast(e.code === 'in_use' ? `"${it.name}" is in use and cannot be deleted.` : e.message, true);
            }
          }) }, 'Delete'))));
      list.replaceChildren(table([...columns.map((c) => c[0]), 'Actions'], rows), pager(r, offset, load) || '');
    };
    const openForm = (it) => {
      const form = entityForm({
        title: it ? `Edit ${singular}` : `New ${singular}`, fields, values: it,
        onSubmit: async (data) => {
          if (it) await api('PUT', `${path}/${it.id}`, data); else await api('POST', path, data);
          toast(it ? 'Saved.' : `${singular[0].toUpperCase() + singular.slice(1)} created.`);
          slot.replaceChildren();
          await load();
        },
        onCancel: () => slot.replaceChildren(),
      });
      slot.replaceChildren(form);
      form.querySelector('input,select,textarea').focus();
    };
    setView(h('div', { class: 'page-head' }, h('h1', {}, title), h('button', { type: 'button', class: 'primary', onclick: () => openForm(null) }, `New ${singular}`)), slot, list);
    await load();
  };
}

const unitsPage = simpleResource({
  path: '/uom', title: 'Units', singular: 'unit',
  fields: [{ name: 'name', label: 'Name', required: true }, { name: 'abbreviation', label: 'Abbreviation', required: true }],
  columns: [['Name', (u) => u.name], ['Abbreviation', (u) => u.abbreviation]],
});
const categoriesPage = simpleResource({
  path: '/categories', title: 'Categories', singular: 'category',
  fields: [{ name: 'name', label: 'Name', required: true }, { name: 'description', label: 'Description', type: 'textarea' }],
  columns: [['Name', (c) => c.name], ['Description', (c) => c.description || ''], ['Products', (c) => qty(c.product_count)]],
});

// ---------- products ----------
function stockBadge(p) {
  const st = Number(p.stock), min = Number(p.min_stock);
  if (st <= 0) return h('span', { class: 'badge out' }, 'Out of stock');
  if (st <= min) return h('span', { class: 'badge low' }, 'Low stock');
  return null;
}
async function productsPage() {
  const [cats, uoms] = await Promise.all([api('GET', '/categories?limit=200'), api('GET', '/uom?limit=200')]);
  const catOptions = cats.items.map((c) => [c.id, c.name]);
  const uomOptions = uoms.items.map((u) => [u.id, `${u.name} (${u.abbreviation})`]);
  const q = input('q', { type: 'search', placeholder: 'Name or SKU', autocomplete: 'off' });
  const cat = select('category_id', [['', 'All categories'], ...catOptions]);
  const stock = select('stock', [['all', 'All'], ['in', 'In stock'], ['low', 'Low stock'], ['out', 'Out of stock']]);
  const slot = h('div');
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const list = h('div');
  let seq = 0, offset = 0;
  const load = async (at = offset) => {
    const my = ++seq;
    const r = await api('GET', '/products' + qs({ q: q.value.trim(), category_id: cat.value, stock: stock.value, limit: PAGE, offset: at }));
    if (my !== seq) return; // a newer search answered first
    offset = at;
    count.textContent = `${qty(r.total)} product${r.total === 1 ? '' : 's'}`;
    const rows = r.items.map((p) => h('tr', { dataset: { id: p.id } },
      h('td', { 'data-label': 'SKU' }, p.sku),
      h('td', { 'data-label': 'Name', class: 'product-name' }, p.name),
      h('td', { 'data-label': 'Category' }, p.category ? p.category.name : '—'),
      h('td', { 'data-label': 'Price', class: 'num' }, money(p.price)),
      h('td', { 'data-label': 'Stock', class: 'num stock' }, `${qty(p.stock)} ${p.uom ? p.uom.abbreviation : ''}`, ' ', stockBadge(p)),
      h('td', { class: 'row-actions' },
        h('button', { type: 'button', onclick: () => openForm(p) }, 'Edit'),
        h('button', { type: 'button', class: 'danger', onclick: guard(async (ev) => {
          if (!(await confirmDialog(`Delete product "${p.name}"? This cannot be undone.`, 'Delete'))) return;
          try { await busy(ev.target, () => api('DELETE', `/products/${p.id}`)); toast('Product deleted.'); await load(); }
          catch (e) { if (e.status !== 401) toast(e.message, true); }
        }) }, 'Delete'))));
    list.replaceChildren(table(['SKU', 'Name', 'Category', 'Price', 'Stock', 'Actions'], rows), pager(r, offset, load) || '');
  };
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
    count, list);
  await load();
}

// ---------- sales ----------
const statusBadge = (st) => h('span', { class: `badge status-${st}` }, st);
async function salesPage() {
  const status = select('status', [['', 'All'], ['draft', 'Draft'], ['confirmed', 'Confirmed'], ['cancelled', 'Cancelled']]);
  const list = h('div');
  let offset = 0;
  const load = async (at = offset) => {
    const r = await api('GET', '/sales' + qs({ status: status.value, limit: PAGE, offset: at }));
    offset = at;
    list.replaceChildren(table(['#', 'Customer', 'Status', 'Total', 'Paid', 'Outstanding', 'Created'], r.items.map((x) => h('tr', {},
      h('td', { 'data-label': '#' }, h('a', { href: `#/sales/${x.id}` }, `Sale ${x.id}`)),
      h('td', { 'data-label': 'Customer' }, x.customer || '—'),
      h('td', { 'data-label': 'Status' }, statusBadge(x.status)),
      h('td', { 'data-label': 'Total', class: 'num' }, money(x.total)),
      h('td', { 'data-label': 'Paid', class: 'num' }, money(x.paid_total)),
      h('td', { 'data-label': 'Outstanding', class: 'num' }, money(x.outstanding)),
      h('td', { 'data-label': 'Created' }, when(x.created_at))))), pager(r, offset, load) || '');
  };
  status.addEventListener('change', guard(() => load(0)));
  setView(h('div', { class: 'page-head' }, h('h1', {}, 'Sales'), h('a', { class: 'button primary', href: '#/sales/new' }, 'New sale')),
    h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() }, field('Status', status)), list);
  await load();
}

async function newSalePage() {
  const lines = []; // {product, quantity, unit_price}
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
  const renderLines = () => {
    let total = 0;
    tbody.replaceChildren(...lines.map((l, i) => {
      const q = input(`items[${i}].quantity`, { inputmode: 'decimal', value: l.quantity, 'aria-label': `Quantity of ${l.product.name}`, class: 'narrow' });
      const pr = input(`items[${i}].unit_price`, { inputmode: 'decimal', value: l.unit_price, 'aria-label': `Unit price of ${l.product.name}`, class: 'narrow' });
      const lt = h('td', { class: 'num', 'data-label': 'Line total' });
      const upd = () => { l.quantity = q.value; l.unit_price = pr.value; lt.textContent = money(Number(l.quantity) * Number(l.unit_price)); sumUp(); };
      q.addEventListener('input', upd); pr.addEventListener('input', upd);
      lt.textContent = money(Number(l.quantity) * Number(l.unit_price));
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
    function sumUp() {
      total = lines.reduce((a, l) => a + (Number(l.quantity) || 0) * (Number(l.unit_price) || 0), 0);
      totalEl.textContent = money(total);
    }
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

async function saleDetailPage(id) {
  const sale = await api('GET', `/sales/${encodeURIComponent(id)}`);
  const parts = [
    h('div', { class: 'page-head' }, h('h1', {}, `Sale ${sale.id} `, statusBadge(sale.status)), h('a', { class: 'button', href: '#/sales' }, 'All sales')),
    h('dl', { class: 'facts card' },
      h('dt', {}, 'Customer'), h('dd', {}, sale.customer || '—'),
      h('dt', {}, 'Created'), h('dd', {}, when(sale.created_at)),
      sale.confirmed_at ? [h('dt', {}, 'Confirmed'), h('dd', {}, when(sale.confirmed_at))] : null,
      sale.cancelled_at ? [h('dt', {}, 'Cancelled'), h('dd', {}, when(sale.cancelled_at))] : null,
      h('dt', {}, 'Total'), h('dd', { class: 'sale-total' }, money(sale.total)),
      h('dt', {}, 'Paid'), h('dd', { class: 'sale-paid' }, money(sale.paid_total)),
      h('dt', {}, 'Outstanding'), h('dd', { class: 'sale-outstanding' }, money(sale.outstanding))),
    table(['Product', 'SKU', 'Quantity', 'Unit price', 'Line total'], (sale.items || []).map((l) => h('tr', {},
      h('td', { 'data-label': 'Product' }, l.product ? l.product.name : '—'),
      h('td', { 'data-label': 'SKU' }, l.product ? l.product.sku : '—'),
      h('td', { 'data-label': 'Quantity', class: 'num' }, qty(l.quantity)),
      h('td', { 'data-label': 'Unit price', class: 'num' }, money(l.unit_price)),
      h('td', { 'data-label': 'Line total', class: 'num' }, money(l.line_total)))), 'Lines'),
  ];
  if (sale.status === 'draft') {
    const withPay = h('input', { type: 'checkbox', name: 'with_payment', checked: true });
    const amount = input('payment.amount', { inputmode: 'decimal', value: sale.total });
    const method = select('payment.method', [['cash', 'Cash'], ['card', 'Card'], ['transfer', 'Transfer']]);
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
  if (sale.status === 'draft' || (sale.status === 'confirmed' && Number(sale.paid_total) === 0)) {
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

// ---------- payments ----------
function paymentForm(sale, after) {
  const saleId = input('sale_id', { inputmode: 'numeric', value: sale ? String(sale.id) : '', required: true });
  const amount = input('amount', { inputmode: 'decimal', value: sale ? sale.outstanding : '', required: true });
  const method = select('method', [['cash', 'Cash'], ['card', 'Card'], ['transfer', 'Transfer']]);
  const reference = input('reference', { autocomplete: 'off' });
  // When the money came in, in the browser's time zone; empty means now.
  const paidAt = input('paid_at', { type: 'datetime-local', step: 1 });
  const btn = h('button', { type: 'submit', class: 'primary' }, 'Register payment');
  const form = h('form', { class: 'card', novalidate: true }, h('h2', {}, 'Register a payment'),
    h('div', { class: 'grid' }, sale ? null : field('Sale number', saleId), field('Amount', amount), field('Method', method),
      field('Paid at (optional)', paidAt, 'Leave empty for now.'), field('Reference (optional)', reference)),
    formError(), h('div', { class: 'actions' }, btn));
  let key = null, lastBody = null;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(form);
    const body = { sale_id: Number(saleId.value), amount: amount.value, method: method.value };
    if (reference.value.trim()) body.reference = reference.value.trim();
    if (paidAt.value) {
      const t = new Date(paidAt.value);
      if (Number.isNaN(t.getTime())) { showError(form, { message: 'Enter a valid date and time.', field: 'paid_at' }); return; }
      body.paid_at = t.toISOString();
    }
    const sig = JSON.stringify(body);
    if (sig !== lastBody) { key = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()); lastBody = sig; }
    await busy(btn, async () => {
      try {
        await api('POST', '/payments', body, { 'Idempotency-Key': key });
        key = null; lastBody = null;
        toast('Payment registered.');
        await after();
      } catch (e) { if (e.status !== 401) showError(form, e); }
    });
  });
  return form;
}
async function paymentsPage() {
  const method = select('method', [['', 'All methods'], ['cash', 'Cash'], ['card', 'Card'], ['transfer', 'Transfer']]);
  const list = h('div');
  let offset = 0;
  const load = async (at = offset) => {
    const r = await api('GET', '/payments' + qs({ method: method.value, limit: PAGE, offset: at }));
    offset = at;
    list.replaceChildren(table(['Paid at', 'Sale', 'Method', 'Amount', 'Reference'], r.items.map((p) => h('tr', {},
      h('td', { 'data-label': 'Paid at' }, when(p.paid_at)),
      h('td', { 'data-label': 'Sale' }, h('a', { href: `#/sales/${p.sale_id}` }, `Sale ${p.sale_id}`)),
      h('td', { 'data-label': 'Method' }, p.method),
      h('td', { 'data-label': 'Amount', class: 'num' }, money(p.amount)),
      h('td', { 'data-label': 'Reference' }, p.reference || '—')))), pager(r, offset, load) || '');
  };
  method.addEventListener('change', guard(() => load(0)));
  setView(h('h1', {}, 'Payments'), paymentForm(null, () => load(0)), h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() }, field('Method', method)), list);
  await load();
}

// ---------- balance ----------
function chart(points) {
  const W = 800, H = 300, L = 64, R = 16, T = 16, B = 40;
  const iw = W - L - R, ih = H - T - B;
  const max = Math.max(1, ...points.flatMap((p) => [Number(p.sales_total), Number(p.payments_total), Number(p.outstanding)]));
  const y = (v) => T + ih - (Number(v) / max) * ih;
  const n = Math.max(points.length, 1), slot = iw / n, bw = Math.max(1, slot * 0.38);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': 'chart-title' },
    s('title', { id: 'chart-title' }, 'Sales and payments per period, with outstanding receivables'));
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    svg.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid-line' }),
      s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, moneyFmt.format(v)));
  }
  const every = Math.ceil(n / 12);
  points.forEach((p, i) => {
    const x0 = L + i * slot + (slot - 2 * bw) / 2;
    const tip = `${day(p.period)}: sales ${money(p.sales_total)} (${p.sales_count}), payments ${money(p.payments_total)}, outstanding ${money(p.outstanding)}`;
    svg.append(s('rect', { x: x0, y: y(p.sales_total), width: bw, height: Math.max(0, T + ih - y(p.sales_total)), class: 'bar-sales' }, s('title', {}, tip)),
      s('rect', { x: x0 + bw, y: y(p.payments_total), width: bw, height: Math.max(0, T + ih - y(p.payments_total)), class: 'bar-payments' }, s('title', {}, tip)));
    if (i % every === 0) svg.append(s('text', { x: L + i * slot + slot / 2, y: H - B + 16, 'text-anchor': 'middle', class: 'axis' }, shortDayFmt.format(new Date(p.period + 'T00:00:00Z'))));
  });
  if (points.length) {
    const pts = points.map((p, i) => `${L + i * slot + slot / 2},${y(p.outstanding)}`).join(' ');
    svg.append(s('polyline', { points: pts, class: 'line-outstanding' }));
    points.forEach((p, i) => svg.append(s('circle', { cx: L + i * slot + slot / 2, cy: y(p.outstanding), r: 3, class: 'dot-outstanding' })));
  }
  svg.append(s('line', { x1: L, x2: W - R, y1: T + ih, y2: T + ih, class: 'axis-line' }));
  const legend = h('ul', { class: 'legend' },
    h('li', {}, h('span', { class: 'key sales' }), 'Sales'), h('li', {}, h('span', { class: 'key payments' }), 'Payments'),
    h('li', {}, h('span', { class: 'key outstanding' }), 'Outstanding (end of period)'));
  return h('figure', { class: 'card chart-card' }, svg, legend);
}
async function balancePage() {
  const today = new Date();
  const from = input('from', { type: 'date', value: isoDay(new Date(today.getTime() - 29 * 86400000)) });
  const to = input('to', { type: 'date', value: isoDay(today) });
  const gran = select('granularity', [['daily', 'Daily'], ['weekly', 'Weekly'], ['monthly', 'Monthly']]);
  const method = select('method', [['all', 'All methods'], ['cash', 'Cash'], ['card', 'Card'], ['transfer', 'Transfer']]);
  const btn = h('button', { type: 'submit', class: 'primary' }, 'Show');
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'filters card', novalidate: true }, field('From', from), field('To', to), field('Granularity', gran), field('Payment method', method), h('div', { class: 'actions' }, btn), formError());
  const load = async () => {
    clearErrors(form);
    try {
      const r = await api('GET', '/balance/series' + qs({ from: from.value, to: to.value, granularity: gran.value, method: method.value }));
      const t = r.totals || {};
      out.replaceChildren(
        h('dl', { class: 'totals' },
          h('div', {}, h('dt', {}, 'Sales'), h('dd', { id: 'total-sales-count' }, qty(t.sales_count))),
          h('div', {}, h('dt', {}, 'Sales total'), h('dd', { id: 'total-sales' }, money(t.sales_total))),
          h('div', {}, h('dt', {}, 'Payments total'), h('dd', { id: 'total-payments' }, money(t.payments_total))),
          h('div', {}, h('dt', {}, 'Outstanding'), h('dd', { id: 'total-outstanding' }, money(t.outstanding)))),
        chart(r.points || []),
        table(['Period', 'Sales', 'Sales total', 'Payments', 'Outstanding'], (r.points || []).map((p) => h('tr', {},
          h('td', { 'data-label': 'Period' }, day(p.period)), h('td', { 'data-label': 'Sales', class: 'num' }, qty(p.sales_count)),
          h('td', { 'data-label': 'Sales total', class: 'num' }, money(p.sales_total)), h('td', { 'data-label': 'Payments', class: 'num' }, money(p.payments_total)),
          h('td', { 'data-label': 'Outstanding', class: 'num' }, money(p.outstanding)))), 'Per period'));
    } catch (e) { if (e.status !== 401) showError(form, e); }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); busy(btn, load); });
  setView(h('h1', {}, 'Balance'), form, out);
  await busy(btn, load);
}

// ---------- router ----------
const routes = [
  [/^#\/products$/, productsPage, 'Products'],
  [/^#\/categories$/, categoriesPage, 'Categories'],
  [/^#\/units$/, unitsPage, 'Units'],
  [/^#\/sales$/, salesPage, 'Sales'],
  [/^#\/sales\/new$/, newSalePage, 'New sale'],
  [/^#\/sales\/(\d+)$/, saleDetailPage, 'Sale'],
  [/^#\/payments$/, paymentsPage, 'Payments'],
  [/^#\/balance$/, balancePage, 'Balance'],
];
async function route() {
  if (!state.csrf) return; // signed out: the sign-in form stays
  const hash = location.hash || '#/products';
  const hit = routes.find(([re]) => re.test(hash));
  if (!hit) { location.hash = '#/products'; return; }
  const [re, fn, title] = hit;
  document.title = `${title} · ${state.tenant ? state.tenant.name : 'stock'}`;
  document.querySelectorAll('#top nav a').forEach((a) => {
    if (hash.startsWith(a.getAttribute('href'))) {
      a.setAttribute('aria-current', 'page');
      // At phone width the pages are a strip that scrolls sideways: keep this one in sight.
      const nav = a.parentElement;
      if (nav.scrollWidth > nav.clientWidth) nav.scrollLeft = Math.max(0, a.offsetLeft - nav.offsetLeft - 8);
    } else a.removeAttribute('aria-current');
  });
  setView(h('p', { class: 'muted' }, 'Loading…'));
  try {
    await fn(...hash.match(re).slice(1));
    view.focus({ preventScroll: true });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    setView(h('h1', {}, title), h('p', { class: 'form-error', role: 'alert' }, e.status === 404 ? 'Not found.' : e.message));
  }
}
window.addEventListener('hashchange', route);

(async function boot() {
  try {
    const me = await fetch(API + '/me', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!me.ok) { showSignIn(); return; }
    const r = await me.json();
    state.csrf = r.csrf_token; state.user = r.user; state.tenant = r.tenant;
    showShell();
    route();
  } catch (e) { showSignIn(); }
})();
