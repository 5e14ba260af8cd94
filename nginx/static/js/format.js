// format: how values read on screen in the browser's locale: money, quantities, dates.
// Decimal strings from the API are formatted as strings, so Intl.NumberFormat keeps every digit
// (no round trip through a float).

const LOCALE = undefined; // the browser's
const moneyFmt = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const qtyFmt = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 3 });
const dateTimeFmt = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short' });
const dayFmt = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeZone: 'UTC' });
const shortDayFmt = new Intl.DateTimeFormat(LOCALE, { month: 'short', day: 'numeric', timeZone: 'UTC' });

const exact = (v) => (typeof v === 'string' ? v : Number(v));

// Money with two decimals ("1,234.50"); "—" for a missing or non-numeric value.
export const money = (v) => (v === null || v === undefined || v === '' || isNaN(Number(v)) ? '—' : moneyFmt.format(exact(v)));
// A quantity or a count, up to three decimals; "—" for a missing or non-numeric value.
export const qty = (v) => (v === null || v === undefined || isNaN(Number(v)) ? '—' : qtyFmt.format(exact(v)));
// An ISO timestamp as date and time in the browser's time zone.
export const when = (v) => (v ? dateTimeFmt.format(new Date(v)) : '—');
// A calendar day "YYYY-MM-DD" (a period of the balance), shown as that day whatever the zone.
export const day = (v) => (v ? dayFmt.format(new Date(v + 'T00:00:00Z')) : '—');
// A calendar day "YYYY-MM-DD" as a short axis label ("Jan 5").
export const shortDay = (v) => shortDayFmt.format(new Date(v + 'T00:00:00Z'));
// A Date as "YYYY-MM-DD" (UTC), the value of an <input type="date">.
export const isoDay = (d) => d.toISOString().slice(0, 10);
