// check.mjs: the checks of tests/http/test_openapi.sh over the OpenAPI document. Prints one line
// per check, "ok - ...", "not ok - ..." or "ok - ... # SKIP why" (the shell counts them), and
// lines starting with "# " for information.
//   node check.mjs document DOC           DOC is a valid OpenAPI 3.1 document (the schema of the
//                                         OpenAPI Initiative, @seriousme/openapi-schema-validator)
//   node check.mjs routes DOC ROUTES      every route of `stock-fcgi --routes` (ROUTES, its output) is
//                                         an operation of DOC with the same method, path, {id} and
//                                         role, and DOC has no other operation (PENDING and the
//                                         routes nginx serves itself excepted)
//   node check.mjs answers DOC ROUTES REC every answer recorded in REC (tests/lib/api.sh api_record,
//                                         its framed answers) has a status its operation lists,
//                                         a media type and headers it documents, and a body that
//                                         validates against its schema (JSON Schema 2020-12, ajv);
//                                         every operation in the route table has at least one
//                                         validated answer
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

// Routes other branches are adding now, documented ahead of them: while they are not in the
// route table they are reported as skipped, never as passed; once there, checked like the rest.
const PENDING = [];
// Served by nginx, not by the pool (tests/http/test_openapi.sh checks that it is served).
const NGINX = ['GET /api/v1/openapi.json'];
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

const [mode, docFile, routesFile, recFile] = process.argv.slice(2);
let failed = 0;
const ok = (name) => console.log(`ok - ${name}`);
const notOk = (name, why) => {
    failed++;
    console.log(`not ok - ${name}${why ? ` (${why})` : ''}`);
};
const skip = (name, why) => console.log(`ok - ${name} # SKIP ${why}`);
const info = (text) => console.log(`# ${text}`);

function operations(doc) {
    const ops = [];
    for (const [path, item] of Object.entries(doc.paths || {}))
        for (const m of METHODS) if (item[m]) ops.push({ key: `${m.toUpperCase()} ${path}`, method: m.toUpperCase(), path, op: item[m], item });
    return ops;
}

function routeTable(file) {
    return readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => {
            const [method, path, flags = ''] = l.trim().split(/\s+/);
            return { key: `${method} ${path}`, method, path, flags: flags.split(',') };
        })
        .filter((r) => r.path.startsWith('/api/v1') || r.path.startsWith('/health') || r.path === '/metrics');
}

async function checkDocument(file) {
    const v = new Validator();
    const r = await v.validate(file);
    if (r.valid && v.version === '3.1') ok(`${file.replace(/.*\//, '')} is a valid OpenAPI ${v.version} document`);
    else notOk(`${file} is a valid OpenAPI 3.1 document`, `version ${v.version}: ${JSON.stringify(r.errors).slice(0, 600)}`);
}

function checkRoutes(doc, routes) {
    const ops = new Map(operations(doc).map((o) => [o.key, o]));
    const table = new Map(routes.map((r) => [r.key, r]));
    if (routes.length < 10) notOk('the route table has routes', `${routes.length} lines`);
    for (const r of routes) {
        const o = ops.get(r.key);
        if (!o) {
            notOk(`route ${r.key} is in the document`);
            continue;
        }
        const sec = o.op.security ?? doc.security ?? [];
        const isPublic = sec.length === 0;
        const role = o.op['x-stock-role'];
        const codes = Object.keys(o.op.responses);
        const problems = [];
        if (r.flags.includes('public') !== isPublic) problems.push(`public in the table: ${r.flags.includes('public')}, security: ${JSON.stringify(sec)}`);
        if (r.flags.includes('admin') !== (role === 'admin')) problems.push(`admin in the table: ${r.flags.includes('admin')}, x-stock-role: ${role}`);
        if (r.flags.includes('admin') && !codes.includes('403')) problems.push('an admin route without 403');
        if (!isPublic && !codes.includes('401')) problems.push('an authenticated route without 401');
        if (r.flags.includes('id') !== r.path.includes('{id}')) problems.push('{id} flag and path differ');
        if (r.flags.includes('id') && !codes.includes('404')) problems.push('an {id} route without 404');
        if (problems.length) notOk(`route ${r.key} (${r.flags.join(',')}) matches its operation`, problems.join('; '));
        else ok(`route ${r.key} (${r.flags.join(',')}) is in the document with its role`);
    }
    for (const o of ops.values()) {
        if (table.has(o.key)) continue;
        if (PENDING.includes(o.key)) skip(`operation ${o.key} is in the route table`, 'skipped: pending route');
        else if (NGINX.includes(o.key)) info(`${o.key} is served by nginx (checked by its GET)`);
        else notOk(`operation ${o.key} of the document is in the route table`, 'no such route');
    }
}

