// load.mjs: the load, the oracle and the table of the fleet suite (started inside the core
// namespace by tests/fleet/run.sh, which documents the topology and the environment). Node's own
// http module, one connection per request (Connection: close), as tests/faults/load.mjs.
//
// Load: three busy tenants with two products each; one writer per product (so that its writes
// are ordered) PATCHes the price (strictly increasing, one cent per attempt), creates and
// confirms sales of it (stock strictly decreasing) and pays them (Idempotency-Key). A fourth,
// quiet tenant is only read, and written by the rows themselves: after such a write nothing
// else invalidates its cache, so whatever a fault leaves stale stays visible. Reads (product,
// product list, balance series; all cached) are sent open loop, paced to FLEET_RATE together
// with the writes, through the upstream of the three hosts; writes go through it too unless a
// row sends them to one host.
//
// Oracle: every acknowledged write (2xx) raises a floor at its ack time: the product's price,
// the product's count of confirmed sales (its stock), the tenant's count of confirmed sales and
// its paid total (the balance). A read is "stale after ack" when it started after a floor was
// raised and returned less (a price below it, a stock above what the confirmed sales left, a
// balance that misses a sale or a payment). A stale read is counted in the row of the write it
// did not see (that write's fault made it). A write whose answer was lost is settled as a
// careful client would (a payment retried with its key, a confirm looked up, a PATCH checked in
// PostgreSQL after a crash) and raises its floor when the client learns the outcome.
//
// L1: an answer with X-Cache: HIT and X-Cache-Layer: L1 was served from the worker's own L1
// (in front of Redis); they are counted per row and host, in all and before the row's fault
// (r.faultAt). The L1 rows add probes (reads of the quiet product on each host, judged by the
// same oracle, right after their writes) and read the hosts' /metrics (stock_cache_l1_live,
// stock_cache_l1_resets_total) before and after the fault.
import http from 'node:http';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const env = process.env;
const PORT0 = Number(env.FLEET_BASE_PORT);
const VIA = { all: PORT0, h1: PORT0 + 1, h2: PORT0 + 2, h3: PORT0 + 3 };
const HOST_OF = new Map([1, 2, 3].map((n) => [`10.201.${n}.2:${env.FLEET_FCGI_PORT}`, `h${n}`]));
const RATE = Number(env.FLEET_RATE || 200);
const WRITE_RATE = RATE * 0.15;
const READ_RATE = RATE - WRITE_RATE;
const SCALE = Number(env.FLEET_SECONDS_SCALE || 1);
const HARD_MS = 20000; // the client gives up (nginx's read timeout is 30 s)
const MAX_IN_FLIGHT = 300;
const SLUGS = env.FLEET_TENANTS.split(',');
const LOGIN_SLUG = SLUGS.pop();
const OUT = path.join(env.FLEET_DIR, 'load');
fs.mkdirSync(OUT, { recursive: true });

const t0 = performance.now();
const now = () => performance.now() - t0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (s) => console.log(`# [${(now() / 1000).toFixed(1)}s] ${s}`);
const cents = (s) => Math.round(Number(s) * 100);
const money = (c) => (c / 100).toFixed(2);
const day = (d) => new Date(Date.now() + d * 86400000).toISOString().slice(0, 10);
const BALANCE = `/balance/series?from=${day(-1)}&to=${day(1)}&granularity=daily`;

// ---------------------------------------------------------------------------------------------
// Requests and the scoreboard

const rows = [];
let row = null; // the row the requests started now count in
let running = true;
let inFlight = 0;
const acks = []; // [kind, slug, id, marker, row]: every acknowledged write, for PostgreSQL
const maybeSales = []; // markers of sale creations with no answer

function newRow(name, spec = {}) {
    const r = {
        name, spec, index: rows.length, requests: 0, correct: 0, wrong: 0, stale: 0, reads: 0,
        failures: [], maxMs: 0, start: now(), end: null, mendAt: undefined, hitResume: undefined,
        acked: 0, lost: 0, dup: 0, notes: [], checks: [], actionsOk: true, hitsNoPg: 0, staleSeen: [], staleFor: 0,
        // Answers from the L1 (X-Cache-Layer: L1) by host: in all, before r.faultAt, and the
        // first one after r.mendAt (ms); r.l1Off lists windows {host, from, to} in which that
        // host must serve none (and r.l1OffSeen what it served then).
        l1: { h1: 0, h2: 0, h3: 0 }, l1Before: { h1: 0, h2: 0, h3: 0 }, l1Again: {}, faultAt: undefined,
        l1Off: [], l1OffSeen: [],
    };
    rows.push(r);
    return r;
}

function hostOf(headers) {
    const up = (headers && headers['x-upstream']) || '';
    const last = up.split(',').map((s) => s.trim()).filter(Boolean).pop() || '';
    return HOST_OF.get(last) || (last ? last : '?');
}

let nextSlot = { r: 0, w: 0 };
async function pace(kind) {
    const rate = kind === 'w' ? WRITE_RATE : READ_RATE;
    const at = Math.max(nextSlot[kind], now());
    nextSlot[kind] = at + 1000 / rate;
    if (at > now()) await sleep(at - now());
}

// request VIA METHOD PATH {token, body, headers, xff, tag}: one request through nginx port VIA
// (all, h1, h2, h3); resolves with {status (0: no answer), json, headers, host, cache, start,
// end, ms, row, err}.
function request(via, method, p, { token, body, headers = {}, xff, tag } = {}) {
    return new Promise((resolve) => {
        const start = now();
        const rw = row;
        const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
        const h = { ...headers, Connection: 'close' };
        if (token) h.Authorization = `Bearer ${token}`;
        if (xff) h['X-Forwarded-For'] = xff;
        if (data) {
            h['Content-Type'] = 'application/json';
            h['Content-Length'] = data.length;
        }
        let settled = false;
        inFlight++;
        const req = http.request({ host: '127.0.0.1', port: VIA[via], method, headers: h, agent: false,
            path: p.startsWith('/health') || p === '/metrics' ? p : `/api/v1${p}` });
        const timer = setTimeout(() => req.destroy(new Error('client timeout')), HARD_MS);
        const finish = (status, text, hd, err) => {
            if (settled) return;
            settled = true;
            inFlight--;
            clearTimeout(timer);
            const end = now();
            const r = { via, method, path: p, status, headers: hd || {}, host: hostOf(hd), err, start, end,
                ms: end - start, row: rw, json: null, tag, text };
            r.cache = r.headers['x-cache'];
            r.layer = r.headers['x-cache-layer'];
            if (status && text) {
                try { r.json = JSON.parse(text); } catch { r.json = null; }
            }
            rw.requests++;
            if (r.ms > rw.maxMs) rw.maxMs = r.ms;
            if (!status || status >= 500) rw.failures.push(r);
            if (r.cache === 'HIT' && r.layer === 'L1' && rw.l1[r.host] !== undefined) {
                rw.l1[r.host]++;
                if (rw.faultAt === undefined || start < rw.faultAt) rw.l1Before[r.host]++;
                if (rw.mendAt !== undefined && start >= rw.mendAt && rw.l1Again[r.host] === undefined) rw.l1Again[r.host] = end - rw.mendAt;
                for (const w of rw.l1Off) {
                    if (w.host === r.host && start >= w.from && start <= (w.to ?? Infinity)) rw.l1OffSeen.push(`${r.method} ${r.path} started ${Math.round(start - w.from)} ms into the window`);
                }
            }
            if (r.cache === 'HIT') {
                if (rw.mendAt !== undefined && start >= rw.mendAt && rw.hitResume === undefined &&
                    (!rw.spec.host || r.host === rw.spec.host)) rw.hitResume = end - rw.mendAt;
                if (rw.noPg && r.host === rw.noPg.host && start >= rw.noPg.from && end <= (rw.noPg.to ?? Infinity)) {
                    rw.hitsNoPg++;
                    rw.lastHitNoPg = Math.max(rw.lastHitNoPg || 0, start - rw.noPg.from);
                }
            }
            resolve(r);
        };
        req.on('response', (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => finish(res.statusCode, Buffer.concat(chunks).toString(), res.headers, null));
            res.on('error', (e) => finish(0, '', null, e.message));
        });
        req.on('error', (e) => finish(0, '', null, e.message));
        if (data) req.write(data);
        req.end();
    });
}

