// resource: the generic list + create/edit page of a simple named resource (units, categories).
import { h, setView, toast, confirmDialog } from '../dom.js';
import { api, guard, isAdmin } from '../api.js';
import { busy, entityForm } from '../forms.js';
import { PAGE, pagedList } from '../lists.js';

const capital = (w) => w[0].toUpperCase() + w.slice(1);

// The page function of the resource at path (e.g. '/uom'): a paged table of columns
// ([[header, (item) => cell], ...]) with Edit and Delete, and a form of fields (see entityForm)
// for New and Edit (admins only: staff see the list alone). singular names one item in buttons
// and messages.
export function simpleResource({ path, title, singular, fields, columns }) {
  return async function page() {
    const admin = isAdmin();
    const slot = h('div');
    const list = pagedList({
      url: (at) => `${path}?limit=${PAGE}&offset=${at}`,
      headers: [...columns.map((c) => c[0]), admin ? 'Actions' : null].filter(Boolean),
      attrs: { 'aria-live': 'polite' },
      row: (it) => h('tr', {},
        columns.map((c) => h('td', { 'data-label': c[0] }, c[1](it))),
        admin && h('td', { class: 'row-actions' },
          h('button', { type: 'button', onclick: () => openForm(it) }, 'Edit'),
          h('button', { type: 'button', class: 'danger', onclick: guard(async (ev) => {
            if (!(await confirmDialog(`Delete ${singular} "${it.name}"? This cannot be undone.`, 'Delete'))) return;
            try {
              await busy(ev.target, () => api('DELETE', `${path}/${it.id}`));
              toast(`${capital(singular)} deleted.`);
              await list.load();
            } catch (e) {
              if (e.status !== 401) toast(e.code === 'in_use' ? `"${it.name}" is in use and cannot be deleted.` : e.message, true);
            }
          }) }, 'Delete'))),
    });
    const openForm = (it) => {
      const form = entityForm({
        title: it ? `Edit ${singular}` : `New ${singular}`, fields, values: it,
        onSubmit: async (data) => {
          if (it) await api('PUT', `${path}/${it.id}`, data); else await api('POST', path, data);
          toast(it ? 'Saved.' : `${capital(singular)} created.`);
          slot.replaceChildren();
          await list.load();
        },
        onCancel: () => slot.replaceChildren(),
      });
      slot.replaceChildren(form);
      form.querySelector('input,select,textarea').focus();
    };
    setView(h('div', { class: 'page-head' }, h('h1', {}, title), admin ? h('button', { type: 'button', class: 'primary', onclick: () => openForm(null) }, `New ${singular}`) : null), slot, list.el);
    await list.load();
  };
}
