/*
 * test_api_in: the request body validators (routes/api.h: api_*_in), one table row per case,
 * behind the real request parser (tests/lib/body_in.h): 400 malformed, 415, 422 naming the
 * field, and what they accept. The HTTP suites keep a few of these cases end to end.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/body_in.h"
#include "unit.h"

/* No Content-Type header at all (NULL in a row means application/json). */
#define NO_CT "-"

/*
 * One case. body may hold "<<N*x>>": N copies of the text x (up to ">>"); raw_len > 0 takes
 * body as raw_len bytes, unexpanded (NUL bytes). status 0: accepted; else the HTTP status of
 * the error, whose field must be field ("" for none), whose slug must be slug and whose
 * message must contain msg, each when given. ct NULL is application/json.
 */
struct row {
    enum body_in_kind kind;
    bool full;
    const char *body;
    int status;
    const char *field;
    const char *slug;
    const char *msg;
    const char *ct;
    const char *key;
    size_t raw_len;
};

/*
 * A row accepted; refused (status, field, slug); refused as nested too deeply (400); a decimal
 * refused as negative, as having too many decimals or as too large (422 naming fld); or with
 * everything given.
 */
#define OK(k, f, b)                                                                                \
    {                                                                                              \
        k, f, b, 0, NULL, NULL, NULL, NULL, NULL, 0                                                \
    }
#define NO(k, f, b, st, fld, sl)                                                                   \
    {                                                                                              \
        k, f, b, st, fld, sl, NULL, NULL, NULL, 0                                                  \
    }
#define DEC_NO(k, f, b, fld, m)                                                                    \
    {                                                                                              \
        k, f, b, 422, fld, "invalid_decimal", m, NULL, NULL, 0                                     \
    }
#define DEEP(k, f, b)                                                                              \
    {                                                                                              \
        k, f, b, 400, "", NULL, "nested too deeply", NULL, NULL, 0                                 \
    }
#define NEG(k, f, b, fld)      DEC_NO(k, f, b, fld, "must not be negative")
#define DECIMALS(k, f, b, fld) DEC_NO(k, f, b, fld, "decimals")
#define LARGE(k, f, b, fld)    DEC_NO(k, f, b, fld, "too large")
#define ROW(k, f, b, st, fld, sl, ct, key, n)                                                      \
    {                                                                                              \
        k, f, b, st, fld, sl, NULL, ct, key, n                                                     \
    }

#define U  BODY_UOM
#define C  BODY_CATEGORY
#define P  BODY_PRODUCT
#define S  BODY_SALE
#define CF BODY_CONFIRM
#define PY BODY_PAYMENT
#define RT BODY_RETURN
#define MV BODY_MOVEMENT
#define TN BODY_TENANT

/* A product body: the required fields with one of them given as v, or extra fields after. */
#define PROD(extra) "{\"sku\":\"NEW-1\",\"name\":\"New\",\"uom_id\":1,\"price\":\"1.00\"" extra "}"
#define PRICE(v)    "{\"sku\":\"NEW-1\",\"name\":\"New\",\"uom_id\":1,\"price\":" v "}"
#define UOM_ID(v)   "{\"sku\":\"NEW-1\",\"name\":\"New\",\"price\":\"1.00\",\"uom_id\":" v "}"
#define SKU(v)      "{\"name\":\"New\",\"uom_id\":1,\"price\":\"1.00\",\"sku\":" v "}"
#define PNAME(v)    "{\"sku\":\"NEW-1\",\"uom_id\":1,\"price\":\"1.00\",\"name\":" v "}"
/* A sale: a good first line, then a second line with quantity q or unit_price u. */
#define LINE       "{\"product_id\":7,\"quantity\":1}"
#define QTY(q)     "{\"items\":[" LINE ",{\"product_id\":7,\"quantity\":" q "}]}"
#define UPRICE(u)  "{\"items\":[{\"product_id\":7,\"quantity\":1,\"unit_price\":" u "}]}"
#define PRODUCT(p) "{\"items\":[{\"product_id\":" p ",\"quantity\":1}]}"
/* A confirmation with a payment of amount a and method m. */
#define CONFIRM(a, m) "{\"payment\":{\"amount\":" a ",\"method\":" m "}}"
/* A payment: the required fields, then extra ones; or amount a, or paid_at t. */
#define PAYMENT(extra) "{\"sale_id\":3,\"amount\":\"1.00\",\"method\":\"cash\"" extra "}"
#define AMOUNT(a)      "{\"sale_id\":3,\"method\":\"cash\",\"amount\":" a "}"
#define PAID_AT(t)     PAYMENT(",\"paid_at\":" t)
/* A return of one line, then extra fields; or a refund r. */
#define RETURN(extra) "{\"items\":[{\"product_id\":7,\"quantity\":1}]" extra "}"
#define REFUND(r)     RETURN(",\"refund\":" r)
/* A stock movement of kind k and quantity q, then extra fields. */
#define MOVE(k, q, extra) "{\"product_id\":7,\"kind\":\"" k "\",\"quantity\":" q extra "}"

