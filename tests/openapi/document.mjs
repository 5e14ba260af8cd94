// document.mjs: the source of the OpenAPI 3.1 document of the stock API, nginx/static/openapi.json
// (served by nginx at /api/v1/openapi.json). Edit this file, then regenerate the JSON:
//   node tests/openapi/document.mjs > nginx/static/openapi.json
// tests/http/test_openapi.sh fails when the JSON is not this file's output, when a route of
// `stock-fcgi --routes` is missing here (or one here is not in the table), and when an answer the
// end-to-end suites get does not validate against its route's schema for its status.
//
// Shapes follow the handlers (fcgi/routes/*.c) and the JSON their services build in SQL
// (fcgi/services/*.c): money is a string with exactly 2 decimals, quantities with 3, timestamps
// are stock_ts() (ISO 8601, microseconds, "+00:00"), ids are integers. Object answers are
// closed (additionalProperties: false): a field added by a handler must be added here too.

const ref = (name) => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema) => ({ oneOf: [schema, { type: 'null' }] });
const obj = (properties, required = Object.keys(properties), extra = {}) => ({
    type: 'object',
    properties,
    required,
    additionalProperties: false,
    ...extra,
});
const str = (maxLength, extra = {}) => ({ type: 'string', maxLength, ...extra });
// A text field the handler trims and refuses when blank (spaces, tabs, newlines only).
const text = (maxLength) => str(maxLength, { minLength: 1, pattern: '[^ \\t\\n\\r]' });
const json = (schema) => ({ 'application/json': { schema } });

// ---- schemas ----

const BALANCE_SUMS = {
    sales_count: { type: 'integer', minimum: 0 },
    sales_total: { $ref: '#/components/schemas/Money' },
    returns_total: { $ref: '#/components/schemas/Money' },
    payments_total: { $ref: '#/components/schemas/Money', description: 'Payments of the method filter, refunds lowering it' },
    outstanding: { $ref: '#/components/schemas/Money', description: 'Receivables at the end of the period' },
};

