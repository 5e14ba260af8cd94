// signin: the sign-in form (tenant, email, password) shown while signed out.
import { h, setView } from '../dom.js';
import { api, setSession } from '../api.js';
import { field, input, formError, clearErrors, showError, busy } from '../forms.js';
import { hideShell } from '../shell.js';

// Shows the sign-in form, with message above it if given. After a successful login the session
// is set and onSignedIn() runs.
export function showSignIn(message, onSignedIn) {
  hideShell();
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
        setSession(r);
        onSignedIn();
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
