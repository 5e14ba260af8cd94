// resource: the generic list + create/edit page of a simple named resource (units, categories).
import { h, setView, toast, confirmDialog } from '../dom.js';
import { api, guard, isAdmin } from '../api.js';
import { busy, entityForm } from '../forms.js';
import { PAGE, pagedList } from '../lists.js';
import { t, errorText } from '../i18n.js';

// The page function of the resource at path (e.g. '/uom'): a paged table of columns
// ([[header key, (item) => cell], ...]) with Edit and Delete, and a form of fields (see
// entityForm; `label` is a catalog key) for New and Edit (admins only: staff see the list alone).
// title is the catalog key of the page's heading; k the key prefix of its texts (k.new, k.edit,
// k.delete_confirm, k.deleted, k.created, k.in_use).
export function simpleResource({ path, title, k, fields, columns }) {
  return async function page() {
    const admin = isAdmin();
    const slot = h('div');
    const heads = columns.map((c) => t(c[0]));
    const list = pagedList({
      url: (at) => `${path}?limit=${PAGE}&offset=${at}`,
      headers: [...heads, admin ? t('common.actions') : null].filter(Boolean),
      attrs: { 'aria-live': 'polite' },
      row: (it) => h('tr', {},
        columns.map((c, i) => h('td', { 'data-label': heads[i] }, c[1](it))),
        admin && h('td', { class: 'row-actions' },
          h('button', { type: 'button', onclick: () => openForm(it) }, t('common.edit')),
          h('button', { type: 'button', class: 'danger', onclick: guard(async (ev) => {
            if (!(await confirmDialog(t(`${k}.delete_confirm`, { name: it.name }), t('common.delete')))) return;
            try {
              await busy(ev.target, () => api('DELETE', `${path}/${it.id}`));
              toast(t(`${k}.deleted`));
              await list.load();
            } catch (e) {
              if (e.status !== 401) toast(e.code === 'in_use' ? t(`${k}.in_use`, { name: it.name }) : errorText(e), true);
            }
          }) }, t('common.delete')))),
    });
    const openForm = (it) => {
      const form = entityForm({
        title: it ? t(`${k}.edit`) : t(`${k}.new`), fields: fields.map((f) => ({ ...f, label: t(f.label) })), values: it,
        onSubmit: async (data) => {
          if (it) await api('PUT', `${path}/${it.id}`, data); else await api('POST', path, data);
          toast(it ? t('common.saved') : t(`${k}.created`));
          slot.replaceChildren();
          await list.load();
        },
        onCancel: () => slot.replaceChildren(),
      });
      slot.replaceChildren(form);
      form.querySelector('input,select,textarea').focus();
    };
    setView(h('div', { class: 'page-head' }, h('h1', {}, t(title)), admin ? h('button', { type: 'button', class: 'primary', onclick: () => openForm(null) }, t(`${k}.new`)) : null), slot, list.el);
    await list.load();
  };
}
