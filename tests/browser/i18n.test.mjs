// Browser test of the UI's languages and currency (SPEC §12): Debian's headless Chromium driven by
// playwright-core against a running stack, with two tenants made for the run (test_browser_i18n.sh):
// ES (locale es, currency EUR; admin and staff) and EN (locale en, currency USD; admin).
//   1. The catalogs (no browser): en.js and es.js have the same keys, the same {placeholders} and
//      both plural forms; every key the code names (t/tn/tx('...'), data-i18n, the key strings
//      of the route table and the simple resources, the dynamic families status./kind./method./
//      role.) is in both.
//   2. The sign-in page follows the browser's language (the context's locale sets
//      navigator.languages) and its switch.
//   3. Every page in Spanish for ES and in English for EN: no raw catalog key, no text of the
//      other language (a text node that is a catalog value of the other language only), money in
//      the tenant's currency ("€" / "$", the sign of .money .cur) with the locale's digits, dates
//      as Intl formats them for the locale; an API field error shown in the UI's language.
//   4. Settings: the admin's change of language and currency takes effect at once (and after a
//      reload); staff see them read-only and a PATCH /tenant of theirs is refused (403).
// Env: BASE_URL, STOCK_TENANT_ES, STOCK_EMAIL_ES, STOCK_STAFF_ES, STOCK_TENANT_EN, STOCK_EMAIL_EN,
// STOCK_PASSWORD, STOCK_STAFF_PASSWORD, SHOT_DIR.
// Prints "ok - " / "not ok - " per step and "RESULT browser_i18n passed=N failed=M".
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const SUITE = 'browser_i18n';
const HERE = dirname(fileURLToPath(import.meta.url));
const STATIC = join(HERE, '..', '..', 'nginx', 'static');
const BASE = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const PW = process.env.STOCK_PASSWORD, STAFF_PW = process.env.STOCK_STAFF_PASSWORD;
const ES = { tenant: process.env.STOCK_TENANT_ES, email: process.env.STOCK_EMAIL_ES, password: PW };
const STAFF = { tenant: process.env.STOCK_TENANT_ES, email: process.env.STOCK_STAFF_ES, password: STAFF_PW };
const EN = { tenant: process.env.STOCK_TENANT_EN, email: process.env.STOCK_EMAIL_EN, password: PW };
const SHOTS = process.env.SHOT_DIR || 'test-output/browser';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
mkdirSync(SHOTS, { recursive: true });

let passed = 0, failed = 0, aborted = false, page = null;
async function step(name, fn, { critical = false } = {}) {
  if (aborted) { failed++; console.log(`not ok - ${name}: skipped after an earlier failure`); return; }
  try { await fn(); passed++; console.log(`ok - ${name}`); }
  catch (e) {
    failed++; console.log(`not ok - ${name}: ${String(e && e.message || e).split('\n')[0]}`);
    if (page) await page.screenshot({ path: join(SHOTS, `i18n-failed-${passed + failed}.png`), fullPage: true }).catch(() => {});
    if (critical) aborted = true;
  }
}
function expect(cond, msg) { if (!cond) throw new Error(msg); }
const nbsp = (s) => String(s).replace(/[\u00a0\u202f]/g, ' ');

// ---- 1. the catalogs ----
// A catalog module (export default {...}) loaded as it is, whatever node thinks of the folder.
const loadCatalog = async (lang) => (await import('data:text/javascript,' + encodeURIComponent(readFileSync(join(STATIC, 'js', 'i18n', `${lang}.js`), 'utf8')))).default;
const en = await loadCatalog('en'), es = await loadCatalog('es');
const cats = { en, es };
const jsFiles = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? (d.name === 'i18n' ? [] : jsFiles(join(dir, d.name))) : d.name.endsWith('.js') ? [join(dir, d.name)] : []));

