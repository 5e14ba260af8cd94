// lib: what the one-concern browser tests (receipt, reports, import, a11y) share: the
// environment, Chromium's launch, the step runner and its RESULT line, sign-in and API calls with
// a page's cookie session. (ui.test.mjs and i18n.test.mjs keep their own.)
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const BASE = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const SHOTS = process.env.SHOT_DIR || 'test-output/browser';
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// The tenant and admin of the run (STOCK_TENANT...), and a second tenant where a test has one.
export const A = { tenant: process.env.STOCK_TENANT, email: process.env.STOCK_EMAIL, password: process.env.STOCK_PASSWORD };
export const B = { tenant: process.env.STOCK_TENANT_B, email: process.env.STOCK_EMAIL_B, password: process.env.STOCK_PASSWORD_B };
mkdirSync(SHOTS, { recursive: true });

export function expect(cond, msg) { if (!cond) throw new Error(msg); }

// The steps of the test SUITE: step(name, fn, {critical}) prints "ok - "/"not ok - " (a failed
// critical step skips, and fails, every later one; a failure screenshots the page given to
// shotsOf), finish() prints "RESULT SUITE passed=N failed=M" and exits 1 on a failure.
export function runner(suite, shot) {
  let passed = 0, failed = 0, aborted = false, page = null;
  return {
    shotsOf(p) { page = p; },
    async step(name, fn, { critical = false } = {}) {
      if (aborted) { failed++; console.log(`not ok - ${name}: skipped after an earlier failure`); return; }
      try { await fn(); passed++; console.log(`ok - ${name}`); }
      catch (e) {
        failed++; console.log(`not ok - ${name}: ${String(e && e.message || e).split('\n')[0]}`);
        if (page) await page.screenshot({ path: join(SHOTS, `${shot}-failed-${passed + failed}.png`), fullPage: true }).catch(() => {});
        if (critical) aborted = true;
      }
    },
    finish() {
      console.log(`RESULT ${suite} passed=${passed} failed=${failed}`);
      process.exit(failed ? 1 : 0);
    },
  };
}

// Headless Debian Chromium; a launch that fails is the suite's one failure.
export async function launch(suite) {
  return chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  }).catch((e) => { console.log(`not ok - launch chromium: ${e.message.split('\n')[0]}`); console.log(`RESULT ${suite} passed=0 failed=1`); process.exit(1); });
}

// A page of its own context (UTC, 1280x900, English unless told) with a 10 s default timeout.
export async function newPage(browser, options = {}) {
  const ctx = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC', viewport: { width: 1280, height: 900 }, ...options });
  const p = await ctx.newPage();
  p.setDefaultTimeout(10000);
  return p;
}

// Signs WHO in through the English sign-in form and waits for the products page.
export async function signIn(p, who) {
  await p.goto(`${BASE}/`);
  await p.getByLabel('Shop (tenant)').fill(who.tenant);
  await p.getByLabel('Email').fill(who.email);
  await p.getByLabel('Password').fill(who.password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByRole('heading', { name: 'Products' }).waitFor();
}

// An API call with p's cookie session and CSRF token; the answer's JSON (null for a 204).
export async function api(p, method, path, data, headers = {}) {
  const me = await (await p.request.get(`${BASE}/api/v1/me`)).json();
  const res = await p.request.fetch(`${BASE}/api/v1${path}`, { method, data, headers: { 'X-CSRF-Token': me.csrf_token, ...headers } });
  expect(res.ok(), `${method} ${path} -> ${res.status()} ${(await res.text()).slice(0, 200)}`);
  return res.status() === 204 ? null : res.json();
}
