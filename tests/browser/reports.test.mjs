// Browser test of the sales report page (#/reports, pages/reports.js): sales, a cost change and
// a return made through the API, then the page: reached from the navigation, its table shows
// exactly the rows GET /reports/sales gives for the page's own range and grouping (keys and
// every figure as format.js writes them), its totals row and totals, the chart is drawn (one
// group of bars per row, bar heights following the figures), switching the grouping (category,
// day, week, month) redraws table and chart from the API at once, a bad range shows the API's
// error, the page in Spanish has no raw keys, and another tenant's report shows none of A's.
// Env: BASE_URL, STOCK_TENANT / STOCK_EMAIL / STOCK_PASSWORD (tenant A, admin),
// STOCK_TENANT_B / STOCK_EMAIL_B / STOCK_PASSWORD_B (tenant B), SHOT_DIR.
// Prints "ok - " / "not ok - " per step and "RESULT browser_reports passed=N failed=M".
import { A, B, BASE, SHOTS, api, expect, launch, newPage as pageOf, runner, signIn } from './lib.mjs';
import { join } from 'node:path';

const SUITE = 'browser_reports';
const { step, finish, shotsOf } = runner(SUITE, 'reports');
const browser = await launch(SUITE);
const newPage = () => pageOf(browser);
const page = await newPage();
shotsOf(page);
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
const view = page.locator('#view');

// What the page shows once its report is drawn (the button is no longer busy).
async function settled() {
  await page.waitForFunction(() => {
    const b = document.querySelector('#view form button[type=submit]');
    return b && !b.disabled && document.querySelector('#report-out table, #view .form-error:not(:empty)');
  });
}
// The page's range and grouping, and the API's report for them.
async function apiReport() {
  const q = await page.evaluate(() => ({ from: document.querySelector('input[name=from]').value,
    to: document.querySelector('input[name=to]').value, group: document.querySelector('select[name=group]').value }));
  return { q, r: await api(page, 'GET', `/reports/sales?from=${q.from}&to=${q.to}&group=${q.group}&limit=1000`) };
}
// Money in the tenant's currency (A is made with the default, USD), as Intl writes it.
const CURRENCY = process.env.STOCK_CURRENCY || 'USD';
const fmtMoney = (v) => new Intl.NumberFormat('en-US', { style: 'currency', currency: CURRENCY }).format(v);
const fmtQty = (v) => new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 }).format(v);
const fmtDay = (v) => new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(v + 'T00:00:00Z'));
const keyText = (g, k) => (g === 'product' ? `${k.product.sku} · ${k.product.name}` : g === 'category' ? (k.category ? k.category.name : 'No category') : fmtDay(k.period));
const COLS = ['quantity', 'sales_total', 'returns_total', 'cost_total', 'margin'];

// The table's rows are the API's rows, in its order, every figure formatted; the totals row and
// the chart follow them.
async function tableIsApi(label) {
  const { q, r } = await apiReport();
  const rows = await page.locator('#report-out tbody tr.report-row').evaluateAll((trs) => trs.map((tr) =>
    [...tr.querySelectorAll('td')].map((td) => td.textContent.replace(/\s*\*$/, '').trim())));
  const want = r.items.map((x) => [keyText(q.group, x.key), ...COLS.map((c) => (c === 'quantity' ? fmtQty(x[c]) : fmtMoney(x[c])))]);
  expect(JSON.stringify(rows) === JSON.stringify(want), `${label}: table ${JSON.stringify(rows).slice(0, 300)} vs API ${JSON.stringify(want).slice(0, 300)}`);
  const foot = await page.locator('#report-out tfoot tr td').allTextContents();
  const wantFoot = COLS.map((c) => (c === 'quantity' ? fmtQty(r.totals[c]) : fmtMoney(r.totals[c])));
  expect(JSON.stringify(foot) === JSON.stringify(wantFoot), `${label}: totals ${foot} vs ${wantFoot}`);
  const groups = await page.locator('#report-out svg.chart g.bar-group').count();
  expect(groups === r.items.length, `${label}: ${groups} bar groups for ${r.items.length} rows`);
  // the tallest sales bar is the row with the largest sales_total
  if (r.items.length) {
    const hs = await page.locator('#report-out svg.chart rect.bar-report-sales').evaluateAll((rs) => rs.map((x) => Number(x.getAttribute('height'))));
    const big = r.items.reduce((m, x, i) => (Number(x.sales_total) > Number(r.items[m].sales_total) ? i : m), 0);
    expect(hs[big] === Math.max(...hs) && hs[big] > 0, `${label}: bar heights ${hs}`);
  }
  return r;
}

