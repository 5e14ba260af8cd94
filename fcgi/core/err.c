/* err: filling struct app_err and mapping codes to HTTP statuses and slugs. */
#include "core/err.h"

#include <stdio.h>
#include <string.h>

void err_clear(struct app_err *err)
{
    memset(err, 0, sizeof(*err));
}

static void err_vset(struct app_err *err, enum err_code code, const char *slug, const char *field,
                     const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void err_vset(struct app_err *err, enum err_code code, const char *slug, const char *field,
                     const char *fmt, va_list ap)
{
    err->code = code;
    snprintf(err->slug, sizeof(err->slug), "%s", slug ? slug : "");
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    err->detail[0] = '\0';
}

int err_set(struct app_err *err, enum err_code code, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return -1;
    va_start(ap, fmt);
    err_vset(err, code, NULL, NULL, fmt, ap);
    va_end(ap);
    return -1;
}

int err_set_full(struct app_err *err, enum err_code code, const char *slug, const char *field,
                 const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return -1;
    va_start(ap, fmt);
    err_vset(err, code, slug, field, fmt, ap);
    va_end(ap);
    return -1;
}

int err_detail(struct app_err *err, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return -1;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
    va_end(ap);
    return -1;
}

int err_http_status(enum err_code code)
{
    switch (code) {
    case ERR_BAD_REQUEST:
        return 400;
    case ERR_UNAUTHORIZED:
        return 401;
    case ERR_FORBIDDEN:
        return 403;
    case ERR_NOT_FOUND:
        return 404;
    case ERR_METHOD:
        return 405;
    case ERR_CONFLICT:
        return 409;
    case ERR_PRECONDITION:
        return 412;
    case ERR_TOO_LARGE:
        return 413;
    case ERR_MEDIA_TYPE:
        return 415;
    case ERR_INVALID:
        return 422;
    case ERR_RATE_LIMITED:
        return 429;
    case ERR_UNAVAILABLE:
        return 503;
    case ERR_NONE:
    case ERR_INTERNAL:
        break;
    }
    return 500;
}

const char *err_slug(const struct app_err *err)
{
    if (err->slug[0])
        return err->slug;
    switch (err->code) {
    case ERR_BAD_REQUEST:
        return "bad_request";
    case ERR_UNAUTHORIZED:
        return "unauthorized";
    case ERR_FORBIDDEN:
        return "forbidden";
    case ERR_NOT_FOUND:
        return "not_found";
    case ERR_METHOD:
        return "method_not_allowed";
    case ERR_CONFLICT:
        return "conflict";
    case ERR_PRECONDITION:
        return "precondition_failed";
    case ERR_TOO_LARGE:
        return "payload_too_large";
    case ERR_MEDIA_TYPE:
        return "unsupported_media_type";
    case ERR_INVALID:
        return "validation_error";
    case ERR_RATE_LIMITED:
        return "rate_limited";
    case ERR_UNAVAILABLE:
        return "service_unavailable";
    case ERR_NONE:
    case ERR_INTERNAL:
        break;
    }
    return "internal_error";
}