static const struct row rows[] = {
    /* ---- every body: media type, malformed JSON, top level (415, 400) ---- */
    ROW(U, true, "{\"name\":\"ct\",\"abbreviation\":\"ct\"}", 415, "", NULL, "text/plain", NULL, 0),
    ROW(U, true, "{\"name\":\"ct\",\"abbreviation\":\"ct\"}", 415, "", NULL, "application/jsonx",
        NULL, 0),
    ROW(U, true, "{\"name\":\"ct\",\"abbreviation\":\"ct\"}", 415, "", NULL, NO_CT, NULL, 0),
    ROW(U, false, "--x--", 415, "", NULL, "multipart/form-data; boundary=x", NULL, 0),
    ROW(U, true, "{\"name\":\"ct\",\"abbreviation\":\"ct\"}", 0, NULL, NULL,
        "application/json; charset=utf-8", NULL, 0),
    ROW(S, true, "{\"items\":[" LINE "]}", 415, "", NULL, "text/plain", NULL, 0),
    ROW(PY, true, PAYMENT(""), 415, "", NULL, "text/plain", NULL, 0),
    ROW(CF, true, CONFIRM("\"1.00\"", "\"cash\""), 415, "", NULL, "text/plain", NULL, 0),
    NO(U, true, "", 400, "", NULL),
    NO(U, false, "", 400, "", NULL),
    NO(U, true, "   ", 400, "", NULL),
    NO(P, true, "", 400, "", NULL),
    NO(S, true, "", 400, "", NULL),
    NO(PY, true, "", 400, "", NULL),
    NO(U, true, "[]", 400, "", NULL),
    NO(U, true, "\"text\"", 400, "", NULL),
    NO(U, true, "42", 400, "", NULL),
    NO(U, true, "null", 400, "", NULL),
    NO(U, true, "true", 400, "", NULL),
    NO(U, true, "[{\"name\":\"x\",\"abbreviation\":\"y\"}]", 400, "", NULL),
    NO(U, true, "{\"name\":\"x\",\"abbreviation\":\"y\"} {\"name\":\"z\"}", 400, "", NULL),
    NO(U, true, "{\"name\":\"x\",\"abbreviation\":\"y\",}", 400, "", NULL),
    NO(U, true, "{'name':'x','abbreviation':'y'}", 400, "", NULL),
    NO(U, true, "{\"name\":\"x\",\"abbreviation\":\"y\"", 400, "", NULL),
    NO(U, true, "{\"name\":NaN,\"abbreviation\":\"y\"}", 422, "name", "invalid_type"),
    ROW(U, true, "{\"name\":\"raw\0nul\",\"abbreviation\":\"x\"}", 400, "", NULL, NULL, NULL, 37),
    NO(U, true, "{\"name\":\"bad \xff\xfe utf8\",\"abbreviation\":\"x\"}", 400, "", NULL),
    /*
     * Known gap: json-c's UTF-8 check lets an overlong sequence and an encoded surrogate
     * through, and only PostgreSQL refuses them (test_api.sh keeps that case end to end).
     */
    OK(U, true, "{\"name\":\"overlong \xc0\xaf\",\"abbreviation\":\"x\"}"),
    OK(U, true, "{\"name\":\"surrogate \xed\xa0\x80\",\"abbreviation\":\"x\"}"),
    NO(S, true, "{\"customer\":\"bad \xff\xfe\",\"items\":[" LINE "]}", 400, "", NULL),
    DEEP(U, true, "<<10000*[>>"),
    DEEP(U, true, "{\"name\":<<10000*[>>"),
    DEEP(U, true, "{\"name\":\"x\",\"abbreviation\":\"y\",\"z\":<<40*{\"a\":>>1<<40*}>>}"),
    DEEP(U, true, "<<1000*{\"a\":>>1<<1000*}>>"),
    DEEP(CF, true, "{\"payment\":<<10000*[>>"),
    DEEP(S, true, "{\"items\":[<<20*{\"items\":[>>1<<20*]}>>]}"),

    /* ---- units of measure: name (1..100 characters), abbreviation (1..20) ---- */
    OK(U, true, "{\"name\":\"Litre\",\"abbreviation\":\"l\"}"),
    OK(U, true, "{\"name\":\"<<100*é>>\",\"abbreviation\":\"<<20*ü>>\"}"),
    OK(U, true, "{\"name\":\"Litre\",\"abbreviation\":\"l\",\"unknown\":[1]}"),
    NO(U, true, "{\"name\":\"   \",\"abbreviation\":\"x\"}", 422, "name", "blank"),
    NO(U, true, "{\"name\":\"\\t\\n\",\"abbreviation\":\"x\"}", 422, "name", "blank"),
    NO(U, true, "{\"name\":\"Litre\"}", 422, "abbreviation", "required"),
    NO(U, true, "{\"abbreviation\":\"l\"}", 422, "name", "required"),
    NO(U, true, "{\"name\":null,\"abbreviation\":\"l\"}", 422, "name", "required"),
    NO(U, true, "{\"name\":42,\"abbreviation\":\"l\"}", 422, "name", "invalid_type"),
    NO(U, true, "{\"name\":true,\"abbreviation\":\"l\"}", 422, "name", "invalid_type"),
    NO(U, true, "{\"name\":[\"x\"],\"abbreviation\":\"l\"}", 422, "name", "invalid_type"),
    NO(U, true, "{\"name\":\"<<101*x>>\",\"abbreviation\":\"l\"}", 422, "name", "too_long"),
    NO(U, true, "{\"name\":\"<<10000*x>>\",\"abbreviation\":\"x\"}", 422, "name", "too_long"),
    NO(U, true, "{\"name\":\"Litre\",\"abbreviation\":\"<<21*x>>\"}", 422, "abbreviation",
       "too_long"),
    NO(U, true, "{\"name\":\"nul\\u0000byte\",\"abbreviation\":\"x\"}", 422, "name",
       "invalid_string"),
    OK(U, false, "{}"),
    OK(U, false, "{\"abbreviation\":\"KGM\"}"),
    NO(U, false, "{\"name\":\" \"}", 422, "name", "blank"),
    OK(U, false, "{\"name\":null}"),
    NO(U, true, "{\"name\":\"Kilogramme\"}", 422, "abbreviation", "required"),

    /* ---- categories: name (1..200), description (optional, null, at most 2000) ---- */
    OK(C, true, "{\"name\":\"Tools\",\"description\":\"Hand tools\"}"),
    OK(C, true, "{\"name\":\"Parts\",\"description\":null}"),
    OK(C, true, "{\"name\":\"Spare\"}"),
    NO(C, true, "{\"name\":\"\"}", 422, "name", "blank"),
    NO(C, true, "{\"description\":\"no name\"}", 422, "name", "required"),
    NO(C, true, "{\"name\":\"<<201*n>>\"}", 422, "name", "too_long"),
    OK(C, true, "{\"name\":\"<<200*ñ>>\"}"),
    NO(C, true, "{\"name\":\"Long\",\"description\":\"<<2001*d>>\"}", 422, "description",
       "too_long"),
    NO(C, true, "{\"name\":\"Long\",\"description\":\"<<10000*d>>\"}", 422, "description",
       "too_long"),
    OK(C, true, "{\"name\":\"Long\",\"description\":\"<<2000*d>>\"}"),
    NO(C, true, "{\"name\":\"Numeric desc\",\"description\":5}", 422, "description",
       "invalid_type"),
    NO(C, true, "{\"name\":\"ok\",\"description\":\"nul\\u0000\"}", 422, "description",
       "invalid_string"),
    NO(C, true, "{\"description\":\"x\"}", 422, "name", "required"),
    OK(C, false, "{\"description\":\"All tools\"}"),
    OK(C, false, "{}"),

    /* ---- products: sku (1..64), name (1..200), uom_id, category_id (or null), price (money),
     * cost (money), stock and min_stock (quantities), none negative nor null ---- */
    OK(P, true, PROD("")),
    OK(P, true, PROD(",\"category_id\":null,\"cost\":\"3.25\",\"stock\":10,\"min_stock\":\"2.5\"")),
    OK(P, true, PROD(",\"stock\":1.234,\"min_stock\":\"0.001\",\"cost\":\"0\"")),
    OK(P, true, PRICE("0")),
    OK(P, true, PRICE("\"-0.00\"")),
    OK(P, true, PRICE("1.25e1")),
    OK(P, true, PRICE("12.5")),
    OK(P, true, PRICE("\"999999999999.99\"")),
    DECIMALS(P, true, PRICE("\"12.345\""), "price"),
    DECIMALS(P, true, PRICE("12.345"), "price"),
    NEG(P, true, PRICE("-1"), "price"),
    NEG(P, true, PRICE("\"-0.01\""), "price"),
    NO(P, true, PRICE("\"NaN\""), 422, "price", "invalid_decimal"),
    NO(P, true, PRICE("\"Infinity\""), 422, "price", "invalid_decimal"),
    NO(P, true, PRICE("1e400"), 422, "price", "invalid_decimal"),
    NO(P, true, PRICE("-1e400"), 422, "price", "invalid_decimal"),
    DECIMALS(P, true, PRICE("1e-3"), "price"),
    LARGE(P, true, PRICE("1e12"), "price"),
    NO(P, true, PRICE("\"1e5\""), 422, "price", "invalid_decimal"),
    NO(P, true, PRICE("true"), 422, "price", "invalid_decimal"),
    NO(P, true, PRICE("null"), 422, "price", "required"),
    NO(P, true, PRICE("\"\""), 422, "price", "invalid_decimal"),
    NO(P, true, PRICE("\"12.\""), 422, "price", "invalid_decimal"),
    NO(P, true, PRICE("\".5\""), 422, "price", "invalid_decimal"),
    NO(P, true, PRICE("\"1,50\""), 422, "price", "invalid_decimal"),
    NO(P, true, PRICE("\" 1\""), 422, "price", "invalid_decimal"),
    NO(P, true, PRICE("[1]"), 422, "price", "invalid_decimal"),
    NO(P, true, PRICE("{}"), 422, "price", "invalid_decimal"),
    LARGE(P, true, PRICE("123456789012345678901234567890"), "price"),
    LARGE(P, true, PRICE("\"1000000000000.00\""), "price"),
    NO(P, true, PRICE("\"0x10\""), 422, "price", "invalid_decimal"),
    NO(P, true, PRICE("\"+1\""), 422, "price", "invalid_decimal"),
    LARGE(P, true, PRICE("\"<<400*9>>\""), "price"),
    DECIMALS(P, true, PRICE("\"0.<<300*0>>1\""), "price"),
    NO(P, true, PRICE("\"1\\u0000\""), 422, "price", "invalid_decimal"),
    NO(P, true, "{\"sku\":\"NEW-1\",\"name\":\"New\",\"uom_id\":1}", 422, "price", "required"),
    NEG(P, true, PROD(",\"cost\":-1"), "cost"),
    NO(P, true, PROD(",\"cost\":\"abc\""), 422, "cost", "invalid_decimal"),
    NO(P, true, PROD(",\"cost\":false"), 422, "cost", "invalid_decimal"),
    NO(P, true, PROD(",\"cost\":null"), 422, "cost", "required"),
    DECIMALS(P, true, PROD(",\"cost\":\"1.001\""), "cost"),
    NEG(P, true, PROD(",\"stock\":-1"), "stock"),
    NO(P, true, PROD(",\"stock\":\"abc\""), 422, "stock", "invalid_decimal"),
    NO(P, true, PROD(",\"stock\":false"), 422, "stock", "invalid_decimal"),
    DECIMALS(P, true, PROD(",\"stock\":\"1.2345\""), "stock"),
    LARGE(P, true, PROD(",\"stock\":\"123456789012345678901234567890\""), "stock"),
    OK(P, true, PROD(",\"stock\":\"999999999999.999\"")),
    NEG(P, true, PROD(",\"min_stock\":-1"), "min_stock"),
    NO(P, true, PROD(",\"min_stock\":\"abc\""), 422, "min_stock", "invalid_decimal"),
    NO(P, true, PROD(",\"min_stock\":false"), 422, "min_stock", "invalid_decimal"),
    NO(P, true, UOM_ID("null"), 422, "uom_id", "required"),
    NO(P, true, UOM_ID("\"1\""), 422, "uom_id", "invalid_type"),
    NO(P, true, UOM_ID("0"), 422, "uom_id", "invalid_type"),
    NO(P, true, UOM_ID("-3"), 422, "uom_id", "invalid_type"),
    NO(P, true, UOM_ID("1.5"), 422, "uom_id", "invalid_type"),
    NO(P, true, UOM_ID("9223372036854775807"), 422, "uom_id", "invalid_type"),
    NO(P, true, UOM_ID("123456789012345678901234567890"), 422, "uom_id", "invalid_type"),
    NO(P, true, UOM_ID("true"), 422, "uom_id", "invalid_type"),
    NO(P, true, "{\"sku\":\"NEW-1\",\"name\":\"New\",\"price\":\"1.00\"}", 422, "uom_id",
       "required"),
    NO(P, true, PROD(",\"category_id\":\"x\""), 422, "category_id", "invalid_type"),
    NO(P, true, PROD(",\"category_id\":0"), 422, "category_id", "invalid_type"),
    NO(P, true, PROD(",\"category_id\":false"), 422, "category_id", "invalid_type"),
    NO(P, true, PROD(",\"category_id\":1.5"), 422, "category_id", "invalid_type"),
    NO(P, true, SKU("\"\""), 422, "sku", "blank"),
    NO(P, true, SKU("\"  \""), 422, "sku", "blank"),
    NO(P, true, SKU("5"), 422, "sku", "invalid_type"),
    NO(P, true, SKU("null"), 422, "sku", "required"),
    NO(P, true, SKU("\"<<65*s>>\""), 422, "sku", "too_long"),
    NO(P, true, SKU("\"<<10000*s>>\""), 422, "sku", "too_long"),
    OK(P, true, SKU("\"<<64*s>>\"")),
    NO(P, true, PNAME("\"<<201*n>>\""), 422, "name", "too_long"),
    NO(P, true, "{\"sku\":\"NEW-1\",\"uom_id\":1,\"price\":\"1.00\"}", 422, "name", "required"),
    NO(P, true, "{\"name\":\"Claw hammer\",\"uom_id\":1,\"price\":1}", 422, "sku", "required"),
    OK(P, false, "{\"price\":\"15\"}"),
    OK(P, false, "{\"category_id\":null}"),
    OK(P, false, "{}"),
    DECIMALS(P, false, "{\"price\":\"1.001\"}", "price"),
    NO(P, false, "{\"price\":null}", 422, "price", "required"),
    NO(P, false, "{\"uom_id\":null}", 422, "uom_id", "required"),

    /* ---- sales: customer (optional, at most 200), items (1..500 lines of product_id,
     * quantity > 0 with 3 decimals, unit_price >= 0 with 2 decimals) ---- */
    OK(S, true, "{\"items\":[" LINE "]}"),
    OK(S, true, "{\"customer\":null,\"items\":[" LINE "]}"),
    OK(S, true, "{\"customer\":\"<<200*ñ>>\",\"items\":[" LINE "]}"),
    OK(S, true, "{\"items\":[<<499*" LINE ",>>" LINE "]}"),
    OK(S, true, UPRICE("\"0.00\"")),
    OK(S, true, QTY("\"0.001\"")),
    OK(S, true, QTY("1e3")),
    NO(S, true, "{}", 422, "items", "required"),
    NO(S, true, "{\"customer\":\"x\",\"items\":[]}", 422, "items", "invalid_length"),
    NO(S, true, "{\"items\":null}", 422, "items", "required"),
    NO(S, true, "{\"items\":\"lines\"}", 422, "items", "required"),
    NO(S, true, "{\"items\":" LINE "}", 422, "items", "required"),
    NO(S, true, "{\"items\":[42]}", 422, "items[0]", "invalid_type"),
    NO(S, true, "{\"items\":[" LINE ",null]}", 422, "items[1]", "invalid_type"),
    NO(S, true, "{\"items\":[<<500*" LINE ",>>" LINE "]}", 422, "items", "invalid_length"),
    NO(S, true, "{\"items\":[<<599*" LINE ",>>" LINE "]}", 422, "items", "invalid_length"),
    NO(S, true, "{\"items\":[<<19999*1,>>1]}", 422, "items", "invalid_length"),
    NO(S, true, "{\"items\":[{\"quantity\":1}]}", 422, "items[0].product_id", "required"),
    NO(S, true, PRODUCT("\"abc\""), 422, "items[0].product_id", "invalid_type"),
    NO(S, true, PRODUCT("0"), 422, "items[0].product_id", "invalid_type"),
    NO(S, true, PRODUCT("-5"), 422, "items[0].product_id", "invalid_type"),
    NO(S, true, PRODUCT("1.5"), 422, "items[0].product_id", "invalid_type"),
    NO(S, true, PRODUCT("true"), 422, "items[0].product_id", "invalid_type"),
    NO(S, true, PRODUCT("null"), 422, "items[0].product_id", "required"),
    NO(S, true, PRODUCT("1e400"), 422, "items[0].product_id", "invalid_type"),
    NO(S, true, PRODUCT("99999999999999999999"), 422, "items[0].product_id", "invalid_type"),
    NO(S, true, PRODUCT("9223372036854775807"), 422, "items[0].product_id", "invalid_type"),
    NO(S, true, "{\"items\":[{\"product_id\":7}]}", 422, "items[0].quantity", "required"),
    NO(S, true, QTY("0"), 422, "items[1].quantity", "not_positive"),
    NO(S, true, QTY("\"0\""), 422, "items[1].quantity", "not_positive"),
    NO(S, true, QTY("\"0.000\""), 422, "items[1].quantity", "not_positive"),
    NEG(S, true, QTY("-1"), "items[1].quantity"),
    NEG(S, true, QTY("\"-2.5\""), "items[1].quantity"),
    DECIMALS(S, true, QTY("\"1.2345\""), "items[1].quantity"),
    NO(S, true, QTY("\"abc\""), 422, "items[1].quantity", "invalid_decimal"),
    NO(S, true, QTY("\"\""), 422, "items[1].quantity", "invalid_decimal"),
    NO(S, true, QTY("null"), 422, "items[1].quantity", "required"),
    NO(S, true, QTY("true"), 422, "items[1].quantity", "invalid_decimal"),
    NO(S, true, QTY("[]"), 422, "items[1].quantity", "invalid_decimal"),
    NO(S, true, QTY("{\"a\":1}"), 422, "items[1].quantity", "invalid_decimal"),
    NO(S, true, QTY("1e400"), 422, "items[1].quantity", "invalid_decimal"),
    NO(S, true, QTY("\"1e3\""), 422, "items[1].quantity", "invalid_decimal"),
    NO(S, true, QTY("\"NaN\""), 422, "items[1].quantity", "invalid_decimal"),
    NO(S, true, QTY("NaN"), 422, "items[1].quantity", "invalid_decimal"),
    NO(S, true, QTY("\"Infinity\""), 422, "items[1].quantity", "invalid_decimal"),
    NO(S, true, QTY("Infinity"), 422, "items[1].quantity", "invalid_decimal"),
    NO(S, true, QTY("-1e400"), 422, "items[1].quantity", "invalid_decimal"),
    NO(S, true, QTY("[1]"), 422, "items[1].quantity", "invalid_decimal"),
    LARGE(S, true, QTY("\"123456789012345678901234567890\""), "items[1].quantity"),
    NO(S, true, QTY("\"0x10\""), 422, "items[1].quantity", "invalid_decimal"),
    LARGE(S, true, QTY("123456789012345678901234567890"), "items[1].quantity"),
    LARGE(S, true, QTY("\"9999999999999\""), "items[1].quantity"),
    DECIMALS(S, true, QTY("\"1.0000000000000000000001\""), "items[1].quantity"),
    NO(S, true, QTY("\" 1\""), 422, "items[1].quantity", "invalid_decimal"),
    NO(S, true, QTY("\"1 \""), 422, "items[1].quantity", "invalid_decimal"),
    NO(S, true, QTY("\"+1\""), 422, "items[1].quantity", "invalid_decimal"),
    NO(S, true, QTY("\"\xef\xbc\x91\""), 422, "items[1].quantity", "invalid_decimal"),
    NO(S, true, QTY("\"1\\u0000\""), 422, "items[1].quantity", "invalid_decimal"),
    NEG(S, true, UPRICE("\"-1.00\""), "items[0].unit_price"),
    NEG(S, true, UPRICE("-0.01"), "items[0].unit_price"),
    DECIMALS(S, true, UPRICE("\"1.234\""), "items[0].unit_price"),
    NO(S, true, UPRICE("\"x\""), 422, "items[0].unit_price", "invalid_decimal"),
    NO(S, true, UPRICE("true"), 422, "items[0].unit_price", "invalid_decimal"),
    NO(S, true, UPRICE("{}"), 422, "items[0].unit_price", "invalid_decimal"),
    NO(S, true, UPRICE("1e400"), 422, "items[0].unit_price", "invalid_decimal"),
    NO(S, true, UPRICE("\"NaN\""), 422, "items[0].unit_price", "invalid_decimal"),
    LARGE(S, true, UPRICE("\"99999999999999\""), "items[0].unit_price"),
    NO(S, true, UPRICE("\"1e2\""), 422, "items[0].unit_price", "invalid_decimal"),
    NO(S, true, "{\"customer\":\"<<201*c>>\",\"items\":[" LINE "]}", 422, "customer", "too_long"),
    NO(S, true, "{\"customer\":42,\"items\":[]}", 422, "customer", "invalid_type"),
    NO(S, true, "{\"customer\":\"nul\\u0000byte\",\"items\":[" LINE "]}", 422, "customer",
       "invalid_string"),

    /* ---- confirm: no body, or {"payment": {"amount" > 0, "method"}} ---- */
    OK(CF, true, NULL),
    OK(CF, true, "{}"),
    OK(CF, true, "{\"payment\":null}"),
    OK(CF, true, CONFIRM("\"4.00\"", "\"card\"")),
    NO(CF, true, CONFIRM("\"1.00\"", "\"bitcoin\""), 422, "payment.method", "invalid_method"),
    NO(CF, true, "{\"payment\":{\"amount\":\"1.00\"}}", 422, "payment.method", "invalid_method"),
    NO(CF, true, CONFIRM("\"1.00\"", "\"CASH\""), 422, "payment.method", "invalid_method"),
    NO(CF, true, CONFIRM("\"1.00\"", "\"all\""), 422, "payment.method", "invalid_method"),
    NO(CF, true, CONFIRM("\"1.00\"", "7"), 422, "payment.method", "invalid_method"),
    NO(CF, true, CONFIRM("\"1.00\"", "\"cash\\u0000\""), 422, "payment.method", "invalid_method"),
    NO(CF, true, CONFIRM("\"1.00\"", "\"cash\\u0000bitcoin\""), 422, "payment.method",
       "invalid_method"),
    NO(CF, true, CONFIRM("0", "\"cash\""), 422, "payment.amount", "not_positive"),
    NO(CF, true, CONFIRM("\"0.00\"", "\"cash\""), 422, "payment.amount", "not_positive"),
    NEG(CF, true, CONFIRM("\"-1.00\"", "\"cash\""), "payment.amount"),
    DECIMALS(CF, true, CONFIRM("\"1.001\"", "\"cash\""), "payment.amount"),
    NO(CF, true, CONFIRM("\"abc\"", "\"cash\""), 422, "payment.amount", "invalid_decimal"),
    NO(CF, true, CONFIRM("null", "\"cash\""), 422, "payment.amount", "required"),
    NO(CF, true, "{\"payment\":{\"method\":\"cash\"}}", 422, "payment.amount", "required"),
    NO(CF, true, "{\"payment\":\"cash\"}", 422, "payment", "invalid_type"),
    NO(CF, true, "{\"payment\":[]}", 422, "payment", "invalid_type"),
    DEEP(CF, true, "{\"payment\":{\"amount\":<<40*{\"a\":>>1<<40*}>>,\"method\":\"cash\"}}"),
    NO(CF, true, "[]", 400, "", NULL),
    NO(CF, true, "null", 400, "", NULL),
    NO(CF, true, "\"x\"", 400, "", NULL),
    NO(CF, true, "42", 400, "", NULL),
    NO(CF, true, "{\"payment\":{\"amount\":\"1.00\",\"method\":\"cash\"}", 400, "", NULL),
    NO(CF, true, CONFIRM("\"1.00\"", "\"cash\"") " {}", 400, "", NULL),

    /* ---- payments: sale_id, amount > 0, method, paid_at (ISO 8601 with an offset, years
     * 1970-2999), reference (at most 200), Idempotency-Key (1..255 visible ASCII) ---- */
    OK(PY, true, PAYMENT("")),
    OK(PY, true, PAYMENT(",\"reference\":\"r-1\",\"paid_at\":\"2026-01-05T10:00:00.5-03:00\"")),
    OK(PY, true, PAID_AT("\"2026-01-05T10:00:00Z\"")),
    OK(PY, true, PAID_AT("null")),
    OK(PY, true, PAYMENT(",\"reference\":\"<<200*r>>\"")),
    ROW(PY, true, PAYMENT(""), 0, NULL, NULL, NULL, "<<255*k>>", 0),
    OK(PY, true, "{\"reference\":\"idem\",\"method\":\"card\",\"amount\":2,\"sale_id\":3}"),
    NO(PY, true, "{\"amount\":\"1.00\",\"method\":\"cash\"}", 422, "sale_id", "required"),
    NO(PY, true, "{\"sale_id\":\"x\",\"amount\":\"1.00\",\"method\":\"cash\"}", 422, "sale_id",
       "invalid_type"),
    NO(PY, true, "{\"sale_id\":null,\"amount\":\"1.00\",\"method\":\"cash\"}", 422, "sale_id",
       "required"),
    NO(PY, true, "{\"sale_id\":0,\"amount\":\"1.00\",\"method\":\"cash\"}", 422, "sale_id",
       "invalid_type"),
    NO(PY, true, "{\"sale_id\":99999999999999999999,\"amount\":\"1.00\",\"method\":\"cash\"}", 422,
       "sale_id", "invalid_type"),
    NO(PY, true, "{\"sale_id\":9223372036854775807,\"amount\":\"1.00\",\"method\":\"cash\"}", 422,
       "sale_id", "invalid_type"),
    NO(PY, true, "{\"sale_id\":3,\"amount\":\"1.00\",\"method\":\"cheque\"}", 422, "method",
       "invalid_method"),
    NO(PY, true, "{\"sale_id\":3,\"amount\":\"1.00\",\"method\":\"all\"}", 422, "method",
       "invalid_method"),
    NO(PY, true, "{\"sale_id\":3,\"amount\":\"1.00\"}", 422, "method", "invalid_method"),
    NO(PY, true, "{\"sale_id\":3,\"amount\":\"1.00\",\"method\":7}", 422, "method",
       "invalid_method"),
    NO(PY, true, "{\"sale_id\":3,\"amount\":\"1.00\",\"method\":\"cash\\u0000\"}", 422, "method",
       "invalid_method"),
    NO(PY, true, AMOUNT("0"), 422, "amount", "not_positive"),
    NO(PY, true, AMOUNT("\"0.00\""), 422, "amount", "not_positive"),
    NEG(PY, true, AMOUNT("-1"), "amount"),
    NEG(PY, true, AMOUNT("\"-0.01\""), "amount"),
    DECIMALS(PY, true, AMOUNT("\"1.001\""), "amount"),
    NO(PY, true, AMOUNT("\"1,00\""), 422, "amount", "invalid_decimal"),
    NO(PY, true, AMOUNT("\"x\""), 422, "amount", "invalid_decimal"),
    NO(PY, true, AMOUNT("true"), 422, "amount", "invalid_decimal"),
    NO(PY, true, AMOUNT("null"), 422, "amount", "required"),
    NO(PY, true, AMOUNT("1e400"), 422, "amount", "invalid_decimal"),
    NO(PY, true, AMOUNT("\"NaN\""), 422, "amount", "invalid_decimal"),
    NO(PY, true, AMOUNT("\"Infinity\""), 422, "amount", "invalid_decimal"),
    LARGE(PY, true, AMOUNT("99999999999999999999"), "amount"),
    NO(PY, true, "{\"sale_id\":3,\"method\":\"cash\"}", 422, "amount", "required"),
    NO(PY, true, PAID_AT("\"yesterday\""), 422, "paid_at", "invalid_timestamp"),
    NO(PY, true, PAID_AT("\"2026-01-05T10:00:00\""), 422, "paid_at", "invalid_timestamp"),
    NO(PY, true, PAID_AT("\"2026-01-05\""), 422, "paid_at", "invalid_timestamp"),
    NO(PY, true, PAID_AT("\"2026-02-30T10:00:00Z\""), 422, "paid_at", "invalid_timestamp"),
    NO(PY, true, PAID_AT("\"2026-01-05T25:00:00Z\""), 422, "paid_at", "invalid_timestamp"),
    NO(PY, true, PAID_AT("\"2026-01-05 10:00:00+00:00\""), 422, "paid_at", "invalid_timestamp"),
    NO(PY, true, PAID_AT("\"2026-01-05T10:00:00+01:99\""), 422, "paid_at", "invalid_timestamp"),
    NO(PY, true, PAID_AT("\"2026-01-05T10:00:00+1:00\""), 422, "paid_at", "invalid_timestamp"),
    NO(PY, true, PAID_AT("\"2026-01-05T10:00:00+16:00\""), 422, "paid_at", "invalid_timestamp"),
    NO(PY, true, PAID_AT("\"2026-01-05T10:00:00.1234567Z\""), 422, "paid_at", "invalid_timestamp"),
    NO(PY, true, PAID_AT("\"9999-12-31T23:59:59-15:00\""), 422, "paid_at", "invalid_timestamp"),
    NO(PY, true, PAID_AT("\"1900-01-01T00:00:00+15:00\""), 422, "paid_at", "invalid_timestamp"),
    NO(PY, true, PAID_AT("42"), 422, "paid_at", "invalid_type"),
    NO(PY, true, PAID_AT("\"<<41*2>>\""), 422, "paid_at", "too_long"),
    NO(PY, true, PAYMENT(",\"reference\":\"<<201*r>>\""), 422, "reference", "too_long"),
    NO(PY, true, PAYMENT(",\"reference\":\"r\\u0000\""), 422, "reference", "invalid_string"),
    NO(PY, true, PAYMENT(",\"reference\":5"), 422, "reference", "invalid_type"),
    ROW(PY, true, PAYMENT(""), 422, "Idempotency-Key", "invalid_idempotency_key", NULL, "<<256*k>>",
        0),
    ROW(PY, true, PAYMENT(""), 422, "Idempotency-Key", "invalid_idempotency_key", NULL,
        "<<5000*k>>", 0),
    ROW(PY, true, PAYMENT(""), 422, "Idempotency-Key", "invalid_idempotency_key", NULL, "bad key",
        0),
    ROW(PY, true, PAYMENT(""), 422, "Idempotency-Key", "invalid_idempotency_key", NULL,
        "cl\xc3\xa9", 0),
    ROW(PY, true, PAYMENT(""), 422, "Idempotency-Key", "invalid_idempotency_key", NULL, "", 0),
    /* ---- returns: items (1..500 lines), refund? {amount, method}, note? (500) ---- */
    OK(RT, true, RETURN("")),
    OK(RT, true, REFUND("null")),
    OK(RT, true, REFUND("{\"amount\":\"2.50\",\"method\":\"card\"}")),
    OK(RT, true, RETURN(",\"note\":\"<<500*n>>\"")),
    ROW(RT, true, RETURN(""), 415, "", NULL, "text/plain", NULL, 0),
    NO(RT, true, "", 400, "", NULL),
    NO(RT, true, "{}", 422, "items", "required"),
    NO(RT, true, "{\"items\":{}}", 422, "items", "required"),
    NO(RT, true, "{\"items\":[]}", 422, "items", "invalid_length"),
    NO(RT, true,
       "{\"items\":[<<501*{\"product_id\":1,\"quantity\":1},>>{\"product_id\":1,\"quantity\":1}]}",
       422, "items", "invalid_length"),
    NO(RT, true, "{\"items\":[1]}", 422, "items[0]", "invalid_type"),
    NO(RT, true, "{\"items\":[{\"quantity\":1}]}", 422, "items[0].product_id", NULL),
    NO(RT, true, "{\"items\":[{\"product_id\":0,\"quantity\":1}]}", 422, "items[0].product_id",
       NULL),
    NO(RT, true, "{\"items\":[{\"product_id\":7}]}", 422, "items[0].quantity", "required"),
    NO(RT, true,
       "{\"items\":[{\"product_id\":7,\"quantity\":1},{\"product_id\":8,\"quantity\":0}]}", 422,
       "items[1].quantity", "not_positive"),
    DECIMALS(RT, true, "{\"items\":[{\"product_id\":7,\"quantity\":\"1.0001\"}]}",
             "items[0].quantity"),
    NEG(RT, true, "{\"items\":[{\"product_id\":7,\"quantity\":-1}]}", "items[0].quantity"),
    NO(RT, true, REFUND("\"1.00\""), 422, "refund", "invalid_type"),
    NO(RT, true, REFUND("{\"method\":\"cash\"}"), 422, "refund.amount", "required"),
    NO(RT, true, REFUND("{\"amount\":0,\"method\":\"cash\"}"), 422, "refund.amount",
       "not_positive"),
    DECIMALS(RT, true, REFUND("{\"amount\":\"1.001\",\"method\":\"cash\"}"), "refund.amount"),
    NO(RT, true, REFUND("{\"amount\":1}"), 422, "refund.method", "invalid_method"),
    NO(RT, true, REFUND("{\"amount\":1,\"method\":\"all\"}"), 422, "refund.method",
       "invalid_method"),
    NO(RT, true, RETURN(",\"note\":\"<<501*n>>\""), 422, "note", NULL),
    NO(RT, true, RETURN(",\"note\":5"), 422, "note", "invalid_type"),
    ROW(RT, true, RETURN(""), 422, "Idempotency-Key", "invalid_idempotency_key", NULL, "a b", 0),
    DEEP(RT, true, "{\"items\":<<10000*[>>"),
    /* ---- stock movements ---- */
    OK(MV, true,
       MOVE("receipt", "\"2.5\"", ",\"unit_cost\":\"1.25\",\"note\":\"n\",\"reference\":\"r\"")),
    OK(MV, true, MOVE("loss", "1", "")),
    OK(MV, true, MOVE("damage", "\"0.001\"", ",\"unit_cost\":null,\"note\":null")),
    OK(MV, true, MOVE("adjustment", "\"-3\"", "")),
    OK(MV, true, MOVE("count", "0", "")),
    OK(MV, true,
       MOVE("receipt", "1", ",\"note\":\"<<500*\xc3\xa9>>\",\"reference\":\"<<200*r>>\"")),
    NO(MV, true, MOVE("adjustment", "0", ""), 422, "quantity", "zero"),
    NO(MV, true, MOVE("receipt", "0", ""), 422, "quantity", "not_positive"),
    NEG(MV, true, MOVE("loss", "-1", ""), "quantity"),
    NEG(MV, true, MOVE("count", "\"-1\"", ""), "quantity"),
    DECIMALS(MV, true, MOVE("receipt", "\"1.0001\"", ""), "quantity"),
    DECIMALS(MV, true, MOVE("receipt", "1", ",\"unit_cost\":\"1.001\""), "unit_cost"),
    NO(MV, true, MOVE("receipt", "null", ""), 422, "quantity", "required"),
    NO(MV, true, "{\"product_id\":7,\"kind\":\"receipt\"}", 422, "quantity", "required"),
    NO(MV, true, "{\"kind\":\"receipt\",\"quantity\":1}", 422, "product_id", NULL),
    NO(MV, true, "{\"product_id\":7,\"quantity\":1}", 422, "kind", "required"),
    NO(MV, true, MOVE("sale", "1", ""), 422, "kind", "invalid_kind"),
    NO(MV, true, MOVE("opening", "1", ""), 422, "kind", "invalid_kind"),
    NO(MV, true, MOVE("return", "1", ""), 422, "kind", "invalid_kind"),
    NO(MV, true, MOVE("cancel", "1", ""), 422, "kind", "invalid_kind"),
    NO(MV, true, MOVE("Receipt", "1", ""), 422, "kind", "invalid_kind"),
    NO(MV, true, "{\"product_id\":7,\"kind\":3,\"quantity\":1}", 422, "kind", "invalid_type"),
    NO(MV, true, MOVE("receipt", "1", ",\"note\":\"<<501*n>>\""), 422, "note", "too_long"),
    NO(MV, true, MOVE("receipt", "1", ",\"reference\":\"<<201*r>>\""), 422, "reference",
       "too_long"),
    ROW(MV, true, MOVE("receipt", "1", ""), 422, "Idempotency-Key", "invalid_idempotency_key", NULL,
        "bad key", 0),
    /* PATCH /tenant: every error is validation_error naming the field, unknown fields too. */
    OK(TN, false, "{}"),
    OK(TN, false, "{\"name\":\"Tienda\",\"locale\":\"es\",\"currency\":\"EUR\"}"),
    OK(TN, false, "{\"currency\":\"XCG\"}"),
    OK(TN, false, "{\"name\":\"<<200*\u00f1>>\"}"),
    NO(TN, false, "", 400, "", NULL),
    NO(TN, false, "[]", 400, "", NULL),
    NO(TN, false, "{\"locale\":\"fr\"}", 422, "locale", "validation_error"),
    NO(TN, false, "{\"locale\":\"ES\"}", 422, "locale", "validation_error"),
    NO(TN, false, "{\"locale\":null}", 422, "locale", "validation_error"),
    NO(TN, false, "{\"locale\":true}", 422, "locale", "validation_error"),
    NO(TN, false, "{\"currency\":\"usd\"}", 422, "currency", "validation_error"),
    NO(TN, false, "{\"currency\":\"HRK\"}", 422, "currency", "validation_error"),
    NO(TN, false, "{\"currency\":\"ABC\"}", 422, "currency", "validation_error"),
    NO(TN, false, "{\"currency\":840}", 422, "currency", "validation_error"),
    NO(TN, false, "{\"currency\":\"EU\\u0000R\"}", 422, "currency", "validation_error"),
    NO(TN, false, "{\"name\":\"\"}", 422, "name", "validation_error"),
    NO(TN, false, "{\"name\":\" \\t\"}", 422, "name", "validation_error"),
    NO(TN, false, "{\"name\":\"<<201*n>>\"}", 422, "name", "validation_error"),
    NO(TN, false, "{\"name\":null}", 422, "name", "validation_error"),
    NO(TN, false, "{\"name\":\"Ok\",\"colour\":\"red\"}", 422, "colour", "validation_error"),
    NO(TN, false, "{\"tenant_id\":2}", 422, "tenant_id", "validation_error"),
    NO(TN, false, "{\"timezone\":\"UTC\"}", 422, "timezone", "validation_error"),
    NO(TN, false, "{\"<<60*k>>\":1}", 422, "", "validation_error"),
    NO(TN, false, "{\"name\":\"Ok\",\"locale\":\"es\",\"currency\":\"XYZ\"}", 422, "currency",
       "validation_error"),
};