const schemas = {
    Id: { type: 'integer', format: 'int64', minimum: 1 },
    Money: {
        type: 'string',
        pattern: '^-?[0-9]+\\.[0-9]{2}$',
        description: 'An exact decimal with 2 decimals, e.g. "12.50" (negative for refunds)',
    },
    Quantity: {
        type: 'string',
        pattern: '^-?[0-9]+\\.[0-9]{3}$',
        description: 'An exact decimal with 3 decimals, e.g. "1.500"',
    },
    MoneyIn: {
        description:
            'Money as a JSON string or number, read exactly (no binary floating point): at most 12 digits before the point and 2 after',
        oneOf: [
            { type: 'string', pattern: '^[0-9]{1,12}(\\.[0-9]{1,2})?$' },
            { type: 'number', minimum: 0, maximum: 999999999999.99 },
        ],
    },
    QuantityIn: {
        description:
            'A quantity as a JSON string or number, read exactly: at most 12 digits before the point and 3 after',
        oneOf: [
            { type: 'string', pattern: '^[0-9]{1,12}(\\.[0-9]{1,3})?$' },
            { type: 'number', minimum: 0, maximum: 999999999999.999 },
        ],
    },
    SignedQuantityIn: {
        description: 'A quantity that may be negative (an adjustment), at most 3 decimals',
        oneOf: [
            { type: 'string', pattern: '^-?[0-9]{1,12}(\\.[0-9]{1,3})?$' },
            { type: 'number', minimum: -999999999999.999, maximum: 999999999999.999 },
        ],
    },
    Timestamp: {
        type: 'string',
        format: 'date-time',
        description: 'ISO 8601 with an offset, e.g. "2026-01-05T10:00:00.123456+00:00"',
    },
    Date: { type: 'string', format: 'date', description: 'YYYY-MM-DD' },
    PaymentMethod: { type: 'string', enum: ['cash', 'card', 'transfer'] },
    Role: { type: 'string', enum: ['admin', 'staff'] },
    Error: obj({
        error: obj({
            code: {
                type: 'string',
                description:
                    'A stable slug: bad_request, unauthorized, invalid_credentials, forbidden, csrf_failed, not_found, conflict, in_use, invalid_state, insufficient_stock, overpayment, overrefund, has_returns, has_payments, last_admin, precondition_failed, payload_too_large, unsupported_media_type, validation_error, required, invalid_type, too_long, blank, invalid_decimal, invalid_reference, idempotency_mismatch, rate_limited, database_unavailable, ...',
            },
            message: { type: 'string' },
            field: {
                type: ['string', 'null'],
                description: 'The field or parameter at fault, e.g. "items[0].quantity", or null',
            },
            error_count: { type: 'integer', minimum: 1, description: 'POST /products/import only: how many rows are at fault' },
            errors: {
                type: 'array',
                description: 'POST /products/import only: the rows at fault',
                items: obj({ line: { type: 'integer', minimum: 1 }, field: { type: ['string', 'null'] }, message: { type: 'string' } }),
            },
        }, ['code', 'message', 'field']),
    }),

    UserRef: obj({ id: ref('Id'), email: { type: 'string' } }),
    SessionUser: obj({ id: ref('Id'), email: { type: 'string' }, role: ref('Role') }),
    TenantRef: obj(
        {
            id: ref('Id'),
            slug: { type: 'string' },
            name: { type: 'string' },
            locale: { type: 'string', enum: ['en', 'es'] },
            currency: { type: 'string', pattern: '^[A-Z]{3}$' },
        },
        undefined,
        { description: 'The session\'s tenant' },
    ),
    Tenant: obj({
        id: ref('Id'),
        slug: { type: 'string' },
        name: { type: 'string' },
        timezone: { type: 'string' },
        locale: { type: 'string', enum: ['en', 'es'] },
        currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    }),
    TenantPatch: {
        type: 'object',
        description: 'Any of the fields; another field is 422 naming it',
        properties: {
            name: str(200, { minLength: 1, pattern: '[^ \\t\\n\\r\\v\\f]', description: '1 to 200 characters, not only blanks' }),
            locale: { type: 'string', enum: ['en', 'es'] },
            currency: { type: 'string', pattern: '^[A-Z]{3}$', description: 'An active ISO 4217 code in capitals, e.g. USD, EUR, MXN, ARS' },
        },
        additionalProperties: false,
    },
    LoginIn: {
        type: 'object',
        required: ['tenant', 'email', 'password'],
        properties: { tenant: str(63), email: str(254), password: str(256) },
    },
    Login: obj({
        token: { type: 'string' },
        expires_at: ref('Timestamp'),
        csrf_token: { type: 'string' },
        user: ref('SessionUser'),
        tenant: ref('TenantRef'),
    }),
    Me: obj({
        user: ref('SessionUser'),
        tenant: ref('TenantRef'),
        csrf_token: { type: 'string', description: 'For X-CSRF-Token on cookie-authenticated writes' },
        expires_at_unix: { type: 'integer' },
    }),
    MyPasswordIn: {
        type: 'object',
        required: ['current_password', 'password'],
        properties: {
            current_password: str(256),
            password: str(256, { minLength: 10, description: '10 to 256 characters, not the email' }),
        },
    },

    Uom: obj({
        id: ref('Id'),
        name: { type: 'string' },
        abbreviation: { type: 'string' },
        created_at: ref('Timestamp'),
        updated_at: ref('Timestamp'),
    }),
    UomIn: {
        type: 'object',
        description: 'POST and PUT need both fields; PATCH any. Text is trimmed and must not be blank.',
        properties: { name: text(100), abbreviation: text(20) },
    },
    Category: obj({
        id: ref('Id'),
        name: { type: 'string' },
        description: { type: ['string', 'null'] },
        product_count: { type: 'integer', minimum: 0 },
        created_at: ref('Timestamp'),
        updated_at: ref('Timestamp'),
    }),
    CategoryIn: {
        type: 'object',
        description: 'POST and PUT need name; PATCH any. A PUT without description sets it to null.',
        properties: { name: text(200), description: { type: ['string', 'null'], maxLength: 2000 } },
    },
    ProductRef: obj({ id: ref('Id'), sku: { type: 'string' }, name: { type: 'string' } }),
    Product: obj({
        id: ref('Id'),
        sku: { type: 'string' },
        name: { type: 'string' },
        category: nullable(obj({ id: ref('Id'), name: { type: 'string' } })),
        uom: obj({ id: ref('Id'), name: { type: 'string' }, abbreviation: { type: 'string' } }),
        price: ref('Money'),
        cost: ref('Money'),
        stock: ref('Quantity'),
        min_stock: ref('Quantity'),
        created_at: ref('Timestamp'),
        updated_at: ref('Timestamp'),
    }),
    ProductIn: {
        type: 'object',
        description:
            'POST and PUT need sku, name, uom_id and price; PATCH any. stock on create is the opening movement; a PUT or PATCH that changes stock records a count movement. A PUT resets the omitted category_id, cost and min_stock.',
        properties: {
            sku: text(64),
            name: text(200),
            category_id: { oneOf: [ref('Id'), { type: 'null' }] },
            uom_id: ref('Id'),
            price: ref('MoneyIn'),
            cost: ref('MoneyIn'),
            stock: ref('QuantityIn'),
            min_stock: ref('QuantityIn'),
        },
    },

    SaleLine: obj({ product: ref('ProductRef'), quantity: ref('Quantity'), unit_price: ref('Money'), line_total: ref('Money') }),
    Refund: obj({ id: ref('Id'), amount: ref('Money'), method: ref('PaymentMethod') }),
    Return: obj({
        id: ref('Id'),
        items: { type: 'array', items: ref('SaleLine') },
        returned_total: ref('Money'),
        refund: nullable(ref('Refund')),
        note: { type: ['string', 'null'] },
        created_at: ref('Timestamp'),
    }),
    SaleSummary: obj({
        id: ref('Id'),
        customer: { type: ['string', 'null'] },
        status: { type: 'string', enum: ['draft', 'confirmed', 'cancelled'] },
        total: ref('Money'),
        paid_total: { ...ref('Money'), description: 'Payments minus refunds' },
        returned_total: ref('Money'),
        refunded_total: ref('Money'),
        outstanding: { ...ref('Money'), description: 'total - returned_total - paid_total (0.00 unless confirmed; negative: the shop owes)' },
        confirmed_at: nullable(ref('Timestamp')),
        cancelled_at: nullable(ref('Timestamp')),
        created_at: ref('Timestamp'),
        updated_at: ref('Timestamp'),
    }),
    SaleIn: {
        type: 'object',
        required: ['items'],
        properties: {
            customer: { type: ['string', 'null'], maxLength: 200 },
            items: {
                type: 'array',
                minItems: 1,
                maxItems: 500,
                items: {
                    type: 'object',
                    required: ['product_id', 'quantity'],
                    properties: {
                        product_id: ref('Id'),
                        quantity: { ...ref('QuantityIn'), description: 'Greater than zero' },
                        unit_price: { ...ref('MoneyIn'), description: 'Default: the product\'s price' },
                    },
                },
            },
        },
    },
    PaymentIn: {
        type: 'object',
        required: ['amount', 'method'],
        properties: { amount: { ...ref('MoneyIn'), description: 'Greater than zero' }, method: ref('PaymentMethod') },
    },
    ConfirmIn: {
        type: 'object',
        description: 'The body is optional. A payment above the total is 422 and nothing changes.',
        properties: { payment: { oneOf: [ref('PaymentIn'), { type: 'null' }] } },
    },
    ReturnIn: {
        type: 'object',
        required: ['items'],
        properties: {
            items: {
                type: 'array',
                minItems: 1,
                maxItems: 500,
                items: {
                    type: 'object',
                    required: ['product_id', 'quantity'],
                    properties: {
                        product_id: { ...ref('Id'), description: 'A product of the sale, once per return' },
                        quantity: { ...ref('QuantityIn'), description: 'Greater than zero, at most sold minus returned' },
                    },
                },
            },
            refund: { oneOf: [ref('PaymentIn'), { type: 'null' }], description: 'At most paid minus refunded (409 overrefund)' },
            note: { type: ['string', 'null'], maxLength: 500 },
        },
    },
    Payment: obj({
        id: ref('Id'),
        sale_id: ref('Id'),
        kind: { type: 'string', enum: ['payment', 'refund'] },
        amount: { ...ref('Money'), description: 'Negative for a refund' },
        method: ref('PaymentMethod'),
        paid_at: ref('Timestamp'),
        reference: { type: ['string', 'null'] },
        created_at: ref('Timestamp'),
    }),
    PaymentCreateIn: {
        type: 'object',
        required: ['sale_id', 'amount', 'method'],
        properties: {
            sale_id: ref('Id'),
            amount: { ...ref('MoneyIn'), description: 'Greater than zero, at most the outstanding amount (409 overpayment)' },
            method: ref('PaymentMethod'),
            paid_at: { type: ['string', 'null'], format: 'date-time', maxLength: 40, description: 'Default: now; years 1970 to 2999' },
            reference: { type: ['string', 'null'], maxLength: 200 },
        },
    },
    BalancePoint: obj({ period: { ...ref('Date'), description: 'The first day of the period' }, ...BALANCE_SUMS }),
    BalanceTotals: obj(BALANCE_SUMS),
    BalanceSeries: obj({
        from: ref('Date'),
        to: ref('Date'),
        granularity: { type: 'string', enum: ['daily', 'weekly', 'monthly'] },
        method: { type: 'string', enum: ['all', 'cash', 'card', 'transfer'] },
        points: { type: 'array', items: ref('BalancePoint') },
        totals: ref('BalanceTotals'),
    }),
    MovementKind: {
        type: 'string',
        enum: ['receipt', 'loss', 'damage', 'adjustment', 'count', 'sale', 'cancel', 'return', 'opening'],
    },
    Movement: obj({
        id: ref('Id'),
        product: ref('ProductRef'),
        kind: ref('MovementKind'),
        quantity: { ...ref('Quantity'), description: 'The signed change applied' },
        stock_before: ref('Quantity'),
        stock_after: ref('Quantity'),
        unit_cost: nullable(ref('Money')),
        note: { type: ['string', 'null'] },
        reference: { type: ['string', 'null'] },
        user: nullable(ref('UserRef')),
        created_at: ref('Timestamp'),
    }),
    MovementIn: {
        type: 'object',
        required: ['product_id', 'kind', 'quantity'],
        properties: {
            product_id: ref('Id'),
            kind: {
                type: 'string',
                enum: ['receipt', 'loss', 'damage', 'adjustment', 'count'],
                description: 'Staff may record receipt only (403 otherwise)',
            },
            quantity: {
                ...ref('SignedQuantityIn'),
                description: 'receipt, loss, damage: > 0; adjustment: signed, not 0; count: the counted stock, >= 0',
            },
            unit_cost: { oneOf: [ref('MoneyIn'), { type: 'null' }] },
            note: { type: ['string', 'null'], maxLength: 500 },
            reference: { type: ['string', 'null'], maxLength: 200 },
        },
    },
    User: obj({
        id: ref('Id'),
        email: { type: 'string' },
        role: ref('Role'),
        disabled: { type: 'boolean' },
        created_at: ref('Timestamp'),
        updated_at: ref('Timestamp'),
    }),
    UserList: obj({ items: { type: 'array', items: ref('User') }, total: { type: 'integer', minimum: 0 } }),
    UserIn: {
        type: 'object',
        required: ['email', 'password'],
        properties: {
            email: str(254, { minLength: 3, description: 'Printable ASCII, one @; stored lower-cased, unique per tenant in any case' }),
            password: str(256, { minLength: 10, description: '10 to 256 characters, not the email' }),
            role: { ...ref('Role'), description: 'Default staff' },
        },
    },
    UserPatch: {
        type: 'object',
        properties: {
            role: ref('Role'),
            disabled: { type: 'boolean', description: 'true ends every session of the user' },
        },
    },
    PasswordIn: {
        type: 'object',
        required: ['password'],
        properties: { password: str(256, { minLength: 10 }) },
    },
    ReportSums: obj(
        {
            quantity: ref('Quantity'),
            sales_total: ref('Money'),
            returns_total: ref('Money'),
            cost_total: { ...ref('Money'), description: 'The cost of what was sold, at the product\'s cost when the sale was confirmed' },
            margin: { ...ref('Money'), description: 'sales_total - returns_total - cost_total' },
            cost_estimated: { type: 'boolean', description: 'Some cost was not kept at the sale and is the product\'s current cost' },
        },
        ['quantity', 'sales_total', 'returns_total', 'cost_total', 'margin'],
    ),
    ReportRow: obj(
        {
            key: {
                description: 'What the row groups: the product, the category (null: no category) or the period (its first day)',
                oneOf: [
                    obj({ product: ref('ProductRef') }),
                    obj({ category: nullable(obj({ id: ref('Id'), name: { type: 'string' } })) }),
                    obj({ period: ref('Date') }),
                ],
            },
            quantity: ref('Quantity'),
            sales_total: ref('Money'),
            returns_total: ref('Money'),
            cost_total: ref('Money'),
            margin: ref('Money'),
            cost_estimated: { type: 'boolean' },
        },
        ['key', 'quantity', 'sales_total', 'returns_total', 'cost_total', 'margin'],
    ),
    SalesReport: obj({
        from: ref('Date'),
        to: ref('Date'),
        group: { type: 'string', enum: ['product', 'category', 'day', 'week', 'month'] },
        items: { type: 'array', items: ref('ReportRow') },
        total: { type: 'integer', minimum: 0, description: 'Rows in all' },
        limit: { type: 'integer', minimum: 1, maximum: 1000 },
        offset: { type: 'integer', minimum: 0 },
        totals: ref('ReportSums'),
    }),
    ImportResult: obj({ created: { type: 'integer', minimum: 0 }, updated: { type: 'integer', minimum: 0 } }),
    Health: obj({ status: { const: 'ok' } }),
    HealthCache: obj(
        {
            status: { type: 'string', enum: ['ok', 'degraded', 'disabled'] },
            backend: { const: 'redis' },
            latency_ms: { type: ['number', 'null'] },
            reason: { type: 'string' },
        },
        ['status', 'backend', 'latency_ms'],
    ),
    HealthDb: obj({ status: { type: 'string', enum: ['ok', 'unavailable'] }, latency_ms: { type: 'number' } }, ['status']),
};