await step('catalogs: en.js and es.js have exactly the same keys, each a non-empty text with the same {placeholders}', async () => {
  const a = Object.keys(en), b = Object.keys(es);
  const onlyEn = a.filter((k) => !(k in es)), onlyEs = b.filter((k) => !(k in en));
  expect(!onlyEn.length && !onlyEs.length, `only in en: ${onlyEn.join(' ')}; only in es: ${onlyEs.join(' ')}`);
  const ph = (s) => (String(s).match(/\{\w+\}/g) || []).sort().join(',');
  const bad = a.filter((k) => typeof en[k] !== 'string' || typeof es[k] !== 'string' || !en[k].trim() || !es[k].trim() || ph(en[k]) !== ph(es[k]));
  expect(!bad.length, `bad entries: ${bad.join(' ')}`);
  const plural = a.filter((k) => /\.(one|other)$/.test(k)).map((k) => k.replace(/\.(one|other)$/, ''));
  const half = [...new Set(plural)].filter((k) => !(`${k}.one` in en) || !(`${k}.other` in en));
  expect(!half.length, `plural keys without both forms: ${half.join(' ')}`);
  console.log(`# catalog keys: en ${a.length}, es ${b.length}`);
});

await step('catalogs: every key the code uses (t/tn/tx, data-i18n, key strings, dynamic families) is in both', async () => {
  const used = new Map(); // key -> where
  const add = (k, where) => { if (!used.has(k)) used.set(k, where); };
  const KEY = /^[a-z]+(\.[a-z0-9_]+)+$/;
  const prefixes = new Set(Object.keys(en).map((k) => k.split('.')[0]));
  for (const f of jsFiles(join(STATIC, 'js'))) {
    // (comments left out: they quote calls as examples)
    const src = readFileSync(f, 'utf8').replace(/(^|\s)\/\/.*$/gm, '$1'), where = f.slice(STATIC.length + 1);
    const plurals = new Set();
    for (const m of src.matchAll(/\bt\(\s*'([^']+)'/g)) add(m[1], where);
    for (const m of src.matchAll(/\btx\(\s*'([^']+)'/g)) add(m[1], where);
    for (const m of src.matchAll(/\btn\(\s*'([^']+)'/g)) { plurals.add(m[1]); add(`${m[1]}.one`, where); add(`${m[1]}.other`, where); }
    // Other key strings ('nav.products' of the route table, 'unit.name' of a resource, the
    // sign-in notices): a quoted dotted word whose first part is a catalog prefix.
    for (const m of src.matchAll(/'([a-z]+(?:\.[a-z0-9_]+)+)'/g)) if (KEY.test(m[1]) && prefixes.has(m[1].split('.')[0]) && !plurals.has(m[1]) && !/\.(js|css|html)$/.test(m[1])) add(m[1], where);
  }
  const html = readFileSync(join(STATIC, 'index.html'), 'utf8');
  for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) add(m[1], 'index.html');
  for (const m of html.matchAll(/data-i18n-attr="([^"]+)"/g)) for (const pair of m[1].split(/\s+/)) add(pair.split(':')[1], 'index.html');
  // The keys made at run time: t(`status.${st}`), t(`kind.${k}`), t(`method.${m}`), ...
  for (const s of ['draft', 'confirmed', 'cancelled', 'returned']) add(`status.${s}`, 'lists.js statusText');
  for (const k of ['receipt', 'count', 'adjustment', 'loss', 'damage', 'sale', 'cancel', 'return', 'opening']) add(`kind.${k}`, 'product.js kindLabel');
  for (const m of ['cash', 'card', 'transfer']) { add(`method.${m}`, 'payments.js'); add(`method.word.${m}`, 'payments.js'); add(`receipt.method.${m}`, 'receipt.js'); }
  for (const r of ['admin', 'staff']) add(`role.${r}`, 'shell.js roleText');
  for (const k of ['category', 'unit']) for (const s of ['new', 'edit', 'created', 'deleted', 'delete_confirm', 'in_use']) add(`${k}.${s}`, 'resource.js');
  for (const k of ['generic', 'unreachable', 'not_found', 'validation_error']) add(`error.${k}`, 'i18n.js errorText');
  const missing = [...used].filter(([k]) => !(k in en) || !(k in es)).map(([k, w]) => `${k} (${w}${k in en ? ', not in es' : k in es ? ', not in en' : ''})`);
  expect(used.size > 200, `only ${used.size} keys found in the code`);
  expect(!missing.length, `missing: ${missing.join(' | ')}`);
  console.log(`# keys named by the code: ${used.size}`);
});

// ---- the browser ----
const browser = await chromium.launch({
  executablePath: CHROMIUM, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
}).catch((e) => { console.log(`not ok - launch chromium: ${e.message.split('\n')[0]}`); console.log(`RESULT ${SUITE} passed=${passed} failed=${failed + 1}`); process.exit(1); });

const pageErrors = [];
async function newPage(locale) {
  const ctx = await browser.newContext({ locale, timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
  const p = await ctx.newPage();
  p.setDefaultTimeout(10000);
  p.on('pageerror', (e) => pageErrors.push(e.message));
  p.on('dialog', (d) => d.dismiss().catch(() => {}));
  return p;
}
const L = (lang) => ({ signin: cats[lang]['signin.button'], tenant: cats[lang]['signin.tenant'], email: cats[lang]['signin.email'], password: cats[lang]['signin.password'], loading: cats[lang]['common.loading'] });
// Signs in on the sign-in page in lang (its switch chooses lang when the browser's is another).
async function signIn(p, who, lang) {
  await p.goto(`${BASE}/`);
  await p.locator('form.signin').waitFor();
  if ((await p.evaluate(() => document.documentElement.lang)) !== lang) {
    await p.getByRole('button', { name: lang === 'es' ? 'Español' : 'English', exact: true }).click();
    await p.getByRole('heading', { name: cats[lang]['signin.title'] }).waitFor();
  }
  const l = L(lang);
  await p.getByLabel(l.tenant).fill(who.tenant);
  await p.getByLabel(l.email).fill(who.email);
  await p.getByLabel(l.password, { exact: true }).fill(who.password);
  await p.getByRole('button', { name: l.signin, exact: true }).click();
  await p.locator('#top:not([hidden])').waitFor();
}
async function goto(p, hash) {
  await p.goto(`${BASE}/${hash}`);
  await p.waitForFunction((ls) => { const v = document.querySelector('#view'); return v && !ls.some((l) => v.textContent.includes(l)) && v.children.length > 0; }, [en['common.loading'], es['common.loading']]);
}
async function api(p, method, path, data, headers = {}) {
  const me = await (await p.request.get(`${BASE}/api/v1/me`)).json();
  const res = await p.request.fetch(`${BASE}/api/v1${path}`, { method, data, headers: { 'X-CSRF-Token': me.csrf_token || '', ...headers } });
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  return { status: res.status(), body };
}
async function apiOk(p, method, path, data, headers) {
  const r = await api(p, method, path, data, headers);
  expect(r.status >= 200 && r.status < 300, `${method} ${path} -> ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
  return r.body;
}

// What the page shows as text: every rendered text node (options included), the placeholders,
// aria-labels and titles, the chart's tooltips and the document's title.
const shownTexts = (p) => p.evaluate(() => {
  const out = [];
  const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = w.nextNode());) {
    const el = n.parentElement;
    if (!el || el.closest('script, style, noscript')) continue;
    const s = n.textContent.replace(/\s+/g, ' ').trim();
    if (!s) continue;
    const svgTitle = el.closest('svg title');
    if (!svgTitle && el.tagName !== 'OPTION' && !el.getClientRects().length) continue;
    out.push(s);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], [title]')) {
    if (el.closest('[hidden]') || (!el.getClientRects().length && el.tagName !== 'NAV')) continue;
    for (const a of ['placeholder', 'aria-label', 'title']) if (el.getAttribute(a)) out.push(el.getAttribute(a).trim());
  }
  out.push(document.title);
  return out;
});
// The catalog values of lang that the other language does not have (the texts that betray a
// missing translation), as patterns of a whole text: {placeholders} match anything.
const ALLOWED = new Set(['English', 'Español', 'stock']); // the switch names each language in itself
function foreignPatterns(lang) {
  const other = cats[lang === 'es' ? 'en' : 'es'], mine = cats[lang];
  const mineValues = new Set(Object.values(mine));
  const out = [];
  for (const [k, v] of Object.entries(other)) {
    if (v === mine[k] || mineValues.has(v) || ALLOWED.has(v)) continue;
    const lit = v.split(/\{\w+\}/).map((x) => x.trim()).filter(Boolean);
    if (!lit.length || lit.join('').replace(/[^\p{L}]/gu, '').length < 2) continue; // '{first}–{last}' has no words
    const re = new RegExp('^' + v.split(/\{\w+\}/).map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+')).join('.+?') + '$', 's');
    out.push({ k, v, re });
  }
  return out;
}
const foreign = { es: foreignPatterns('es'), en: foreignPatterns('en') };
const allKeys = Object.keys(en);
// Checks the page p shows lang only: no raw key, no text of the other language.
async function speaks(p, lang, what) {
  const texts = await shownTexts(p);
  const raw = texts.filter((s) => allKeys.some((k) => s === k || new RegExp(`(^|[^\\w.])${k.replace(/\./g, '\\.')}($|[^\\w.])`).test(s)));
  expect(!raw.length, `${what}: raw catalog keys shown: ${[...new Set(raw)].slice(0, 5).join(' | ')}`);
  const leaks = [];
  for (const s of texts) for (const f of foreign[lang]) if (f.re.test(s)) leaks.push(`"${s}" (${f.k})`);
  expect(!leaks.length, `${what}: text of the other language: ${[...new Set(leaks)].slice(0, 6).join(' | ')}`);
  expect((await p.evaluate(() => document.documentElement.lang)) === lang, `${what}: <html lang> is not ${lang}`);
}
// The currency signs drawn on the page (.money .cur::before) and the amounts' texts.
const moneyShown = (p) => p.evaluate(() => [...document.querySelectorAll('#view .money')].filter((m) => m.getClientRects().length).map((m) => {
  const c = m.querySelector('.cur');
  return { text: m.textContent, cur: c ? getComputedStyle(c, '::before').content.replace(/^"|"$/g, '') : '' };
}));
async function moneyIn(p, sign, what) {
  const ms = await moneyShown(p);
  expect(ms.length > 0, `${what}: no amount shown`);
  const bad = ms.filter((m) => m.text !== '—' && nbsp(m.cur).trim() !== sign);
  expect(!bad.length, `${what}: amounts without ${sign}: ${bad.slice(0, 3).map((m) => JSON.stringify(m)).join(' ')}`);
  return ms;
}

const sfx = Date.now().toString(36);
const fx = { es: {}, en: {} };
// Fixtures of a tenant through the API: a unit, a category, a product of price 12345.50, a sale
// of 2 confirmed with a payment and a return of 1 with a refund, a draft sale.
async function fixtures(p, lang) {
  const f = fx[lang];
  const names = lang === 'es' ? { u: 'Caja', c: 'Herramientas', p: 'Martillo', cu: 'Cliente' } : { u: 'Box', c: 'Tools', p: 'Hammer', cu: 'Customer' };
  const u = await apiOk(p, 'POST', '/uom', { name: `${names.u} ${sfx}`, abbreviation: 'cj' });
  const c = await apiOk(p, 'POST', '/categories', { name: `${names.c} ${sfx}` });
  f.product = await apiOk(p, 'POST', '/products', { sku: `M-${sfx}`, name: `${names.p} ${sfx}`, category_id: c.id, uom_id: u.id, price: '12345.50', cost: '10000.00', stock: '50', min_stock: '5' });
  f.sale = await apiOk(p, 'POST', '/sales', { customer: `${names.cu} ${sfx}`, items: [{ product_id: f.product.id, quantity: 2 }] });
  await apiOk(p, 'POST', `/sales/${f.sale.id}/confirm`, { payment: { amount: '20000.00', method: 'cash' } });
  await apiOk(p, 'POST', `/sales/${f.sale.id}/returns`, { items: [{ product_id: f.product.id, quantity: 1 }], refund: { amount: '1000.00', method: 'cash' }, note: `n ${sfx}` }, { 'Idempotency-Key': `i18n-${lang}-${sfx}` });
  f.sale = await apiOk(p, 'GET', `/sales/${f.sale.id}`);
  f.draft = await apiOk(p, 'POST', '/sales', { items: [{ product_id: f.product.id, quantity: 1 }] });
}
// Every page of the UI: [hash, what to wait for, what to do first (optional)].
const pages = (f) => [
  ['#/balance', '#total-sales .money'],
  ['#/products', 'tbody tr td.product-name'],
  ['#/products', 'form.entity-form', async (p, lang) => { await p.getByRole('button', { name: cats[lang]['product.new'], exact: true }).click(); }],
  [`#/products/${f.product.id}`, 'dd.product-stock'],
  ['#/categories', 'tbody tr'],
  ['#/units', 'tbody tr'],
  ['#/sales', 'tbody tr'],
  ['#/sales/new', 'select[name="product"] option[value]:not([value=""])'],
  [`#/sales/${f.sale.id}`, 'dd.sale-total'],
  [`#/sales/${f.draft.id}`, 'dd.sale-total'],
  ['#/payments', 'tbody tr'],
  ['#/users', 'tbody tr'],
  ['#/settings', 'form.settings-form'],
  [`#/sales/${f.sale.id}/receipt`, '.receipt'],
  ['#/password', 'form.my-password'],
];
async function everyPage(p, lang, sign) {
  const f = fx[lang];
  for (const [hash, ready, before] of pages(f)) {
    await goto(p, hash);
    if (before) await before(p, lang);
    const what = `${hash}${before ? ' (form)' : ''}`;
    try { await p.locator(ready).first().waitFor({ state: 'attached' }); } catch (e) { throw new Error(`${what}: no ${ready}`); }
    await speaks(p, lang, what);
    if (await p.locator('#view .money').count()) await moneyIn(p, sign, what);
    await p.screenshot({ path: join(SHOTS, `i18n-${lang}-${hash.replace(/[^a-z0-9]+/gi, '-')}${before ? '-form' : ''}.png`), fullPage: true });
  }
}
// The text of an amount in lang ("12.345,50" / "12,345.50") as the page's Intl makes it.
const digits = (p, lang, v) => p.evaluate(([l, x]) => new Intl.NumberFormat(l, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(x), [lang, v]);

// ---- 2. sign-in: the browser's language and the switch ----
page = await newPage('es-ES');
await step('sign-in in a Spanish browser (navigator.languages es-ES) is in Spanish', async () => {
  await page.goto(`${BASE}/`);
  await page.getByRole('heading', { name: es['signin.title'] }).waitFor();
  expect((await page.evaluate(() => navigator.languages[0])).startsWith('es'), 'the browser does not prefer Spanish');
  await speaks(page, 'es', 'sign-in');
  await page.getByLabel(es['signin.tenant']).waitFor();
  await page.screenshot({ path: join(SHOTS, 'i18n-signin-es.png') });
}, { critical: true });
await step('the switch turns the sign-in page to English and back, keeping what was typed', async () => {
  await page.getByLabel(es['signin.tenant']).fill(ES.tenant);
  await page.getByRole('button', { name: 'English', exact: true }).click();
  await page.getByRole('heading', { name: en['signin.title'] }).waitFor();
  await speaks(page, 'en', 'sign-in switched to English');
  expect((await page.getByLabel(en['signin.tenant']).inputValue()) === ES.tenant, 'the typed shop was lost');
  expect((await page.getByRole('button', { name: 'English', exact: true }).getAttribute('aria-pressed')) === 'true', 'English is not marked as chosen');
  await page.getByRole('button', { name: 'Español', exact: true }).click();
  await page.getByRole('heading', { name: es['signin.title'] }).waitFor();
  await speaks(page, 'es', 'sign-in switched back');
});
await step('a wrong password is refused in Spanish', async () => {
  await page.getByLabel(es['signin.email']).fill(ES.email);
  await page.getByLabel(es['signin.password'], { exact: true }).fill('not-the-password-1');
  await page.getByRole('button', { name: es['signin.button'], exact: true }).click();
  await page.locator('.form-error', { hasText: es['signin.wrong'] }).waitFor();
});
const enPage = await newPage('en-US');
await step('sign-in in an English browser is in English; its switch gives Spanish', async () => {
  await enPage.goto(`${BASE}/`);
  await enPage.getByRole('heading', { name: en['signin.title'] }).waitFor();
  await speaks(enPage, 'en', 'sign-in (en-US)');
  await enPage.getByRole('button', { name: 'Español', exact: true }).click();
  await enPage.getByRole('heading', { name: es['signin.title'] }).waitFor();
  await speaks(enPage, 'es', 'sign-in (en-US) switched to Spanish');
});

// ---- 3. every page in the tenant's language ----
await step('signed in to the es/EUR tenant the shell speaks Spanish (role, links, the products page)', async () => {
  await signIn(page, ES, 'es');
  const me = await apiOk(page, 'GET', '/me');
  expect(me.tenant && me.tenant.locale === 'es' && me.tenant.currency === 'EUR', `/me tenant: ${JSON.stringify(me.tenant)}`);
  await page.getByRole('heading', { name: es['nav.products'] }).waitFor();
  await page.getByRole('link', { name: es['nav.settings'] }).waitFor();
  expect((await page.locator('#user-role').textContent()).trim() === es['role.admin'], 'the role is not in Spanish');
  await speaks(page, 'es', 'products (first page)');
}, { critical: true });
await step('fixtures of the es tenant (product at 12345.50, a sale with a payment and a return, a draft)', () => fixtures(page, 'es'), { critical: true });
await step('every page in Spanish: no raw key, no English text, amounts in €', () => everyPage(page, 'es', '€'));
await step('Spanish numbers, money and dates: 12.345,50 €, quantities, dates as Intl es formats them', async () => {
  await goto(page, '#/products');
  const row = page.locator('tbody tr', { hasText: fx.es.product.sku });
  const price = await row.locator('.money').first();
  const want = await digits(page, 'es', '12345.50');
  expect(want === '12.345,50', `Intl es gives ${want}`);
  expect((await price.textContent()) === want, `price shows ${await price.textContent()}`);
  expect(nbsp(await price.locator('.cur').evaluate((c) => getComputedStyle(c, '::before').content)) === '" €"', 'the euro sign is not after the amount');
  // The sign is in the accessibility tree too (the CSS content of .cur::before).
  const aria = nbsp(await price.ariaSnapshot());
  expect(aria.includes('12.345,50 €'), `the price reads to assistive technology as ${aria}`);
  await goto(page, '#/sales');
  const created = await page.locator(`tbody tr:has(a[href="#/sales/${fx.es.sale.id}"]) td`).last().textContent();
  const wantDate = await page.evaluate((v) => new Intl.DateTimeFormat('es', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(v)), fx.es.sale.created_at);
  expect(created === wantDate, `created shows ${created}, Intl es: ${wantDate}`);
  await goto(page, '#/sales/new');
  await page.getByLabel(es['salenew.find']).fill(fx.es.product.sku);
  await page.waitForFunction((sku) => [...document.querySelectorAll('select[name="product"] option')].some((o) => o.textContent.includes(sku)), fx.es.product.sku);
  const opt = nbsp(await page.locator('select[name="product"] option', { hasText: fx.es.product.sku }).textContent());
  expect(opt.includes('12.345,50 €') && opt.includes('en existencia'), `the product option reads ${opt}`);
  await goto(page, `#/sales/${fx.es.sale.id}/receipt`);
  const rt = nbsp(await page.locator('.receipt').evaluate((r) => r.innerText));
  expect(rt.includes(es['receipt.thanks']) && rt.includes('24.691,00'), `the receipt lacks the Spanish total: ${rt.slice(0, 200)}`);
  await goto(page, '#/balance');
  expect(/^\d{1,3}(\.\d{3})*,\d\d$/.test(await page.locator('#total-sales .money').textContent()), `balance total ${await page.locator('#total-sales .money').textContent()}`);
});
await step('the confirm dialog asks in Spanish (delete a category: ¿Eliminar…?, Volver / Eliminar)', async () => {
  await goto(page, '#/categories');
  const row = page.locator('tbody tr').first();
  await row.getByRole('button', { name: es['common.delete'], exact: true }).click();
  const dialog = page.locator('dialog[open]');
  await dialog.waitFor();
  const text = await dialog.locator('#confirm-text').textContent();
  expect(text.startsWith('¿Eliminar la categoría «'), `the dialog asks ${text}`);
  await speaks(page, 'es', 'the confirm dialog');
  await dialog.getByRole('button', { name: es['dialog.keep'], exact: true }).click();
  await dialog.waitFor({ state: 'detached' }).catch(() => {});
  expect((await page.locator('dialog[open]').count()) === 0, 'the dialog is still open');
});
await step('in Spanish (longer words) the pages still fit a phone (375 px)', async () => {
  await page.setViewportSize({ width: 375, height: 800 });
  try {
    for (const [hash, ready] of [['#/products', 'tbody tr'], [`#/sales/${fx.es.sale.id}`, 'dd.sale-total'], ['#/balance', '#total-sales .money'], ['#/settings', 'form.settings-form']]) {
      await goto(page, hash);
      await page.locator(ready).first().waitFor();
      const sw = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(sw <= 380, `${hash} is ${sw}px wide`);
      const headerH = await page.locator('#top').evaluate((e) => e.getBoundingClientRect().height);
      expect(headerH <= 100, `${hash}: the header is ${headerH}px tall`);
    }
    await page.screenshot({ path: join(SHOTS, 'i18n-es-phone.png'), fullPage: true });
  } finally { await page.setViewportSize({ width: 1280, height: 900 }); }
});
await step('an API field error is shown in Spanish beside its field (price "abc")', async () => {
  await goto(page, '#/products');
  await page.getByRole('button', { name: es['product.new'], exact: true }).click();
  const form = page.locator('form.entity-form');
  await form.getByLabel(es['product.sku'], { exact: true }).fill(`V-${sfx}`);
  await form.getByLabel(es['product.name'], { exact: true }).fill('Prueba');
  await form.getByLabel(es['product.price'], { exact: true }).fill('abc');
  await form.getByLabel(es['product.cost'], { exact: true }).fill('1');
  await form.getByRole('button', { name: es['common.save'], exact: true }).click();
  const err = form.locator('.field-error[data-error-for="price"]');
  await err.filter({ hasText: /./ }).waitFor();
  const txt = await err.textContent();
  expect(Object.entries(es).some(([k, v]) => k.startsWith('error.') && v === txt) && !Object.values(en).includes(txt), `the price error reads ${txt}`);
  await speaks(page, 'es', 'product form with an error');
});

// ---- 4. settings ----
await step('the admin changes the language to English and the currency to MXN: the UI switches at once', async () => {
  await goto(page, '#/settings');
  const form = page.locator('form.settings-form');
  expect((await form.getByLabel(es['settings.language']).inputValue()) === 'es', 'the language shown is not es');
  expect((await form.getByLabel(es['settings.currency']).inputValue()) === 'EUR', 'the currency shown is not EUR');
  await form.getByLabel(es['settings.language']).selectOption('en');
  await form.getByLabel(es['settings.currency']).selectOption('MXN');
  await form.getByRole('button', { name: es['common.save'], exact: true }).click();
  await page.getByRole('heading', { name: en['nav.settings'] }).waitFor();
  await page.locator('#toasts', { hasText: en['settings.saved'] }).waitFor();
  await page.getByRole('link', { name: en['nav.products'] }).waitFor();
  await speaks(page, 'en', 'settings after the change');
  const t = await apiOk(page, 'GET', '/tenant');
  expect(t.locale === 'en' && t.currency === 'MXN', `GET /tenant: ${JSON.stringify(t)}`);
  await goto(page, '#/products');
  await speaks(page, 'en', 'products after the change');
  await moneyIn(page, 'MX$', 'products after the change');
  await page.screenshot({ path: join(SHOTS, 'i18n-settings-changed.png'), fullPage: true });
});
await step('after a reload (GET /me) the change stays; changed back to Spanish and EUR', async () => {
  await page.reload();
  await page.getByRole('heading', { name: en['nav.products'] }).waitFor();
  await moneyIn(page, 'MX$', 'products after a reload');
  await goto(page, '#/settings');
  const form = page.locator('form.settings-form');
  await form.getByLabel(en['settings.language']).selectOption('es');
  await form.getByLabel(en['settings.currency']).selectOption('EUR');
  await form.getByRole('button', { name: en['common.save'], exact: true }).click();
  await page.getByRole('heading', { name: es['nav.settings'] }).waitFor();
  await speaks(page, 'es', 'settings changed back');
});
await step('a blank shop name is refused beside its field, in Spanish', async () => {
  await goto(page, '#/settings');
  const form = page.locator('form.settings-form');
  await form.getByLabel(es['settings.name']).fill('   ');
  await form.getByRole('button', { name: es['common.save'], exact: true }).click();
  await form.locator('.field-error[data-error-for="name"]', { hasText: es['settings.bad_name'] }).waitFor();
  expect((await form.getByLabel(es['settings.name']).getAttribute('aria-invalid')) === 'true', 'the name is not marked invalid');
});
await step('an invalid currency sent to PATCH /tenant is refused (422) and nothing changes', async () => {
  const r = await api(page, 'PATCH', '/tenant', { currency: 'XYZ1' });
  expect(r.status === 422, `PATCH currency XYZ1 -> ${r.status}`);
  const t = await apiOk(page, 'GET', '/tenant');
  expect(t.currency === 'EUR' && t.locale === 'es', `tenant now ${JSON.stringify(t)}`);
});
const staffPage = await newPage('en-US');
await step('staff of the es tenant: the UI is Spanish (from an English browser), settings read-only, PATCH /tenant refused', async () => {
  await signIn(staffPage, STAFF, 'en');
  await staffPage.getByRole('heading', { name: es['nav.products'] }).waitFor();
  await goto(staffPage, '#/settings');
  await staffPage.locator('.settings-readonly').waitFor();
  expect((await staffPage.locator('form.settings-form').count()) === 0, 'staff see the settings form');
  expect((await staffPage.getByRole('button', { name: es['common.save'] }).count()) === 0, 'staff see a save button');
  expect((await staffPage.locator('dd.settings-locale').textContent()) === 'Español', 'the language is not shown');
  expect((await staffPage.locator('dd.settings-currency').textContent()).startsWith('EUR'), 'the currency is not shown');
  await speaks(staffPage, 'es', 'staff settings');
  await staffPage.screenshot({ path: join(SHOTS, 'i18n-settings-staff.png'), fullPage: true });
  const r = await api(staffPage, 'PATCH', '/tenant', { locale: 'en' });
  expect(r.status === 403 && r.body && r.body.error && r.body.error.code === 'forbidden', `staff PATCH /tenant -> ${r.status} ${JSON.stringify(r.body)}`);
  expect((await apiOk(staffPage, 'GET', '/tenant')).locale === 'es', 'the locale changed');
});
await step('signing out in Spanish: the sign-in says so in the browser\'s language', async () => {
  await page.getByRole('button', { name: es['shell.sign_out'], exact: true }).click();
  await page.getByRole('heading', { name: es['signin.title'] }).waitFor();
  await page.locator('.notice', { hasText: es['signin.signed_out'] }).waitFor();
  await speaks(page, 'es', 'signed out');
});

// ---- the en/USD tenant ----
await step('the en/USD tenant, signed in from the sign-in page switched to Spanish: the UI is English', async () => {
  await signIn(enPage, EN, 'es');
  await enPage.getByRole('heading', { name: en['nav.products'] }).waitFor();
  const me = await apiOk(enPage, 'GET', '/me');
  expect(me.tenant && me.tenant.locale === 'en' && me.tenant.currency === 'USD', `/me tenant: ${JSON.stringify(me.tenant)}`);
  await speaks(enPage, 'en', 'products (en tenant)');
  await fixtures(enPage, 'en');
}, { critical: true });
await step('every page in English: no raw key, no Spanish text, amounts in $', async () => {
  page = enPage;
  await everyPage(enPage, 'en', '$');
});
await step('English numbers and dates: $12,345.50, dates as Intl en formats them', async () => {
  await goto(enPage, '#/products');
  const price = enPage.locator('tbody tr', { hasText: fx.en.product.sku }).locator('.money').first();
  expect((await price.textContent()) === '12,345.50', `price shows ${await price.textContent()}`);
  await goto(enPage, '#/sales');
  const created = await enPage.locator(`tbody tr:has(a[href="#/sales/${fx.en.sale.id}"]) td`).last().textContent();
  const wantDate = await enPage.evaluate((v) => new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(v)), fx.en.sale.created_at);
  expect(created === wantDate, `created shows ${created}, Intl en: ${wantDate}`);
});
await step('no script errors on any page', async () => {
  expect(pageErrors.length === 0, `page errors: ${pageErrors.join(' | ')}`);
});

await browser.close();
console.log(`RESULT ${SUITE} passed=${passed} failed=${failed}`);
process.exit(failed ? 1 : 0);
