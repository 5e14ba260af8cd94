// users: the users of the shop (#/users, admins only): the list, add a user (email, password,
// role), change a role, disable or enable, set a new password. And "Change my password"
// (#/password) for anyone.
import { h, setView, toast, confirmDialog } from '../dom.js';
import { api, guard, session, isAdmin } from '../api.js';
import { field, input, select, formError, clearErrors, showError, busy } from '../forms.js';
import { PAGE, pagedList } from '../lists.js';
import { when } from '../format.js';
import { t, errorText } from '../i18n.js';
import { roleText } from '../shell.js';

const roles = () => [['staff', t('users.role_option.staff')], ['admin', t('users.role_option.admin')]];
const isDisabled = (u) => u.disabled === true || !!u.disabled_at;

// What a users error reads as: the last active admin is protected (409 last_admin).
function explain(e) {
  if (e.code === 'last_admin') return { message: t('users.last_admin'), field: null };
  return { message: errorText(e), field: e.field };
}

// A password field with its repetition; check() is the error when they differ (or null).
function passwordPair(name, label) {
  const pw = input(name, { type: 'password', autocomplete: 'new-password', required: true });
  const again = input(`${name}_again`, { type: 'password', autocomplete: 'new-password', required: true });
  return {
    fields: [field(label, pw, t('users.password_hint')), field(t('users.repeat'), again)],
    pw, again,
    check: () => (pw.value === again.value ? null : { message: t('users.passwords_differ'), field: `${name}_again` }),
  };
}

