// Browser test of the receipt page (#/sales/{id}/receipt, pages/receipt.js) and its print
// stylesheet: a confirmed sale of two lines with two payments and a partial return (with a
// refund) made through the API, its receipt on screen, then printed to PDF by Chromium
// (page.pdf() renders with the print media) and the PDF's text (pdftotext) checked: the receipt's
// facts are in it and the shell and buttons are not. Also: one page for a short sale, a draft's
// receipt says the sale is not confirmed, another tenant's sale id is not found.
// Env: BASE_URL, STOCK_TENANT / STOCK_EMAIL / STOCK_PASSWORD (tenant A, admin),
// STOCK_TENANT_B / STOCK_EMAIL_B / STOCK_PASSWORD_B (tenant B), STOCK_SHOP (A's name), SHOT_DIR.
// Prints "ok - " / "not ok - " per step and "RESULT browser_receipt passed=N failed=M".
import { A, B, BASE, SHOTS, api, expect, launch, newPage as pageOf, runner, signIn } from './lib.mjs';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const SHOP = process.env.STOCK_SHOP || '';
const SUITE = 'browser_receipt';
const { step, finish, shotsOf } = runner(SUITE, 'receipt');
const browser = await launch(SUITE);
const newPage = () => pageOf(browser);
const page = await newPage();
shotsOf(page);
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
const view = page.locator('#view');

async function goto(hash) {
  await page.goto(`${BASE}/${hash}`);
  await page.waitForFunction(() => !document.querySelector('#view')?.textContent.includes('Loading…'));
}
// The receipt printed to PDF (A4) and its text (pdftotext -layout) and page count (pdfinfo).
async function printed(name, size = { format: 'A4' }) {
  const file = join(SHOTS, `${name}.pdf`);
  writeFileSync(file, await page.pdf({ ...size, printBackground: false }));
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  const pages = Number(/^Pages:\s+(\d+)/m.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))[1]);
  writeFileSync(join(SHOTS, `${name}.txt`), text);
  return { text, pages };
}
// The amounts are printed in the tenant's currency (USD here: "$35.00", "-$7.00"): the sign is
// dropped for the comparison with the plain amounts below.
const has = (text, s) => text.replace(/\s+/g, ' ').replace(/(-?)\$/g, '$1').includes(s);

const sfx = Date.now().toString(36);
const P1 = `Hammer ${sfx}`, P2 = `Nails ${sfx}`, REF = `REF-${sfx}`, CUSTOMER = `Ada ${sfx}`;
let sale, ret, draft, foreign, p1, p2;

await step('sign in as the admin of tenant A', () => signIn(page, A), { critical: true });

await step('fixtures through the API: 2 products, a sale of 2 lines confirmed with a payment, a 2nd payment, a partial return with a refund', async () => {
  const pc = await api(page, 'POST', '/uom', { name: `Piece ${sfx}`, abbreviation: 'pc' });
  const kg = await api(page, 'POST', '/uom', { name: `Kilogram ${sfx}`, abbreviation: 'kg' });
  p1 = await api(page, 'POST', '/products', { sku: `H-${sfx}`, name: P1, uom_id: pc.id, price: '10.00', stock: '50' });
  p2 = await api(page, 'POST', '/products', { sku: `N-${sfx}`, name: P2, uom_id: kg.id, price: '2.50', stock: '50' });
  // 3 pc x 10.00 = 30.00 + 2.5 kg x 2.00 = 5.00: total 35.00.
  sale = await api(page, 'POST', '/sales', { customer: CUSTOMER, items: [{ product_id: p1.id, quantity: 3 }, { product_id: p2.id, quantity: '2.5', unit_price: '2.00' }] });
  await api(page, 'POST', `/sales/${sale.id}/confirm`, { payment: { amount: '20.00', method: 'cash' } });
  await api(page, 'POST', '/payments', { sale_id: sale.id, amount: '12.00', method: 'card', reference: REF }, { 'Idempotency-Key': `pay-${sfx}` });
  // 1 pc back (10.00) with 7.00 refunded: paid 20 + 12 - 7 = 25.00, outstanding 35 - 10 - 25 = 0.00.
  ret = await api(page, 'POST', `/sales/${sale.id}/returns`, { items: [{ product_id: p1.id, quantity: 1 }], refund: { amount: '7.00', method: 'cash' }, note: `Chipped ${sfx}` }, { 'Idempotency-Key': `ret-${sfx}` });
  sale = await api(page, 'GET', `/sales/${sale.id}`);
  expect(sale.total === '35.00' && sale.returned_total === '10.00' && sale.paid_total === '25.00' && sale.outstanding === '0.00',
    `sums ${sale.total} ${sale.returned_total} ${sale.paid_total} ${sale.outstanding}`);
  draft = await api(page, 'POST', '/sales', { items: [{ product_id: p1.id, quantity: 1 }] });
}, { critical: true });