// The document's schemas as one JSON Schema 2020-12 resource for ajv.
function compiler(doc) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    addFormats(ajv);
    const rewrite = (v) =>
        JSON.parse(JSON.stringify(v).replaceAll('"#/components/schemas/', '"urn:stock:openapi#/$defs/'));
    ajv.addSchema({ $id: 'urn:stock:openapi', $defs: rewrite(doc.components.schemas) });
    const cache = new Map();
    return (schema) => {
        const k = JSON.stringify(schema);
        if (!cache.has(k)) cache.set(k, ajv.compile(rewrite(schema)));
        return cache.get(k);
    };
}

function resolve(doc, v) {
    while (v && v.$ref && v.$ref.startsWith('#/components/')) {
        const [, , kind, name] = v.$ref.split('/');
        v = doc.components[kind][name];
    }
    return v;
}

function templateRe(path) {
    return new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
}

function parseHeaders(raw) {
    // The last header block (curl -D writes a 100 Continue's first).
    const blocks = (raw || '').split(/\n(?=HTTP\/)/);
    const h = new Map();
    for (const line of blocks[blocks.length - 1].split('\n')) {
        const i = line.indexOf(':');
        if (i > 0 && !line.startsWith('HTTP/')) h.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    return h;
}

// The record of tests/lib/api.sh api_record: "@@ SUITE METHOD STATUS HEADER_BYTES BODY_BYTES
// REQUEST_BYTES URL\n", the headers, the body, the request (Content-Type "\n" body), "\n"; again
// and again.
function readRecord(file) {
    const buf = readFileSync(file);
    const answers = [];
    let p = 0, unparsed = 0;
    while (p < buf.length) {
        const nl = buf.indexOf(10, p);
        const meta = nl < 0 ? '' : buf.subarray(p, nl).toString('utf8');
        const m = /^@@ (\S*) (\S+) ([0-9]+) ([0-9]+) ([0-9]+) ([0-9]+) (.*)$/.exec(meta);
        const end = m ? nl + 1 + Number(m[4]) + Number(m[5]) + Number(m[6]) : -1;
        if (!m || end >= buf.length || buf[end] !== 10) {
            unparsed++;
            const next = buf.indexOf('\n@@ ', p + 1);
            if (next < 0) break;
            p = next + 1;
            continue;
        }
        const hEnd = nl + 1 + Number(m[4]);
        const bEnd = hEnd + Number(m[5]);
        const url = m[7];
        const req = buf.subarray(bEnd, end).toString('utf8');
        const rnl = req.indexOf('\n');
        const q = url.indexOf('?');
        answers.push({
            suite: m[1],
            method: m[2],
            status: Number(m[3]),
            path: q < 0 ? url : url.slice(0, q),
            query: q < 0 ? '' : url.slice(q + 1),
            headers: buf.subarray(nl + 1, hEnd).toString('utf8'),
            body: buf.subarray(hEnd, bEnd).toString('utf8'),
            requestType: rnl < 0 ? '' : req.slice(0, rnl),
            requestBody: rnl < 0 ? null : req.slice(rnl + 1),
        });
        p = end + 1;
    }
    return { answers, unparsed };
}

function checkAnswers(doc, routes, recFile) {
    const compile = compiler(doc);
    const table = new Set(routes.map((r) => r.key));
    const ops = operations(doc).map((o) => ({ ...o, re: templateRe(o.path), good: 0, requests: 0, statuses: new Set(), bad: [] }));
    // Exact paths before templates: /sales/{id} must not take /sales/x/confirm (it cannot: [^/]).
    const { answers: lines, unparsed } = readRecord(recFile);
    let unrouted = 0, head = 0, nginxPages = 0;
    const unroutedSeen = [];
    for (const a of lines) {
        if (a.status === 0) continue; // no answer at all (a test of a dead server): nothing to check
        const o = ops.find((x) => x.method === (a.method === 'HEAD' ? 'GET' : a.method) && x.re.test(a.path));
        if (!o) {
            if (unrouted++ < 8) unroutedSeen.push(`${a.method} ${a.path.slice(0, 60)} -> ${a.status}`);
            continue;
        }
        if (a.method === 'HEAD') {
            head++;
            continue;
        }
        const url = `${a.path}${a.query ? `?${a.query}` : ''}`;
        const where = `${a.method} ${url.length > 100 ? `${url.slice(0, 100)}...` : url} -> ${a.status}`;
        // nginx's own refusals before any worker sees the request (a header or URI too large):
        // its HTML error pages, not answers of the API.
        if (a.status >= 400 && /^text\/html/.test(parseHeaders(a.headers).get('content-type') || '')) {
            nginxPages++;
            continue;
        }
        const resp = resolve(doc, o.op.responses[String(a.status)]);
        if (!resp) {
            o.bad.push(`${where}: status ${a.status} is not documented (${Object.keys(o.op.responses).join(', ')})`);
            continue;
        }
        const hdrs = parseHeaders(a.headers);
        const media = (hdrs.get('content-type') || '').split(';')[0].trim().toLowerCase();
        const problems = [];
        for (const [name, hv] of Object.entries(resp.headers || {})) {
            const h = resolve(doc, hv);
            const got = hdrs.get(name.toLowerCase());
            if (got === undefined) {
                // x-stock-required-with: required of the answers of that media type only
                const need = h.required || (h['x-stock-required-with'] && h['x-stock-required-with'] === media);
                if (need) problems.push(`header ${name} is missing`);
                continue;
            }
            if (h.schema) {
                const v = compile(h.schema);
                const val = h.schema.type === 'integer' && /^[0-9]+$/.test(got) ? Number(got) : got;
                if (!v(val)) problems.push(`header ${name}: ${JSON.stringify(got)} ${v.errors.map((e) => e.message).join('; ')}`);
            }
        }
        if (!resp.content) {
            if (a.body.length) problems.push(`a body where none is documented: ${a.body.slice(0, 80)}`);
        } else if (!resp.content[media]) {
            problems.push(`media type '${media}' is not documented (${Object.keys(resp.content).join(', ')})`);
        } else if (media === 'application/json') {
            let body;
            try {
                body = JSON.parse(a.body);
            } catch {
                problems.push(`not JSON: ${a.body.slice(0, 80)}`);
            }
            if (body !== undefined) {
                const v = compile(resp.content[media].schema);
                if (!v(body))
                    problems.push(
                        v.errors
                            .slice(0, 4)
                            .map((e) => `${e.instancePath || '/'} ${e.message}${e.params && e.params.additionalProperty ? ` '${e.params.additionalProperty}'` : ''}`)
                            .join('; '),
                    );
            }
        }
        // A JSON request the handler accepted (2xx) is valid by the document: the document is no
        // stricter than the handler.
        const reqJson = o.op.requestBody && o.op.requestBody.content && o.op.requestBody.content['application/json'];
        if (a.status >= 200 && a.status < 300 && reqJson && a.requestBody && /^application\/json/i.test(a.requestType)) {
            let rb;
            try {
                rb = JSON.parse(a.requestBody);
            } catch {
                problems.push(`the handler accepted a request that is not JSON: ${a.requestBody.slice(0, 60)}`);
            }
            if (rb !== undefined) {
                const v = compile(reqJson.schema);
                if (v(rb)) o.requests++;
                else
                    problems.push(
                        `the handler accepted a request the document refuses: ${v.errors
                            .slice(0, 3)
                            .map((e) => `${e.instancePath || '/'} ${e.message}`)
                            .join('; ')} in ${a.requestBody.slice(0, 120)}`,
                    );
            }
        }
        if (problems.length) o.bad.push(`${where}: ${problems.join('; ')}`);
        else {
            o.good++;
            o.statuses.add(a.status);
        }
    }
    info(`${lines.length} answers recorded; ${unrouted} for no documented operation (unknown paths, 405s), ${head} HEAD, ${nginxPages} nginx HTML error pages, ${unparsed} unreadable`);
    if (unrouted) info(`no documented operation: ${unroutedSeen.join(', ')}${unrouted > unroutedSeen.length ? ', ...' : ''}`);
    if (lines.length === 0 || unparsed > 0) notOk('the record holds readable answers', `${lines.length} lines, ${unparsed} unreadable`);
    let total = 0;
    for (const o of ops) {
        total += o.good;
        const live = table.has(o.key) || NGINX.includes(o.key);
        const name = `${o.key}: answers validate`;
        if (!live && PENDING.includes(o.key)) {
            skip(name, 'skipped: pending route');
            continue;
        }
        if (o.bad.length) {
            notOk(name, `${o.bad.length} of ${o.bad.length + o.good} do not: ${o.bad.slice(0, 3).join(' | ')}`);
            for (const b of o.bad.slice(3, 20)) info(`  also ${b}`);
        } else if (o.good === 0) notOk(name, 'no answer of this operation was recorded');
        else ok(`${name} (${o.good}, statuses ${[...o.statuses].sort().join(' ')}${o.requests ? `; ${o.requests} accepted requests valid` : ''})`);
    }
    info(`${total} answers validated`);
}

const doc = JSON.parse(readFileSync(docFile, 'utf8'));
if (mode === 'document') await checkDocument(docFile);
else if (mode === 'routes') checkRoutes(doc, routeTable(routesFile));
else if (mode === 'answers') checkAnswers(doc, routeTable(routesFile), recFile);
else {
    console.error('usage: check.mjs document|routes|answers DOC [ROUTES [RECORD]]');
    process.exit(2);
}
process.exit(failed ? 1 : 0);
