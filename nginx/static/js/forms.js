// forms: labelled fields, error display beside a field (the API's error.field), busy buttons and
// the generic create/edit form.
import { h, nextId, toast } from './dom.js';
import { ApiError } from './api.js';
import { t, errorText } from './i18n.js';

// A labelled input with a place for its error (aria-describedby) and an optional hint.
export function field(label, input, hint) {
  const id = input.id || (input.id = nextId('f'));
  const err = h('span', { class: 'field-error', id: `${id}-err`, role: 'alert', 'aria-live': 'polite' });
  input.setAttribute('aria-describedby', `${id}-err`);
  if (input.name) err.dataset.errorFor = input.name;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('small', {}, hint) : null, err);
}
// An <input name> (type text unless attrs say otherwise).
export function input(name, attrs = {}) {
  return h('input', { name, type: 'text', ...attrs });
}
// A <select name> of options [[value, label], ...].
export function select(name, options, attrs = {}) {
  const el = h('select', { name, ...attrs });
  for (const [value, label] of options) el.append(h('option', { value: String(value) }, label));
  return el;
}
// The place for an error of the whole form.
export function formError() {
  return h('p', { class: 'form-error', role: 'alert', 'aria-live': 'polite' });
}
export function clearErrors(form) {
  form.querySelectorAll('.field-error, .form-error').forEach((e) => { e.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
}
// Shows an error beside its field (error.field) or at the form (a toast if it has no place): an
// ApiError as the UI's own text of its code (errorText), else err.message (a text of the UI).
export function showError(form, err) {
  const message = err instanceof ApiError ? errorText(err) : err && err.message ? err.message : String(err);
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
// Busy state on a button while fn() runs; resolves to what fn resolves to.
export async function busy(button, fn) {
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

// Builds a create/edit form. fields: [{name, label, type, options, required, hint, inputmode}];
// values: the initial values by name; onSubmit(data) gets the values by name as strings and its
// failure shows on the form.
export function entityForm({ title, fields, values, onSubmit, onCancel, submitLabel }) {
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
  const btn = h('button', { type: 'submit', class: 'primary' }, submitLabel || t('common.save'));
  const form = h('form', { class: 'card entity-form', novalidate: true },
    h('h2', {}, title), h('div', { class: 'grid' }, parts), formError(),
    h('div', { class: 'actions' }, btn, onCancel ? h('button', { type: 'button', onclick: onCancel }, t('common.cancel')) : null));
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