/* template with each "<<N*x>>" replaced by N copies of x; the copy belongs to a. */
static char *expand(struct arena *a, const char *t)
{
    struct buf b;
    const char *p = t, *open, *star, *close;
    char *out;

    buf_init(&b);
    while ((open = strstr(p, "<<")) && (star = strchr(open, '*')) && (close = strstr(star, ">>"))) {
        long n = strtol(open + 2, NULL, 10);

        buf_add(&b, p, (size_t)(open - p));
        while (n-- > 0)
            buf_add(&b, star + 1, (size_t)(close - star - 1));
        p = close + 2;
    }
    buf_adds(&b, p);
    CU_ASSERT_FATAL(!b.failed);
    out = arena_strdup(a, b.data);
    buf_release(&b);
    return out;
}

static const char *kind_name(enum body_in_kind k)
{
    static const char *const names[] = {"api_uom_in",    "api_category_in", "api_product_in",
                                        "api_sale_in",   "api_confirm_in",  "api_payment_in",
                                        "api_return_in", "api_movement_in", "api_tenant_in"};

    return k < BODY_KINDS ? names[k] : "?";
}

/* Runs one row; on a mismatch records a CUnit failure that names the row and what came back. */
static void run_row(size_t i, const struct row *r)
{
    struct arena *a = arena_new();
    struct http_req req;
    struct app_err err;
    struct src s;
    union body_in_out out;
    const char *body = r->body ? r->body : "", *key = NULL, *ct;
    size_t len;
    int rc, status = 0;
    char why[400];

    if (r->raw_len) {
        len = r->raw_len;
    } else {
        body = expand(a, body);
        len = strlen(body);
    }
    if (r->key)
        key = expand(a, r->key);
    ct = r->ct ? r->ct : "application/json";
    rc = body_in_request(&req, a, strcmp(ct, NO_CT) ? ct : NULL, key, key ? strlen(key) : 0, body,
                         len, &s, &err);
    if (rc == 0)
        rc = body_in_run(r->kind, &req, r->full, &out, &err);
    if (rc)
        status = err_http_status(err.code);
    why[0] = '\0';
    if (status != r->status)
        snprintf(why, sizeof(why), "status %d, expected %d", status, r->status);
    else if (r->status && r->field && strcmp(err.field, r->field))
        snprintf(why, sizeof(why), "field '%s', expected '%s'", err.field, r->field);
    else if (r->status && r->slug && strcmp(err_slug(&err), r->slug))
        snprintf(why, sizeof(why), "code '%s', expected '%s'", err_slug(&err), r->slug);
    else if (r->status && r->msg && !strstr(err.msg, r->msg))
        snprintf(why, sizeof(why), "message without '%s'", r->msg);
    if (why[0]) {
        char msg[700];

        snprintf(msg, sizeof(msg), "row %zu %s(full=%d) %.160s: %s (%s)", i, kind_name(r->kind),
                 r->full, r->raw_len ? "(raw bytes)" : body, why, rc ? err.msg : "accepted");
        printf("\nnot ok - %s\n", msg);
        CU_assertImplementation(CU_FALSE, __LINE__, msg, __FILE__, "run_row", CU_FALSE);
    }
    arena_free(a);
}

