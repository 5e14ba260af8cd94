// Browser test of the web UI: Debian's headless Chromium driven by playwright-core, against an
// already running stack. Env: BASE_URL, STOCK_TENANT, STOCK_EMAIL, STOCK_PASSWORD, SHOT_DIR.
// Prints "ok - " / "not ok - " per step and "RESULT browser passed=N failed=M".
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const BASE = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const TENANT = process.env.STOCK_TENANT || 'demo';
const EMAIL = process.env.STOCK_EMAIL || 'admin@demo.local';
const PASSWORD = process.env.STOCK_PASSWORD || 'demo-admin-1';
const SHOTS = process.env.SHOT_DIR || 'test-output/browser';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
mkdirSync(SHOTS, { recursive: true });

let passed = 0, failed = 0, aborted = false;
async function step(name, fn) {
  if (aborted) { failed++; console.log(`not ok - ${name}: skipped after an earlier failure`); return; }
  try { await fn(); passed++; console.log(`ok - ${name}`); }
  catch (e) { failed++; console.log(`not ok - ${name}: ${String(e && e.message || e).split('\n')[0]}`); }
}
function expect(cond, msg) { if (!cond) throw new Error(msg); }
const num = (t) => Number(String(t).replace(/[^0-9.\-]/g, ''));

const browser = await chromium.launch({
  executablePath: CHROMIUM, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  // playwright gives the browser a fresh temporary profile itself (--user-data-dir is refused here).
}).catch((e) => { console.log(`not ok - launch chromium: ${e.message.split('\n')[0]}`); console.log('RESULT browser passed=0 failed=1'); process.exit(1); });

const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
page.setDefaultTimeout(10000);
const dialogs = [], pageErrors = [], cspViolations = [], offsite = [];
page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
page.on('pageerror', (e) => pageErrors.push(e.message));
page.on('console', (m) => { if (/Content Security Policy|Refused to/.test(m.text())) cspViolations.push(m.text()); });
page.on('request', (r) => { if (!r.url().startsWith(BASE) && !r.url().startsWith('data:')) offsite.push(r.url()); });
const shot = (name, fullPage = true) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });

const sfx = Date.now().toString(36);
const UNIT = `Crate ${sfx}`, CAT = `Tools ${sfx}`, SKU = `T-${sfx}`, PROD = `Hammer ${sfx}`;
const XSS = '<img src=x onerror=alert(1)>', XSKU = `X-${sfx}`;
const view = page.locator('#view');

async function goto(hash) {
  await page.goto(`${BASE}/${hash}`);
  await page.waitForFunction(() => !document.querySelector('#view')?.textContent.includes('Loading…'));
}
async function fillForm(values) {
  const form = page.locator('form.entity-form');
  for (const [label, v] of Object.entries(values)) {
    const el = form.getByLabel(label, { exact: true });
    if ((await el.evaluate((e) => e.tagName)) === 'SELECT') await el.selectOption({ label: v }); else await el.fill(v);
  }
  return form;
}
async function searchProducts(text) {
  await page.getByLabel('Search', { exact: true }).fill(text);
  await page.waitForFunction((t) => {
    const rows = [...document.querySelectorAll('#view tbody tr')];
    return rows.length > 0 && rows.every((r) => r.textContent.toLowerCase().includes(t.toLowerCase()));
  }, text);
}
async function balanceTotals() {
  await goto('#/balance');
  await page.locator('#total-sales-count').waitFor();
  return { count: num(await page.locator('#total-sales-count').textContent()), total: num(await page.locator('#total-sales').textContent()), payments: num(await page.locator('#total-payments').textContent()) };
}

