/*
 * body_in: drives the request body validators of the API (routes/api.h: api_*_in) behind the
 * real request parser, for tests/unit/test_api_in.c and tests/fuzz/fuzz_body.c: a POST with a
 * given body, Content-Type and Idempotency-Key, then one validator chosen by kind.
 */
#ifndef STOCK_TESTS_BODY_IN_H
#define STOCK_TESTS_BODY_IN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "routes/api.h"

#include "../fuzz/fuzz_src.h"

/* The validators, in the order fuzz_body's selector byte numbers them. */
enum body_in_kind {
    BODY_UOM,
    BODY_CATEGORY,
    BODY_PRODUCT,
    BODY_SALE,
    BODY_CONFIRM,
    BODY_PAYMENT,
    BODY_RETURN,
    BODY_MOVEMENT,
    BODY_TENANT,
    BODY_KINDS
};

/* What a validator fills, by kind. */
union body_in_out {
    struct uom_in uom;
    struct category_in category;
    struct product_in product;
    struct sale_in sale;
    struct {
        struct payment_in pay;
        struct payment_in *given; /* &pay when the body holds a payment, else NULL */
    } confirm;
    struct {
        struct payment_in in;
        const char *key; /* the Idempotency-Key header, NULL when absent */
    } payment;
    struct {
        struct return_in in;
        const char *key;
    } ret;
    struct {
        struct movement_in in;
        const char *key;
    } movement;
    struct tenant_change tenant;
};

/*
 * Parses a POST of len bytes of body (CONTENT_LENGTH=len) into req with http_req_parse.
 * content_type and key (keylen bytes, the Idempotency-Key header) are left out when NULL.
 * Everything lives in a. 0, or -1 with err set by the parser.
 */
static inline int body_in_request(struct http_req *req, struct arena *a, const char *content_type,
                                  const char *key, size_t keylen, const void *body, size_t len,
                                  struct src *s, struct app_err *err)
{
    /* In the arena: req keeps envp for http_env and http_header. */
    char **env = arena_alloc(a, 7 * sizeof(*env));
    int e = 0;

    env[e++] = (char *)"REQUEST_METHOD=POST";
    env[e++] = (char *)"DOCUMENT_URI=/api/v1/things";
    if (content_type)
        env[e++] = arena_sprintf(a, "CONTENT_TYPE=%s", content_type);
    if (key)
        env[e++] = arena_sprintf(a, "HTTP_IDEMPOTENCY_KEY=%.*s", (int)keylen, key);
    env[e++] = arena_sprintf(a, "CONTENT_LENGTH=%zu", len);
    env[e] = NULL;
    *s = (struct src){body, len, 0};
    err_clear(err);
    return http_req_parse(req, a, env, rd, s, err);
}

/*
 * Runs the validator of kind on req into out; full is the validators' own (every required
 * field, POST and PUT) and is ignored by those that do not take it. Returns what the
 * validator returns: 0, or -1 with err set.
 */
static inline int body_in_run(enum body_in_kind kind, struct http_req *req, bool full,
                              union body_in_out *out, struct app_err *err)
{
    switch (kind) {
    case BODY_UOM:
        return api_uom_in(req, full, &out->uom, err);
    case BODY_CATEGORY:
        return api_category_in(req, full, &out->category, err);
    case BODY_PRODUCT:
        return api_product_in(req, full, &out->product, err);
    case BODY_SALE:
        return api_sale_in(req, &out->sale, err);
    case BODY_CONFIRM:
        return api_confirm_in(req, &out->confirm.pay, &out->confirm.given, err);
    case BODY_RETURN:
        return api_return_in(req, &out->ret.in, &out->ret.key, err);
    case BODY_MOVEMENT:
        return api_movement_in(req, &out->movement.in, &out->movement.key, err);
    case BODY_TENANT:
        return api_tenant_in(req, &out->tenant, err);
    case BODY_PAYMENT:
    case BODY_KINDS:
        break;
    }
    return api_payment_in(req, &out->payment.in, &out->payment.key, err);
}

#endif