// A paged list {items, total, limit, offset} of schema name.
const list = (name) => {
    const key = `${name}List`;
    schemas[key] = obj({
        items: { type: 'array', items: ref(name) },
        total: { type: 'integer', minimum: 0 },
        limit: { type: 'integer', minimum: 1, maximum: 200 },
        offset: { type: 'integer', minimum: 0 },
    });
    return key;
};
const UomList = list('Uom');
const CategoryList = list('Category');
const ProductList = list('Product');
const SaleList = list('SaleSummary');
const PaymentList = list('Payment');
const MovementList = list('Movement');
schemas.Sale = obj(
    { ...schemas.SaleSummary.properties, items: { type: 'array', items: ref('SaleLine') }, returns: { type: 'array', items: ref('Return') } },
    undefined,
    { description: 'A sale with its lines and returns' },
);

// ---- responses and parameters ----

const errorResponse = (description) => ({ description, content: json(ref('Error')) });
const responses = {
    BadRequest: errorResponse('bad_request: a malformed request: its query string (malformed, too long, too many parameters) or its body (empty, not JSON, not an object)'),
    Unauthorized: errorResponse('No live session: missing, unknown, expired or revoked token (unauthorized)'),
    Forbidden: errorResponse('forbidden (the route or action needs the admin role), or csrf_failed (a cookie-authenticated write without the X-CSRF-Token of its session)'),
    NotFound: errorResponse('not_found: no such object for the session\'s tenant (also a non-positive {id})'),
    Conflict: errorResponse('A conflict with the current state (the code says which)'),
    PreconditionFailed: errorResponse('precondition_failed: If-Match holds no current ETag of the product; nothing changed'),
    TooLarge: errorResponse('payload_too_large: a body over 1 MiB (4 KiB for a sign-in), refused before it is read'),
    UnsupportedMediaType: errorResponse('unsupported_media_type: the body is not application/json'),
    Invalid: errorResponse('Validation failed: the code says why, field names the field or parameter'),
    RateLimited: {
        description: 'rate_limited: too many failed sign-ins (10 in 15 minutes per account, or per client address, on one tenant)',
        headers: { 'Retry-After': { required: true, schema: { type: 'integer', minimum: 1 }, description: 'Seconds' } },
        content: json(ref('Error')),
    },
    Internal: errorResponse('internal_error (no detail is given)'),
    Unavailable: errorResponse('database_unavailable / database_timeout, or a cached read that cannot be proved current'),
    BadGateway: errorResponse('unavailable: from nginx, no worker could take the request (never passed on to a second worker once sent)'),
    GatewayTimeout: errorResponse('timeout: from nginx, the worker did not answer in time'),
};
const STATUS_REF = {
    400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict',
    412: 'PreconditionFailed', 413: 'TooLarge', 415: 'UnsupportedMediaType', 422: 'Invalid',
    429: 'RateLimited', 500: 'Internal', 502: 'BadGateway', 503: 'Unavailable', 504: 'GatewayTimeout',
};

