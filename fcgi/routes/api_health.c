/* api_health: the health locations and the Prometheus metrics of the pool. */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/jsonx.h"
#include "core/cache_outbox.h"
#include "core/l1.h"
#include "core/shared.h"
#include "routes/api.h"

int api_health(struct api_ctx *x, struct http_req *req, struct http_resp *resp, struct app_err *err)
{
    static const char body[] = "{\"status\":\"ok\"}";

    (void)x;
    (void)req;
    (void)err;
    http_resp_raw(resp, 200, body, sizeof(body) - 1);
    return 0;
}

int api_health_cache(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                     struct app_err *err)
{
    static const char *const names[] = {"ok", "degraded", "disabled"};
    double latency = -1;
    const char *reason = NULL;
    enum cache_state st = cache_health(&x->app->cache, &latency, &reason);
    json_object *o = jsonx_own(req->arena, json_object_new_object());

    (void)err;
    json_object_object_add(o, "status", json_object_new_string(names[st]));
    json_object_object_add(o, "backend", json_object_new_string("redis"));
    json_object_object_add(o, "latency_ms", latency >= 0 ? json_object_new_double(latency) : NULL);
    if (reason)
        json_object_object_add(o, "reason", json_object_new_string(reason));
    /* Always 200: a degraded cache means slower answers, not wrong ones. */
    http_resp_json(resp, 200, o);
    return 0;
}

int api_health_db(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                  struct app_err *err)
{
    double latency = -1;
    json_object *o = jsonx_own(req->arena, json_object_new_object());
    struct app_err perr;

    (void)err;
    if (db_ping(&x->app->db, &latency, &perr)) {
        json_object_object_add(o, "status", json_object_new_string("unavailable"));
        http_resp_json(resp, 503, o);
        return 0;
    }
    json_object_object_add(o, "status", json_object_new_string("ok"));
    json_object_object_add(o, "latency_ms", json_object_new_double(latency));
    http_resp_json(resp, 200, o);
    return 0;
}

static void counter(struct buf *b, const char *name, const char *help, unsigned long long v)
{
    buf_addf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, v);
}

/* The name of route slot i (shared.h): "none", then the route table's names. */
static const char *route_slot_name(size_t i)
{
    return i == 0 ? "none" : api_routes[i - 1].name;
}

/*
 * The per-route families: requests by route and status, and the latency histogram by route.
 * Only rows with a non-zero count are printed: most routes x statuses never happen.
 */
