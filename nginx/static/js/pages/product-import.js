// product-import: the CSV import of products (#/products/import, admins; SPEC §12). The file is
// sent as it is (POST /products/import, text/csv): the answer's counts are shown, or every
// bad line's error in a table by line and field (nothing is imported then).
import { h, setView, toast } from '../dom.js';
import { isAdmin, session } from '../api.js';
import { field, formError, busy } from '../forms.js';
import { table } from '../lists.js';
import { t, tn, errorText } from '../i18n.js';

const COLUMNS = 'sku,name,category,uom,price,cost,stock,min_stock';

// POST the file; resolves to { status, data } (data the parsed JSON or null).
async function upload(file) {
  let res;
  try {
    res = await fetch('/api/v1/products/import', {
      method: 'POST', body: file, credentials: 'same-origin', cache: 'no-store',
      headers: { 'Content-Type': 'text/csv; charset=utf-8', Accept: 'application/json', 'X-CSRF-Token': session.csrf || '' },
    });
  } catch (e) { return { status: 0, data: null }; }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  return { status: res.status, data };
}

// The column's name in the UI (an error with no field is about the whole line).
const colName = (f) => (f ? t(`csv.col.${f}`) : t('csv.import.whole_line'));

export async function productImportPage() {
  if (!isAdmin()) {
    setView(h('h1', {}, t('csv.import.title')), h('p', { class: 'muted' }, t('csv.import.admin_only')));
    return;
  }
  const file = h('input', { type: 'file', name: 'file', accept: '.csv,text/csv', required: true });
  const btn = h('button', { type: 'submit', class: 'primary' }, t('csv.import.upload'));
  const result = h('div', { class: 'import-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'card import-form', novalidate: true },
    field(t('csv.import.file'), file, t('csv.import.hint')), formError(), h('div', { class: 'actions' }, btn));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const err = form.querySelector('.form-error');
    err.textContent = '';
    result.replaceChildren();
    const f = file.files && file.files[0];
    if (!f) { err.textContent = t('csv.import.choose'); return; }
    await busy(btn, async () => {
      const { status, data } = await upload(f);
      if (status === 201 && data) {
        result.append(h('p', { class: 'import-done' }, t('csv.import.done', { created: data.created, updated: data.updated })));
        toast(t('csv.import.done', { created: data.created, updated: data.updated }));
      } else if (status === 422 && data && data.error && Array.isArray(data.error.errors)) {
        const list = data.error.errors;
        const n = data.error.error_count || list.length;
        result.append(h('p', { class: 'form-error import-failed', role: 'alert' }, tn('csv.import.failed', n)));
        if (n > list.length) result.append(h('p', { class: 'muted' }, t('csv.import.first', { shown: list.length })));
        result.append(
          table([t('csv.import.line'), t('csv.import.field'), t('csv.import.message')],
            list.map((e) => h('tr', { class: 'import-error' },
              h('td', { 'data-label': t('csv.import.line'), class: 'num' }, String(e.line)),
              h('td', { 'data-label': t('csv.import.field') }, colName(e.field)),
              h('td', { 'data-label': t('csv.import.message') }, e.message))), t('csv.import.errors')));
      } else {
        const e = { status, code: data && data.error ? data.error.code : undefined };
        err.textContent = status === 413 ? t('csv.import.too_large')
          : (data && data.error && data.error.code === 'too_many_rows') ? t('csv.import.too_many')
            : errorText(e);
      }
    });
  });
  setView(
    h('div', { class: 'page-head' }, h('h1', {}, t('csv.import.title')), h('a', { class: 'button', href: '#/products' }, t('csv.import.back'))),
    h('p', {}, t('csv.import.intro')),
    h('p', {}, t('csv.import.columns'), ' ', h('code', {}, COLUMNS)),
    h('ul', { class: 'import-rules' },
      h('li', {}, t('csv.import.rule_header')),
      h('li', {}, t('csv.import.rule_names')),
      h('li', {}, t('csv.import.rule_update')),
      h('li', {}, t('csv.import.rule_all'))),
    form, result);
}