const xCache = {
    description: 'How the cache answered: HIT (from Redis or the worker\'s L1), MISS (loaded from PostgreSQL and stored), BYPASS (cache disabled or unavailable)',
    required: true,
    schema: { type: 'string', enum: ['HIT', 'MISS', 'BYPASS'] },
};
// The lists that also answer CSV: a CSV export is not cached, so X-Cache comes with the JSON
// answer only (x-stock-required-with: tests/openapi/check.mjs requires it of that media type).
const xCacheJson = { ...xCache, required: false, description: `${xCache.description}; on the JSON answer (a CSV export is not cached)`, 'x-stock-required-with': 'application/json' };
const csvHeaders = {
    'Content-Disposition': { description: 'A CSV export: attachment; filename="<list>-<day>.csv"', schema: { type: 'string' } },
};
const xCacheLayer = {
    description: 'On a HIT: L1 (the worker\'s own copy) or redis',
    schema: { type: 'string', enum: ['L1', 'redis'] },
};
const etag = {
    description: 'The product\'s version: "<id>-<updated_at in UTC as YYYYMMDDhhmmssffffff>", a strong validator for If-Match',
    required: true,
    schema: { type: 'string', pattern: '^"[0-9]+-[0-9]{20}"$' },
};
const headers = { 'X-Cache': xCache, 'X-Cache-Layer': xCacheLayer, ETag: etag };