await step('the sign-in page shows and a CSP header is sent', async () => {
  const res = await page.goto(`${BASE}/`);
  expect(/script-src 'self'/.test(res.headers()['content-security-policy'] || ''), 'no CSP with script-src self');
  await page.getByLabel('Shop (tenant)').waitFor();
  await shot('01-signin');
});
await step('a wrong password is rejected on the form', async () => {
  await page.getByLabel('Shop (tenant)').fill(TENANT);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill('wrong-password-x');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.form-error', { hasText: 'not right' }).waitFor();
});
await step('sign in shows the tenant name', async () => {
  await page.getByLabel('Shop (tenant)').fill(TENANT);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Products' }).waitFor();
  const tn = (await page.locator('#tenant-name').textContent()).trim();
  expect(tn.length > 0, 'tenant name is empty');
});
if (failed) aborted = true;
await step('the token is not stored where scripts can read it', async () => {
  const st = await page.evaluate(() => ({ ls: localStorage.length, ss: sessionStorage.length, ck: document.cookie }));
  expect(st.ls === 0 && st.ss === 0, 'web storage used');
  expect(!/stock_session/.test(st.ck), 'session cookie readable by scripts');
});
await step('a reload keeps the session (GET /me)', async () => {
  await page.reload();
  await page.getByRole('heading', { name: 'Products' }).waitFor();
});

await step('create a unit', async () => {
  await goto('#/units');
  await page.getByRole('button', { name: 'New unit' }).click();
  await fillForm({ Name: UNIT, Abbreviation: `cr${sfx}`.slice(0, 10) });
  await page.getByRole('button', { name: 'Save' }).click();
  await view.locator('td', { hasText: UNIT }).waitFor();
  await shot('02-units');
});
await step('create a category', async () => {
  await goto('#/categories');
  await page.getByRole('button', { name: 'New category' }).click();
  await fillForm({ Name: CAT, Description: 'Hand tools' });
  await page.getByRole('button', { name: 'Save' }).click();
  await view.locator('td', { hasText: CAT }).waitFor();
  await shot('03-categories');
});
await step('create a product with stock 10', async () => {
  await goto('#/products');
  await page.getByRole('button', { name: 'New product' }).click();
  await fillForm({ SKU, Name: PROD, Category: CAT, Unit: `${UNIT} (${`cr${sfx}`.slice(0, 10)})`, Price: '5.00', Cost: '3.00', Stock: '10', 'Minimum stock': '8' });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('form.entity-form').waitFor({ state: 'detached' });
});
await step('find it with the search box (stock 10)', async () => {
  await searchProducts(SKU);
  const row = view.locator('tbody tr', { hasText: SKU });
  expect((await row.count()) === 1, 'product row not found');
  expect(/10/.test(await row.locator('td.stock').textContent()), 'stock is not 10');
  await shot('04-products-search', false);
});
await step('a validation error shows beside its field (price "abc")', async () => {
  await page.getByRole('button', { name: 'New product' }).click();
  await fillForm({ SKU: `V-${sfx}`, Name: 'Invalid', Price: 'abc', Cost: '1', Stock: '1', 'Minimum stock': '0' });
  await page.getByRole('button', { name: 'Save' }).click();
  const err = page.locator('form.entity-form .field-error[data-error-for="price"]');
  await err.filter({ hasText: /./ }).waitFor();
  expect((await page.getByLabel('Price', { exact: true }).getAttribute('aria-invalid')) === 'true', 'price not marked invalid');
  await shot('05-product-validation');
});
await step('a duplicate SKU shows beside the SKU field', async () => {
  await fillForm({ SKU, Price: '1.00' });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('form.entity-form .field-error[data-error-for="sku"]').filter({ hasText: /./ }).waitFor();
  await page.getByRole('button', { name: 'Cancel' }).click();
});
await step('a product named like HTML shows as text and runs nothing', async () => {
  await page.getByRole('button', { name: 'New product' }).click();
  await fillForm({ SKU: XSKU, Name: XSS, Price: '1.00', Cost: '0.50', Stock: '0', 'Minimum stock': '0' });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('form.entity-form').waitFor({ state: 'detached' });
  await searchProducts(XSKU);
  const name = await view.locator('tbody tr', { hasText: XSKU }).locator('td.product-name').textContent();
  expect(name === XSS, `name shown as ${JSON.stringify(name)}`);
  expect((await page.locator('#view img').count()) === 0, 'an <img> element was created');
  expect(/Out of stock/.test(await view.locator('tbody tr', { hasText: XSKU }).textContent()), 'no out-of-stock badge');
  await page.waitForTimeout(300);
  expect(dialogs.length === 0, `a dialog fired: ${dialogs.join(', ')}`);
  await shot('06-products-xss');
});