static void test_api_in_table_every_case(void)
{
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        run_row(i, &rows[i]);
}

/* Parses body into a POST and runs the validator of kind; asserts acceptance. */
static void accept(struct arena *a, enum body_in_kind kind, bool full, const char *body,
                   const char *key, union body_in_out *out)
{
    struct http_req req;
    struct app_err err;
    struct src s;

    CU_ASSERT_EQUAL_FATAL(body_in_request(&req, a, "application/json", key, key ? strlen(key) : 0,
                                          body, strlen(body), &s, &err),
                          0);
    CU_ASSERT_EQUAL_FATAL(body_in_run(kind, &req, full, out, &err), 0);
}

static void test_api_in_product_values_are_exact(void)
{
    struct arena *a = arena_new();
    union body_in_out o;

    accept(a, BODY_PRODUCT, true,
           "{\"sku\":\"HAM-1\",\"name\":\"Hammer\",\"category_id\":4,\"uom_id\":2,\"price\":1.25e1,"
           "\"cost\":\"3.25\",\"stock\":10,\"min_stock\":\"2.5\"}",
           NULL, &o);
    CU_ASSERT_STRING_EQUAL(o.product.sku, "HAM-1");
    CU_ASSERT_STRING_EQUAL(o.product.name, "Hammer");
    CU_ASSERT(o.product.has_category && o.product.category_id == 4);
    CU_ASSERT_EQUAL(o.product.uom_id, 2);
    CU_ASSERT(o.product.has_price && o.product.price == 1250);
    CU_ASSERT(o.product.has_cost && o.product.cost == 325);
    CU_ASSERT(o.product.has_stock && o.product.stock == 10000);
    CU_ASSERT(o.product.has_min_stock && o.product.min_stock == 2500);
    /* PATCH: what is left out is not there; category_id null is there, as "none". */
    accept(a, BODY_PRODUCT, false, "{\"category_id\":null}", NULL, &o);
    CU_ASSERT(o.product.has_category && o.product.category_id == -1);
    CU_ASSERT(!o.product.has_price && !o.product.has_cost && !o.product.has_stock);
    CU_ASSERT_PTR_NULL(o.product.sku);
    CU_ASSERT_EQUAL(o.product.uom_id, -1);
    arena_free(a);
}