const parameters = {
    Id: { name: 'id', in: 'path', required: true, schema: ref('Id'), description: 'A positive id (404 otherwise)' },
    Limit: { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
    Offset: { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 1000000000, default: 0 } },
    From: { name: 'from', in: 'query', schema: ref('Date'), description: 'First day (in the tenant\'s time zone)' },
    To: { name: 'to', in: 'query', schema: ref('Date'), description: 'Last day, included' },
    Format: {
        name: 'format',
        in: 'query',
        schema: { type: 'string', enum: ['json', 'csv'] },
        description: 'csv (or the request header Accept: text/csv): the list as RFC 4180 CSV, UTF-8, with a header row; a cell starting with =, +, - or @ is written with a leading \' (no formula injection). A CSV export holds every row from offset unless limit is given (then no upper bound of 200).',
    },
    IdempotencyKey: {
        name: 'Idempotency-Key',
        in: 'header',
        schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[!-~]+$' },
        description: 'Per tenant: a retry with the same key and body answers the first result (status and body) and records nothing twice; the same key with another body is 422 idempotency_mismatch; 409 idempotency_in_progress while the first is running',
    },
    IfMatch: {
        name: 'If-Match',
        in: 'header',
        schema: { type: 'string' },
        description: 'ETags of the product (or *): when none is current, 412 and nothing changes',
    },
};
const P = (name) => ({ $ref: `#/components/parameters/${name}` });
const query = (name, schema, description) => ({ name, in: 'query', schema, ...(description ? { description } : {}) });

// ---- operations ----

const paths = {};
const PUBLIC = [];
const READ = [{ bearerAuth: [] }, { cookieAuth: [] }];
const WRITE = [{ bearerAuth: [] }, { cookieAuth: [], csrfToken: [] }];

// op(method, path, {summary, tag, security, admin, params, body, bodyRequired, ok: {status: response}, errors: [statuses]})
function op(method, path, o) {
    const isPublic = o.security === PUBLIC;
    const safe = method === 'get';
    const statuses = new Set(o.errors || []);
    if (!isPublic) statuses.add(401);
    if (!isPublic && (!safe || o.admin)) statuses.add(403);
    if (path.includes('{id}')) statuses.add(404);
    if (o.body) [413, 415].forEach((s) => statuses.add(s));
    if (!o.static) statuses.add(400);
    if (path.startsWith('/api/') && !o.static) [500, 502, 503, 504].forEach((s) => statuses.add(s));
    const r = { ...o.ok };
    [...statuses].sort().forEach((s) => {
        if (!r[s]) r[s] = { $ref: `#/components/responses/${STATUS_REF[s]}` };
    });
    const operation = {
        operationId: o.id,
        summary: o.summary,
        tags: [o.tag],
        ...(o.description ? { description: o.description } : {}),
        security: o.security || (safe ? READ : WRITE),
        ...(o.params && o.params.length ? { parameters: o.params } : {}),
        ...(o.body
            ? { requestBody: { required: o.bodyRequired !== false, content: o.bodyContent || json(o.body) } }
            : {}),
        responses: Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b))),
        ...(o.admin ? { 'x-stock-role': 'admin' } : isPublic ? { 'x-stock-role': 'public' } : { 'x-stock-role': 'any session' }),
    };
    paths[path] = paths[path] || {};
    if (path.includes('{id}') && !paths[path].parameters) paths[path].parameters = [P('Id')];
    paths[path][method] = operation;
}

const ok = (description, schema, extra = {}) => ({ description, content: json(schema), ...extra });
const cached = (description, schema, more = {}) => ok(description, schema, { headers: { 'X-Cache': headers['X-Cache'], 'X-Cache-Layer': headers['X-Cache-Layer'], ...more } });
const csvToo = (description, schema, more = {}) => ({
    description,
    headers: { ...csvHeaders, ...more },
    content: { ...json(schema), 'text/csv': { schema: { type: 'string' } } },
});
const noContent = (description) => ({ description });
const cachedNotFound = {
    description: 'not_found (a cached "not found" says how the cache answered)',
    headers: { 'X-Cache': { ...xCache, required: false } },
    content: json(ref('Error')),
};

const V1 = '/api/v1';

// health and metrics (outside /api/v1; nginx lets only the operators' addresses in to /health/* and /metrics in production)
op('get', '/health', { id: 'health', tag: 'health', summary: 'Liveness of a worker', security: PUBLIC, ok: { 200: ok('The worker runs', ref('Health')) } });
op('get', '/health/cache', { id: 'healthCache', tag: 'health', summary: 'The cache\'s health (always 200)', security: PUBLIC, ok: { 200: ok('ok, degraded or disabled, with the latency of a PING; never a password or URL', ref('HealthCache')) } });
op('get', '/health/db', { id: 'healthDb', tag: 'health', summary: 'PostgreSQL\'s health', security: PUBLIC, ok: { 200: ok('Reachable', ref('HealthDb')), 503: ok('Unreachable', ref('HealthDb')) } });
op('get', '/metrics', {
    id: 'metrics', tag: 'health', summary: 'Prometheus metrics of the whole pool (loopback only through nginx)', security: PUBLIC,
    ok: { 200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } } },
});
// the document itself: a static file of nginx
op('get', `${V1}/openapi.json`, {
    id: 'openapi', tag: 'meta', summary: 'This document (served by nginx: nginx/static/openapi.json)', security: PUBLIC, static: true,
    ok: { 200: { description: 'The OpenAPI 3.1 document', headers: { 'Cache-Control': { schema: { type: 'string' } }, ETag: { schema: { type: 'string' } } }, content: json({ type: 'object' }) }, 304: { description: 'Not modified (If-None-Match holds its ETag)' } },
});

