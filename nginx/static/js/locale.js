// locale: which language and currency the UI uses now, and switching them. Signed in, the
// tenant's `locale` ('en' or 'es'; en when missing) and `currency` (ISO 4217; USD when missing),
// from the login answer or GET /me (SPEC §12); signed out, the language chosen on the sign-in
// page's switch, else the browser's (navigator.languages: es* is Spanish, anything else English).
// Nothing is stored in the browser: the choice lives in this page's memory.
import { session } from './api.js';
import { setLang, translateDom, browserLang, currentLang } from './i18n.js';
import { setFormat } from './format.js';

let chosen = null; // the sign-in page's choice, null when none
const listeners = [];

// Sets the language and the formats from the session (or the signed-out choice), translates the
// static markup and, when the language or currency changed, tells the listeners (re-render)
// unless quiet (the caller draws the page itself).
export function applyLocale(quiet = false) {
  const tn = session.csrf && session.tenant ? session.tenant : null;
  const before = `${currentLang()}/${document.documentElement.dataset.currency || ''}`;
  const lang = tn ? (tn.locale === 'es' ? 'es' : 'en') : chosen || browserLang();
  const currency = tn && tn.currency ? tn.currency : 'USD';
  setLang(lang);
  setFormat(lang, currency);
  document.documentElement.dataset.currency = currency;
  translateDom();
  if (!quiet && `${lang}/${currency}` !== before) listeners.forEach((fn) => fn());
}
// The sign-in page's language switch.
export function chooseLang(l) {
  chosen = l;
  applyLocale();
}
// fn() runs after the language or currency changed.
export function onLocaleChange(fn) {
  listeners.push(fn);
}
