// load.mjs: the load and the scoreboard of the fault suite (started by tests/faults/run.sh, which
// also documents the environment). Node's own http module, one connection per request
// (Connection: close), so that an nginx reload or a dead worker is seen exactly as a browser or
// an API client would see it, without a client-side connection pool in between.
//
// Per tenant two loops run, paced together to FAULT_RATE requests/s:
// - a writer that owns the tenant's product and knows what every answer must say: it creates
//   sales (customer = a unique marker), confirms them, pays them (Idempotency-Key = reference =
//   a unique marker), and reads the product, the product search and the balance series, checking
//   stock, sales count and totals against what it has had acknowledged. An answer that disagrees
//   is "wrong". A write whose outcome is unknown (5xx, no answer) is settled the way a careful
//   client would: a payment is retried with the same key until it gets an answer, a confirm is
//   looked up with GET /sales/{id}.
// - a reader that lists products, sales, payments, categories and units and checks that every
//   row carries its own tenant's marker (nothing of another tenant leaks, through the cache or
//   otherwise).
// Phases break one part at a time (run.sh --action), with load before, during and after. At the
// end every acknowledged sale, confirm and payment is looked up in PostgreSQL, duplicates are
// counted, and the cached reads are compared with the database once more.
import http from 'node:http';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const env = process.env;
const BASE = new URL(env.FAULT_BASE);
const RATE = Number(env.FAULT_RATE || 300);
const SCALE = Number(env.FAULT_SECONDS_SCALE || 1);
const TIMEOUT_MS = 1000; // the longest wait the stack is configured for (Redis 0.5 s, twice)
const HUNG_MS = 2 * TIMEOUT_MS;
const HARD_MS = 15000; // the client gives up here (the request also counts as hung)
const OUT = path.join(env.FAULT_DIR, 'load');
// How long a worker's L1 may serve after its channel last proved itself, as compiled in.
const L1_LIVE_MS = Number(fs.readFileSync(new URL('../../fcgi/core/l1.h', import.meta.url), 'utf8')
    .match(/#define L1_LIVE_MS (\d+)/)[1]);
const SLUGS = env.FAULT_TENANTS.split(',');
const RUN_ID = env.FAULT_RUN_ID;
fs.mkdirSync(OUT, { recursive: true });

const t0 = performance.now();
const now = () => performance.now() - t0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (s) => console.log(`# [${(now() / 1000).toFixed(1)}s] ${s}`);

// ---------------------------------------------------------------------------------------------
// Requests and the scoreboard

let phase = null; // the phase whose counters the requests started now go to
const phases = [];
const windows = []; // [from, to, what]: the times a part that 5xx may come from was down
const acks = []; // [kind, slug, id, marker]
const maybeSales = []; // markers of sale creations whose outcome was unknown
const problems = []; // descriptions of wrong answers (the first few are printed)
let running = true;

function newPhase(name, allowed) {
    const p = {
        name, allowed, requests: 0, ok: 0, wrong: 0, s5xx: 0, s5xxOutside: 0, hung: 0,
        noAnswer: 0, hits: 0, hitsBroken: 0, lost: 0, dup: 0, writesAcked: 0, maxMs: 0, start: now(), end: null, notes: [],
    };
    phases.push(p);
    return p;
}

let nextSlot = 0;
async function pace() {
    const at = Math.max(nextSlot, now());
    nextSlot = at + 1000 / RATE;
    if (at > now()) await sleep(at - now());
}

function request(method, p, { token, body, headers = {} } = {}) {
    return new Promise((resolve) => {
        const start = now();
        const ph = phase;
        const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
        const h = { ...headers, Connection: 'close' };
        if (token) h.Authorization = `Bearer ${token}`;
        if (data) {
            h['Content-Type'] = 'application/json';
            h['Content-Length'] = data.length;
        }
        let settled = false;
        const req = http.request({
            host: BASE.hostname, port: BASE.port, path: p.startsWith('/health') ? p : `/api/v1${p}`, method, headers: h,
            agent: false,
        });
        const timer = setTimeout(() => req.destroy(new Error('client timeout')), HARD_MS);
        const finish = (status, text, headersIn, err) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            const end = now();
            const r = { method, path: p, status, text, headers: headersIn || {}, err, start, end,
                ms: end - start, phase: ph, json: null };
            if (status && text) {
                try { r.json = JSON.parse(text); } catch { r.json = null; }
            }
            ph.requests++;
            if (r.ms > ph.maxMs) ph.maxMs = r.ms;
            if (r.ms > HUNG_MS) ph.hung++;
            if (!status) {
                ph.noAnswer++;
                if (ph.notes.length < 6) ph.notes.push(`${method} ${p} -> no answer (${err ? err.message : 'closed'}) at ${(start / 1000).toFixed(2)}s`);
            }
            if (status >= 500) {
                ph.s5xx++;
                if (!windows.some(([a, b]) => start <= b && end >= a)) {
                    ph.s5xxOutside++;
                    if (ph.notes.length < 6) ph.notes.push(`${method} ${p} -> ${status} at ${(start / 1000).toFixed(2)}s`);
                }
            }
            if (r.headers['x-cache'] === 'HIT') {
                ph.hits++;
                if (ph.brokenAt !== undefined && start >= ph.brokenAt && end <= ph.mendAt) {
                    ph.hitsBroken++;
                    if (ph.notes.length < 6) ph.notes.push(`${method} ${p} -> HIT (${r.headers['x-cache-layer'] || '?'}) at ${(start / 1000).toFixed(2)}s, broken ${((ph.brokenAt) / 1000).toFixed(2)}-${(ph.mendAt / 1000).toFixed(2)}s`);
                }
            }
            if (ph.stopAt !== undefined && start < ph.stopAt && end > ph.stopAt) (ph.inFlight ||= []).push(r);
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

// verdict R GOOD WHY: the answer R was a correct one (GOOD) or a wrong one; 5xx and no answer
// are counted by request() and are neither.
function verdict(r, good, why) {
    if (!r.status || r.status >= 500) return;
    if (good) {
        r.phase.ok++;
    } else {
        r.phase.wrong++;
        if (problems.length < 20) problems.push(`${r.phase.name}: ${r.method} ${r.path} -> ${r.status} ${why || ''} ${r.text.slice(0, 200)}`);
    }
}

const unknown = (r) => !r.status || r.status >= 500;
const cents = (s) => Math.round(Number(s) * 100);
const day = (d) => new Date(Date.now() + d * 86400000).toISOString().slice(0, 10);

// ---------------------------------------------------------------------------------------------
// Tenants

async function login(slug) {
    for (let i = 0; i < 50; i++) {
        const r = await request('POST', '/auth/login', {
            body: { tenant: slug, email: `admin@${slug}.test`, password: env.FAULT_PASSWORD },
        });
        if (r.status === 200) return r.json.token;
        await sleep(200);
    }
    throw new Error(`cannot sign in to ${slug}`);
}

async function create(t, p, body) {
    const r = await request('POST', p, { token: t.token, body });
    if (r.status !== 201) throw new Error(`setup POST ${p} -> ${r.status} ${r.text}`);
    return r.json.id;
}

async function setupTenant(slug, i) {
    const t = { slug, i, token: await login(slug), seq: 0, stock: 1000000, salesCount: 0,
        salesCents: 0, paidCents: 0, open: [] };
    t.prefix = `F${i}-${RUN_ID}`;
    t.uom = await create(t, '/uom', { name: `${t.prefix} piece`, abbreviation: `p${i}` });
    t.category = await create(t, '/categories', { name: `${t.prefix} things` });
    t.product = await create(t, '/products', {
        sku: `${t.prefix}-P`, name: `${t.prefix} product`, uom_id: t.uom, category_id: t.category,
        price: '10.00', stock: String(t.stock),
    });
    return t;
}

// ---------------------------------------------------------------------------------------------
// The writer of a tenant

function checkBalance(t, r) {
    const tot = r.json && r.json.totals;
    const good = r.status === 200 && tot && tot.sales_count === t.salesCount &&
        cents(tot.sales_total) === t.salesCents && cents(tot.payments_total) === t.paidCents;
    verdict(r, good, `expected count ${t.salesCount} sales ${t.salesCents} paid ${t.paidCents}`);
}

function confirmed(t, id) {
    t.stock -= 1;
    t.salesCount += 1;
    t.salesCents += 1000;
    t.open.push({ id, dueCents: 1000 });
}

// Settles a confirm whose answer was lost: the sale says whether it happened.
async function settleConfirm(t, id) {
    for (;;) {
        await pace();
        const r = await request('GET', `/sales/${id}`, { token: t.token });
        if (unknown(r)) { await sleep(100); continue; }
        verdict(r, r.status === 200, 'looking up a sale');
        if (r.status === 200 && r.json.status === 'confirmed') confirmed(t, id);
        return;
    }
}

async function sellOne(t) {
    const marker = `${t.prefix}-S${++t.seq}`;
    await pace();
    let r = await request('POST', '/sales', { token: t.token,
        body: { customer: marker, items: [{ product_id: t.product, quantity: 1 }] } });
    if (unknown(r)) { maybeSales.push([t.slug, marker, phases.indexOf(r.phase)]); return; }
    verdict(r, r.status === 201 && r.json.customer === marker && cents(r.json.total) === 1000);
    if (r.status !== 201) return;
    const id = r.json.id;
    acks.push(['sale', t.slug, id, marker, phases.indexOf(r.phase)]);
    r.phase.writesAcked++;
    await pace();
    r = await request('POST', `/sales/${id}/confirm`, { token: t.token });
    if (unknown(r)) { await settleConfirm(t, id); return; }
    verdict(r, r.status === 200 && r.json.status === 'confirmed');
    if (r.status !== 200) return;
    acks.push(['confirm', t.slug, id, marker, phases.indexOf(r.phase)]);
    r.phase.writesAcked++;
    confirmed(t, id);
}

async function payOne(t) {
    const sale = t.open[0];
    const key = `${t.prefix}-K${++t.seq}`;
    const body = { sale_id: sale.id, amount: '1.00', method: ['cash', 'card', 'transfer'][t.seq % 3],
        reference: key };
    // Until it has an answer: the same key, so that the payment happens once at most.
    for (let tries = 0; ; tries++) {
        await pace();
        const r = await request('POST', '/payments', { token: t.token, body,
            headers: { 'Idempotency-Key': key } });
        if (unknown(r)) { await sleep(100); continue; }
        verdict(r, r.status === 201 && r.json.reference === key && cents(r.json.amount) === 100);
        if (r.status !== 201) return;
        acks.push(['payment', t.slug, r.json.id, key, phases.indexOf(r.phase)]);
        r.phase.writesAcked++;
        t.paidCents += 100;
        sale.dueCents -= 100;
        if (sale.dueCents <= 0) t.open.shift();
        return;
    }
}

async function writer(t) {
    const bal = `/balance/series?from=${day(-1)}&to=${day(1)}&granularity=daily`;
    while (running) {
        const x = Math.random();
        if (x < 0.25) {
            await pace();
            const r = await request('GET', `/products/${t.product}`, { token: t.token });
            verdict(r, r.status === 200 && Number(r.json.stock) === t.stock, `expected stock ${t.stock}`);
        } else if (x < 0.40) {
            await pace();
            const r = await request('GET', `/products?q=${encodeURIComponent(t.prefix)}`, { token: t.token });
            const item = r.json && r.json.items && r.json.items.find((p) => p.id === t.product);
            verdict(r, r.status === 200 && item && Number(item.stock) === t.stock, `expected stock ${t.stock} in the list`);
        } else if (x < 0.60) {
            await pace();
            checkBalance(t, await request('GET', bal, { token: t.token }));
        } else if (x < 0.80 || t.open.length === 0) {
            await sellOne(t);
        } else {
            await payOne(t);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The reader of a tenant: every row it is shown is its own tenant's.

async function reader(t) {
    const lists = [
        ['/products?limit=100', (x) => x.sku.startsWith(t.prefix)],
        ['/sales?limit=50', (x) => x.customer.startsWith(t.prefix)],
        ['/payments?limit=50', (x) => x.reference.startsWith(t.prefix)],
        ['/categories', (x) => x.name.startsWith(t.prefix)],
        ['/uom', (x) => x.name.startsWith(t.prefix)],
    ];
    let n = 0;
    while (running) {
        const [p, mine] = lists[n++ % lists.length];
        await pace();
        const r = await request('GET', p, { token: t.token });
        verdict(r, r.status === 200 && Array.isArray(r.json.items) && r.json.items.every(mine),
            'a row of another tenant, or no list');
    }
}

// ---------------------------------------------------------------------------------------------
// Faults

function action(name) {
    return new Promise((resolve) => {
        const start = now();
        execFile('bash', [env.FAULT_SELF, '--action', name], { env, timeout: 90000 },
            (err, stdout, stderr) => {
                const ms = now() - start;
                const out = `${stdout}${stderr}`.trim().replace(/\n/g, ' | ');
                log(`action ${name}: ${err ? 'FAILED' : 'done'} in ${Math.round(ms)} ms${out ? `: ${out}` : ''}`);
                resolve(!err);
            });
    });
}

// Each phase: load before (lead), the break, the fault held (hold), the mend, load after (tail).
// `window` marks the phases whose 5xx are expected while the part is down.
const PLAN = [
    { name: 'baseline (no fault)' },
    { name: 'Redis killed (SIGKILL), restarted', brk: 'redis-kill', hold: 2000, mend: 'redis-start', degraded: true },
    { name: 'Redis paused 2.5 s (CLIENT PAUSE)', brk: 'redis-pause', hold: 3000, pauseMs: 2500, degraded: true },
    { name: 'Redis restarted, other password', brk: 'redis-password', hold: 2500, mend: 'redis-password-back', degraded: true },
    { name: 'Redis out of memory (noeviction)', brk: 'redis-oom', hold: 2500, mend: 'redis-oom-end' },
    { name: 'PostgreSQL restarted', brk: 'pg-stop', hold: 1500, mend: 'pg-start', window: 'PostgreSQL down' },
    { name: 'worker killed (SIGKILL)', brk: 'worker-kill', mend: 'worker-respawned', maxOutside: 1 },
    { name: 'nginx reloaded (SIGHUP)', brk: 'nginx-reload' },
    { name: 'pool stopped (SIGTERM), started', brk: 'pool-stop', mend: 'pool-start', window: 'pool down', stop: true },
];

let tenantsAll = [];
async function runPlan() {
    // FAULT_PHASES=2,3 runs only those phases of PLAN (1 is the baseline), to work on one fault.
    const only = (env.FAULT_PHASES || '').split(',').filter(Boolean).map(Number);
    for (const step of PLAN.filter((x, i) => !only.length || only.includes(i + 1))) {
        phase = newPhase(step.name, step.maxOutside || 0);
        phase.step = step;
        await sleep(1500 * SCALE);
        let ok = true;
        if (step.brk) {
            const from = now();
            // Open-ended while the action runs, so that the 5xx answered meanwhile find it.
            const win = step.window ? [from, Infinity, step.window] : null;
            if (win) windows.push(win);
            let burst = null;
            if (step.stop) {
                phase.stopAt = from;
                phase.logFrom = logSize();
                // Forty uncached reads at once, unpaced; the SIGTERM goes as soon as the first is
                // answered (so the pool has them): most are then still queued on the pool's
                // socket, and must be answered all the same.
                let first;
                const started = new Promise((r) => { first = r; });
                burst = Promise.all(Array.from({ length: 40 }, (_, k) => {
                    const t = tenantsAll[k % tenantsAll.length];
                    return request('GET', `/balance/series?from=${day(-300 - k)}&to=${day(-1)}&granularity=daily`, { token: t.token })
                        .then((r) => { first(); return r; });
                }));
                await started;
                phase.stopAt = now();
            }
            ok = await action(step.brk);
            if (burst) {
                const rs = await burst;
                phase.burst = { sent: rs.length, answered: rs.filter((r) => r.status === 200).length,
                    refused: rs.filter((r) => r.status === 502).length };
                for (const r of rs) verdict(r, r.status === 200 || r.status === 502);
            }
            phase.brokenAt = now();
            phase.mendAt = step.mend ? Infinity : phase.brokenAt;
            if (step.pauseMs) {
                // The pause began at some T0 between `from` and now and ends at T0 + pauseMs, so
                // [now, from + pauseMs] lies inside it. A worker's L1 may serve for L1_LIVE_MS
                // after its last proven heartbeat (sent before T0; fcgi/core/l1.c, Bounds), so
                // the window where no HIT may be served starts L1_LIVE_MS later.
                phase.brokenAt += L1_LIVE_MS;
                phase.mendAt = from + step.pauseMs;
            }
            if (step.degraded) {
                // Evidence that the fault is felt: the pool reports its cache as degraded.
                phase.felt = false;
                for (let i = 0; i < 20 && !phase.felt; i++) {
                    const r = await request('GET', '/health/cache');
                    phase.felt = r.status === 200 && r.json && r.json.status === 'degraded';
                    if (process.env.FAULT_DEBUG) log(`probe ${r.status} ${r.text}`);
                    if (!phase.felt) await sleep(50);
                }
            }
            if (step.hold) await sleep(step.hold * SCALE);
            if (step.mend) phase.mendAt = now();
            if (step.mend) ok = (await action(step.mend)) && ok;
            if (win) win[1] = now();
            phase.brokenFor = now() - from;
        }
        phase.actionsOk = ok;
        await sleep(3000 * SCALE);
        phase.end = now();
        if (step.stop) phase.logTo = logSize();
    }
    phase = newPhase('after recovery', 0);
    await sleep(2000 * SCALE);
    running = false;
}

// ---------------------------------------------------------------------------------------------
// Checks at the end

function psql(sql) {
    return execFileSync('psql', ['-X', '-q', '-At', '-F', '|', '-v', 'ON_ERROR_STOP=1', env.DATABASE_URL],
        { input: sql, encoding: 'utf8' }).trim();
}

let passed = 0;
let failed = 0;
function check(name, good, detail) {
    if (good) { passed++; console.log(`ok - ${name}`); } else { failed++; console.log(`not ok - ${name}${detail ? ` (${detail})` : ''}`); }
}

// The nginx error log lines of the pool-stop phase: refusals (connect() failed: nothing was sent)
// and drops (a request was handed to the pool, which closed without answering).
const NGINX_ERRORS = path.join(env.FAULT_DIR, 'logs', 'nginx-error.log');
const logSize = () => (fs.existsSync(NGINX_ERRORS) ? fs.statSync(NGINX_ERRORS).size : 0);
function nginxPoolLines(from, to) {
    const text = fs.existsSync(NGINX_ERRORS) ? fs.readFileSync(NGINX_ERRORS).subarray(from, to).toString() : '';
    const lines = text.split('\n').filter((l) => l.includes('upstream'));
    return {
        refused: lines.filter((l) => /connect\(\) (to .* )?failed/.test(l)).length,
        dropped: lines.filter((l) => /prematurely closed|reset by peer|broken pipe/i.test(l) && !/connect\(\)/.test(l)),
    };
}

async function finalChecks(tenants) {
    // Cached reads after recovery: each tenant's product and balance become HITs again, and say
    // what the database says.
    phase = newPhase('final reads', 0);
    for (const t of tenants) {
        let hit = false;
        for (let i = 0; i < 80 && !hit; i++) {
            const r = await request('GET', `/products/${t.product}`, { token: t.token });
            verdict(r, r.status === 200 && Number(r.json.stock) === t.stock, `expected stock ${t.stock}`);
            hit = r.headers['x-cache'] === 'HIT';
            if (!hit) await sleep(500);
        }
        check(`${t.slug}: the product is served from the cache again after the faults`, hit);
        const bal = `/balance/series?from=${day(-1)}&to=${day(1)}&granularity=daily`;
        for (let i = 0; i < 2; i++) checkBalance(t, await request('GET', bal, { token: t.token }));
    }

    const csv = path.join(OUT, 'acks.csv');
    fs.writeFileSync(csv, acks.map((a) => a.join(',')).join('\n') + '\n');
    const likeSlug = `flt-${RUN_ID}-%`;
    const rowsOf = (sql) => psql(`CREATE TEMP TABLE acks (kind text, slug text, id bigint, marker text, phase int);
\\copy acks FROM '${csv}' WITH (FORMAT csv)
${sql}`).split('\n').filter(Boolean);
    // Acknowledged writes missing from PostgreSQL, as "kind|phase" lines.
    const lost = rowsOf(`SELECT a.kind, a.phase FROM acks a JOIN tenants t ON t.slug = a.slug WHERE
        (a.kind = 'sale' AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.tenant_id = t.id AND s.id = a.id AND s.customer = a.marker))
        OR (a.kind = 'confirm' AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.tenant_id = t.id AND s.id = a.id AND s.status = 'confirmed'))
        OR (a.kind = 'payment' AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.tenant_id = t.id AND p.id = a.id AND p.reference = a.marker))`)
        .map((l) => l.split('|'));
    const lostOf = (kind) => lost.filter(([k]) => k === kind).length;
    const lostSales = lostOf('sale');
    const lostConfirms = lostOf('confirm');
    const lostPayments = lostOf('payment');
    // Markers found more than once (a sale's customer, a payment's reference).
    const dupSaleMarkers = rowsOf(`SELECT s.customer FROM sales s JOIN tenants t ON t.id = s.tenant_id
        WHERE t.slug LIKE '${likeSlug}' GROUP BY s.tenant_id, s.customer HAVING count(*) > 1`);
    const dupPaymentMarkers = rowsOf(`SELECT p.reference FROM payments p JOIN tenants t ON t.id = p.tenant_id
        WHERE t.slug LIKE '${likeSlug}' GROUP BY p.tenant_id, p.reference HAVING count(*) > 1`);
    const dupSales = dupSaleMarkers.length;
    const dupPayments = dupPaymentMarkers.length;
    // Each to the phase its request ran in.
    const phaseOfMarker = new Map();
    for (const [, , , marker, ph] of acks) phaseOfMarker.set(marker, ph);
    for (const [, marker, ph] of maybeSales) phaseOfMarker.set(marker, ph);
    for (const [, ph] of lost) if (phases[Number(ph)]) phases[Number(ph)].lost++;
    for (const m of [...dupSaleMarkers, ...dupPaymentMarkers]) {
        const ph = phases[phaseOfMarker.get(m)];
        if (ph) ph.dup++;
    }
    const counts = { sale: 0, confirm: 0, payment: 0 };
    for (const a of acks) counts[a[0]]++;
    console.log(`# acknowledged writes: ${counts.sale} sales created, ${counts.confirm} confirmed, ${counts.payment} payments; ${maybeSales.length} sale creations with no answer`);
    check(`every acknowledged sale is in PostgreSQL (${counts.sale})`, lostSales === 0, `${lostSales} missing`);
    check(`every acknowledged confirm is in PostgreSQL (${counts.confirm})`, lostConfirms === 0, `${lostConfirms} missing`);
    check(`every acknowledged payment is in PostgreSQL (${counts.payment})`, lostPayments === 0, `${lostPayments} missing`);
    check('no sale was created twice', dupSales === 0, `${dupSales} duplicated`);
    check('no payment was made twice (one row per Idempotency-Key)', dupPayments === 0, `${dupPayments} duplicated`);

    for (const t of tenants) {
        const row = psql(`SELECT p.stock::numeric, (SELECT count(*) FROM sales s WHERE s.tenant_id = t.id AND s.status = 'confirmed'),
            (SELECT coalesce(sum(amount), 0) FROM payments y WHERE y.tenant_id = t.id)
            FROM tenants t JOIN products p ON p.tenant_id = t.id WHERE t.slug = '${t.slug}' AND p.id = ${Number(t.product)}`).split('|');
        const good = Number(row[0]) === t.stock && Number(row[1]) === t.salesCount && cents(row[2]) === t.paidCents;
        check(`${t.slug}: PostgreSQL agrees with every answer the client was given (stock ${t.stock}, ${t.salesCount} confirmed, ${(t.paidCents / 100).toFixed(2)} paid)`,
            good, `database: stock ${row[0]}, ${row[1]} confirmed, ${row[2]} paid`);
    }
}

// ---------------------------------------------------------------------------------------------

function table() {
    const head = ['phase', 'requests', 'correct', 'wrong', '5xx', '5xx part up', 'hung>2s', 'no answer', 'HIT', 'writes acked', 'lost', 'dup', 'max ms'];
    const rows = phases.map((p) => [p.name, p.requests, p.ok, p.wrong, p.s5xx, p.s5xxOutside, p.hung, p.noAnswer, p.hits, p.writesAcked, p.lost, p.dup, Math.round(p.maxMs)]);
    const w = head.map((h, i) => Math.max(String(h).length, ...rows.map((r) => String(r[i]).length)));
    const line = (r) => `| ${r.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join(' | ')} |`;
    console.log(line(head));
    console.log(`|${w.map((n, i) => (i === 0 ? '-'.repeat(n + 2) : `${'-'.repeat(n + 1)}:`)).join('|')}|`);
    for (const r of rows) console.log(line(r));
}

async function main() {
    log(`load ${RATE} requests/s from ${SLUGS.length} tenants through ${BASE.origin}`);
    phase = newPhase('setup', 0);
    const tenants = [];
    for (let i = 0; i < SLUGS.length; i++) tenants.push(await setupTenant(SLUGS[i], i + 1));
    tenantsAll = tenants;
    const loops = tenants.flatMap((t) => [writer(t), reader(t)]);
    await runPlan();
    await Promise.all(loops);
    await finalChecks(tenants);

    console.log('# the fault table (5xx part up: 5xx from a request that ran while no part that may');
    console.log('# cause one was down; hung: answered after more than 2 s, twice the longest timeout;');
    console.log('# lost: acknowledged writes of the phase missing from PostgreSQL; dup: written twice)');
    table();
    for (const p of problems) console.log(`# wrong: ${p}`);
    for (const p of phases.filter((x) => x.step)) {
        for (const n of p.notes) console.log(`# ${p.name}: ${n}`);
        check(`${p.name}: the fault was made and mended`, p.actionsOk);
        if (p.step.degraded) {
            check(`${p.name}: /health/cache said degraded during the fault`, p.felt);
            check(`${p.name}: no cache HIT while Redis was unreachable`, p.hitsBroken === 0, `${p.hitsBroken} HITs`);
        }
        check(`${p.name}: no wrong answer (${p.ok} correct)`, p.wrong === 0, `${p.wrong} wrong`);
        // The one request on a killed worker ends as nginx's 502, or, when the worker had begun
        // its answer, as a connection nginx cuts: at most `allowed` of both together.
        check(`${p.name}: no 5xx while PostgreSQL and the pool were up${p.allowed ? ` (at most ${p.allowed} with the cut answers below: the request on the killed worker)` : ''}`,
            p.s5xxOutside + (p.allowed ? p.noAnswer : 0) <= p.allowed, `${p.s5xxOutside} such 5xx`);
        check(`${p.name}: no request hung past ${HUNG_MS} ms (slowest ${Math.round(p.maxMs)} ms)`, p.hung === 0, `${p.hung} hung`);
        check(`${p.name}: every request got an answer from nginx${p.allowed ? ` (but the request on the killed worker, counted above)` : ''}`,
            p.noAnswer <= p.allowed, `${p.noAnswer} without`);
        check(`${p.name}: no acknowledged write lost, none made twice (${p.writesAcked} acknowledged)`,
            p.lost === 0 && p.dup === 0, `${p.lost} lost, ${p.dup} twice`);
    }
    for (const p of phases.filter((x) => !x.step && x.name !== 'setup')) {
        check(`${p.name}: no wrong answer, no 5xx (${p.ok} correct)`, p.wrong === 0 && p.s5xx === 0, `${p.wrong} wrong, ${p.s5xx} 5xx`);
    }
    const stop = phases.find((p) => p.step && p.step.stop) || {};
    const ng = nginxPoolLines(stop.logFrom || 0, stop.logTo || 0);
    const inFlight = stop.inFlight || [];
    const answered = inFlight.filter((r) => r.status && r.status < 500).length;
    console.log(`# pool SIGTERM: ${inFlight.length} requests were in flight when it was sent; ${answered} of them were answered without a 5xx`);
    console.log(`# pool SIGTERM: nginx logged ${ng.refused} refused connections (the pool had closed its socket; nothing sent) and ${ng.dropped.length} dropped requests`);
    for (const l of ng.dropped.slice(0, 5)) console.log(`#   ${l}`);
    if (stop.burst) {
        console.log(`# pool SIGTERM: of ${stop.burst.sent} reads sent together just before it, ${stop.burst.answered} were answered (200) and ${stop.burst.refused} refused (502, nginx could not connect)`);
        check('pool SIGTERM under load: the reads sent just before it were answered', stop.burst.answered >= stop.burst.sent / 2 && stop.burst.answered + stop.burst.refused === stop.burst.sent);
    }
    check('pool SIGTERM under load: no request handed to the pool was dropped', ng.dropped.length === 0, `${ng.dropped.length} dropped`);
    check('the run made at least 100 requests/s on average', phases.reduce((s, p) => s + p.requests, 0) / (now() / 1000) >= 100);
    console.log(`RESULT faults passed=${passed} failed=${failed}`);
    process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
    console.log(`not ok - the fault run: ${e.stack || e}`);
    console.log(`RESULT faults passed=${passed} failed=${failed + 1}`);
    process.exitCode = 1;
});