static void test_api_in_sale_lines_are_read_in_order(void)
{
    struct arena *a = arena_new();
    union body_in_out o;

    accept(a, BODY_SALE, true,
           "{\"customer\":\"ACME\",\"items\":[{\"product_id\":5,\"quantity\":\"1.500\","
           "\"unit_price\":\"0.30\"},{\"product_id\":6,\"quantity\":2,\"unit_price\":null}]}",
           NULL, &o);
    CU_ASSERT_STRING_EQUAL(o.sale.customer, "ACME");
    CU_ASSERT_EQUAL_FATAL(o.sale.nlines, 2);
    CU_ASSERT(o.sale.lines[0].product_id == 5 && o.sale.lines[0].quantity == 1500 &&
              o.sale.lines[0].unit_price == 30);
    /* No unit_price (or null): the product's price, -1. */
    CU_ASSERT(o.sale.lines[1].product_id == 6 && o.sale.lines[1].quantity == 2000 &&
              o.sale.lines[1].unit_price == -1);
    arena_free(a);
}

static void test_api_in_confirm_payment_is_optional(void)
{
    struct arena *a = arena_new();
    union body_in_out o;

    accept(a, BODY_CONFIRM, true, "", NULL, &o);
    CU_ASSERT_PTR_NULL(o.confirm.given);
    accept(a, BODY_CONFIRM, true, "{\"payment\":{\"amount\":\"4.00\",\"method\":\"card\"}}", NULL,
           &o);
    CU_ASSERT_PTR_EQUAL(o.confirm.given, &o.confirm.pay);
    CU_ASSERT(o.confirm.pay.amount == 400 && o.confirm.pay.method == PAY_CARD);
    arena_free(a);
}

