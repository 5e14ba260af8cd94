/* idem: Idempotency-Key claims and replays (see idem.h). */
#include "services/idem.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hash_bytes(struct idem_hash *h, const char *s, size_t n)
{
    crypto_generichash_update(&h->st, (const unsigned char *)s, n);
}

void idem_hash_init(struct idem_hash *h, const char *route)
{
    crypto_generichash_init(&h->st, NULL, 0, 32);
    idem_hash_str(h, route);
}

void idem_hash_str(struct idem_hash *h, const char *s)
{
    char len[32];

    /* length-prefixed, so "a" + "bc" and "ab" + "c" differ; NULL has no length */
    if (s)
        snprintf(len, sizeof(len), "\n%zu:", strlen(s));
    else
        snprintf(len, sizeof(len), "\n-:");
    hash_bytes(h, len, strlen(len));
    if (s)
        hash_bytes(h, s, strlen(s));
}

void idem_hash_i64(struct idem_hash *h, int64_t v)
{
    char tmp[32];

    snprintf(tmp, sizeof(tmp), "\n%" PRId64, v);
    hash_bytes(h, tmp, strlen(tmp));
}

void idem_hash_final(struct idem_hash *h)
{
    unsigned char bin[32];

    crypto_generichash_final(&h->st, bin, sizeof(bin));
    sodium_bin2hex(h->hex, sizeof(h->hex), bin, sizeof(bin));
}

int idem_claim(struct catalog *c, const char *key, const struct idem_hash *h, int *status,
               struct catalog_out *out, struct app_err *err)
{
    /* Keys are kept a day (retries come within minutes); claiming one sweeps the tenant's
     * older ones, so the table stays small. */
    static const char claim_sql[] =
        "WITH gone AS (DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key <> $2 "
        "AND created_at < now() - interval '1 day') "
        "INSERT INTO idempotency_keys (tenant_id, key, request_hash) "
        "VALUES ($1, $2, decode($3, 'hex')) ON CONFLICT DO NOTHING RETURNING 1";
    static const char replay_sql[] =
        "SELECT encode(request_hash, 'hex'), response_status, response_body "
        "FROM idempotency_keys WHERE tenant_id = $1 AND key = $2";
    const char *params[3] = {arena_sprintf(c->a, "%" PRId64, c->tenant), key, h->hex};
    PGresult *res;

    if (!key)
        return IDEM_NEW;
    /* A concurrent first request holds the key's row until it commits: we wait here. */
    res = db_exec(c->db, c->a, claim_sql, 3, params, err);
    if (res && PQntuples(res) == 1)
        return IDEM_NEW;
    if (res)
        res = db_exec(c->db, c->a, replay_sql, 2, params, err);
    db_rollback(c->db);
    if (!res)
        return -1;
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 1))
        return err_set_full(err, ERR_CONFLICT, "idempotency_in_progress", "Idempotency-Key",
                            "a request with this key is in progress");
    if (strcmp(PQgetvalue(res, 0, 0), h->hex))
        return err_set_full(err, ERR_INVALID, "idempotency_mismatch", "Idempotency-Key",
                            "this Idempotency-Key was used with a different request");
    /* The first attempt may have died between its COMMIT and its invalidation (on this host
     * or another): its outbox rows are applied before the replay answers. */
    cache_settle_tenant(c->cache, c->a, c->tenant);
    *status = atoi(PQgetvalue(res, 0, 1));
    out->json = PQgetvalue(res, 0, 2);
    out->len = (size_t)PQgetlength(res, 0, 2);
    out->cached = false;
    return IDEM_REPLAY;
}

int idem_commit(struct catalog *c, const char *key, int status, const struct catalog_out *out,
                struct app_err *err)
{
    static const char store_sql[] =
        "UPDATE idempotency_keys SET response_status = $3::int, response_body = $4 "
        "WHERE tenant_id = $1 AND key = $2";
    const char *params[4] = {arena_sprintf(c->a, "%" PRId64, c->tenant), key,
                             arena_sprintf(c->a, "%d", status), out->json};

    if (key && !db_exec(c->db, c->a, store_sql, 4, params, err)) {
        db_rollback(c->db);
        return -1;
    }
    if (db_commit(c->db, err))
        return -1;
    cache_write_done(c->cache, c->a);
    return 0;
}