// auth
op('post', `${V1}/auth/login`, {
    id: 'login', tag: 'auth', summary: 'Sign in', security: PUBLIC, body: ref('LoginIn'),
    description: 'Sets the HttpOnly, SameSite=Lax session cookie stock_session (Secure over TLS). The body is at most 4 KiB. Failed sign-ins are limited per account and per client address (IPv6 by /64) on a tenant, counted in PostgreSQL over every host.',
    ok: {
        200: ok('Signed in', ref('Login'), {
            headers: {
                'Set-Cookie': { required: true, schema: { type: 'string' }, description: 'stock_session=<token>; Path=/; Max-Age=...; HttpOnly; SameSite=Lax' },
                'Cache-Control': { schema: { const: 'no-store' } },
            },
        }),
        401: errorResponse('invalid_credentials: one answer for every wrong tenant, email, password or disabled user'),
    },
    errors: [422, 429],
});
op('post', `${V1}/auth/logout`, { id: 'logout', tag: 'auth', summary: 'Sign out: the token is dead on every host', ok: { 204: noContent('Signed out; the cookie is cleared') } });
op('get', `${V1}/me`, { id: 'me', tag: 'auth', summary: 'The session\'s user (with its role) and tenant', ok: { 200: ok('The session', ref('Me')) } });
op('post', `${V1}/me/password`, {
    id: 'changeMyPassword', tag: 'auth', summary: 'Change my password (ends my other sessions)', body: ref('MyPasswordIn'),
    ok: { 204: noContent('Changed'), 422: errorResponse('wrong_password (field current_password: a 422, not a 401), or invalid_password (field password)') },
    errors: [429],
});

// tenant
op('get', `${V1}/tenant`, {
    id: 'getTenant', tag: 'tenant', summary: 'The session\'s tenant',
    ok: { 200: ok('The tenant', ref('Tenant'), { headers: { 'Cache-Control': { schema: { const: 'no-store' } } } }) }, errors: [404],
});
op('patch', `${V1}/tenant`, {
    id: 'patchTenant', tag: 'tenant', summary: 'Change the tenant\'s name, locale or currency', admin: true, body: ref('TenantPatch'),
    ok: { 200: ok('The tenant', ref('Tenant'), { headers: { 'Cache-Control': { schema: { const: 'no-store' } } } }) }, errors: [404, 422],
});

// users
op('get', `${V1}/users`, { id: 'listUsers', tag: 'users', summary: 'The tenant\'s users (cached, module users)', admin: true, ok: { 200: cached('Every user, by id', ref('UserList')) } });
op('post', `${V1}/users`, {
    id: 'createUser', tag: 'users', summary: 'Create a user', admin: true, body: ref('UserIn'),
    ok: { 201: ok('The user', ref('User')), 409: errorResponse('conflict (field email): the tenant has that email in any case') }, errors: [422],
});
op('patch', `${V1}/users/{id}`, {
    id: 'patchUser', tag: 'users', summary: 'Change a user\'s role or disable them', admin: true, body: ref('UserPatch'),
    ok: { 200: ok('The user', ref('User')), 409: errorResponse('last_admin: no active admin would be left') }, errors: [422],
});
op('post', `${V1}/users/{id}/password`, {
    id: 'setUserPassword', tag: 'users', summary: 'Set a user\'s password (ends all their sessions)', admin: true, body: ref('PasswordIn'),
    ok: { 204: noContent('Set') }, errors: [422],
});