static void test_api_in_payment_reads_key_and_fields(void)
{
    struct arena *a = arena_new();
    union body_in_out o;

    accept(a, BODY_PAYMENT, true,
           "{\"sale_id\":3,\"amount\":\"10.00\",\"method\":\"transfer\",\"reference\":\"r-1\","
           "\"paid_at\":\"2026-01-05T10:00:00.5-03:00\"}",
           "vg-key-1", &o);
    CU_ASSERT_STRING_EQUAL(o.payment.key, "vg-key-1");
    CU_ASSERT(o.payment.in.sale_id == 3 && o.payment.in.amount == 1000 &&
              o.payment.in.method == PAY_TRANSFER);
    CU_ASSERT_STRING_EQUAL(o.payment.in.reference, "r-1");
    CU_ASSERT_STRING_EQUAL(o.payment.in.paid_at, "2026-01-05T10:00:00.5-03:00");
    accept(a, BODY_PAYMENT, true, "{\"sale_id\":3,\"amount\":1,\"method\":\"cash\"}", NULL, &o);
    CU_ASSERT_PTR_NULL(o.payment.key);
    CU_ASSERT_PTR_NULL(o.payment.in.paid_at);
    CU_ASSERT_PTR_NULL(o.payment.in.reference);
    arena_free(a);
}