const unknown = (r) => !r.status || r.status >= 500;

// verdict R GOOD WHY: an answered request was right (GOOD) or wrong; 5xx and no answer are
// counted apart (failures) and are neither.
function verdict(r, good, why) {
    if (unknown(r)) return;
    if (good) {
        r.row.correct++;
    } else {
        r.row.wrong++;
        if (r.row.notes.length < 8) r.row.notes.push(`wrong: ${r.method} ${r.path} via ${r.via} -> ${r.status} ${why || ''} ${String(r.text).slice(0, 160)}`);
    }
}

// ---------------------------------------------------------------------------------------------
// The oracle's floors

// floor(): a floor record {v, at, row, what}; raise() replaces it when v grows.
const floor = (v, what) => ({ v, at: -1, row: -1, what });
// GRACE_MS (default 0) shifts the floor: a write that was never acknowledged (its worker killed
// after the COMMIT, the outcome looked up) is owed to readers only after the bound of
// core/cache_outbox.c for such writes (one poll, within CACHE_TRUST_MS = 1000 ms).
function raise(obj, key, v, what, graceMs = 0) {
    const f = { v, at: now() + graceMs, row: row.index, what };
    const apply = () => {
        if (v > obj[key].v) obj[key] = f;
    };
    // A read snapshots the floors when it starts: a shifted floor exists only from its time on.
    if (graceMs > 0) setTimeout(apply, graceMs);
    else apply();
}
const UNACKED_BOUND_MS = 1000;

function ack(kind, t, id, marker, r) {
    acks.push([kind, t.slug, id, marker, row.index]);
    row.acked++;
    if (r) r.acked = true;
}

// judgeRead R FAILS: R is correct, or stale when FAILS lists floors (raised before R started) that
// it returned less than; a stale read is counted in the row of the newest write it missed.
function judgeRead(r, fails) {
    r.row.reads++;
    if (!fails.length) {
        r.row.correct++;
        return;
    }
    const f = fails.reduce((a, b) => (b.at > a.at ? b : a));
    const target = rows[f.row] || r.row;
    target.stale++;
    const what = () => `${r.method} ${r.path} started ${Math.round(r.start - f.at)} ms after the ack of ${f.what}, answered by ${r.host} (X-Cache ${r.cache || '-'}${r.layer ? `, ${r.layer}` : ''}) in row '${r.row.name}': ${fails.map((x) => x.got).join('; ')}`;
    if (target.staleSeen.length < 4) target.staleSeen.push(what());
    if (r.start - f.at > target.staleFor) {
        target.staleFor = r.start - f.at;
        target.staleLongest = what();
    }
}

function checkProduct(p, item, snap, fails) {
    if (!item) {
        fails.push({ ...snap.price, got: `product ${p.id} missing` });
        return;
    }
    const price = cents(item.price);
    const stock = Number(item.stock);
    if (price < snap.price.v) fails.push({ ...snap.price, got: `price ${item.price} < ${money(snap.price.v)}` });
    if (stock > p.initialStock - snap.confirms.v) fails.push({ ...snap.confirms, got: `stock ${item.stock} > ${p.initialStock - snap.confirms.v}` });
}

const snapProduct = (p) => ({ price: p.floor.price, confirms: p.floor.confirms });

async function readOne(t) {
    const x = Math.random();
    if (x < 0.5) {
        const p = t.products[Math.floor(Math.random() * t.products.length)];
        const snap = snapProduct(p);
        const r = await request('all', 'GET', `/products/${p.id}`, { token: t.token });
        if (unknown(r)) return;
        if (r.status !== 200 || !r.json) return verdict(r, false, 'a product read');
        const fails = [];
        checkProduct(p, r.json, snap, fails);
        judgeRead(r, fails);
    } else if (x < 0.75) {
        const snaps = t.products.map(snapProduct);
        const r = await request('all', 'GET', `/products?q=${encodeURIComponent(t.prefix)}&limit=50`, { token: t.token });
        if (unknown(r)) return;
        if (r.status !== 200 || !r.json || !Array.isArray(r.json.items)) return verdict(r, false, 'the product list');
        const fails = [];
        t.products.forEach((p, i) => checkProduct(p, r.json.items.find((it) => it.id === p.id), snaps[i], fails));
        judgeRead(r, fails);
    } else {
        const snap = { sales: t.floor.sales, paid: t.floor.paid };
        const r = await request('all', 'GET', BALANCE, { token: t.token });
        if (unknown(r)) return;
        const tot = r.json && r.json.totals;
        if (r.status !== 200 || !tot) return verdict(r, false, 'the balance');
        const fails = [];
        if (tot.sales_count < snap.sales.v) fails.push({ ...snap.sales, got: `sales_count ${tot.sales_count} < ${snap.sales.v}` });
        if (cents(tot.payments_total) < snap.paid.v) fails.push({ ...snap.paid, got: `payments_total ${tot.payments_total} < ${money(snap.paid.v)}` });
        judgeRead(r, fails);
    }
}

let tenants = [];
let quiet = null;
async function readers() {
    const pending = new Set();
    while (running) {
        await pace('r');
        if (!running) break;
        if (inFlight >= MAX_IN_FLIGHT) continue;
        const t = Math.random() < 0.3 ? quiet : tenants[Math.floor(Math.random() * (tenants.length - 1))];
        const pr = readOne(t).finally(() => pending.delete(pr));
        pending.add(pr);
    }
    await Promise.all(pending);
}

// ---------------------------------------------------------------------------------------------
// Writers

const writeVia = () => (row.spec.writeVia || 'all');

