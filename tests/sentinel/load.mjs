// load.mjs: the load and the oracle of one fault row of the sentinel suite (tests/sentinel/run.sh
// starts it, breaks Redis meanwhile, and reads the figures it prints). The oracle is the fleet's
// (tests/fleet/load.mjs), on a smaller load: one writer per product, in order, PATCHes the
// product's name to "<prefix> v<N>" (N strictly increasing) and records a receipt of 1 unit
// with an Idempotency-Key (retried with the same key until answered); readers GET the products
// (cached) all the time.
// - stale after ack: a read that started after the ack of version N (or of the K-th receipt)
//   and answered an older name (or a lower stock).
// - lost: an acknowledged write missing from PostgreSQL at the end (the shell checks the names
//   and receipts against the figures in the last line).
// - duplicated: a receipt applied twice (the shell counts the references in PostgreSQL).
// Environment: BASE (http://host:port), TOKEN, PRODUCTS (ids, comma-separated), PREFIX (of the
// names and references), LOAD_SECONDS (how long), RATE (reads per second, default 60).
// Prints "# ..." notes and one last line of JSON: {reads, failed, stale, hits, writes, acked,
// maxMs, last: {id: [last acked version, receipts acked, stock at the start]}, staleSeen: [...]}.
import http from 'node:http';

const env = process.env;
const BASE = new URL(env.BASE);
const TOKEN = env.TOKEN;
const IDS = env.PRODUCTS.split(',').map(Number);
const PREFIX = env.PREFIX;
const SECONDS = Number(env.LOAD_SECONDS || 10);
const RATE = Number(env.RATE || 60);
const t0 = performance.now();
const now = () => performance.now() - t0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function request(method, path, body, headers = {}) {
    return new Promise((resolve) => {
        const data = body === undefined ? undefined : JSON.stringify(body);
        const start = now();
        const req = http.request({
            host: BASE.hostname, port: BASE.port, method, path: `/api/v1${path}`,
            headers: {
                Authorization: `Bearer ${TOKEN}`, Connection: 'close',
                ...(data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}),
                ...headers,
            },
            timeout: 15000,
        }, (res) => {
            let s = '';
            res.setEncoding('utf8');
            res.on('data', (c) => { s += c; });
            res.on('end', () => {
                let json = null;
                try { json = JSON.parse(s); } catch { /* not JSON */ }
                resolve({ status: res.statusCode, json, cache: res.headers['x-cache'], start, end: now() });
            });
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', (e) => resolve({ status: 0, err: e.message, start, end: now() }));
        if (data) req.write(data);
        req.end();
    });
}

// Floors per product: the version and the receipts acknowledged, each with its ack time.
const floors = new Map(IDS.map((id) => [id, { v: [], r: [] }]));
const out = { reads: 0, failed: 0, stale: 0, hits: 0, writes: 0, acked: 0, maxMs: 0, last: {}, staleSeen: [] };
let running = true;

// The floor a read that started at t must see: the highest value acknowledged before t.
function floorAt(list, t) {
    let v = -1;
    for (const [val, at] of list) if (at < t && val > v) v = val;
    return v;
}

async function writer(id, base) {
    const f = floors.get(id);
    let version = 0, receipts = 0, ackedV = 0;
    while (running) {
        version++;
        const name = `${PREFIX} v${version}`;
        const p = await request('PATCH', `/products/${id}`, { name });
        out.writes++;
        if (p.status === 200) {
            f.v.push([version, p.end]);
            ackedV = version;
            out.acked++;
        } else if (p.status !== 0) {
            out.failed++;
        }
        const key = `${PREFIX}-${id}-${receipts + 1}`;
        for (let tries = 0; tries < 50; tries++) {
            const m = await request('POST', '/stock/movements',
                { product_id: id, kind: 'receipt', quantity: '1', reference: key }, { 'Idempotency-Key': key });
            out.writes++;
            if (m.status === 201) {
                receipts++;
                f.r.push([base + receipts, m.end]);
                out.acked++;
                break;
            }
            if (m.status !== 0 && m.status < 500) { out.failed++; break; }
            await sleep(100);
        }
        out.last[id] = [ackedV, receipts];
        await sleep(40);
    }
}

async function reader() {
    const gap = 1000 / RATE;
    let next = now();
    const pending = new Set();
    while (running) {
        const id = IDS[Math.floor(Math.random() * IDS.length)];
        const p = request('GET', `/products/${id}`).then((r) => {
            out.reads++;
            out.maxMs = Math.max(out.maxMs, r.end - r.start);
            if (r.status !== 200 || !r.json) { out.failed++; return; }
            if (r.cache === 'HIT') out.hits++;
            const f = floors.get(id);
            const m = /v(\d+)$/.exec(r.json.name || '');
            const v = m ? Number(m[1]) : 0;
            const stock = Math.round(Number(r.json.stock));
            const needV = floorAt(f.v, r.start), needR = floorAt(f.r, r.start);
            if (v < needV || (needR >= 0 && stock < needR)) {
                out.stale++;
                if (out.staleSeen.length < 5)
                    out.staleSeen.push(`product ${id} at ${(r.start / 1000).toFixed(2)}s: v${v} stock ${stock}, acked v${needV} stock ${needR} (${r.cache})`);
            }
        });
        pending.add(p);
        p.then(() => pending.delete(p));
        next += gap;
        await sleep(Math.max(0, next - now()));
    }
    await Promise.all(pending);
}

async function main() {
    const bases = new Map();
    for (const id of IDS) {
        const r = await request('GET', `/products/${id}`);
        bases.set(id, Math.round(Number(r.json && r.json.stock)));
    }
    const ws = IDS.map((id) => writer(id, bases.get(id)));
    const rs = [reader()];
    await sleep(SECONDS * 1000);
    running = false;
    await Promise.all([...ws, ...rs]);
    for (const id of IDS) out.last[id] = [...(out.last[id] || [0, 0]), bases.get(id)];
    console.log(JSON.stringify(out));
}

main().catch((e) => { console.log(`# load.mjs failed: ${e.stack}`); process.exit(1); });