await step('the sale page links to its receipt', async () => {
  await goto(`#/sales/${sale.id}`);
  await page.getByRole('link', { name: 'Receipt', exact: true }).click();
  await page.waitForURL(new RegExp(`#/sales/${sale.id}/receipt$`));
  await page.locator('.receipt').waitFor();
});

await step('the receipt on screen: shop, number, confirmation, customer, lines with units, totals, payments, the return', async () => {
  await goto(`#/sales/${sale.id}/receipt`);
  await page.locator('.receipt').waitFor();
  const txt = (await page.locator('.receipt').innerText()).replace(/\s+/g, ' ');
  const want = [SHOP, `Sale no. ${sale.id}`, 'Confirmed ', `Customer: ${CUSTOMER}`, `H-${sfx}`, P1, `N-${sfx}`, P2, '3 pc', '2.5 kg',
    '10.00', '30.00', '2.00', '5.00', '35.00', '25.00', 'Outstanding', 'Cash', 'Card', REF, '12.00', '-7.00', 'Refund (Cash)',
    `Return ${ret.id}`, `Chipped ${sfx}`, 'Returned: 10.00', 'refunded: 7.00'];
  const missing = want.filter((s) => !txt.includes(s));
  expect(!missing.length, `missing on screen: ${missing.join(' | ')}`);
  expect(await page.getByRole('button', { name: 'Print' }).isVisible(), 'no Print button');
  expect(await page.getByRole('link', { name: 'Back to the sale' }).isVisible(), 'no link back');
  expect(!(await view.innerText()).match(/receipt\.\w/), 'an untranslated receipt.* key');
  await page.screenshot({ path: join(SHOTS, 'receipt-screen.png'), fullPage: true });
});

await step('Print calls window.print()', async () => {
  await page.evaluate(() => { window.__printed = 0; window.print = () => { window.__printed++; }; });
  await page.getByRole('button', { name: 'Print' }).click();
  expect(await page.evaluate(() => window.__printed) === 1, 'window.print was not called');
});

await step('the receipt printed to PDF: its facts are in the text, the shell and buttons are not, one A4 page', async () => {
  const { text, pages } = await printed('receipt-sale');
  const want = [SHOP, `Sale no. ${sale.id}`, CUSTOMER, P1, P2, '3 pc', '2.5 kg', '35.00', '25.00', '0.00', REF, '20.00', '12.00', '-7.00',
    `Return ${ret.id}`, 'Returned: 10.00'];
  const missing = want.filter((s) => !has(text, s));
  expect(!missing.length, `missing in the PDF: ${missing.join(' | ')}`);
  const shown = ['Sign out', 'Print', 'Back to the sale', 'Products', 'Change password', A.email].filter((s) => has(text, s));
  expect(!shown.length, `in the PDF but should not be: ${shown.join(' | ')}`);
  expect(pages === 1, `${pages} pages for a short sale`);
});

await step('printed on 80 mm paper (a thermal printer): the lines and totals are still there, in columns', async () => {
  const { text } = await printed('receipt-sale-80mm', { width: '80mm', height: '297mm' });
  // (long words wrap in 80 mm: the names' first words, the reference's prefix)
  const missing = ['Hammer', 'Nails', '3 pc', '2.5 kg', '35.00', '25.00', 'REF-'].filter((s) => !has(text, s));
  expect(!missing.length, `missing in the 80 mm PDF: ${missing.join(' | ')}`);
  // The table layout holds (not the phone layout's one cell per row): a line's quantity and
  // its total on the same text line.
  expect(text.split('\n').some((l) => l.includes('3 pc') && l.includes('30.00')), 'a line row is broken up');
  expect(!has(text, 'Sign out'), 'the shell is printed');
});

