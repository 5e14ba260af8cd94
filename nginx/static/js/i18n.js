// i18n: the UI's language. Every string the UI shows comes from one catalog per language
// (i18n/en.js, i18n/es.js: flat objects of dotted keys); t('key', {name}) gives the text of the
// current language with {name} placeholders filled, falling back to English, then to the key
// itself (so a missing entry is visible, and tests/browser checks that none is). The language is
// the tenant's `locale` once signed in, the browser's before that (es when it prefers Spanish).
import en from './i18n/en.js';
import es from './i18n/es.js';

export const catalogs = { en, es };
export const LANGS = Object.keys(catalogs);

let lang = 'en';

// The language of the browser's preferences that the UI speaks ('en' when none).
export function browserLang() {
  for (const l of navigator.languages || [navigator.language || 'en']) {
    const base = String(l).toLowerCase().split('-')[0];
    if (catalogs[base]) return base;
  }
  return 'en';
}

// Switches the UI to l (ignored unless a catalog has it); sets <html lang>.
export function setLang(l) {
  if (catalogs[l]) lang = l;
  document.documentElement.lang = lang;
  return lang;
}
export const currentLang = () => lang;

// The text of key in the current language, {name} placeholders filled from vars.
export function t(key, vars) {
  const s = catalogs[lang][key] ?? catalogs.en[key] ?? key;
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
}

// t() of key + '.one' or key + '.other' as n says (both languages have these two forms), with
// {n} set to the formatted count.
export function tn(key, n, vars = {}) {
  const form = new Intl.PluralRules(lang).select(Number(n)) === 'one' ? 'one' : 'other';
  return t(`${key}.${form}`, { n, ...vars });
}

// The UI's own text for an API error: the catalog's 'error.<code>' when it has one, else the
// generic text of the status (the API's messages are English, for programs).
export function errorText(e) {
  if (e && e.code && (catalogs[lang][`error.${e.code}`] || catalogs.en[`error.${e.code}`])) return t(`error.${e.code}`, { field: e.field || '' });
  if (e && e.status === 0) return t('error.unreachable');
  return t('error.generic', { status: (e && e.status) || '' });
}

// t() of key as nodes: a {name} placeholder whose value in vars is a DOM node (a moneyEl) is
// that node, the rest text. For h(): h('p', {}, tx('receipt.returned_total', { amount: moneyEl(x) })).
export function tx(key, vars = {}) {
  const s = catalogs[lang][key] ?? catalogs.en[key] ?? key;
  const out = [];
  let last = 0;
  s.replace(/\{(\w+)\}/g, (m, k, at) => {
    if (!(k in vars)) return m;
    out.push(s.slice(last, at), vars[k] instanceof Node ? vars[k] : String(vars[k]));
    last = at + m.length;
    return m;
  });
  out.push(s.slice(last));
  return out.filter((x) => x !== '');
}

// Translates the static markup under root (index.html): the text of every [data-i18n] element
// and the attributes named by data-i18n-attr ("aria-label:nav.label title:x.y").
export function translateDom(root = document) {
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-attr]').forEach((el) => {
    for (const pair of el.dataset.i18nAttr.split(/\s+/).filter(Boolean)) {
      const [attr, key] = pair.split(':');
      if (attr && key) el.setAttribute(attr, t(key));
    }
  });
}