const sfx = Date.now().toString(36);
let p1, p2, cat;

await step('sign in as the admin of tenant A', () => signIn(page, A), { critical: true });

await step('fixtures through the API: a category, 2 products, 2 confirmed sales, a cost change, a return', async () => {
  const pc = await api(page, 'POST', '/uom', { name: `Piece ${sfx}`, abbreviation: 'pc' });
  cat = await api(page, 'POST', '/categories', { name: `Tools ${sfx}` });
  p1 = await api(page, 'POST', '/products', { sku: `H-${sfx}`, name: `Hammer ${sfx}`, uom_id: pc.id, category_id: cat.id, price: '10.00', cost: '4.00', stock: '50' });
  p2 = await api(page, 'POST', '/products', { sku: `N-${sfx}`, name: `Nails ${sfx}`, uom_id: pc.id, price: '2.50', cost: '1.00', stock: '50' });
  const s1 = await api(page, 'POST', '/sales', { items: [{ product_id: p1.id, quantity: 3 }, { product_id: p2.id, quantity: '2.5' }] });
  await api(page, 'POST', `/sales/${s1.id}/confirm`, {});
  await api(page, 'PATCH', `/products/${p1.id}`, { cost: '6.00' });
  const s2 = await api(page, 'POST', '/sales', { items: [{ product_id: p1.id, quantity: 1 }] });
  await api(page, 'POST', `/sales/${s2.id}/confirm`, {});
  await api(page, 'POST', `/sales/${s1.id}/returns`, { items: [{ product_id: p2.id, quantity: 1 }] });
}, { critical: true });