// catalog: units, categories, products
function crud(base, tag, name, inName, listName, opts = {}) {
    const one = `${base}/{id}`;
    const single = opts.product ? headers.ETag : null;
    const withEtag = (resp) => (single ? { ...resp, headers: { ...(resp.headers || {}), ETag: single } } : resp);
    const listOk = opts.csv
        ? {
              ...cached(`A page, ${opts.order}`, ref(listName), { 'X-Cache': xCacheJson, ...csvHeaders }),
              content: { ...json(ref(listName)), 'text/csv': { schema: { type: 'string' } } },
          }
        : cached(`A page, ${opts.order}`, ref(listName));
    op('get', base, {
        id: `list${tag}`, tag: tag.toLowerCase(), summary: `List ${opts.plural} (cached, module ${opts.module})`,
        params: [...(opts.listParams || []), P('Limit'), P('Offset'), ...(opts.csv ? [P('Format')] : [])],
        ok: { 200: listOk }, errors: [422],
    });
    op('post', base, {
        id: `create${tag}`, tag: tag.toLowerCase(), summary: `Create a ${opts.singular}`, admin: true, body: ref(inName),
        ok: { 201: withEtag(ok(`The ${opts.singular}`, ref(name))), 409: errorResponse(opts.conflict) }, errors: [422],
    });
    op('get', one, {
        id: `get${tag}`, tag: tag.toLowerCase(), summary: `A ${opts.singular} (cached)`,
        ok: { 200: withEtag(cached(`The ${opts.singular}`, ref(name))), 404: cachedNotFound },
    });
    const ifMatch = opts.product ? [P('IfMatch')] : [];
    op('put', one, {
        id: `replace${tag}`, tag: tag.toLowerCase(), summary: `Replace a ${opts.singular}`, admin: true, body: ref(inName), params: ifMatch,
        ok: { 200: withEtag(ok(`The ${opts.singular}`, ref(name))), 409: errorResponse(opts.conflict) }, errors: [422, ...(opts.product ? [412] : [])],
    });
    op('patch', one, {
        id: `patch${tag}`, tag: tag.toLowerCase(), summary: `Change the given fields of a ${opts.singular}`, admin: true, body: ref(inName), params: ifMatch,
        ok: { 200: withEtag(ok(`The ${opts.singular}`, ref(name))), 409: errorResponse(opts.conflict) }, errors: [422, ...(opts.product ? [412] : [])],
    });
    op('delete', one, {
        id: `delete${tag}`, tag: tag.toLowerCase(), summary: `Delete a ${opts.singular}`, admin: true, params: ifMatch,
        ok: { 204: noContent('Deleted'), 409: errorResponse(opts.inUse) }, errors: opts.product ? [412] : [],
    });
}
crud(`${V1}/uom`, 'Uom', 'Uom', 'UomIn', UomList, {
    plural: 'units of measure', singular: 'unit', module: 'uom', order: 'by name',
    conflict: 'conflict: the name is taken (field name)', inUse: 'in_use: products use the unit',
});
crud(`${V1}/categories`, 'Categories', 'Category', 'CategoryIn', CategoryList, {
    plural: 'categories', singular: 'category', module: 'categories', order: 'by name',
    conflict: 'conflict: the name is taken (field name)', inUse: 'in_use: products are in the category',
});
crud(`${V1}/products`, 'Products', 'Product', 'ProductIn', ProductList, {
    plural: 'products', singular: 'product', module: 'products', order: 'by name', product: true, csv: true,
    conflict: 'conflict: the SKU is taken (field sku)', inUse: 'in_use: the product is on a sale',
    listParams: [
        query('q', { type: 'string', maxLength: 200 }, 'Part of the name or SKU, any case (UTF-8, at most 200 bytes)'),
        query('category_id', ref('Id')),
        query('stock', { type: 'string', enum: ['all', 'in', 'low', 'out'], default: 'all' }, 'in: stock > 0; low: 0 < stock <= min_stock; out: stock <= 0'),
    ],
});
op('post', `${V1}/products/import`, {
    id: 'importProducts', tag: 'products', summary: 'Create or update products from CSV', admin: true,
    description: 'Columns sku,name,category,uom,price,cost,stock,min_stock (a header row), at most 10,000 rows. Every row is validated first: any error and nothing is imported.',
    body: { type: 'string' }, bodyContent: { 'text/csv': { schema: { type: 'string' } } },
    ok: {
        201: ok('Imported', ref('ImportResult')),
        415: errorResponse('unsupported_media_type: the body is not text/csv'),
        422: errorResponse('Rows at fault: error.errors lists every {line, field, message}; nothing imported'),
    },
});

// sales
const saleParams = [
    query('status', { type: 'string', enum: ['draft', 'confirmed', 'cancelled'] }),
    P('From'), P('To'), P('Limit'), P('Offset'), P('Format'),
];
op('get', `${V1}/sales`, {
    id: 'listSales', tag: 'sales', summary: 'List sales, newest first (from/to: creation day in the tenant\'s zone)', params: saleParams,
    ok: { 200: csvToo('A page', ref(SaleList)) }, errors: [422],
});
op('post', `${V1}/sales`, {
    id: 'createSale', tag: 'sales', summary: 'Create a draft sale', body: ref('SaleIn'),
    ok: { 201: ok('The draft, with line totals and total', ref('Sale')), 422: errorResponse('Naming the field, e.g. items[2].quantity; invalid_reference for a product the tenant does not have') },
});
op('get', `${V1}/sales/{id}`, { id: 'getSale', tag: 'sales', summary: 'A sale with its lines and returns', ok: { 200: ok('The sale', ref('Sale')) } });
op('post', `${V1}/sales/{id}/confirm`, {
    id: 'confirmSale', tag: 'sales', summary: 'Confirm a draft: take the stock of every line (all or none), with an optional payment',
    body: ref('ConfirmIn'), bodyRequired: false,
    ok: {
        200: ok('The confirmed sale', ref('Sale')),
        409: errorResponse('invalid_state (not a draft), insufficient_stock (naming the product)'),
        422: errorResponse('payment_above_total (field payment.amount), or a bad payment'),
    },
});
op('post', `${V1}/sales/{id}/cancel`, {
    id: 'cancelSale', tag: 'sales', summary: 'Cancel a draft, or a confirmed sale without payments (its stock comes back)',
    ok: {
        200: ok('The cancelled sale', ref('Sale')),
        403: errorResponse('forbidden: staff may cancel a draft only; or csrf_failed'),
        409: errorResponse('invalid_state (already cancelled), has_returns, has_payments'),
    },
});
op('post', `${V1}/sales/{id}/returns`, {
    id: 'returnSale', tag: 'sales', summary: 'Return goods of a confirmed sale, with an optional refund', admin: true,
    params: [P('IdempotencyKey')], body: ref('ReturnIn'),
    ok: {
        201: ok('The return (the first result again on a retry with the same Idempotency-Key)', ref('Return')),
        409: errorResponse('invalid_state (not confirmed), overrefund (field refund.amount), idempotency_in_progress'),
        422: errorResponse('items[i].product_id invalid_reference or duplicate, items[i].quantity exceeds_returnable, idempotency_mismatch, invalid_idempotency_key, ...'),
    },
});

