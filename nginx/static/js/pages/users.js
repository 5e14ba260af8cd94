// users: the users of the shop (#/users, admins only): the list, add a user (email, password,
// role), change a role, disable or enable, set a new password. And "Change my password"
// (#/password) for anyone.
import { h, setView, toast, confirmDialog } from '../dom.js';
import { api, guard, session, isAdmin } from '../api.js';
import { field, input, select, formError, clearErrors, showError, busy } from '../forms.js';
import { PAGE, pagedList } from '../lists.js';
import { when } from '../format.js';

const ROLES = [['staff', 'Staff'], ['admin', 'Admin']];
const isDisabled = (u) => u.disabled === true || !!u.disabled_at;
const PASSWORD_HINT = '10 to 256 characters, not the email.';

// What a users error reads as: the last active admin is protected (409 last_admin).
function explain(e) {
  if (e.code === 'last_admin') return { message: 'This is the last active admin of the shop: make another user admin first. Nothing was changed.', field: null };
  return e;
}

// A password field with its repetition; check() is the error when they differ (or null).
function passwordPair(name, label) {
  const pw = input(name, { type: 'password', autocomplete: 'new-password', required: true });
  const again = input(`${name}_again`, { type: 'password', autocomplete: 'new-password', required: true });
  return {
    fields: [field(label, pw, PASSWORD_HINT), field('Repeat it', again)],
    pw, again,
    check: () => (pw.value === again.value ? null : { message: 'The two passwords differ.', field: `${name}_again` }),
  };
}

// The form that sets a new password for user u (POST /users/{id}/password).
function resetForm(u, onDone) {
  const pair = passwordPair('password', `New password for ${u.email}`);
  const btn = h('button', { type: 'submit', class: 'primary' }, 'Set password');
  const form = h('form', { class: 'card reset-form', novalidate: true }, h('h2', {}, `Reset the password of ${u.email}`),
    h('p', { class: 'muted' }, 'Their other sessions end at once; tell them the new password.'),
    h('div', { class: 'grid' }, pair.fields), formError(),
    h('div', { class: 'actions' }, btn, h('button', { type: 'button', onclick: () => onDone(false) }, 'Cancel')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(form);
    const bad = pair.check();
    if (bad) { showError(form, bad); return; }
    await busy(btn, async () => {
      try {
        await api('POST', `/users/${u.id}/password`, { password: pair.pw.value });
        toast(`New password set for ${u.email}.`);
        await onDone(true);
      } catch (e) { if (e.status !== 401) showError(form, e); }
    });
  });
  return form;
}

export async function usersPage() {
  if (!isAdmin()) { setView(h('h1', {}, 'Users'), h('p', { class: 'form-error', role: 'alert' }, 'Only an admin can manage users.')); return; }
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
  const list = pagedList({
    url: (at) => `/users?limit=${PAGE}&offset=${at}`,
    headers: ['Email', 'Role', 'Status', 'Created', 'Actions'],
    attrs: { 'aria-live': 'polite' },
    row: (u) => {
      const me = session.user && session.user.id === u.id;
      const role = select('role', ROLES, { 'aria-label': `Role of ${u.email}` });
      role.value = u.role;
      role.addEventListener('change', guard((ev) => patch(u, { role: role.value }, ev.currentTarget, `${u.email} is now ${role.value}.`)));
      return h('tr', { dataset: { id: u.id }, class: isDisabled(u) ? 'disabled-user' : null },
        h('td', { 'data-label': 'Email', class: 'user-email' }, u.email, me ? h('small', { class: 'muted' }, ' (you)') : null),
        h('td', { 'data-label': 'Role' }, role),
        h('td', { 'data-label': 'Status', class: 'user-status' }, isDisabled(u) ? h('span', { class: 'badge out' }, 'Disabled') : 'Active'),
        h('td', { 'data-label': 'Created' }, when(u.created_at)),
        h('td', { class: 'row-actions' },
          isDisabled(u)
            ? h('button', { type: 'button', onclick: guard((ev) => patch(u, { disabled: false }, ev.currentTarget, `${u.email} is enabled.`)) }, 'Enable')
            : h('button', { type: 'button', class: 'danger', onclick: guard(async (ev) => {
              const b = ev.currentTarget;
              if (!(await confirmDialog(`Disable ${u.email}? They are signed out everywhere at once.`, 'Disable'))) return;
              await patch(u, { disabled: true }, b, `${u.email} is disabled.`);
            }) }, 'Disable'),
          h('button', { type: 'button', onclick: () => {
            const form = resetForm(u, async () => slot.replaceChildren());
            slot.replaceChildren(form);
            form.querySelector('input').focus();
          } }, 'Reset password')));
    },
  });
  // The add form stays on the page.
  const email = input('email', { type: 'email', autocomplete: 'off', required: true });
  const pair = passwordPair('password', 'Password');
  const role = select('role', ROLES);
  const addBtn = h('button', { type: 'submit', class: 'primary' }, 'Add user');
  const add = h('form', { class: 'card add-user', novalidate: true }, h('h2', {}, 'Add a user'),
    h('div', { class: 'grid' }, field('Email', email), pair.fields, field('Role', role)), formError(), h('div', { class: 'actions' }, addBtn));
  add.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(add);
    const bad = pair.check();
    if (bad) { showError(add, bad); return; }
    await busy(addBtn, async () => {
      try {
        const u = await api('POST', '/users', { email: email.value.trim(), password: pair.pw.value, role: role.value });
        toast(`${u.email} added as ${u.role}.`);
        add.reset();
        await list.load();
      } catch (e) { if (e.status !== 401) showError(add, e); }
    });
  });
  setView(h('h1', {}, 'Users'), add, slot, listErr, list.el);
  await list.load();
}

// Change my password (#/password): POST /me/password with the current and the new password.
export async function passwordPage() {
  const current = input('current_password', { type: 'password', autocomplete: 'current-password', required: true });
  const pair = passwordPair('password', 'New password');
  const btn = h('button', { type: 'submit', class: 'primary' }, 'Change password');
  const form = h('form', { class: 'card my-password', novalidate: true }, h('h1', {}, 'Change my password'),
    h('p', { class: 'muted' }, `Signed in as ${session.user ? session.user.email : ''}. Your other sessions end; this one stays.`),
    field('Current password', current), pair.fields, formError(), h('div', { class: 'actions' }, btn));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(form);
    const bad = pair.check();
    if (bad) { showError(form, bad); return; }
    await busy(btn, async () => {
      try {
        await api('POST', '/me/password', { current_password: current.value, password: pair.pw.value });
        form.reset();
        toast('Your password is changed.');
        form.querySelector('.form-error').replaceWith(h('p', { class: 'notice done', role: 'status' }, 'Your password is changed.'));
      } catch (e) {
        if (e.status === 401 && e.code !== 'invalid_credentials') return;
        showError(form, e.code === 'invalid_credentials' || e.field === 'current_password' ? { message: e.code === 'invalid_credentials' ? 'The current password is not right.' : e.message, field: 'current_password' } : e);
      }
    });
  });
  setView(form);
  current.focus();
}
