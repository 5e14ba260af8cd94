// format: how values read on screen in the UI's locale ('en' or 'es', that of i18n.js) and the
// tenant's currency: money, quantities, dates. Decimal strings from the API are formatted as
// strings, so Intl.NumberFormat keeps every digit (no round trip through a float).
//
// Money comes two ways: money(v), a string ("$1,234.50", "1234,50 €") for text (options, toasts,
// messages), and moneyEl(v), an element for pages and tables: its text is the signed amount
// alone ("1,234.50", "-7.00") and the currency sign is drawn by the stylesheet from a data
// attribute of an empty <span class="cur"> where Intl puts it (.cur::before). So the eye and the
// accessibility tree see "$1,234.50" / "1234,50 €", while copying the cell (or reading its text)
// gives the number alone.
import { h } from './dom.js';

let locale = 'en';
let currency = 'USD';
let fmts = null;

const validCurrency = (c) => {
  if (typeof c !== 'string' || !/^[A-Z]{3}$/.test(c)) return false;
  try { new Intl.NumberFormat('en', { style: 'currency', currency: c }); return true; } catch (e) { return false; }
};

function build() {
  fmts = {
    money: new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: 2 }),
    plain: new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
    short: new Intl.NumberFormat(locale, { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 }),
    qty: new Intl.NumberFormat(locale, { maximumFractionDigits: 3 }),
    dateTime: new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }),
    day: new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }),
    shortDay: new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', timeZone: 'UTC' }),
  };
}
build();

// Sets the locale of every format ('es' or 'en') and the currency of money (ISO 4217; USD when
// missing or unknown to the browser).
export function setFormat(lang, cur) {
  locale = lang === 'es' ? 'es' : 'en';
  currency = validCurrency(cur) ? cur : 'USD';
  build();
}
export const currentCurrency = () => currency;

const exact = (v) => (typeof v === 'string' ? v : Number(v));
const missing = (v) => v === null || v === undefined || v === '' || isNaN(Number(v));

// Money in the tenant's currency with two decimals ("$1,234.50"); "—" for a missing or
// non-numeric value.
export const money = (v) => (missing(v) ? '—' : fmts.money.format(exact(v)));
// Money as an element (see above): <span class="money">, the currency in a <span class="cur">.
export function moneyEl(v, attrs = {}) {
  const el = h('span', { ...attrs, class: attrs.class ? `money ${attrs.class}` : 'money' });
  if (missing(v)) { el.textContent = '—'; return el; }
  const parts = fmts.money.formatToParts(exact(v));
  // The currency sign with the space Intl puts between it and the number ("1234,50 €").
  let i = 0;
  while (i < parts.length) {
    const p = parts[i];
    if (p.type === 'currency') {
      let sign = p.value;
      if (i > 0 && parts[i - 1].type === 'literal' && /^\s+$/.test(parts[i - 1].value) && el.lastChild && el.lastChild.nodeType === 3) {
        // "1234,50 €": the space goes with the sign
        el.lastChild.textContent = el.lastChild.textContent.replace(/\s+$/, '');
        sign = parts[i - 1].value + sign;
      }
      if (i + 1 < parts.length && parts[i + 1].type === 'literal' && /^\s+$/.test(parts[i + 1].value)) { sign += parts[i + 1].value; i++; }
      el.append(h('span', { class: 'cur', dataset: { cur: sign } }));
    } else el.append(p.value);
    i++;
  }
  el.normalize();
  return el;
}
// Money in short for an axis label ("$25K", "25 mil €"): the chart's values are pixels, not amounts.
export const moneyShort = (v) => (missing(v) ? '—' : fmts.short.format(Number(v)));
// A plain amount with two decimals in the locale's digits, no currency ("1,234.50").
export const amount = (v) => (missing(v) ? '—' : fmts.plain.format(exact(v)));
// A quantity or a count, up to three decimals; "—" for a missing or non-numeric value.
export const qty = (v) => (v === null || v === undefined || isNaN(Number(v)) ? '—' : fmts.qty.format(exact(v)));
// An ISO timestamp as date and time in the browser's time zone.
export const when = (v) => (v ? fmts.dateTime.format(new Date(v)) : '—');
// A calendar day "YYYY-MM-DD" (a period of the balance), shown as that day whatever the zone.
export const day = (v) => (v ? fmts.day.format(new Date(v + 'T00:00:00Z')) : '—');
// A calendar day "YYYY-MM-DD" as a short axis label ("Jan 5").
export const shortDay = (v) => fmts.shortDay.format(new Date(v + 'T00:00:00Z'));
// A Date as "YYYY-MM-DD" (UTC), the value of an <input type="date">.
export const isoDay = (d) => d.toISOString().slice(0, 10);