// payments
op('get', `${V1}/payments`, {
    id: 'listPayments', tag: 'payments', summary: 'List payments and refunds, newest paid_at first',
    params: [query('sale_id', ref('Id')), P('From'), P('To'), query('method', { type: 'string', enum: ['all', 'cash', 'card', 'transfer'], default: 'all' }), P('Limit'), P('Offset'), P('Format')],
    ok: { 200: csvToo('A page (refunds have kind refund and a negative amount, and count in total)', ref(PaymentList)) }, errors: [422],
});
op('post', `${V1}/payments`, {
    id: 'createPayment', tag: 'payments', summary: 'Register a payment on a confirmed sale', params: [P('IdempotencyKey')], body: ref('PaymentCreateIn'),
    ok: {
        201: ok('The payment (the first result again on a retry with the same Idempotency-Key)', ref('Payment')),
        409: errorResponse('invalid_state (the sale is not confirmed), overpayment (above total - returned - paid), idempotency_in_progress'),
        422: errorResponse('Naming the field (sale_id invalid_reference, amount, method, paid_at invalid_timestamp), idempotency_mismatch, invalid_idempotency_key'),
    },
});

// balance
op('get', `${V1}/balance/series`, {
    id: 'balanceSeries', tag: 'balance', summary: 'Sales, returns, payments and receivables per period (cached, module balance)',
    params: [
        { name: 'from', in: 'query', required: true, schema: ref('Date'), description: 'First day (in the tenant\'s time zone)' },
        { name: 'to', in: 'query', required: true, schema: ref('Date'), description: 'Last day, included; from <= to, at most 366 days at daily granularity' },
        query('granularity', { type: 'string', enum: ['daily', 'weekly', 'monthly'], default: 'daily' }, 'Weeks start on Monday; a period is labelled by its first day'),
        query('method', { type: 'string', enum: ['all', 'cash', 'card', 'transfer'], default: 'all' }, 'Filters payments only'),
    ],
    description: 'from and to are required (422 required, invalid_date, invalid_range when from > to, range_too_long over 366 days at daily granularity).',
    ok: { 200: cached('One point per period, zeros where nothing happened', ref('BalanceSeries')) }, errors: [422],
});

// stock movements
op('get', `${V1}/stock/movements`, {
    id: 'listMovements', tag: 'stock', summary: 'The stock ledger, newest first (cached, module movements)',
    params: [query('product_id', ref('Id')), query('kind', ref('MovementKind')), P('From'), P('To'), P('Limit'), P('Offset'), P('Format')],
    ok: { 200: { ...cached('A page', ref(MovementList), { 'X-Cache': xCacheJson, ...csvHeaders }), content: { ...json(ref(MovementList)), 'text/csv': { schema: { type: 'string' } } } } },
    errors: [422],
});
op('post', `${V1}/stock/movements`, {
    id: 'createMovement', tag: 'stock', summary: 'Record a stock movement (staff: receipt only)', params: [P('IdempotencyKey')], body: ref('MovementIn'),
    ok: {
        201: ok('The movement (the first result again on a retry with the same Idempotency-Key)', ref('Movement')),
        403: errorResponse('forbidden: staff record receipts only; or csrf_failed'),
        409: errorResponse('insufficient_stock (stock never goes below zero), idempotency_in_progress'),
        422: errorResponse('Naming the field: kind, quantity, unit_cost, note, reference, product_id invalid_reference; idempotency_mismatch'),
    },
});

// reports
op('get', `${V1}/reports/sales`, {
    id: 'salesReport', tag: 'reports', summary: 'Sales, returns, cost and margin grouped by product, category or period (cached, module reports)',
    description: 'A sale counts on its confirmation day (in the tenant\'s zone), a return on its own day; cancelled sales do not count.',
    params: [
        { name: 'from', in: 'query', required: true, schema: ref('Date') },
        { name: 'to', in: 'query', required: true, schema: ref('Date'), description: 'Included; from <= to' },
        query('group', { type: 'string', enum: ['product', 'category', 'day', 'week', 'month'], default: 'product' }),
        query('limit', { type: 'integer', minimum: 1, maximum: 1000, default: 50 }),
        P('Offset'),
        P('Format'),
    ],
    ok: { 200: csvToo('The rows and their totals', ref('SalesReport'), { 'X-Cache': xCacheJson, 'X-Cache-Layer': xCacheLayer }) }, errors: [422],
});

const doc = {
    openapi: '3.1.0',
    info: {
        title: 'stock',
        version: '1',
        summary: 'Multi-tenant stock, sales and payments',
        description:
            'The JSON API of stock under /api/v1, plus the health and metrics endpoints. Every /api/v1 route but sign-in needs a session: Authorization: Bearer <token>, or the stock_session cookie (then every POST, PUT, PATCH and DELETE also needs X-CSRF-Token). The tenant is always the session\'s. Errors are {"error": {"code", "message", "field"}}. Money is a string with 2 decimals and quantities with 3 (accepted as JSON strings or numbers, read exactly); timestamps are ISO 8601 with an offset. Lists are {"items", "total", "limit", "offset"}.',
    },
    servers: [{ url: '/' }],
    tags: ['auth', 'tenant', 'users', 'uom', 'categories', 'products', 'sales', 'payments', 'balance', 'stock', 'reports', 'health', 'meta'].map((name) => ({ name })),
    paths,
    components: {
        schemas,
        responses,
        parameters,
        securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', description: 'The token of POST /auth/login' },
            cookieAuth: { type: 'apiKey', in: 'cookie', name: 'stock_session', description: 'The HttpOnly cookie set by POST /auth/login' },
            csrfToken: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: 'The csrf_token of the sign-in (or of GET /me), needed with the cookie on writes' },
        },
    },
};

export default doc;

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