await step('printed, the receipt is black on white, full width, and the header is not displayed', async () => {
  await page.emulateMedia({ media: 'print' });
  const s = await page.evaluate(() => {
    const r = document.querySelector('.receipt'), cs = getComputedStyle(r), td = getComputedStyle(document.querySelector('.receipt td'));
    return { color: td.color, bg: cs.backgroundColor, width: r.getBoundingClientRect().width, main: document.querySelector('main').getBoundingClientRect().width,
      header: getComputedStyle(document.getElementById('top')).display, rowBreak: getComputedStyle(document.querySelector('.receipt tr.receipt-line')).breakInside };
  });
  await page.emulateMedia({ media: 'screen' });
  expect(s.color === 'rgb(0, 0, 0)', `text colour ${s.color}`);
  expect(s.bg === 'rgb(255, 255, 255)', `background ${s.bg}`);
  expect(s.header === 'none', `header display ${s.header}`);
  expect(Math.abs(s.width - s.main) < 2, `receipt ${s.width}px of main's ${s.main}px`);
  expect(s.rowBreak === 'avoid', `a line row may break: ${s.rowBreak}`);
});

await step('the receipt in Spanish (the catalog has every receipt.* key)', async () => {
  const missing = await page.evaluate(async () => {
    const en = (await import('/js/i18n/en.js')).default, es = (await import('/js/i18n/es.js')).default;
    return Object.keys(en).filter((k) => k.startsWith('receipt.') && !(k in es));
  });
  expect(!missing.length, `es.js lacks ${missing.join(', ')}`);
});

await step('the receipt in Spanish (setLang es, as the tenant\'s locale will): Spanish text, no raw keys', async () => {
  await page.evaluate(async () => { (await import('/js/i18n.js')).setLang('es'); });
  await page.evaluate((id) => { location.hash = `#/sales/${id}`; }, sale.id);
  await page.waitForFunction(() => !document.querySelector('#view')?.textContent.includes('Loading…') && !location.hash.endsWith('/receipt'));
  await page.evaluate((id) => { location.hash = `#/sales/${id}/receipt`; }, sale.id);
  await page.locator('.receipt').waitFor();
  const txt = (await page.locator('.receipt').innerText()).replace(/\s+/g, ' ');
  const missing = [`Venta n.º ${sale.id}`, `Cliente: ${CUSTOMER}`, 'Pendiente', 'Pagos', 'Efectivo', 'Tarjeta', 'Reembolso (Efectivo)', 'Devoluciones', 'Gracias por su compra.']
    .filter((w) => !txt.includes(w));
  expect(!missing.length, `missing in Spanish: ${missing.join(' | ')}`);
  expect(!/receipt\.\w/.test(await view.innerText()), 'a raw receipt.* key');
  expect(await page.getByRole('button', { name: 'Imprimir' }).isVisible(), 'no Imprimir button');
  await page.screenshot({ path: join(SHOTS, 'receipt-screen-es.png'), fullPage: true });
  await page.evaluate(async () => { (await import('/js/i18n.js')).setLang('en'); });
});

await step("a draft sale's receipt says it is not confirmed (and has no Print)", async () => {
  await goto(`#/sales/${draft.id}/receipt`);
  await page.locator('.receipt-none').waitFor();
  expect((await view.innerText()).includes('not confirmed'), await view.innerText());
  expect(!(await page.locator('.receipt').count()), 'a receipt is drawn');
  expect(!(await page.getByRole('button', { name: 'Print' }).count()), 'a Print button');
  await goto(`#/sales/${draft.id}`);
  expect(!(await page.getByRole('link', { name: 'Receipt', exact: true }).count()), "the draft's page links to a receipt");
});

await step("a cancelled sale's receipt says it was cancelled", async () => {
  await api(page, 'POST', `/sales/${draft.id}/cancel`);
  await goto(`#/sales/${draft.id}/receipt`);
  await page.locator('.receipt-none').waitFor();
  expect((await view.innerText()).includes('cancelled'), await view.innerText());
});

await step("another tenant's sale id: not found", async () => {
  const pb = await newPage();
  await signIn(pb, B);
  const ub = await api(pb, 'POST', '/uom', { name: `B ${sfx}`, abbreviation: 'b' });
  const pr = await api(pb, 'POST', '/products', { sku: `B-${sfx}`, name: `Secret ${sfx}`, uom_id: ub.id, price: '1.00', stock: '5' });
  foreign = await api(pb, 'POST', '/sales', { items: [{ product_id: pr.id, quantity: 1 }] });
  await api(pb, 'POST', `/sales/${foreign.id}/confirm`, {});
  await pb.context().close();
  await goto(`#/sales/${foreign.id}/receipt`);
  await page.getByText('Not found.').waitFor();
  expect(!(await view.innerText()).includes(`Secret ${sfx}`), "B's product is shown");
});

await step('no page errors', async () => { expect(!pageErrors.length, pageErrors.join(' | ')); });

await browser.close();
finish();
