// decimal: exact decimals under the API's rules (SPEC: money with 2 decimals, quantities with 3),
// held as BigInt in minor units (cents, thousandths); never floating point.
//
// The rules are those of the server's dec_parse: a plain decimal ("12", "12.5", "-0.25"; no
// exponent, no spaces, no "+", no ".5" or "5."), at most `scale` decimals, at most 12 integral
// digits (999,999,999,999), negative only where allowed. A line total is
// round(quantity * unit_price, 2), half away from zero, as PostgreSQL's round(numeric, 2) does it;
// a sale's total is the sum of its rounded line totals. Both are stored as NUMERIC(14,2): at most
// MAX_CENTS, above which the API refuses the sale (422 too_large on items).

export const MONEY_SCALE = 2;
const QTY_SCALE = 3;
export const MAX_CENTS = 99999999999999n;
const MAX_INTEGRAL_DIGITS = 12;
const PLAIN = new RegExp(`^(-?)(\\d{1,${MAX_INTEGRAL_DIGITS}})(?:\\.(\\d+))?$`);

// The value of text in units of 10^-scale (BigInt), or null when the API would refuse it.
// negative: whether a value below zero is accepted ("-0" is zero, accepted either way).
function parseDecimal(text, scale, { negative = false } = {}) {
  const m = typeof text === 'string' ? PLAIN.exec(text) : null;
  if (!m) return null;
  const frac = m[3] === undefined ? '' : m[3];
  if (frac.length > scale) return null;
  const v = BigInt(m[2] + frac.padEnd(scale, '0'));
  if (m[1] && v !== 0n && !negative) return null;
  return m[1] ? -v : v;
}

// A quantity as the API reads and writes it (3 decimals, sign allowed) in thousandths (BigInt),
// or null when it is not one.
export const parseQuantity = (text) => parseDecimal(typeof text === 'number' ? String(text) : text, QTY_SCALE, { negative: true });
export { QTY_SCALE };

// v (BigInt in units of 10^-from) in units of 10^-to (to <= from), rounded half away from zero.
function rescale(v, from, to) {
  const d = 10n ** BigInt(from - to);
  const half = d / 2n;
  return v < 0n ? -((-v + half) / d) : (v + half) / d;
}

// v (BigInt in units of 10^-scale) as a plain decimal string with exactly scale decimals.
export function formatDecimal(v, scale) {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  return (neg ? '-' : '') + (scale ? `${int}.${digits.slice(-scale)}` : int);
}

// The line total in cents (BigInt) of a sale line as the API computes it, or null when the
// quantity (> 0, 3 decimals), the unit price (>= 0, 2 decimals) or the total (MAX_CENTS) would
// be refused.
export function lineTotal(quantity, unitPrice) {
  const q = parseDecimal(quantity, QTY_SCALE);
  const p = parseDecimal(unitPrice, MONEY_SCALE);
  if (q === null || q <= 0n || p === null) return null;
  const t = rescale(q * p, QTY_SCALE + MONEY_SCALE, MONEY_SCALE);
  return t > MAX_CENTS ? null : t;
}

// The total in cents of line totals (BigInt, or null for a line that has none: it adds nothing),
// or null when it is above MAX_CENTS.
export function saleTotal(totals) {
  const t = totals.reduce((a, c) => a + (c ?? 0n), 0n);
  return t > MAX_CENTS ? null : t;
}
