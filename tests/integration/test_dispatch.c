/*
 * test_dispatch: the route flags enforced by api_route_run against real sessions (PostgreSQL
 * and Redis): a small table with an admin-only route, an {id} route, a public one and one that
 * declares nothing; and api_dispatch on the real table for /me, logout and a prefetching read.
 */
#include <CUnit/CUnit.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "itest.h"
#include "routes/api.h"

#define PASSWORD "dispatch horse battery"

static struct config cf;
static struct app app;
static struct arena *arena; /* the suite's: tokens and slugs */
static char slug[64];
static const char *admin_token, *staff_token, *staff_csrf;

/* What the test handler saw. */
static struct {
    int calls;
    int64_t tenant, req_tenant, id;
    char role[8];
} seen;

static int h_seen(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                  struct app_err *err)
{
    (void)err;
    seen.calls++;
    seen.tenant = x->s.tenant_id;
    seen.req_tenant = req->tenant_id;
    seen.id = x->id;
    snprintf(seen.role, sizeof(seen.role), "%s", x->s.role);
    resp->status = 204;
    return 0;
}

static const struct route table[] = {
    {"GET", "/t/admin", h_seen, "t_admin", ROUTE_AUTH | ROUTE_ADMIN, NULL, NULL, 0},
    {"POST", "/t/item/{id}", h_seen, "t_item", ROUTE_AUTH | ROUTE_ID, NULL, NULL, 0},
    {"GET", "/t/open", h_seen, "t_open", ROUTE_PUBLIC, NULL, NULL, 0},
    {"GET", "/t/undeclared", h_seen, "t_undeclared", 0, NULL, NULL, 0},
};

static int sign_in(const char *email, const char *client, const char **token, const char **csrf)
{
    struct auth_login_result r;
    struct app_err err;
    int retry = 0;

    err_clear(&err);
    if (auth_login(&app.db, arena, slug, email, PASSWORD, client, &r, &retry, &err))
        return -1;
    *token = arena_strdup(arena, r.token);
    if (csrf)
        *csrf = arena_strdup(arena, r.csrf);
    return 0;
}

static int suite_init(void)
{
    int64_t tenant;

    if (sodium_init() < 0)
        return -1;
    auth_prepare();
    cf = *itest_config();
    app.cf = &cf;
    db_init(&app.db, cf.database_url);
    cache_init(&app.cache, &cf, &app.db);
    arena = arena_new();
    tenant = itest_tenant("dispatch");
    snprintf(slug, sizeof(slug), "%s", itest_slug(arena, tenant));
    if (itest_user(tenant, "admin@example.com", PASSWORD, "admin") ||
        itest_user(tenant, "staff@example.com", PASSWORD, "staff") ||
        sign_in("admin@example.com", "198.51.100.201", &admin_token, NULL) ||
        sign_in("staff@example.com", "198.51.100.202", &staff_token, &staff_csrf))
        return -1;
    return 0;
}

static int suite_clean(void)
{
    cache_release(&app.cache);
    db_release(&app.db);
    arena_free(arena);
    return 0;
}

/*
 * Runs method path with up to two more CGI variables ("HTTP_...=...", or NULL) through the test
 * table (api_route_run), or with real through api_dispatch on api_routes. Returns the
 * dispatcher's result; err and resp hold what it set.
 */
static int run(bool real, const char *method, const char *path, const char *h1, const char *h2,
               struct http_resp *resp, struct app_err *err)
{
    struct arena *a = arena_new();
    struct http_req req;
    const struct route *r;
    const char *allow = NULL;
    const char *env[] = {arena_sprintf(a, "REQUEST_METHOD=%s", method),
                         arena_sprintf(a, "DOCUMENT_URI=%s", path), h1 ? h1 : h2, h1 ? h2 : NULL,
                         NULL};
    int rc;

    memset(&seen, 0, sizeof(seen));
    err_clear(err);
    http_resp_reset(resp);
    if (http_req_parse(&req, a, (char **)env, NULL, NULL, err)) {
        arena_free(a);
        return -2;
    }
    if (real)
        rc = api_dispatch(&app, &req, resp, &r, &allow, err);
    else if (!(r = router_match(table, sizeof(table) / sizeof(table[0]), &req, &allow, err)))
        rc = -1;
    else
        rc = api_route_run(&app, r, &req, resp, err);
    db_request_end(&app.db);
    /* The body and the headers stay in resp; nothing of the request's arena is kept. */
    arena_free(a);
    return rc;
}

static const char *bearer(const char *token)
{
    return arena_sprintf(arena, "HTTP_AUTHORIZATION=Bearer %s", token);
}

static void test_dispatch_admin_route_refuses_staff(void)
{
    struct http_resp resp;
    struct app_err err;

    http_resp_init(&resp);
    CU_ASSERT_EQUAL(run(false, "GET", "/t/admin", bearer(staff_token), NULL, &resp, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_FORBIDDEN);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "forbidden");
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "admin"));
    CU_ASSERT_EQUAL(seen.calls, 0);

    CU_ASSERT_EQUAL(run(false, "GET", "/t/admin", bearer(admin_token), NULL, &resp, &err), 0);
    CU_ASSERT_EQUAL(seen.calls, 1);
    CU_ASSERT_STRING_EQUAL(seen.role, "admin");
    CU_ASSERT_TRUE(seen.tenant > 0);
    CU_ASSERT_EQUAL(seen.req_tenant, seen.tenant);

    /* Without a session it is 401 before anything else. */
    CU_ASSERT_EQUAL(run(false, "GET", "/t/admin", NULL, NULL, &resp, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_UNAUTHORIZED);
    CU_ASSERT_EQUAL(seen.calls, 0);
    http_resp_release(&resp);
}