static void test_api_in_return_reads_lines_refund_and_key(void)
{
    struct arena *a = arena_new();
    union body_in_out o;

    accept(a, BODY_RETURN, true,
           "{\"items\":[{\"product_id\":5,\"quantity\":\"1.500\"},{\"product_id\":6,"
           "\"quantity\":2}],\"refund\":{\"amount\":\"4.25\",\"method\":\"transfer\"},"
           "\"note\":\"box torn\"}",
           "rk-1", &o);
    CU_ASSERT_STRING_EQUAL(o.ret.key, "rk-1");
    CU_ASSERT_EQUAL_FATAL(o.ret.in.nlines, 2);
    CU_ASSERT(o.ret.in.lines[0].product_id == 5 && o.ret.in.lines[0].quantity == 1500);
    CU_ASSERT(o.ret.in.lines[1].product_id == 6 && o.ret.in.lines[1].quantity == 2000);
    CU_ASSERT(o.ret.in.has_refund && o.ret.in.refund_amount == 425 &&
              o.ret.in.refund_method == PAY_TRANSFER);
    CU_ASSERT_STRING_EQUAL(o.ret.in.note, "box torn");
    accept(a, BODY_RETURN, true, "{\"items\":[{\"product_id\":5,\"quantity\":1}]}", NULL, &o);
    CU_ASSERT_PTR_NULL(o.ret.key);
    CU_ASSERT(!o.ret.in.has_refund);
    CU_ASSERT_PTR_NULL(o.ret.in.note);
    arena_free(a);
}