static void route_metrics(struct buf *b, const struct shared *sh)
{
    size_t n = api_routes_count + 1 < SHARED_ROUTES ? api_routes_count + 1 : SHARED_ROUTES;
    size_t i;
    int s, k;

    buf_adds(b, "# HELP stock_http_requests_total Requests by route and status.\n"
                "# TYPE stock_http_requests_total counter\n");
    for (i = 0; i < n; i++) {
        for (s = 0; s < SHARED_STATUS_COUNT; s++) {
            unsigned long long v =
                atomic_load_explicit(&sh->routes[i].by_status[s], memory_order_relaxed);
            int code = shared_status_code((enum shared_status)s);

            if (!v)
                continue;
            if (code)
                buf_addf(b, "stock_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                         route_slot_name(i), code, v);
            else
                buf_addf(b, "stock_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                         route_slot_name(i), v);
        }
    }
    buf_adds(b, "# HELP stock_http_request_duration_seconds Time from request to response, by "
                "route.\n# TYPE stock_http_request_duration_seconds histogram\n");
    for (i = 0; i < n; i++) {
        const struct shared_route_counters *rc = &sh->routes[i];
        unsigned long long cum = 0;

        for (k = 0; k <= SHARED_LATENCY_BOUNDS; k++)
            cum += atomic_load_explicit(&rc->latency[k], memory_order_relaxed);
        if (!cum)
            continue;
        /* Cumulative from the stored per-bucket counts, so +Inf is exactly _count. */
        cum = 0;
        for (k = 0; k <= SHARED_LATENCY_BOUNDS; k++) {
            cum += atomic_load_explicit(&rc->latency[k], memory_order_relaxed);
            buf_addf(b, "stock_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} %llu\n",
                     route_slot_name(i), shared_latency_le(k), cum);
        }
        buf_addf(b, "stock_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
                 route_slot_name(i),
                 (double)atomic_load_explicit(&rc->latency_sum_us, memory_order_relaxed) / 1e6);
        buf_addf(b, "stock_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                 route_slot_name(i), cum);
    }
}

int api_metrics(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                struct app_err *err)
{
    struct shared *sh = shared_get();
    struct buf *b = &resp->body;
    int m, c;
    static const char *const kinds[] = {"hits", "misses", "errors",   "invalidations",
                                        "sets", "bypass", "rejected", "l1_hits"};

    (void)x;
    (void)req;
    (void)err;
    buf_reset(b);
    counter(b, "stock_requests_total", "Requests handled by the pool.",
            (unsigned long long)atomic_load(&sh->requests_total));
    buf_adds(b, "# HELP stock_responses_total Responses by status class.\n"
                "# TYPE stock_responses_total counter\n");
    for (c = 1; c <= 5; c++)
        buf_addf(b, "stock_responses_total{class=\"%dxx\"} %llu\n", c,
                 (unsigned long long)atomic_load(&sh->responses_by_class[c]));
    route_metrics(b, sh);
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        buf_addf(
            b,
            "# HELP stock_cache_%s_total Cache %s per module.\n# TYPE stock_cache_%s_total counter\n",
            kinds[k], kinds[k], kinds[k]);
        for (m = 0; m < MOD_COUNT; m++) {
            const struct shared_cache_counters *cc = &sh->cache[m];
            const atomic_uint_fast64_t *v[] = {&cc->hits,          &cc->misses, &cc->errors,
                                               &cc->invalidations, &cc->sets,   &cc->bypass,
                                               &cc->rejected,      &cc->l1_hits};

            buf_addf(b, "stock_cache_%s_total{module=\"%s\"} %llu\n", kinds[k],
                     shared_module_name((enum shared_module)m),
                     (unsigned long long)atomic_load(v[k]));
        }
    }
    counter(b, "stock_db_queries_total", "PostgreSQL statements run.",
            (unsigned long long)atomic_load(&sh->db_queries));
    counter(b, "stock_db_errors_total", "PostgreSQL statements that failed.",
            (unsigned long long)atomic_load(&sh->db_errors));
    counter(b, "stock_worker_restarts_total", "Workers respawned after dying.",
            (unsigned long long)atomic_load(&sh->worker_restarts));
    counter(b, "stock_cache_outbox_polls_total",
            "Polls of the invalidation outbox that applied all it held (each renews the trust).",
            (unsigned long long)atomic_load(&sh->cache_polls));
    counter(b, "stock_cache_outbox_poll_failures_total",
            "Polls of the invalidation outbox that could not read or apply it.",
            (unsigned long long)atomic_load(&sh->cache_poll_failures));
    counter(b, "stock_cache_ack_waits_total",
            "Writes answered only once the fleet applied their invalidation or the trust "
            "window passed (their own DEL failed).",
            (unsigned long long)atomic_load(&sh->cache_ack_waits));
    buf_addf(b,
             "# HELP stock_cache_trusted Whether this host may serve cached reads now (a recent "
             "outbox poll succeeded).\n# TYPE stock_cache_trusted gauge\nstock_cache_trusted %d\n",
             cache_outbox_trust(cache_outbox_now_ms()) != TRUST_EXPIRED);
    counter(b, "stock_cache_l1_resets_total",
            "Times this host's L1 invalidation channel was set up (every L1 emptied).",
            (unsigned long long)atomic_load(&sh->l1.resets));
    counter(b, "stock_cache_l1_agent_restarts_total", "L1 agents the pool master started again.",
            (unsigned long long)atomic_load(&sh->l1.agent_restarts));
    counter(b, "stock_cache_l1_evictions_total",
            "L1 entries dropped by the workers' LRU to stay within CACHE_L1_BYTES.",
            (unsigned long long)atomic_load(&sh->l1.evictions));
    {
        int64_t hb = atomic_load(&sh->l1.hb_sent_us);

        buf_addf(b,
                 "# HELP stock_cache_l1_live Whether this host's L1 invalidation channel proved "
                 "itself in the last %d ms.\n# TYPE stock_cache_l1_live gauge\n"
                 "stock_cache_l1_live %d\n",
                 L1_LIVE_MS, hb > 0 && l1_now_us() - hb < (int64_t)L1_LIVE_MS * 1000);
    }
    buf_addf(b,
             "# HELP stock_redis_up Whether Redis answered the last command.\n"
             "# TYPE stock_redis_up gauge\nstock_redis_up %d\n",
             atomic_load(&sh->redis_up));
    buf_addf(b,
             "# HELP stock_db_up Whether PostgreSQL answered the last statement.\n"
             "# TYPE stock_db_up gauge\nstock_db_up %d\n",
             atomic_load(&sh->db_up));
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4";
    return 0;
}