static void test_dispatch_id_route_authenticates_then_reads_id(void)
{
    struct http_resp resp;
    struct app_err err;
    const char *cookie = arena_sprintf(arena, "HTTP_COOKIE=stock_session=%s", staff_token);
    const char *csrf = arena_sprintf(arena, "HTTP_X_CSRF_TOKEN=%s", staff_csrf);

    http_resp_init(&resp);
    CU_ASSERT_EQUAL(run(false, "POST", "/t/item/42", bearer(staff_token), NULL, &resp, &err), 0);
    CU_ASSERT_EQUAL(seen.calls, 1);
    CU_ASSERT_EQUAL(seen.id, 42);
    CU_ASSERT_STRING_EQUAL(seen.role, "staff");

    CU_ASSERT_EQUAL(run(false, "POST", "/t/item/abc", bearer(staff_token), NULL, &resp, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(seen.calls, 0);
    CU_ASSERT_EQUAL(run(false, "POST", "/t/item/abc", NULL, NULL, &resp, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_UNAUTHORIZED);

    /* A cookie on an unsafe method needs its X-CSRF-Token. */
    CU_ASSERT_EQUAL(run(false, "POST", "/t/item/7", cookie, NULL, &resp, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_FORBIDDEN);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "csrf_failed");
    CU_ASSERT_EQUAL(seen.calls, 0);
    CU_ASSERT_EQUAL(run(false, "POST", "/t/item/7", cookie, csrf, &resp, &err), 0);
    CU_ASSERT_EQUAL(seen.id, 7);
    http_resp_release(&resp);
}

static void test_dispatch_public_and_undeclared_routes(void)
{
    struct http_resp resp;
    struct app_err err;

    http_resp_init(&resp);
    CU_ASSERT_EQUAL(run(false, "GET", "/t/open", NULL, NULL, &resp, &err), 0);
    CU_ASSERT_EQUAL(seen.calls, 1);
    CU_ASSERT_EQUAL(seen.tenant, 0);
    CU_ASSERT_EQUAL(seen.req_tenant, -1);
    /* A route that declares neither flag still needs a session (fails closed). */
    CU_ASSERT_EQUAL(run(false, "GET", "/t/undeclared", NULL, NULL, &resp, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_UNAUTHORIZED);
    CU_ASSERT_EQUAL(seen.calls, 0);
    http_resp_release(&resp);
}

static void test_dispatch_real_table_me_logout_prefetch(void)
{
    struct http_resp resp;
    struct app_err err;
    const char *token;
    char *first;

    http_resp_init(&resp);
    CU_ASSERT_EQUAL(run(true, "GET", "/api/v1/me", bearer(staff_token), NULL, &resp, &err), 0);
    CU_ASSERT_EQUAL(resp.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(resp.body.data, "\"role\":\"staff\""));
    CU_ASSERT_EQUAL(run(true, "POST", "/api/v1/auth/logout", NULL, NULL, &resp, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_UNAUTHORIZED);

    /* The prefetching read answers the same body from the database and from the cache. */
    CU_ASSERT_EQUAL(run(true, "GET", "/api/v1/products", bearer(staff_token), NULL, &resp, &err),
                    0);
    CU_ASSERT_EQUAL(resp.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(resp.headers.data, "X-Cache: MISS"));
    first = arena_strdup(arena, resp.body.data);
    CU_ASSERT_EQUAL(run(true, "GET", "/api/v1/products", bearer(staff_token), NULL, &resp, &err),
                    0);
    CU_ASSERT_STRING_EQUAL(resp.body.data, first);
    CU_ASSERT_PTR_NOT_NULL(strstr(resp.headers.data, "X-Cache: HIT"));
    CU_ASSERT_EQUAL(run(true, "GET", "/api/v1/products", bearer(staff_token),
                        "QUERY_STRING=stock=some", &resp, &err),
                    -1);
    CU_ASSERT_EQUAL(err.code, ERR_INVALID);

    CU_ASSERT_EQUAL_FATAL(sign_in("staff@example.com", "198.51.100.203", &token, NULL), 0);
    CU_ASSERT_EQUAL(run(true, "POST", "/api/v1/auth/logout", bearer(token), NULL, &resp, &err), 0);
    CU_ASSERT_EQUAL(resp.status, 204);
    CU_ASSERT_EQUAL(run(true, "GET", "/api/v1/me", bearer(token), NULL, &resp, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_UNAUTHORIZED);
    http_resp_release(&resp);
}

int test_dispatch_register(void)
{
    CU_pSuite s = CU_add_suite("dispatch", suite_init, suite_clean);

    if (!s ||
        !CU_add_test(s, "admin route refuses staff", test_dispatch_admin_route_refuses_staff) ||
        !CU_add_test(s, "id route authenticates then reads id",
                     test_dispatch_id_route_authenticates_then_reads_id) ||
        !CU_add_test(s, "public and undeclared routes",
                     test_dispatch_public_and_undeclared_routes) ||
        !CU_add_test(s, "real table: me, logout, prefetch",
                     test_dispatch_real_table_me_logout_prefetch))
        return -1;
    return 0;
}