// The form that sets a new password for user u (POST /users/{id}/password).
function resetForm(u, onDone) {
  const pair = passwordPair('password', t('users.new_password_for', { email: u.email }));
  const btn = h('button', { type: 'submit', class: 'primary' }, t('users.set_password'));
  const form = h('form', { class: 'card reset-form', novalidate: true }, h('h2', {}, t('users.reset_title', { email: u.email })),
    h('p', { class: 'muted' }, t('users.reset_intro')),
    h('div', { class: 'grid' }, pair.fields), formError(),
    h('div', { class: 'actions' }, btn, h('button', { type: 'button', onclick: () => onDone(false) }, t('common.cancel'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(form);
    const bad = pair.check();
    if (bad) { showError(form, bad); return; }
    await busy(btn, async () => {
      try {
        await api('POST', `/users/${u.id}/password`, { password: pair.pw.value });
        toast(t('users.password_set', { email: u.email }));
        await onDone(true);
      } catch (e) { if (e.status !== 401) showError(form, e); }
    });
  });
  return form;
}

export async function usersPage() {
  if (!isAdmin()) { setView(h('h1', {}, t('nav.users')), h('p', { class: 'form-error', role: 'alert' }, t('users.admin_only'))); return; }
  const slot = h('div');
  const listErr = formError();
  const patch = async (u, body, button, done) => {
    listErr.textContent = '';
    try {
      await busy(button, () => api('PATCH', `/users/${u.id}`, body));
      toast(done);
    } catch (e) {
      if (e.status === 401) return;
      listErr.textContent = explain(e).message;
    }
    await list.load();
  };
  const L = { email: t('users.col.email'), role: t('users.col.role'), status: t('users.col.status'), created: t('users.col.created') };
  const list = pagedList({
    url: (at) => `/users?limit=${PAGE}&offset=${at}`,
    headers: [L.email, L.role, L.status, L.created, t('common.actions')],
    attrs: { 'aria-live': 'polite' },
    row: (u) => {
      const me = session.user && session.user.id === u.id;
      const role = select('role', roles(), { 'aria-label': t('users.role_of', { email: u.email }) });
      role.value = u.role;
      role.addEventListener('change', guard((ev) => patch(u, { role: role.value }, ev.currentTarget, t('users.now_role', { email: u.email, role: roleText(role.value) }))));
      return h('tr', { dataset: { id: u.id }, class: isDisabled(u) ? 'disabled-user' : null },
        h('td', { 'data-label': L.email, class: 'user-email' }, u.email, me ? h('small', { class: 'muted' }, ' ', t('users.you')) : null),
        h('td', { 'data-label': L.role }, role),
        h('td', { 'data-label': L.status, class: 'user-status' }, isDisabled(u) ? h('span', { class: 'badge out' }, t('users.disabled')) : t('users.active')),
        h('td', { 'data-label': L.created }, when(u.created_at)),
        h('td', { class: 'row-actions' },
          isDisabled(u)
            ? h('button', { type: 'button', onclick: guard((ev) => patch(u, { disabled: false }, ev.currentTarget, t('users.enabled', { email: u.email }))) }, t('users.enable'))
            : h('button', { type: 'button', class: 'danger', onclick: guard(async (ev) => {
              const b = ev.currentTarget;
              if (!(await confirmDialog(t('users.disable_confirm', { email: u.email }), t('users.disable')))) return;
              await patch(u, { disabled: true }, b, t('users.disabled_done', { email: u.email }));
            }) }, t('users.disable')),
          h('button', { type: 'button', onclick: () => {
            const form = resetForm(u, async () => slot.replaceChildren());
            slot.replaceChildren(form);
            form.querySelector('input').focus();
          } }, t('users.reset_password'))));
    },
  });
  // The add form stays on the page.
  const email = input('email', { type: 'email', autocomplete: 'off', required: true });
  const pair = passwordPair('password', t('users.password'));
  const role = select('role', roles());
  const addBtn = h('button', { type: 'submit', class: 'primary' }, t('users.add'));
  const add = h('form', { class: 'card add-user', novalidate: true }, h('h2', {}, t('users.add_title')),
    h('div', { class: 'grid' }, field(t('users.col.email'), email), pair.fields, field(t('users.col.role'), role)), formError(), h('div', { class: 'actions' }, addBtn));
  add.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(add);
    const bad = pair.check();
    if (bad) { showError(add, bad); return; }
    await busy(addBtn, async () => {
      try {
        const u = await api('POST', '/users', { email: email.value.trim(), password: pair.pw.value, role: role.value });
        toast(t('users.added', { email: u.email, role: roleText(u.role) }));
        add.reset();
        await list.load();
      } catch (e) { if (e.status !== 401) showError(add, e); }
    });
  });
  setView(h('h1', {}, t('nav.users')), add, slot, listErr, list.el);
  await list.load();
}

// Change my password (#/password): POST /me/password with the current and the new password.
export async function passwordPage() {
  const current = input('current_password', { type: 'password', autocomplete: 'current-password', required: true });
  const pair = passwordPair('password', t('password.new'));
  const btn = h('button', { type: 'submit', class: 'primary' }, t('shell.change_password'));
  const form = h('form', { class: 'card my-password', novalidate: true }, h('h1', {}, t('title.my_password')),
    h('p', { class: 'muted' }, t('password.intro', { email: session.user ? session.user.email : '' })),
    field(t('password.current'), current), pair.fields, formError(), h('div', { class: 'actions' }, btn));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(form);
    const bad = pair.check();
    if (bad) { showError(form, bad); return; }
    await busy(btn, async () => {
      try {
        await api('POST', '/me/password', { current_password: current.value, password: pair.pw.value });
        form.reset();
        toast(t('password.changed'));
        form.querySelector('.form-error').replaceWith(h('p', { class: 'notice done', role: 'status' }, t('password.changed')));
      } catch (e) {
        if (e.status === 401 && e.code !== 'invalid_credentials') return;
        showError(form, e.code === 'invalid_credentials' || e.field === 'current_password' ? { message: e.code === 'invalid_credentials' ? t('password.wrong_current') : errorText(e), field: 'current_password' } : e);
      }
    });
  });
  setView(form);
  current.focus();
}