static void test_api_in_tenant_given_fields_only(void)
{
    struct arena *a = arena_new();
    union body_in_out o;

    accept(a, BODY_TENANT, false, "{\"currency\":\"MXN\",\"name\":\"Tienda \\u00d1and\\u00fa\"}",
           NULL, &o);
    CU_ASSERT_STRING_EQUAL(o.tenant.currency, "MXN");
    CU_ASSERT_STRING_EQUAL(o.tenant.name, "Tienda \xc3\x91"
                                          "and\xc3\xba");
    CU_ASSERT_PTR_NULL(o.tenant.locale);
    accept(a, BODY_TENANT, false, "{}", NULL, &o);
    CU_ASSERT(!o.tenant.name && !o.tenant.locale && !o.tenant.currency);
    arena_free(a);
}

int test_api_in_register(void)
{
    CU_pSuite s = CU_add_suite("api_in", NULL, NULL);

    if (!s || !CU_add_test(s, "table: every validation case", test_api_in_table_every_case) ||
        !CU_add_test(s, "product values are exact", test_api_in_product_values_are_exact) ||
        !CU_add_test(s, "sale lines are read in order", test_api_in_sale_lines_are_read_in_order) ||
        !CU_add_test(s, "confirm: the payment is optional",
                     test_api_in_confirm_payment_is_optional) ||
        !CU_add_test(s, "payment: key and fields", test_api_in_payment_reads_key_and_fields) ||
        !CU_add_test(s, "return: lines, refund and key",
                     test_api_in_return_reads_lines_refund_and_key) ||
        !CU_add_test(s, "tenant: the given fields only", test_api_in_tenant_given_fields_only))
        return -1;
    return 0;
}