async function patchPrice(t, p, via, headers = {}) {
    const price = ++p.next;
    const r = await request(via, 'PATCH', `/products/${p.id}`, { token: t.token, body: { price: money(price) }, headers });
    if (unknown(r)) return r;
    verdict(r, r.status === 200 && cents(r.json && r.json.price) === price, `expected price ${money(price)}`);
    if (r.status === 200) {
        raise(p.floor, 'price', price, `PATCH price ${money(price)} of product ${p.id} via ${via}`);
        ack('patch', t, p.id, price, r);
    }
    return r;
}

// Until it has an answer: the same key, so that the payment happens once at most.
async function payUntilAnswered(t, body, key, via, first = {}) {
    let headers = { 'Idempotency-Key': key, ...first };
    for (;;) {
        await pace('w');
        const r = await request(typeof via === 'function' ? via() : via, 'POST', '/payments', { token: t.token, body, headers });
        headers = { 'Idempotency-Key': key };
        if (unknown(r)) {
            if (!running) return r;
            await sleep(100);
            continue;
        }
        verdict(r, r.status === 201 && r.json && r.json.reference === key, 'a payment');
        if (r.status === 201) {
            raise(t.floor, 'paid', t.floor.paid.v + cents(body.amount), `payment ${key} of ${body.amount}`);
            ack('payment', t, r.json.id, key, r);
        }
        return r;
    }
}

function confirmed(t, p, sale, via) {
    raise(p.floor, 'confirms', p.floor.confirms.v + 1, `confirm of sale ${sale.id} (product ${p.id}) via ${via}`);
    raise(t.floor, 'sales', t.floor.sales.v + 1, `confirm of sale ${sale.id} via ${via}`);
    p.open.push(sale);
}

async function sellOne(t, p) {
    const marker = `${t.prefix}-S${++t.seq}`;
    await pace('w');
    let via = writeVia();
    let r = await request(via, 'POST', '/sales', { token: t.token, body: { customer: marker, items: [{ product_id: p.id, quantity: 1 }] } });
    if (unknown(r)) { maybeSales.push(marker); return; }
    verdict(r, r.status === 201 && r.json && r.json.customer === marker, 'a sale');
    if (r.status !== 201) return;
    const sale = { id: r.json.id, dueCents: cents(r.json.total) };
    ack('sale', t, sale.id, marker, r);
    await pace('w');
    via = writeVia();
    r = await request(via, 'POST', `/sales/${sale.id}/confirm`, { token: t.token });
    if (unknown(r)) {
        // Settled as a careful client would: the sale says whether it happened.
        for (;;) {
            await pace('w');
            const g = await request('all', 'GET', `/sales/${sale.id}`, { token: t.token });
            if (unknown(g)) { if (!running) return; await sleep(100); continue; }
            verdict(g, g.status === 200, 'looking a sale up');
            if (g.status === 200 && g.json.status === 'confirmed') {
                confirmed(t, p, sale, `${via} (settled)`);
                ack('confirm', t, sale.id, marker, g);
            }
            return;
        }
    }
    verdict(r, r.status === 200 && r.json && r.json.status === 'confirmed', 'a confirm');
    if (r.status !== 200) return;
    confirmed(t, p, sale, via);
    ack('confirm', t, sale.id, marker, r);
}

async function payOne(t, p) {
    const sale = p.open[0];
    const key = `${t.prefix}-K${++t.seq}`;
    const body = { sale_id: sale.id, amount: '1.00', method: ['cash', 'card', 'transfer'][t.seq % 3], reference: key };
    const r = await payUntilAnswered(t, body, key, writeVia);
    if (r.status === 201) {
        sale.dueCents -= 100;
        if (sale.dueCents < 100) p.open.shift();
    } else if (r.status === 409) {
        p.open.shift();
    }
}

