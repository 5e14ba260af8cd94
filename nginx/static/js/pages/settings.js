// settings: the shop's settings (#/settings, SPEC §12): its name, the language of the UI and the
// currency of its money. An admin changes them (PATCH /tenant) and the UI switches to them at
// once; staff see them read-only.
import { h, pageView, toast } from '../dom.js';
import { api, session, isAdmin } from '../api.js';
import { field, input, select, formError, clearErrors, showError, busy } from '../forms.js';
import { t, currentLang } from '../i18n.js';
import { applyLocale } from '../locale.js';

// The currencies offered (ISO 4217); the shop's own is added when it is another one.
const CURRENCIES = ['EUR', 'USD', 'MXN', 'ARS', 'COP', 'CLP', 'PEN', 'UYU', 'BOB', 'PYG', 'VES', 'GTQ', 'CRC', 'DOP', 'GBP', 'CAD', 'CHF', 'BRL'];
const LANGS = [['en', 'English'], ['es', 'Español']];

const currencyName = (c) => {
  try { return new Intl.DisplayNames(currentLang(), { type: 'currency' }).of(c) || c; } catch (e) { return c; }
};
const currencyLabel = (c) => `${c} — ${currencyName(c)}`;
const langName = (l) => (LANGS.find((x) => x[0] === l) || [l, l])[1];
// An example amount in currency c as a shop of language l would show it.
const example = (l, c) => {
  try { return new Intl.NumberFormat(l === 'es' ? 'es' : 'en', { style: 'currency', currency: c, minimumFractionDigits: 2, maximumFractionDigits: 2 }).format('1234.50'); } catch (e) { return '—'; }
};

// The tenant as GET /tenant answers it; the session's when the server has no such route.
async function loadTenant() {
  try { return await api('GET', '/tenant'); } catch (e) {
    if (e.status === 404 || e.status === 405) return { ...(session.tenant || {}) };
    throw e;
  }
}

export async function settingsPage() {
  const setView = pageView();
  const tenant = await loadTenant();
  const locale = tenant.locale === 'es' ? 'es' : 'en';
  const currency = tenant.currency || 'USD';
  const heading = h('h1', {}, t('nav.settings'));
  if (!isAdmin()) {
    setView(heading,
      h('dl', { class: 'facts card settings-view' },
        h('dt', {}, t('settings.name')), h('dd', { class: 'settings-name' }, tenant.name || ''),
        h('dt', {}, t('settings.language')), h('dd', { class: 'settings-locale' }, langName(locale)),
        h('dt', {}, t('settings.currency')), h('dd', { class: 'settings-currency' }, currencyLabel(currency)),
        h('dt', {}, t('settings.example')), h('dd', { class: 'settings-example' }, example(locale, currency))),
      h('p', { class: 'muted settings-readonly' }, t('settings.admin_only')));
    return;
  }
  const name = input('name', { required: true, autocomplete: 'organization', value: tenant.name || '' });
  const lang = select('locale', LANGS);
  lang.value = locale;
  const codes = CURRENCIES.includes(currency) ? CURRENCIES : [currency, ...CURRENCIES];
  const cur = select('currency', codes.map((c) => [c, currencyLabel(c)]));
  cur.value = currency;
  const preview = h('output', { class: 'settings-example' });
  const showPreview = () => { preview.textContent = example(lang.value, cur.value); };
  lang.addEventListener('change', showPreview); cur.addEventListener('change', showPreview);
  showPreview();
  const btn = h('button', { type: 'submit', class: 'primary' }, t('common.save'));
  const form = h('form', { class: 'card settings-form', novalidate: true },
    h('div', { class: 'grid' }, field(t('settings.name'), name), field(t('settings.language'), lang, t('settings.language_hint')),
      field(t('settings.currency'), cur, t('settings.currency_hint'))),
    h('p', {}, t('settings.example'), ': ', preview),
    formError(), h('div', { class: 'actions' }, btn));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(form);
    const body = { locale: lang.value, currency: cur.value };
    if (name.value.trim() !== (tenant.name || '')) body.name = name.value.trim();
    await busy(btn, async () => {
      try {
        const r = await api('PATCH', '/tenant', body);
        session.tenant = { ...(session.tenant || {}), ...(r || body) };
        document.getElementById('tenant-name').textContent = session.tenant.name || '';
        applyLocale(); // draws this page again in the new language, when it changed
        toast(t('settings.saved'));
      } catch (e) {
        if (e.status === 401) return;
        // The API names the field it refuses (422 validation_error): the UI says what it wants.
        const own = { locale: 'error.invalid_locale', currency: 'error.invalid_currency', name: 'settings.bad_name' }[e.field];
        showError(form, own ? { message: t(own), field: e.field } : e);
      }
    });
  });
  setView(heading, form);
}
