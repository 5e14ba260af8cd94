// Accessibility of the web UI: axe-core (WCAG 2.0/2.1 A and AA rules) run in Chromium over every
// page of the UI, signed in as an admin, in English and in Spanish, and over the sign-in page in
// both languages. A serious or critical violation fails its page (with the rule, the node count
// and the first nodes); moderate and minor ones are listed as comments.
// "Every page": the hash routes are read from js/main.js itself, so a page added there is
// checked without touching this file; a route whose id this test cannot fill fails.
// Env: BASE_URL, STOCK_TENANT / STOCK_EMAIL / STOCK_PASSWORD (an admin of a tenant of its own), SHOT_DIR.
// Prints "ok - " / "not ok - " per step and "RESULT browser_a11y passed=N failed=M".
import { A, BASE, api, expect, launch, newPage as pageOf, runner, signIn } from './lib.mjs';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const SUITE = 'browser_a11y';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const { step, finish, shotsOf } = runner(SUITE, 'a11y');
const browser = await launch(SUITE);
// bypassCSP: the app's CSP (script-src 'self') would refuse axe's injected script.
const newPage = (locale) => pageOf(browser, { locale, bypassCSP: true });

// The routes of js/main.js: `[/^#\/sales\/(\d+)$/, page, ...]` -> '#/sales/(\d+)'.
const mainJs = readFileSync(new URL('../../nginx/static/js/main.js', import.meta.url), 'utf8');
const routes = [...mainJs.matchAll(/\[\/\^(#\\\/[^$]*)\$\//g)].map((m) => m[1].replace(/\\\//g, '/'));

// axe over the page as it is now: the serious and critical violations (rule, nodes, first targets).
async function audit(p, label) {
  await p.addScriptTag({ path: AXE });
  const r = await p.evaluate(async (tags) => {
    const res = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, n: v.nodes.length,
      targets: v.nodes.slice(0, 3).map((x) => x.target.join(' ')), summary: (v.nodes[0] && v.nodes[0].failureSummary || '').split('\n')[1] || '' }));
  }, TAGS);
  for (const v of r.filter((x) => x.impact !== 'serious' && x.impact !== 'critical'))
    console.log(`# ${label}: ${v.impact} ${v.id} (${v.n} nodes: ${v.targets.join(', ')})`);
  const bad = r.filter((x) => x.impact === 'serious' || x.impact === 'critical');
  expect(!bad.length, bad.map((v) => `${v.impact} ${v.id} on ${v.n} nodes (${v.targets.join(', ')}; ${v.summary.trim()})`).join('; '));
}

async function settle(p) {
  await p.waitForFunction(() => {
    const v = document.querySelector('#view');
    return v && v.children.length && !v.querySelector('[aria-busy="true"]') && !/Loading…|Cargando…/.test(v.textContent);
  });
}

// A full load of the UI at HASH (not a hash change, which would leave the last page's view in
// place until the router draws the new one), settled.
async function load(p, hash) {
  await p.goto('about:blank');
  await p.goto(`${BASE}/${hash}`);
  await settle(p);
}


await step(`js/main.js has routes to check (${routes.length}: ${routes.join(' ')})`, () => expect(routes.length >= 10, 'too few routes found'), { critical: true });

for (const [lang, locale] of [['en', 'en-US'], ['es', 'es-ES']]) {
  await step(`${lang}: the sign-in page (browser language ${locale}) has no serious or critical violation`, async () => {
    const p = await newPage(locale);
    await p.goto(`${BASE}/`);
    await p.locator('form').first().waitFor();
    const htmlLang = await p.evaluate(() => document.documentElement.lang);
    await audit(p, `${lang} sign-in`);
    expect(htmlLang.startsWith(lang) || lang === 'en', `<html lang="${htmlLang}"> for a ${locale} browser`);
    await p.context().close();
  });
}

const page = await newPage('en-US');
shotsOf(page);
const sfx = Date.now().toString(36);
const ids = {};
await step('sign in as the admin and make data that shows every kind of row (low and out of stock, draft, confirmed and cancelled sales, payments, a return, movements)', async () => {
  await signIn(page, A);
  const pc = await api(page, 'POST', '/uom', { name: `Piece ${sfx}`, abbreviation: 'pc' });
  const cat = await api(page, 'POST', '/categories', { name: `Tools ${sfx}` });
  const p1 = await api(page, 'POST', '/products', { sku: `A-${sfx}`, name: `Hammer ${sfx}`, uom_id: pc.id, category_id: cat.id, price: '10.00', cost: '6.00', stock: '50', min_stock: '5' });
  await api(page, 'POST', '/products', { sku: `B-${sfx}`, name: `Saw ${sfx}`, uom_id: pc.id, price: '20.00', stock: '2', min_stock: '5' });
  await api(page, 'POST', '/products', { sku: `C-${sfx}`, name: `Drill ${sfx}`, uom_id: pc.id, price: '90.00', stock: '0', min_stock: '1' });
  const s1 = await api(page, 'POST', '/sales', { customer: `Ada ${sfx}`, items: [{ product_id: p1.id, quantity: 3 }] });
  await api(page, 'POST', `/sales/${s1.id}/confirm`, { payment: { amount: '10.00', method: 'cash' } });
  await api(page, 'POST', `/sales/${s1.id}/returns`, { items: [{ product_id: p1.id, quantity: 1 }], refund: { amount: '5.00', method: 'cash' } }, { 'Idempotency-Key': `ret-${sfx}` });
  const s2 = await api(page, 'POST', '/sales', { items: [{ product_id: p1.id, quantity: 1 }] });
  await api(page, 'POST', `/sales/${s2.id}/confirm`, {});
  await api(page, 'POST', `/sales/${s2.id}/cancel`, {});
  await api(page, 'POST', '/sales', { items: [{ product_id: p1.id, quantity: 1 }] });
  await api(page, 'POST', '/stock/movements', { product_id: p1.id, kind: 'receipt', quantity: '4', note: `In ${sfx}` });
  ids.products = p1.id;
  ids.sales = s1.id;
}, { critical: true });

// A route's hash with its id filled: '#/sales/(\d+)/receipt' -> '#/sales/12/receipt'.
function hashOf(route) {
  const m = /^#\/([a-z-]+)\//.exec(route);
  if (!route.includes('(')) return route;
  const id = m && ids[m[1]];
  expect(id, `no id for ${route}`);
  return route.replace(/\([^)]*\)/, String(id));
}

for (const lang of ['en', 'es']) {
  await step(`${lang}: the tenant's locale set to ${lang} (PATCH /tenant), the UI follows it`, async () => {
    await api(page, 'PATCH', '/tenant', { locale: lang });
    await load(page, '#/products');
    const got = await page.evaluate(() => document.documentElement.lang);
    expect(got === lang, `<html lang="${got}">`);
  }, { critical: lang !== 'en' });
  for (const route of routes) {
    await step(`${lang}: ${route} has no serious or critical violation`, async () => {
      await load(page, hashOf(route));
      await audit(page, `${lang} ${route}`);
    });
  }
}

await browser.close();
finish();