async function writer(t, p) {
    while (running) {
        const x = Math.random();
        if (x < 0.5 || (x >= 0.8 && !p.open.length)) {
            await pace('w');
            await patchPrice(t, p, writeVia());
        } else if (x < 0.8) {
            await sellOne(t, p);
        } else {
            await payOne(t, p);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Setup

async function login(slug, via = 'all', password = env.FLEET_PASSWORD) {
    for (let i = 0; i < 50; i++) {
        const r = await request(via, 'POST', '/auth/login', { body: { tenant: slug, email: `admin@${slug}.test`, password } });
        if (r.status === 200) return r.json.token;
        await sleep(200);
    }
    throw new Error(`cannot sign in to ${slug} via ${via}`);
}

async function create(t, p, body) {
    const r = await request('all', 'POST', p, { token: t.token, body });
    if (r.status !== 201) throw new Error(`setup POST ${p} -> ${r.status} ${r.text}`);
    return r.json;
}

async function setupTenant(slug, i, nProducts) {
    const t = { slug, i, token: await login(slug), seq: 0, prefix: `FL${i}-${env.FLEET_PREFIX}`, products: [],
        floor: { sales: floor(0, 'setup'), paid: floor(0, 'setup') } };
    const uom = await create(t, '/uom', { name: `${t.prefix} piece`, abbreviation: `p${i}` });
    for (let k = 0; k < nProducts; k++) {
        const pr = await create(t, '/products', { sku: `${t.prefix}-P${k}`, name: `${t.prefix} product ${k}`, uom_id: uom.id,
            price: '10.00', stock: '1000000' });
        t.products.push({ id: pr.id, next: 1000, initialStock: 1000000, open: [],
            floor: { price: floor(1000, 'setup'), confirms: floor(0, 'setup') } });
    }
    return t;
}

// ---------------------------------------------------------------------------------------------
// Rows

function action(name, arg) {
    return new Promise((resolve) => {
        const start = now();
        execFile('bash', [env.FLEET_SELF, '--action', name, ...(arg === undefined ? [] : [arg])], { env, timeout: 90000 }, (err, stdout, stderr) => {
            const out = `${stdout}${stderr}`.trim().replace(/\n/g, ' | ');
            log(`action ${name}: ${err ? 'FAILED' : 'done'} in ${Math.round(now() - start)} ms${out ? `: ${out}` : ''}`);
            action.out = out;
            resolve(!err);
        });
    });
}

async function act(r, name, arg) {
    r.acted = true;
    const ok = await action(name, arg);
    if (!ok) r.actionsOk = false;
    return ok;
}

function psql(sql) {
    return new Promise((resolve, reject) => {
        const c = execFile('psql', ['-X', '-q', '-At', '-F', '|', '-v', 'ON_ERROR_STOP=1', env.DATABASE_URL],
            { timeout: 30000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message} ${stderr}`)) : resolve(stdout.trim())));
        c.stdin.end(sql);
    });
}

function check(r, name, good, detail) {
    r.checks.push([name, good, detail]);
}

const S = (ms) => sleep(ms * SCALE);
const quietProduct = () => quiet.products[0];
const quietPatch = (via, headers) => patchPrice(quiet, quietProduct(), via, headers);

// ---------------------------------------------------------------------------------------------
// The L1 rows' tools

const HOSTS = ['h1', 'h2', 'h3'];

// readQuietVia VIA: one read of the quiet product through VIA, judged by the oracle; resolves
// with the answer, r.fresh telling whether it showed every acknowledged write.
async function readQuietVia(via) {
    const p = quietProduct();
    const snap = snapProduct(p);
    const r = await request(via, 'GET', `/products/${p.id}`, { token: quiet.token });
    if (unknown(r)) return r;
    if (r.status !== 200 || !r.json) {
        verdict(r, false, 'a product read');
        return r;
    }
    const fails = [];
    checkProduct(p, r.json, snap, fails);
    judgeRead(r, fails);
    r.fresh = !fails.length;
    return r;
}

// probe HOSTS N GAP: N rounds, GAP ms apart, of one read of the quiet product on each host of
// HOSTS (the first fills that host's L1, the next ones are served from it).
async function probe(hosts, n, gapMs) {
    const out = [];
    for (let i = 0; i < n; i++) {
        for (const h of hosts) out.push(readQuietVia(h));
        await sleep(gapMs);
    }
    return Promise.all(out);
}

// l1Metrics HOST: the L1 families of HOST's /metrics ({ok, hits, live, resets, restarts}; a family the
// pool does not export is undefined).
async function l1Metrics(host) {
    const r = await request(host, 'GET', '/metrics');
    const m = { ok: r.status === 200, hits: undefined, live: undefined, resets: undefined };
    if (!m.ok) return m;
    for (const l of String(r.text).split('\n')) {
        let x;
        if ((x = l.match(/^stock_cache_l1_hits_total\{[^}]*\} (\d+)$/))) m.hits = (m.hits || 0) + Number(x[1]);
        else if ((x = l.match(/^stock_cache_l1_live (\d+)$/))) m.live = Number(x[1]);
        else if ((x = l.match(/^stock_cache_l1_resets_total (\d+)$/))) m.resets = Number(x[1]);
        else if ((x = l.match(/^stock_cache_l1_agent_restarts_total (\d+)$/))) m.restarts = Number(x[1]);
    }
    return m;
}

async function l1Snapshot(hosts) {
    const out = {};
    for (const h of hosts) out[h] = await l1Metrics(h);
    return out;
}

// l1Metrics of HOST once its channel reads live, polled for up to 2 s: stock_cache_l1_live is
// whether a heartbeat came back in the last L1_LIVE_MS (10 ms), which one scrape on a loaded
// machine can miss while the channel is up. Still 0 after 2 s is a channel that is down.
async function l1MetricsLive(host) {
    let m;
    for (let i = 0; i < 40; i++) {
        m = await l1Metrics(host);
        if (m.live === 1) break;
        await S(50);
    }
    return m;
}

async function l1SnapshotLive(hosts) {
    const out = {};
    for (const h of hosts) out[h] = await l1MetricsLive(h);
    return out;
}

// The L1 must have served before the fault, on every host of HOSTS: otherwise the row tests
// nothing (a build without the L1, or with it off, fails here rather than passes).
function checkL1Before(r, hosts) {
    const counts = HOSTS.map((h) => `${h} ${r.l1Before[h]}`).join(', ');
    check(r, `the L1 served before the fault on ${hosts.join(', ')} (X-Cache-Layer: L1 answers before it: ${counts})`,
        hosts.every((h) => r.l1Before[h] > 0));
}

// The L1 of HOST was emptied (its resets counter grew) and serves again (an L1 answer after
// the fault was mended; live at the end).
function checkL1Reset(r, host, before, after) {
    const again = r.l1Again[host];
    check(r, `the L1 of ${host} was emptied and serves again (stock_cache_l1_resets_total ${before.resets} -> ${after.resets}; stock_cache_l1_live ${after.live} at the end; first L1 answer ${again === undefined ? 'none' : `${Math.round(again)} ms`} after the fault was mended)`,
        before.resets !== undefined && after.resets > before.resets && after.live === 1 && again !== undefined);
}

// Every host of HOSTS served from its L1 again after the fault, and its channel is live (M:
// l1Snapshot at the end).
function checkL1Again(r, hosts, m) {
    const again = hosts.map((h) => `${h} ${r.l1Again[h] === undefined ? 'none' : Math.round(r.l1Again[h])}`).join(', ');
    const live = hosts.map((h) => `${h} ${m[h].live}`).join(', ');
    check(r, `every host serves from the L1 again (first L1 answer after the fault, ms: ${again}; stock_cache_l1_live ${live})`,
        hosts.every((h) => r.l1Again[h] !== undefined && m[h].live === 1));
}

function checkL1Off(r) {
    for (const w of r.l1Off) {
        const seen = r.l1OffSeen.length;
        check(r, `${w.host} served nothing from the L1 while ${w.what} (${Math.round((w.to ?? now()) - w.from)} ms from 20 ms after the fault: ${seen} L1 answers)`,
            seen === 0, r.l1OffSeen.slice(0, 3).join('; '));
    }
}

// checkProbes R WHAT ANSWERS: every host answered the reads of ANSWERS and each showed the
// write (the oracle counts the stale ones too; this names them by host).
function checkProbes(r, what, answers) {
    const by = HOSTS.map((h) => {
        const xs = answers.filter((x) => x.via === h);
        return `${h} ${xs.filter((x) => x.fresh).length}/${xs.length}`;
    });
    check(r, `${what}: every host's reads showed it (fresh/reads: ${by.join(', ')})`,
        HOSTS.every((h) => answers.some((x) => x.via === h)) && answers.every((x) => x.fresh));
}

// A payment of the quiet tenant that its worker (or host) is told to die after committing;
// returns [the cut answer, the key, the body].
async function quietCrashPayment(via, fault) {
    const key = `${quiet.prefix}-CRASH${++quiet.seq}`;
    const body = { sale_id: quiet.sale, amount: '1.00', method: 'cash', reference: key };
    const r = await request(via, 'POST', '/payments', { token: quiet.token, body, headers: { 'Idempotency-Key': key, 'X-Stock-Fault': fault } });
    r.crash = true;
    return [r, key, body];
}

// Rows: run(r) breaks, holds, mends (marking r.mendAt: the fault is over) and observes.
const ROWS = [
    { name: 'baseline', async run(r) {
        r.mendAt = now();
        await S(1500);
        await quietPatch('all');
        await S(3000);
    } },
    { name: 'h1 loses Redis only', writeVia: 'h1', host: 'h1', async run(r) {
        await S(1000);
        await act(r, 'h1-redis-cut');
        await S(500);
        await quietPatch('h1');
        await S(2500);
        await quietPatch('h1');
        await S(1500);
        await act(r, 'h1-redis-heal');
        r.mendAt = now();
        await S(300);
        await quietPatch('h1');
        await S(3000);
    } },
    { name: 'h2 loses PostgreSQL only', host: 'h2', async run(r) {
        await S(1000);
        await act(r, 'h2-pg-cut');
        r.noPg = { host: 'h2', from: now() };
        await S(500);
        await quietPatch('h1');
        await S(3500);
        await act(r, 'h2-pg-heal');
        r.noPg.to = now();
        r.mendAt = now();
        await S(300);
        await quietPatch('h3');
        await S(3000);
    } },
    { name: 'a worker killed right after a COMMIT', async run(r) {
        await S(1000);
        // A confirm of a sale of the quiet product whose worker dies between its COMMIT and its
        // invalidation (products, balance); the client looks the sale up, as after any lost
        // answer, and from then on every read must show the stock taken and the sale counted.
        // (Not a PATCH of a product: it runs without a transaction, so the hook, which fires
        // after a COMMIT, never fires there.)
        const p = quietProduct();
        const sale = await create(quiet, '/sales', { customer: `${quiet.prefix}-CRASH${++quiet.seq}`, items: [{ product_id: p.id, quantity: 1 }] });
        ack('sale', quiet, sale.id, sale.customer, null);
        const c = await request('all', 'POST', `/sales/${sale.id}/confirm`, { token: quiet.token, headers: { 'X-Stock-Fault': 'crash-after-commit' } });
        c.crash = true;
        const g = await request('all', 'GET', `/sales/${sale.id}`, { token: quiet.token });
        const done = g.status === 200 && g.json && g.json.status === 'confirmed';
        if (done) {
            // Never acknowledged: owed once the bound for such writes has passed.
            const what = `confirm of sale ${sale.id} (its worker killed after the COMMIT; looked up; owed ${UNACKED_BOUND_MS} ms later)`;
            raise(p.floor, 'confirms', p.floor.confirms.v + 1, what, UNACKED_BOUND_MS);
            raise(quiet.floor, 'sales', quiet.floor.sales.v + 1, what, UNACKED_BOUND_MS);
            ack('confirm', quiet, sale.id, sale.customer, g);
        }
        check(r, `the confirm's worker died after committing (answer ${c.status || c.err}; the sale then reads ${g.json && g.json.status})`,
            unknown(c) && done);
        await S(1500);
        // A payment likewise, retried with its Idempotency-Key: the stored answer, once.
        const [cp, key, body] = await quietCrashPayment('all', 'crash-after-commit');
        const retry = await payUntilAnswered(quiet, body, key, 'all');
        const rowsInDb = await psql(`SELECT id FROM payments WHERE reference = '${key}'`);
        check(r, `the payment's worker died after committing (answer ${cp.status || cp.err}); the retry answered ${retry.status} with the stored payment, one row (${rowsInDb.split('\n').filter(Boolean).length})`,
            unknown(cp) && retry.status === 201 && rowsInDb === String(retry.json && retry.json.id));
        r.mendAt = now();
        await S(3000);
    } },
    { name: 'the whole of h1 killed right after a COMMIT', host: 'h1', async run(r) {
        await S(1000);
        const [cp, key, body] = await quietCrashPayment('h1', 'crash-host-after-commit');
        r.killAt = cp.end;
        const dead = await act(r, 'h1-dead');
        // The client retries on another host with the same key.
        const retry = await payUntilAnswered(quiet, body, key, 'h2');
        const rowsInDb = await psql(`SELECT id FROM payments WHERE reference = '${key}'`);
        check(r, `h1 died with the payment committed (answer ${cp.status || cp.err}, host gone: ${dead}); the retry on h2 answered ${retry.status} with the stored payment, one row (${rowsInDb.split('\n').filter(Boolean).length})`,
            unknown(cp) && dead && retry.status === 201 && retry.host === 'h2' && rowsInDb === String(retry.json && retry.json.id));
        await S(2500);
        await act(r, 'h1-start');
        r.mendAt = now();
        await S(2500);
    } },
    { name: 'h3 paused 3 s', host: 'h3', async run(r) {
        await S(1000);
        await act(r, 'h3-stop');
        const probe = (async () => { await S(300); await quietPatch('all'); })();
        await sleep(3000);
        await act(r, 'h3-cont');
        r.mendAt = now();
        await probe;
        await S(300);
        await quietPatch('all');
        await S(3000);
    } },
    { name: 'Redis restarted', async run(r) {
        await S(1000);
        await act(r, 'redis-stop');
        await S(300);
        await quietPatch('all');
        await S(1200);
        await act(r, 'redis-start');
        r.mendAt = now();
        await S(300);
        await quietPatch('all');
        await S(3000);
    } },
    { name: 'PostgreSQL restarted', async run(r) {
        await S(1000);
        r.pgDown = [now(), Infinity];
        await act(r, 'pg-stop');
        await S(1500);
        await act(r, 'pg-start');
        r.pgDown[1] = now();
        r.mendAt = now();
        await S(300);
        await quietPatch('all');
        await S(3000);
    } },
    { name: 'logout on h1, the token on h2 and h3', async run(r) {
        await S(1000);
        await logoutScenario(r, false);
        r.mendAt = now();
        await S(2500);
    } },
    { name: 'logout on h1 while h1 cannot reach Redis', host: 'h1', async run(r) {
        await S(1000);
        await logoutScenario(r, true);
        r.mendAt = now();
        await S(2500);
    } },
    { name: 'sign-in spray and brute force over the fleet, Redis down', async run(r) {
        await S(1000);
        await act(r, 'redis-stop');
        await loginScenario(r);
        await act(r, 'redis-start');
        r.mendAt = now();
        await S(3000);
    } },
    { name: 'the L1 agent of h1 killed', host: 'h1', async run(r) {
        // First as the fault comes: SIGKILL, the master restarts the agent at once; a write
        // right after. Then with h1's master held for 800 ms after the kill, so that the agent
        // stays dead while a write is made and read on h1: h1 must serve nothing from its L1
        // then (its heartbeat is gone) and, once the new agent runs, never the old entries.
        await S(800);
        await probe(['h1'], 4, 20);
        const m0 = await l1Metrics('h1');
        r.faultAt = now();
        await act(r, 'h1-l1-kill');
        await quietPatch('all');
        const a1 = await probe(HOSTS, 3, 30);
        await act(r, 'h1-l1-new');
        await S(700);
        await probe(['h1'], 4, 20);
        try {
            await act(r, 'h1-master-stop');
            await act(r, 'h1-l1-kill');
            const w = { host: 'h1', from: now() + 20, what: 'its agent was dead (its master held)' };
            r.l1Off.push(w);
            await quietPatch('all');
            a1.push(...await probe(HOSTS, 6, 40));
            await sleep(300);
            w.to = now();
        } finally {
            await act(r, 'h1-master-cont');
        }
        await act(r, 'h1-l1-new');
        r.mendAt = now();
        a1.push(...await probe(HOSTS, 4, 30));
        await S(300);
        await quietPatch('all');
        await S(2000);
        checkL1Before(r, ['h1']);
        checkL1Off(r);
        checkProbes(r, 'the writes after each kill', a1);
        const m1 = await l1MetricsLive('h1');
        checkL1Reset(r, 'h1', m0, m1);
        check(r, `h1's master started the agent again after each kill (stock_cache_l1_agent_restarts_total ${m0.restarts} -> ${m1.restarts})`,
            m0.restarts !== undefined && m1.restarts >= m0.restarts + 2);
    } },
    ...['sub', 'track'].map((kind) => ({ name: `the L1 ${kind === 'sub' ? 'subscriber' : 'tracking'} connection of h2 killed in Redis`, host: 'h2', async run(r) {
        await S(800);
        await probe(['h2'], 4, 20);
        const m0 = await l1Metrics('h2');
        r.faultAt = now();
        await act(r, `h2-l1-kill-${kind}`);
        await quietPatch('all');
        const a = await probe(HOSTS, 4, 30);
        const back = await act(r, `h2-l1-${kind}-back`);
        check(r, `h2's agent connected again (${action.out})`, back);
        r.mendAt = now();
        a.push(...await probe(HOSTS, 4, 30));
        await S(300);
        await quietPatch('all');
        await S(2000);
        checkL1Before(r, ['h2']);
        checkProbes(r, `the write after CLIENT KILL of stock-l1-${kind}`, a);
        checkL1Reset(r, 'h2', m0, await l1MetricsLive('h2'));
    } })),
    { name: 'the L1 agent of h3 paused until Redis drops it (output buffer)', host: 'h3', async run(r) {
        await S(800);
        await probe(['h3'], 4, 20);
        const m0 = await l1Metrics('h3');
        const others0 = await l1Snapshot(['h1', 'h2']);
        let dropped = false;
        let a = [];
        try {
            await act(r, 'obuf-small');
            r.faultAt = now();
            await act(r, 'h3-l1-stop');
            const w = { host: 'h3', from: now() + 20, what: 'its agent was paused' };
            r.l1Off.push(w);
            await quietPatch('all');
            a = await probe(HOSTS, 3, 30);
            dropped = await act(r, 'h3-obuf-flood');
            check(r, `Redis dropped the paused agent's subscriber connection (${action.out})`, dropped);
            await quietPatch('all');
            a.push(...await probe(HOSTS, 3, 30));
            w.to = now();
        } finally {
            await act(r, 'h3-l1-cont');
            await act(r, 'obuf-restore');
        }
        const back = await act(r, 'h3-l1-sub-back');
        check(r, `h3's agent connected again (${action.out})`, back);
        r.mendAt = now();
        a.push(...await probe(HOSTS, 5, 30));
        await act(r, 'fill-del');
        await S(300);
        await quietPatch('all');
        await S(2000);
        checkL1Before(r, ['h3']);
        checkL1Off(r);
        checkProbes(r, 'the writes while the agent was paused and after', a);
        checkL1Reset(r, 'h3', m0, await l1MetricsLive('h3'));
        const others1 = await l1Snapshot(['h1', 'h2']);
        r.notes.push(`resets meanwhile of the agents not paused: ${['h1', 'h2'].map((h) => `${h} ${others0[h].resets} -> ${others1[h].resets}`).join(', ')}`);
    } },
    { name: 'Redis FLUSHALL', async run(r) {
        await S(800);
        await probe(HOSTS, 4, 20);
        r.faultAt = now();
        await act(r, 'redis-flushall');
        r.mendAt = now();
        await quietPatch('all');
        const a = await probe(HOSTS, 5, 30);
        await S(300);
        await quietPatch('all');
        await S(2000);
        checkL1Before(r, HOSTS);
        checkProbes(r, 'the write right after FLUSHALL', a);
        // A FLUSHALL empties the L1s through the ring (a null message), not by a new channel:
        // the channel stays up, and every host serves from its L1 again.
        const m1 = await l1SnapshotLive(HOSTS);
        checkL1Again(r, HOSTS, m1);
    } },
    { name: 'a generation key evicted', async run(r) {
        await S(800);
        const id = await psql(`SELECT id FROM tenants WHERE slug = '${quiet.slug}'`);
        const key = `${env.FLEET_KEY_PREFIX}:tenant:${id}:products:__gen__`;
        await probe(HOSTS, 4, 20);
        let a = [];
        try {
            r.faultAt = now();
            const evicted = await act(r, 'gen-evict', key);
            check(r, `Redis evicted the quiet tenant's products generation key (${action.out})`, evicted);
            if (evicted) {
                await quietPatch('all');
                a = await probe(HOSTS, 5, 30);
            }
        } finally {
            await act(r, 'mem-restore');
        }
        r.mendAt = now();
        await S(300);
        await quietPatch('all');
        a.push(...await probe(HOSTS, 3, 30));
        await S(2000);
        checkL1Before(r, HOSTS);
        checkProbes(r, 'the write after the eviction', a);
        checkL1Again(r, HOSTS, await l1SnapshotLive(HOSTS));
    } },
];

// A session signed in on h1 and used on h2 and h3 (their cache holds it), signed out on h1
// (optionally while h1 cannot reach Redis), then tried on h2 and h3 again.
async function logoutScenario(r, cut) {
    const token = await login(quiet.slug, 'h1');
    const before = [];
    for (const h of ['h2', 'h3']) {
        for (let i = 0; i < 2; i++) before.push(await request(h, 'GET', '/me', { token }));
    }
    if (cut) await act(r, 'h1-redis-cut');
    const out = await request('h1', 'POST', '/auth/logout', { token });
    const after = [];
    for (const h of ['h2', 'h3']) after.push(await request(h, 'GET', '/me', { token }));
    await S(300);
    for (const h of ['h2', 'h3']) after.push(await request(h, 'GET', `/products/${quietProduct().id}`, { token }));
    if (cut) await act(r, 'h1-redis-heal');
    // Correct when as expected; otherwise neither correct nor wrong: the check below names them.
    for (const x of before) if (x.status === 200) verdict(x, true);
    if (out.status === 204) verdict(out, true);
    for (const x of after) if (x.status === 401) verdict(x, true);
    const codes = (xs) => xs.map((x) => `${x.via}:${x.status}`).join(' ');
    check(r, `the session worked on h2 and h3 before (${codes(before)}); logout on h1 answered ${out.status}; then h2 and h3 refused it (${codes(after)})`,
        before.every((x) => x.status === 200) && out.status === 204 && after.every((x) => x.status === 401));
}

// Failed sign-ins spread over the three hosts at once: a spray (one address, 30 accounts) and a
// brute force (one account, 30 addresses). Each bucket allows 10 checks (401); the rest is 429.
async function loginScenario(r) {
    const email = `admin@${LOGIN_SLUG}.test`;
    const spray = await Promise.all(Array.from({ length: 30 }, (_, i) => request(`h${1 + (i % 3)}`, 'POST', '/auth/login',
        { body: { tenant: LOGIN_SLUG, email: `user${i}@${LOGIN_SLUG}.test`, password: `spray-${i}` }, xff: '198.51.100.7' })));
    const brute = await Promise.all(Array.from({ length: 30 }, (_, i) => request(`h${1 + (i % 3)}`, 'POST', '/auth/login',
        { body: { tenant: LOGIN_SLUG, email, password: `brute-${i}` }, xff: `203.0.113.${i + 1}` })));
    const right = await request('h2', 'POST', '/auth/login', { body: { tenant: LOGIN_SLUG, email, password: env.FLEET_PASSWORD }, xff: '203.0.113.200' });
    const count = (xs, s) => xs.filter((x) => x.status === s).length;
    const others = (xs) => xs.filter((x) => x.status !== 401 && x.status !== 429).map((x) => `${x.via}:${x.status || x.err}`);
    const perHost = (xs) => ['h1', 'h2', 'h3'].map((h) => `${h} ${xs.filter((x) => x.via === h && x.status === 401).length}`).join(', ');
    for (const x of [...spray, ...brute]) verdict(x, x.status === 401 || x.status === 429, 'a failed sign-in');
    verdict(right, right.status === 429, 'the right password of a locked account');
    check(r, `spray (one address, 30 accounts, Redis down): ${count(spray, 401)} failed sign-ins allowed (${perHost(spray)}), ${count(spray, 429)} refused; limit 10`,
        count(spray, 401) <= 10 && others(spray).length === 0, others(spray).join(' '));
    check(r, `brute force (one account, 30 addresses, Redis down): ${count(brute, 401)} failed sign-ins allowed (${perHost(brute)}), ${count(brute, 429)} refused; limit 10`,
        count(brute, 401) <= 10 && others(brute).length === 0, others(brute).join(' '));
    check(r, `then the right password of that account from a new address is refused (${right.status})`, right.status === 429);
    r.login = { spray: count(spray, 401), brute: count(brute, 401) };
}

// ---------------------------------------------------------------------------------------------
// The end: lost and duplicated writes, the table, the checks

async function finalChecks() {
    const csv = path.join(OUT, 'acks.csv');
    fs.writeFileSync(csv, acks.map((a) => a.join(',')).join('\n') + '\n');
    const slugs = [...tenants.map((t) => `'${t.slug}'`)].join(',');
    const q = async (sql) => (await psql(`CREATE TEMP TABLE acks (kind text, slug text, id bigint, marker text, row int);
\\copy acks FROM '${csv}' WITH (FORMAT csv)
${sql}`)).split('\n').filter(Boolean).map((l) => l.split('|'));
    // A PATCH is lost when the product's price ended below it (prices only grow).
    const lost = await q(`SELECT a.kind, a.row FROM acks a JOIN tenants t ON t.slug = a.slug WHERE
        (a.kind = 'patch' AND NOT EXISTS (SELECT 1 FROM products p WHERE p.tenant_id = t.id AND p.id = a.id AND (p.price * 100)::bigint >= (CASE WHEN a.kind = 'patch' THEN a.marker END)::bigint))
        OR (a.kind = 'sale' AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.tenant_id = t.id AND s.id = a.id AND s.customer = a.marker))
        OR (a.kind = 'confirm' AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.tenant_id = t.id AND s.id = a.id AND s.status = 'confirmed'))
        OR (a.kind = 'payment' AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.tenant_id = t.id AND p.id = a.id AND p.reference = a.marker))`);
    for (const [, ri] of lost) if (rows[Number(ri)]) rows[Number(ri)].lost++;
    // The same Idempotency-Key (a payment's reference) or sale marker more than once.
    const dups = await q(`SELECT x.marker, coalesce((SELECT max(a.row) FROM acks a WHERE a.marker = x.marker), -1) FROM (
        SELECT p.reference AS marker FROM payments p JOIN tenants t ON t.id = p.tenant_id WHERE t.slug IN (${slugs}) GROUP BY p.tenant_id, p.reference HAVING count(*) > 1
        UNION ALL
        SELECT s.customer FROM sales s JOIN tenants t ON t.id = s.tenant_id WHERE t.slug IN (${slugs}) GROUP BY s.tenant_id, s.customer HAVING count(*) > 1) x`);
    for (const [m, ri] of dups) {
        const target = rows[Number(ri)] || rows[rows.length - 1];
        target.dup++;
        target.notes.push(`written twice: ${m}`);
    }
    const kinds = {};
    for (const a of acks) kinds[a[0]] = (kinds[a[0]] || 0) + 1;
    log(`acknowledged writes: ${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', ')}; ${maybeSales.length} sale creations without an answer`);
}

// Classifies a row's failures: allowed 5xx (the host that lost PostgreSQL, PostgreSQL down),
// cut requests (the killed worker or host), and the rest.
function classify(r) {
    const c = { s5xx: 0, byHost: {}, allowed: 0, bad: [], cut: 0, noAnswer: [] };
    for (const f of r.failures) {
        const isCut = f.crash || (r.killAt !== undefined && (f.host === 'h1' || !f.status) &&
            f.start <= r.killAt + 100 && f.end >= r.killAt - 100 && f.end <= r.killAt + 3000);
        if (isCut) { c.cut++; continue; }
        if (!f.status) { c.noAnswer.push(f); continue; }
        c.s5xx++;
        c.byHost[f.host] = (c.byHost[f.host] || 0) + 1;
        const ok = (r.noPg && f.host === r.noPg.host) || (r.pgDown && f.start <= r.pgDown[1] && f.end >= r.pgDown[0]);
        if (ok) c.allowed++; else c.bad.push(f);
    }
    return c;
}

const results = { passed: 0, failed: 0, skipped: 0 };
function line(name, good, detail) {
    if (good) { results.passed++; console.log(`ok - ${name}`); } else { results.failed++; console.log(`not ok - ${name}${detail ? ` (${detail})` : ''}`); }
}

// The first L1 answer after the fault was mended: by the host the fault was on, else by any.
function l1AgainCell(r) {
    const xs = r.spec.host ? [r.l1Again[r.spec.host]] : HOSTS.map((h) => r.l1Again[h]);
    const v = xs.filter((x) => x !== undefined);
    if (r.mendAt === undefined || !v.length) return '-';
    return Math.round(r.spec.host ? v[0] : Math.min(...v));
}

function report() {
    const table = [['row', 'requests', 'correct', 'stale after ack', 'stale up to ms', '5xx (host)', 'cut', 'no answer', 'lost', 'dup', 'slowest ms', 'HIT again after ms',
        'L1 h1/h2/h3', 'L1 before fault', 'L1 again after ms']];
    for (const r of rows) {
        const c = classify(r);
        r.c = c;
        const hosts = Object.entries(c.byHost).map(([h, n]) => `${h} ${n}`).join(', ');
        table.push([r.name, r.requests, r.correct, r.stale, r.stale ? Math.round(r.staleFor) : '-', `${c.s5xx}${hosts ? ` (${hosts})` : ''}`, c.cut, c.noAnswer.length,
            r.lost, r.dup, Math.round(r.maxMs), r.hitResume === undefined ? '-' : Math.round(r.hitResume),
            HOSTS.map((h) => r.l1[h]).join('/'), r.faultAt === undefined ? '-' : HOSTS.map((h) => r.l1Before[h]).join('/'), l1AgainCell(r)]);
    }
    for (const r of rows) {
        const c = r.c;
        const n = `row '${r.name}'`;
        if (r.acted) line(`${n}: the fault was made and mended`, r.actionsOk);
        for (const [name, good, detail] of r.checks) line(`${n}: ${name}`, good, detail);
        line(`${n}: stale after ack 0 (${r.stale} of the reads were)`, r.stale === 0);
        line(`${n}: lost writes 0, duplicated writes 0 (${r.acked} acknowledged: ${r.lost} lost, ${r.dup} duplicated)`, r.lost === 0 && r.dup === 0);
        const bad = c.bad.map((f) => `${f.method} ${f.path} via ${f.via} on ${f.host} -> ${f.status}`).slice(0, 4).join('; ');
        if (r.noPg) {
            // SPEC §9: a host that cannot reach PostgreSQL never serves a cached entry it cannot
            // prove current: it proves it for CACHE_TRUST_MS after its last good poll of the
            // outbox (core/cache_outbox.c), and serves no HIT after that.
            const last = r.lastHitNoPg === undefined ? 'none' : `the last ${Math.round(r.lastHitNoPg)} ms after the cut`;
            line(`${n}: ${r.noPg.host} served cached reads only within the trust bound after it lost PostgreSQL (${r.hitsNoPg} HITs, ${last}; bound ${UNACKED_BOUND_MS} ms + 100)`,
                (r.lastHitNoPg || 0) <= UNACKED_BOUND_MS + 100);
            line(`${n}: 5xx only on ${r.noPg.host}, the host that lost PostgreSQL (${c.allowed} there, ${c.bad.length} elsewhere)`, c.bad.length === 0, bad);
        } else if (r.pgDown) {
            line(`${n}: 5xx only while PostgreSQL was down (${c.allowed} then, ${c.bad.length} outside)`, c.bad.length === 0, bad);
        } else {
            line(`${n}: no 5xx${r.killAt !== undefined || r.failures.some((f) => f.crash) ? ' but the cut requests' : ''} (${c.s5xx} 5xx, ${c.cut} cut)`, c.bad.length === 0, bad);
        }
        const na = c.noAnswer.map((f) => `${f.method} ${f.path} via ${f.via}: ${f.err}`).slice(0, 3).join('; ');
        line(`${n}: every request not cut got an answer (${c.noAnswer.length} without)`, c.noAnswer.length === 0, na);
        line(`${n}: no wrong answer (${r.correct} correct, ${r.wrong} wrong)`, r.wrong === 0, r.notes.filter((x) => x.startsWith('wrong')).slice(0, 2).join(' | '));
    }
    const total = rows.reduce((s, r) => s + r.requests, 0);
    line(`the run made at least 100 requests/s on average (${Math.round(total / (now() / 1000))})`, total / (now() / 1000) >= 100);

    console.log('#');
    console.log('# stale after ack: a read that started after a write was acknowledged and returned older data, counted');
    console.log('# in the row of that write; stale up to: the longest time after that ack that a read started and was');
    console.log('# still stale; cut: the request on the killed worker or host (502 or a cut connection);');
    console.log('# HIT again after: ms from the end of the fault to the first X-Cache: HIT answered (by the host the fault');
    console.log('# was on, when it was on one host: h1, h2, h1 restarted, h3, h1)');
    console.log('# L1 h1/h2/h3: answers served from the L1 (X-Cache-Layer: L1) by each host in the row; L1 before fault:');
    console.log('# those that started before the fault was made (the L1 rows); L1 again after: ms from the end of the fault');
    console.log('# to the first answer from the L1 (by the host the fault was on, else by any host)');
    const w = table[0].map((_, i) => Math.max(...table.map((x) => String(x[i]).length)));
    const fmt = (x) => `| ${x.map((v, i) => (i === 0 ? String(v).padEnd(w[i]) : String(v).padStart(w[i]))).join(' | ')} |`;
    console.log(fmt(table[0]));
    console.log(`|${w.map((k, i) => (i === 0 ? '-'.repeat(k + 2) : `${'-'.repeat(k + 1)}:`)).join('|')}|`);
    for (const x of table.slice(1)) console.log(fmt(x));
    for (const r of rows) {
        for (const x of r.staleSeen) console.log(`# ${r.name}: stale: ${x}`);
        if (r.staleLongest) console.log(`# ${r.name}: stale, the latest after its ack: ${r.staleLongest}`);
        for (const x of r.notes) console.log(`# ${r.name}: ${x}`);
    }
    fs.writeFileSync(path.join(env.FLEET_DIR, 'table.md'), [fmt(table[0]), ...table.slice(1).map(fmt)].join('\n') + '\n');
}

async function main() {
    log(`load ${RATE} requests/s (${Math.round(WRITE_RATE)} writes) from ${SLUGS.length} tenants through nginx :${PORT0} (hosts :${PORT0 + 1}-${PORT0 + 3})`);
    row = newRow('setup');
    for (let i = 0; i < SLUGS.length; i++) tenants.push(await setupTenant(SLUGS[i], i + 1, i === SLUGS.length - 1 ? 1 : 2));
    quiet = tenants[tenants.length - 1];
    // The quiet tenant's sale, confirmed: the payments of the kill rows go to it.
    const qs = await create(quiet, '/sales', { customer: `${quiet.prefix}-Q`, items: [{ product_id: quietProduct().id, quantity: 1000 }] });
    const qc = await request('all', 'POST', `/sales/${qs.id}/confirm`, { token: quiet.token });
    if (qc.status !== 200) throw new Error(`setup: confirm -> ${qc.status} ${qc.text}`);
    quiet.sale = qs.id;
    quietProduct().floor.confirms = floor(1000, 'setup');
    quiet.floor.sales = floor(1, 'setup');
    rows.length = 0;
    const only = (env.FLEET_ROWS || '').split(',').filter(Boolean).map(Number);
    const plan = ROWS.filter((x, i) => !only.length || only.includes(i + 1));
    row = newRow(plan[0].name, plan[0]);
    const loops = [readers(), ...tenants.slice(0, -1).flatMap((t) => t.products.map((p) => writer(t, p)))];
    for (let i = 0; i < plan.length; i++) {
        if (i > 0) { row.end = now(); row = newRow(plan[i].name, plan[i]); }
        log(`row ${rows.length}: ${row.name}`);
        try {
            await plan[i].run(row);
        } catch (e) {
            row.actionsOk = false;
            row.notes.push(`the row failed: ${e.message}`);
        }
    }
    row.end = now();
    running = false;
    await Promise.all(loops);
    await finalChecks();
    report();
    console.log(`# the fleet load ran ${Math.round(now() / 1000)} s`);
}

main().catch((e) => {
    line(`the fleet run: ${e.stack || e}`, false);
}).finally(() => {
    fs.writeFileSync(path.join(env.FLEET_DIR, 'counts'), `${results.passed} ${results.failed} ${results.skipped}\n`);
});
