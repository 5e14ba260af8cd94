// signin: the sign-in form (tenant, email, password) shown while signed out, with the language
// switch (English / Español): the browser's language until one is chosen (locale.js).
import { h, setView } from '../dom.js';
import { api, setSession } from '../api.js';
import { field, input, formError, clearErrors, showError, busy } from '../forms.js';
import { hideShell } from '../shell.js';
import { t, currentLang } from '../i18n.js';
import { chooseLang } from '../locale.js';

// The languages of the switch, each named in itself.
const LANG_NAMES = [['en', 'English'], ['es', 'Español']];

// Shows the sign-in form, with the notice of catalog key messageKey above it if given. After a
// successful login the session is set and onSignedIn() runs. keep: the values typed so far (the
// form drawn again in another language).
export function showSignIn(messageKey, onSignedIn, keep = {}) {
  hideShell();
  document.title = `${t('signin.button')} · stock`;
  const tenant = input('tenant', { required: true, autocomplete: 'organization', value: keep.tenant || '' });
  const email = input('email', { type: 'email', required: true, autocomplete: 'username', value: keep.email || '' });
  const password = input('password', { type: 'password', required: true, autocomplete: 'current-password' });
  const err = formError();
  const btn = h('button', { type: 'submit', class: 'primary' }, t('signin.button'));
  const lang = currentLang();
  const switcher = h('nav', { class: 'lang-switch', 'aria-label': t('signin.language') },
    LANG_NAMES.map(([code, name]) => h('button', {
      type: 'button', lang: code, 'aria-pressed': code === lang ? 'true' : 'false', class: code === lang ? 'current' : null,
      onclick: () => {
        if (code === currentLang()) return;
        chooseLang(code);
        showSignIn(messageKey, onSignedIn, { tenant: tenant.value, email: email.value });
        document.querySelector(`.lang-switch button[lang="${code}"]`)?.focus();
      },
    }, name)));
  const form = h('form', { class: 'card signin', novalidate: true },
    switcher,
    h('h1', {}, t('signin.title')),
    messageKey ? h('p', { class: 'notice' }, t(messageKey)) : null,
    field(t('signin.tenant'), tenant), field(t('signin.email'), email), field(t('signin.password'), password), err,
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
        if (e.status === 401) err.textContent = t('signin.wrong');
        else showError(form, e);
        password.value = '';
      }
    });
  });
  setView(form);
  if (!keep.tenant && !keep.email) tenant.focus();
}
