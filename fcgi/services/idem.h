/*
 * idem: Idempotency-Key for the writes that take one (payments, stock movements, returns).
 * Keys are per tenant and shared by every route: a key is bound to the hash of the request
 * that first used it (its route and every field), so the same key on another route or with
 * another body is refused, never answered with another request's result.
 *
 * Use, inside the write's open transaction and before anything else:
 *   idem_hash_init + idem_hash_* for every field, idem_hash_final;
 *   idem_claim: IDEM_NEW (go on; a concurrent retry now waits on the key's row until we
 *   commit), or IDEM_REPLAY (the stored answer is in *status and out, the transaction has
 *   been rolled back and the tenant's owed invalidations applied), or -1 (rolled back);
 *   on success, idem_commit with the answer: it stores it in the same transaction, commits
 *   and applies the write's invalidations.
 */
#ifndef STOCK_SERVICES_IDEM_H
#define STOCK_SERVICES_IDEM_H

#include <stdint.h>

#include <sodium.h>

#include "services/catalog.h"

struct idem_hash {
    crypto_generichash_state st;
    char hex[65];
};

/* route names the write (e.g. "payments"): the same body on two routes hashes differently. */
void idem_hash_init(struct idem_hash *h, const char *route);
/* Fields, in a fixed order; a NULL string differs from every string, "" included. */
void idem_hash_str(struct idem_hash *h, const char *s);
void idem_hash_i64(struct idem_hash *h, int64_t v);
void idem_hash_final(struct idem_hash *h);

enum idem_claim { IDEM_NEW = 0, IDEM_REPLAY = 1 };

/*
 * Claims key (NULL: no key, IDEM_NEW at once) for request hash h. ERR_INVALID
 * "idempotency_mismatch" when the key was used for another request, ERR_CONFLICT
 * "idempotency_in_progress" when its first request has not finished.
 */
int idem_claim(struct catalog *c, const char *key, const struct idem_hash *h, int *status,
               struct catalog_out *out, struct app_err *err) __attribute__((warn_unused_result));

/*
 * Ends the write that claimed key (NULL: none): stores its answer with it, commits, and applies
 * the write's invalidations (cache_write_done). 0, or -1 (rolled back when the store failed).
 */
int idem_commit(struct catalog *c, const char *key, int status, const struct catalog_out *out,
                struct app_err *err) __attribute__((warn_unused_result));

#endif