let before = null, saleId = null;
await step('balance totals before the sale', async () => { before = await balanceTotals(); });
await step('create a draft sale with live totals', async () => {
  await goto('#/sales/new');
  await page.getByLabel('Customer (optional)').fill(`Customer ${sfx}`);
  await page.getByLabel('Find product').fill(SKU);
  await page.waitForFunction((sku) => [...document.querySelectorAll('select[name="product"] option')].some((o) => o.textContent.includes(sku)), SKU);
  const opt = await page.locator('select[name="product"] option', { hasText: SKU }).getAttribute('value');
  await page.getByLabel('Product', { exact: true }).selectOption(opt);
  await page.getByLabel('Quantity', { exact: true }).fill('2');
  await page.getByRole('button', { name: 'Add line' }).click();
  await page.locator('.sale-total', { hasText: '10.00' }).waitFor();
  await page.getByLabel(`Quantity of ${PROD}`).fill('3');
  await page.locator('.sale-total', { hasText: '15.00' }).waitFor();
  await shot('07-sale-new');
  await page.getByRole('button', { name: 'Create draft sale' }).click();
  await page.waitForURL(/#\/sales\/\d+$/);
  saleId = page.url().match(/(\d+)$/)[1];
  await page.getByRole('heading', { name: /Sale \d+ draft/ }).waitFor();
});
await step('confirm the sale with a card payment', async () => {
  await page.getByLabel('Amount').fill('15.00');
  await page.getByLabel('Method').selectOption('card');
  await page.getByRole('button', { name: 'Confirm sale' }).click();
  await page.getByRole('heading', { name: /confirmed/ }).waitFor();
  expect(num(await page.locator('dd.sale-paid').textContent()) === 15, 'paid is not 15.00');
  expect(num(await page.locator('dd.sale-outstanding').textContent()) === 0, 'outstanding is not 0');
  await shot('08-sale-detail');
});
await step('the sale is in the sales list', async () => {
  await goto('#/sales');
  await view.locator(`a[href="#/sales/${saleId}"]`).waitFor();
  await shot('09-sales');
});
await step('the payment is in the payments list', async () => {
  await goto('#/payments');
  await view.locator(`tbody a[href="#/sales/${saleId}"]`).first().waitFor();
  await shot('10-payments');
});
await step('the stock dropped to 7 on the products page, with a low-stock badge', async () => {
  await goto('#/products');
  await searchProducts(SKU);
  const txt = await view.locator('tbody tr', { hasText: SKU }).locator('td.stock').textContent();
  expect(/^7\b/.test(txt.trim()), `stock shows ${JSON.stringify(txt)}`);
  expect(/Low stock/.test(txt), 'no low-stock badge');
});
await step('the sale is in the balance totals and chart', async () => {
  const after = await balanceTotals();
  expect(after.count === before.count + 1, `sales count ${before.count} -> ${after.count}`);
  expect(Math.abs(after.total - before.total - 15) < 0.001, `sales total ${before.total} -> ${after.total}`);
  expect(Math.abs(after.payments - before.payments - 15) < 0.001, `payments total ${before.payments} -> ${after.payments}`);
  expect((await page.locator('svg.chart rect.bar-sales').count()) > 0, 'no bars in the chart');
  expect((await page.locator('svg.chart polyline.line-outstanding').count()) === 1, 'no outstanding line');
  await shot('11-balance');
});
// API calls of the test's own (fixtures): the page's cookie session, with its CSRF token.
async function apiCall(method, path, data) {
  const me = await (await page.request.get(`${BASE}/api/v1/me`)).json();
  const res = await page.request.fetch(`${BASE}/api/v1${path}`, { method, data, headers: { 'X-CSRF-Token': me.csrf_token } });
  expect(res.ok(), `${method} ${path} -> ${res.status()}`);
  return res.status() === 204 ? null : res.json();
}
// Money in the sale form's preview follows the API's decimal rules (SPEC: money 2 decimals,
// quantities 3; a line total is round(quantity * unit_price, 2), half away from zero; the total
// sums the rounded lines). Each "float:" comment is what Number arithmetic would have shown.
async function textIs(loc, want, what) {
  let got = null;
  for (let i = 0; i < 200; i++) { // up to 10 s: a loaded machine re-renders slowly
    got = ((await loc.textContent()) || '').trim();
    if (got === want) return;
    await page.waitForTimeout(50);
  }
  throw new Error(`${what} shows ${JSON.stringify(got)}, not ${JSON.stringify(want)}`);
}
await step('the preview arithmetic (js/decimal.js) is exact and refuses what the API refuses', async () => {
  const cases = [
    ['3', '0.10', '0.30'], ['1.005', '3.00', '3.02'] /* float: 3.01 */, ['0.1', '0.35', '0.04'] /* float: 0.03 */,
    ['1.5', '0.15', '0.23'] /* float: 0.22 */, ['0.5', '0.01', '0.01'], ['0.333', '3.00', '1.00'], ['1', '0', '0.00'], ['1', '-0', '0.00'],
    ['3', '99999999.99', '299999999.97'], ['2.5', '12345678901.23', '30864197253.08'] /* float: .07 */,
    ['1.5', '666666666666.66', '999999999999.99'] /* float: 1,000,000,000,000.00 */, ['1', '999999999999.99', '999999999999.99'],
    ['000000000001', '1', '1.00'],
    // Refused by the API: a line total beyond NUMERIC(14,2) (422 too_large on items).
    ['1.5', '999999999999.99', null], ['999999999999', '999999999999.99', null], ['2', '500000000000.00', null],
    // Refused by the API (no line total): exponent, spaces, sign, bare point, too many decimals or digits, not > 0.
    ['1e3', '5', null], [' 2', '5', null], ['2 ', '5', null], ['+1', '5', null], ['.5', '5', null], ['5.', '5', null],
    ['0x10', '5', null], ['Infinity', '5', null], ['', '5', null], ['0', '5', null], ['-0', '5', null], ['-1', '5', null],
    ['1.0001', '5', null], ['0000000000001', '5', null], ['1000000000000', '5', null],
    ['1', '1.001', null], ['1', '-1', null], ['1', '1e2', null], ['1', '', null], ['1', '1000000000000', null],
  ];
  const got = await page.evaluate(async (cs) => {
    const d = await import('/js/decimal.js');
    return cs.map(([q, p]) => { const c = d.lineTotal(q, p); return c === null ? null : d.formatDecimal(c, d.MONEY_SCALE); });
  }, cases);
  const bad = cases.flatMap(([q, p, want], i) => (got[i] === want ? [] : [`${q} x ${p} = ${got[i]}, not ${want}`]));
  expect(bad.length === 0, bad.join('; '));
});
await step('the preview total refuses a sale beyond NUMERIC(14,2), as the API does', async () => {
  const got = await page.evaluate(async () => {
    const d = await import('/js/decimal.js');
    const t = (...xs) => { const c = d.saleTotal(xs); return c === null ? null : d.formatDecimal(c, d.MONEY_SCALE); };
    return [t(99999999999999n), t(99999999999999n, 1n), t(50000000000000n, null, 49999999999999n), t()];
  });
  const want = ['999999999999.99', null, '999999999999.99', '0.00'];
  expect(JSON.stringify(got) === JSON.stringify(want), `saleTotal gave ${JSON.stringify(got)}, not ${JSON.stringify(want)}`);
});
await step('the sale form previews line totals and the total exactly, as the API then stores them', async () => {
  const lines = [
    ['1.005', '3.00', '3.02'], ['0.1', '0.35', '0.04'], ['1', '0.10', '0.10'], ['1', '0.20', '0.20'],
    ['0.5', '0.01', '0.01'], ['0.5', '0.01', '0.01'], ['3', '99999999.99', '299,999,999.97'], ['2.5', '12345678901.23', '30,864,197,253.08'],
  ];
  const TOTAL = '31,164,197,256.43'; // float: 31,164,197,256.41 (the unrounded products summed)
  await goto('#/sales/new');
  await page.getByLabel('Find product').fill(SKU);
  await page.waitForFunction((sku) => [...document.querySelectorAll('select[name="product"] option')].some((o) => o.textContent.includes(sku)), SKU);
  const opt = await page.locator('select[name="product"] option', { hasText: SKU }).getAttribute('value');
  await page.getByLabel('Product', { exact: true }).selectOption(opt);
  for (let i = 0; i < lines.length; i++) await page.getByRole('button', { name: 'Add line' }).click();
  const rows = page.locator('table.lines tbody tr');
  expect((await rows.count()) === lines.length, `${await rows.count()} lines`);
  for (const [i, [q, p]] of lines.entries()) {
    await page.locator(`input[name="items[${i}].quantity"]`).fill(q);
    await page.locator(`input[name="items[${i}].unit_price"]`).fill(p);
  }
  for (const [i, [q, p, want]] of lines.entries()) await textIs(rows.nth(i).locator('td[data-label="Line total"]'), want, `line ${q} x ${p}`);
  const total = page.locator('strong.sale-total');
  await textIs(total, TOTAL, 'the total');
  // A quantity the API refuses ("1e3": float would read 1000) has no line total and adds nothing.
  await page.locator('input[name="items[0].quantity"]').fill('1e3');
  await textIs(rows.nth(0).locator('td[data-label="Line total"]'), '—', 'line 1e3 x 3.00');
  await textIs(total, '31,164,197,253.41', 'the total without the refused line');
  await page.locator('input[name="items[0].quantity"]').fill(lines[0][0]);
  await textIs(total, TOTAL, 'the total');
  await shot('16-sale-exact-preview');
  await page.getByRole('button', { name: 'Create draft sale' }).click();
  await page.waitForURL(/#\/sales\/\d+$/);
  const id = page.url().match(/(\d+)$/)[1];
  await page.getByRole('heading', { name: /Sale \d+ draft/ }).waitFor();
  await textIs(page.locator('dd.sale-total'), TOTAL, 'the stored total');
  const stored = view.locator('tbody tr td[data-label="Line total"]');
  for (const [i, [, , want]] of lines.entries()) await textIs(stored.nth(i), want, `stored line ${i}`);
  const sale = await apiCall('GET', `/sales/${id}`);
  expect(sale.total === '31164197256.43', `API total ${sale.total}`);
  const plain = lines.map((l) => l[2].replace(/,/g, ''));
  expect(JSON.stringify(sale.items.map((l) => l.line_total)) === JSON.stringify(plain), `API line totals ${sale.items.map((l) => l.line_total)}`);
  await apiCall('POST', `/sales/${id}/cancel`);
});
await step('a payment with a past "Paid at" keeps that time', async () => {
  const prod = (await apiCall('GET', `/products?q=${encodeURIComponent(SKU)}`)).items[0];
  const sale = await apiCall('POST', '/sales', { items: [{ product_id: prod.id, quantity: 1 }] });
  await apiCall('POST', `/sales/${sale.id}/confirm`);
  await goto('#/payments');
  const form = view.locator('form', { hasText: 'Register a payment' });
  await form.getByLabel('Sale number').fill(String(sale.id));
  await form.getByLabel('Amount').fill('2.00');
  await form.getByLabel('Method').selectOption('cash');
  await form.getByLabel('Paid at (optional)').fill('2026-01-05T10:20:30');
  await form.getByRole('button', { name: 'Register payment' }).click();
  await view.locator(`tbody a[href="#/sales/${sale.id}"]`).first().waitFor();
  const pays = await apiCall('GET', `/payments?sale_id=${sale.id}`);
  expect(pays.items.length === 1, `${pays.items.length} payments`);
  expect(/^2026-01-05T10:20:30(\.0+)?(Z|\+00:00)$/.test(pays.items[0].paid_at), `paid_at ${pays.items[0].paid_at}`);
});
await step('lists page through 50 rows at a time', async () => {
  for (let i = 0; i < 55; i++) await apiCall('POST', '/uom', { name: `Box ${sfx} ${String(i).padStart(2, '0')}`, abbreviation: `b${i}` });
  const total = (await apiCall('GET', '/uom?limit=1')).total;
  expect(total >= 56, `total ${total}`);
  await goto('#/units');
  const pager = view.locator('nav.pager');
  await pager.waitFor();
  expect((await view.locator('tbody tr').count()) === 50, 'the first page does not have 50 rows');
  expect((await pager.textContent()).includes(`1–50 of ${total}`), `pager says ${await pager.textContent()}`);
  expect(await pager.getByRole('button', { name: 'Previous' }).isDisabled(), 'Previous is enabled on the first page');
  await pager.getByRole('button', { name: 'Next' }).click();
  await page.waitForFunction((t) => document.querySelector('#view nav.pager')?.textContent.includes(`51–${Math.min(100, t)} of ${t}`), total);
  expect((await view.locator('tbody tr').count()) === Math.min(50, total - 50), 'the second page has the wrong number of rows');
  await pager.getByRole('button', { name: 'Previous' }).click();
  await page.waitForFunction((t) => document.querySelector('#view nav.pager')?.textContent.includes(`1–50 of ${t}`), total);
  await shot('15-units-paged');
});
await step('usable at phone width', async () => {
  await page.setViewportSize({ width: 375, height: 800 });
  await goto('#/products');
  const sw = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(sw <= 380, `page is ${sw}px wide`);
  const headerH = await page.locator('#top').evaluate((e) => e.getBoundingClientRect().height);
  expect(headerH <= 100, `the header is ${headerH}px tall at phone width`);
  expect(await page.getByRole('link', { name: 'Balance' }).isVisible() || (await page.locator('header nav').evaluate((n) => n.scrollWidth > n.clientWidth)), 'the pages are neither shown nor scrollable');
  await shot('12-products-phone', false);
  await goto('#/balance');
  await page.locator('#total-sales').waitFor();
  const seen = await page.locator('header nav a[aria-current="page"]').evaluate((a) => {
    const r = a.getBoundingClientRect(), n = a.parentElement.getBoundingClientRect();
    return r.left >= n.left - 1 && r.right <= n.right + 1;
  });
  expect(seen, 'the current page (Balance) is scrolled out of the header strip');
  await shot('13-balance-phone', false);
  await page.setViewportSize({ width: 1280, height: 900 });
});
await step('a cancel asks for confirmation and cancels a draft', async () => {
  await goto('#/sales/new');
  await page.getByLabel('Find product').fill(SKU);
  await page.waitForFunction((sku) => [...document.querySelectorAll('select[name="product"] option')].some((o) => o.textContent.includes(sku)), SKU);
  await page.getByRole('button', { name: 'Add line' }).click();
  await page.getByRole('button', { name: 'Create draft sale' }).click();
  await page.getByRole('heading', { name: /draft/ }).waitFor();
  await page.getByRole('button', { name: 'Cancel sale' }).click();
  await page.locator('dialog[open]').waitFor();
  await page.locator('dialog').getByRole('button', { name: 'Cancel sale' }).click();
  await page.getByRole('heading', { name: /cancelled/ }).waitFor();
});
await step('sign out returns to sign-in and the session is dead', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Shop (tenant)').waitFor();
  await shot('14-signed-out');
  await page.reload();
  await page.getByLabel('Shop (tenant)').waitFor();
  expect(await page.locator('#top').isHidden(), 'the app header is still shown');
});
await step('no script errors, CSP violations, dialogs or third-party requests', async () => {
  expect(pageErrors.length === 0, `page errors: ${pageErrors.join(' | ')}`);
  expect(cspViolations.length === 0, `CSP: ${cspViolations.join(' | ')}`);
  expect(dialogs.length === 0, `dialogs: ${dialogs.join(' | ')}`);
  expect(offsite.length === 0, `offsite: ${offsite.join(' | ')}`);
});

await browser.close();
console.log(`RESULT browser passed=${passed} failed=${failed}`);
process.exit(failed ? 1 : 0);