await step('the navigation links to the report; the page draws by product', async () => {
  await page.getByRole('link', { name: 'Reports', exact: true }).click();
  await page.waitForURL(/#\/reports$/);
  await page.getByRole('heading', { name: 'Sales report' }).waitFor();
  await settled();
  expect(await page.locator('nav a[href="#/reports"][aria-current=page]').count() === 1, 'the link is not marked current');
});

await step('by product: the table is the API\'s rows (Hammer: 4 sold, cost 4*3 + 6 = 18.00), totals and chart follow', async () => {
  const r = await tableIsApi('product');
  const h = r.items.find((x) => x.key.product.id === p1.id);
  expect(h && h.quantity === '4.000' && h.sales_total === '40.00' && h.cost_total === '18.00' && h.margin === '22.00', JSON.stringify(h));
  const txt = await view.innerText();
  expect(txt.includes(`Hammer ${sfx}`) && txt.includes('22.00') && txt.includes('Margin'), 'the Hammer row is not shown');
  expect(!/null|undefined/.test(txt), 'null or undefined on the page');
  await page.screenshot({ path: join(SHOTS, 'reports-product.png'), fullPage: true });
});

for (const g of ['category', 'day', 'week', 'month']) {
  await step(`switching the grouping to ${g} redraws table and chart from the API`, async () => {
    await page.locator('select[name=group]').selectOption(g);
    await page.waitForFunction((want) => {
      const th = document.querySelector('#report-out thead th');
      const b = document.querySelector('#view form button[type=submit]');
      return th && b && !b.disabled && th.textContent === want;
    }, { category: 'Category', day: 'Day', week: 'Week of', month: 'Month of' }[g]);
    const r = await tableIsApi(g);
    if (g === 'day') expect(r.items.length === 30, `${r.items.length} days for a 30-day range`);
    if (g === 'category') expect(r.items.some((x) => x.key.category && x.key.category.id === cat.id) && r.items.some((x) => x.key.category === null), 'categories');
  });
}

await step('a range with from after to shows the API\'s error at From', async () => {
  await page.locator('input[name=from]').fill('2030-01-02');
  await page.locator('input[name=to]').fill('2030-01-01');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.locator('[data-error-for=from]:not(:empty), #view .form-error:not(:empty)').first().waitFor();
});

await step('a range without sales: an empty table, zero totals', async () => {
  await page.locator('input[name=from]').fill('2001-01-01');
  await page.locator('input[name=to]').fill('2001-01-31');
  await page.locator('select[name=group]').selectOption('product');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.getByText('No sales in this period.').waitFor();
  const zero = (await page.locator('#report-total-sales_total').innerText()).trim();
  expect(zero === fmtMoney(0), `totals ${zero}, not ${fmtMoney(0)}`);
});

await step('the report in Spanish: every reports.* key in es.js, Spanish text, no raw keys', async () => {
  const missing = await page.evaluate(async () => {
    const en = (await import('/js/i18n/en.js')).default, es = (await import('/js/i18n/es.js')).default;
    return Object.keys(en).filter((k) => k.startsWith('reports.') && !(k in es));
  });
  expect(!missing.length, `es.js lacks ${missing.join(', ')}`);
  // The tenant's locale set to Spanish, as an admin does on #/settings, and the page loaded anew.
  await api(page, 'PATCH', '/tenant', { locale: 'es' });
  await page.goto('about:blank');
  await page.goto(`${BASE}/#/reports`);
  await page.getByRole('heading', { name: 'Informe de ventas' }).waitFor();
  await page.waitForFunction(() => document.querySelector('#report-out table'));
  const txt = await view.innerText();
  const want = ['Agrupar por', 'Ventas', 'Devoluciones', 'Costo', 'Margen', 'Totales'].filter((w) => !txt.includes(w));
  expect(!want.length, `missing in Spanish: ${want.join(' | ')}`);
  expect(!/reports\.\w/.test(txt), 'a raw reports.* key');
  await page.screenshot({ path: join(SHOTS, 'reports-es.png'), fullPage: true });
  await api(page, 'PATCH', '/tenant', { locale: 'en' });
  await page.goto('about:blank');
  await page.goto(`${BASE}/#/reports`);
  await page.getByRole('heading', { name: 'Sales report' }).waitFor();
});

// The UTC day d days from today (the page's tenant is UTC, the browser too).
const isoDay = (d) => new Date(Date.now() + d * 86400000).toISOString().slice(0, 10);
await step('Export CSV downloads the report shown (range and grouping), as RFC 4180 CSV', async () => {
  await page.locator('input[name=from]').fill(isoDay(-29));
  await page.locator('input[name=to]').fill(isoDay(0));
  await page.locator('select[name=group]').selectOption('category');
  await settled();
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const url = new URL(dl.url());
  expect(url.pathname === '/api/v1/reports/sales' && url.searchParams.get('format') === 'csv' && url.searchParams.get('group') === 'category'
    && url.searchParams.get('from') === isoDay(-29), `download ${dl.url()}`);
  const text = await (await import('node:fs')).promises.readFile(await dl.path(), 'utf8');
  const { r } = await apiReport();
  const lines = text.split('\r\n').filter(Boolean);
  expect(lines[0] === 'category_id,category,quantity,sales_total,returns_total,cost_total,margin,cost_estimated', `header ${lines[0]}`);
  expect(lines.length === r.items.length + 1, `${lines.length - 1} CSV rows for ${r.items.length}`);
  expect(r.items.every((x) => lines.some((l) => l.endsWith(`,${x.quantity},${x.sales_total},${x.returns_total},${x.cost_total},${x.margin},${x.cost_estimated}`))),
    `rows ${lines.slice(1).join(' | ')}`);
});

await step("tenant B's report shows none of A's products", async () => {
  const pb = await newPage();
  await signIn(pb, B);
  await pb.goto(`${BASE}/#/reports`);
  await pb.getByRole('heading', { name: 'Sales report' }).waitFor();
  await pb.waitForFunction(() => document.querySelector('#report-out table'));
  const txt = await pb.locator('#view').innerText();
  expect(!txt.includes(`Hammer ${sfx}`) && txt.includes('No sales in this period.'), 'B sees A\'s sales');
  await pb.context().close();
});

await step('no page errors', async () => { expect(!pageErrors.length, pageErrors.join(' | ')); });

await browser.close();
finish();
