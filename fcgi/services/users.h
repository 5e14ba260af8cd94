/*
 * users: the users of one tenant (SPEC §10): list, create, change role or disable, set a
 * password. The rules live here so that the API and stockctl share them: emails lower-cased
 * and checked as the users table's CHECK does; passwords 10 to 256 characters and not the
 * email; the last active admin of a tenant can be neither disabled nor demoted (409
 * last_admin, decided with the tenant's admin rows locked). Disabling a user or setting a
 * password ends that user's sessions in the same transaction (but the caller's own, on a
 * change of one's own password), and the invalidations the triggers commit with it (modules
 * sessions and users) are applied after the commit, so no host serves such a session again.
 * The list is cached (module users). Every function takes the tenant id of the context (the
 * session's, in the API) and never touches another tenant's rows; results live in the arena.
 */
#ifndef STOCK_SERVICES_USERS_H
#define STOCK_SERVICES_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "services/catalog.h"

#define USERS_PASSWORD_MIN 10
#define USERS_PASSWORD_MAX 256 /* AUTH_PASSWORD_MAX, what a sign-in reads */
#define USERS_EMAIL_MAX    254

/* Fields of a change (PATCH /users/{id}). NULL role / disabled < 0: not given. */
struct user_change {
    const char *role; /* "admin" or "staff" */
    int disabled;     /* 1 disable, 0 enable, -1 keep */
};

/*
 * Lower-cases email into out (n bytes, at least USERS_EMAIL_MAX + 1). It must be 3 to 254
 * printable ASCII characters without blanks, with one '@' that has text on both sides (what the
 * users table's CHECK needs, and a little more). 0, or ERR_INVALID naming field "email".
 */
int users_email_normalize(const char *email, char *out, size_t n, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * Checks a new password: USERS_PASSWORD_MIN to USERS_PASSWORD_MAX characters (UTF-8 code
 * points), not equal to email ignoring ASCII case. 0, or ERR_INVALID naming field "password".
 */
int users_password_check(const char *password, const char *email, struct app_err *err)
    __attribute__((warn_unused_result));

/* The tenant's users, {"items": [...], "total": N}, by id; cached (module users, key list). */
int users_list(struct catalog *c, struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * A new user (role "admin" or "staff"): the email normalized and the password checked as
 * above, then hashed (auth_password_hash). An email the tenant already has, whatever its case,
 * is ERR_CONFLICT naming "email". out: the user.
 */
int users_create(struct catalog *c, const char *email, const char *password, const char *role,
                 struct catalog_out *out, struct app_err *err) __attribute__((warn_unused_result));

/*
 * Changes role and/or disabled of user id. ERR_NOT_FOUND for an id the tenant does not have;
 * ERR_CONFLICT "last_admin" when the change would leave the tenant without an active admin.
 * Disabling deletes every session of the user in the same transaction. out: the user.
 */
int users_update(struct catalog *c, int64_t id, const struct user_change *ch,
                 struct catalog_out *out, struct app_err *err) __attribute__((warn_unused_result));

/*
 * Sets the password of user id (checked as above) and deletes the user's sessions in the same
 * statement, all of them, or all but the one whose token hash (hex) is keep_token_hash.
 * ERR_NOT_FOUND for an id the tenant does not have.
 */
int users_set_password(struct catalog *c, int64_t id, const char *password,
                       const char *keep_token_hash, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * A user's change of their own password: current must be their password (ERR_INVALID
 * "wrong_password" naming field "current_password" otherwise: a 422, so that a client does not
 * take it for the end of its session), then as users_set_password keeping the caller's session
 * (token_hash, hex). The check counts under the login limit of the account and of client
 * (auth_password_attempt): ERR_RATE_LIMITED with *retry_after once either is reached.
 */
int users_change_own_password(struct catalog *c, int64_t id, const char *current,
                              const char *password, const char *token_hash, const char *client,
                              int *retry_after, struct app_err *err);

#endif
