/* err: the one error struct every fallible function fills, and its mapping to HTTP. */
#ifndef STOCK_CORE_ERR_H
#define STOCK_CORE_ERR_H

#include <stdarg.h>

enum err_code {
    ERR_NONE = 0,
    ERR_BAD_REQUEST,  /* 400 malformed */
    ERR_UNAUTHORIZED, /* 401 */
    ERR_FORBIDDEN,    /* 403 */
    ERR_NOT_FOUND,    /* 404 */
    ERR_METHOD,       /* 405 */
    ERR_CONFLICT,     /* 409 conflict or state */
    ERR_PRECONDITION, /* 412 If-Match does not match */
    ERR_TOO_LARGE,    /* 413 */
    ERR_MEDIA_TYPE,   /* 415 */
    ERR_INVALID,      /* 422 validation */
    ERR_RATE_LIMITED, /* 429 */
    ERR_INTERNAL,     /* 500 */
    ERR_UNAVAILABLE,  /* 503 */
};

/*
 * code and msg are safe to show a client; slug is the snake_case error code of the JSON error
 * (empty = the default slug of the code); field names the offending input or is empty;
 * detail is for the log only (libpq or hiredis text, for example).
 */
struct app_err {
    enum err_code code;
    char slug[48];
    char field[64];
    char msg[160];
    char detail[256];
};

/* Clears err to ERR_NONE. */
void err_clear(struct app_err *err);

/* Sets code and a client-safe message; clears slug, field and detail. Always returns -1. */
int err_set(struct app_err *err, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As err_set, with an explicit slug and field (either may be NULL). Always returns -1. */
int err_set_full(struct app_err *err, enum err_code code, const char *slug, const char *field,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Adds log-only detail to an already set error. Returns -1. */
int err_detail(struct app_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The HTTP status of a code (500 for ERR_NONE, which is a programmer error). */
int err_http_status(enum err_code code);

/* The slug of err: its own, or the default of its code ("not_found", "validation_error"...). */
const char *err_slug(const struct app_err *err);

#endif
