/*
 * commands: the stockctl commands, one file of ctl/ per command group, listed in the table of
 * stockctl.c with the setup each needs. Each takes the arguments after its command words,
 * checks them, calls ctl_start, and returns an exit status (CTL_OK, CTL_FAIL, CTL_USAGE) after
 * printing what it did or why it failed.
 */
#ifndef STOCK_CTL_COMMANDS_H
#define STOCK_CTL_COMMANDS_H

#include "ctl/ctl.h"

/* migrate (CTL_NEED_DB): applies the pending migrations; prints each, or "up to date". */
int cmd_migrate(struct ctl *c, int argc, char **argv);
/* tenant create SLUG NAME [--timezone TZ] (CTL_NEED_DB): prints the new tenant's id. */
int cmd_tenant_create(struct ctl *c, int argc, char **argv);
/* user create --tenant SLUG --email EMAIL [--role R] (CTL_NEED_DB): the password is the first
 * line of standard input; prints the new user's id. */
int cmd_user_create(struct ctl *c, int argc, char **argv);
/* user list --tenant SLUG (CTL_NEED_DB): id, email, role, active|disabled per line (tabs). */
int cmd_user_list(struct ctl *c, int argc, char **argv);
/* user disable|enable --tenant SLUG --email EMAIL (CTL_NEED_DB): services/users_update (the last
 * active admin stays; a disabled user's sessions end on every host). */
int cmd_user_disable(struct ctl *c, int argc, char **argv);
int cmd_user_enable(struct ctl *c, int argc, char **argv);
/* user password --tenant SLUG --email EMAIL (CTL_NEED_DB): the new password is the first line
 * of standard input; the user's sessions end. */
int cmd_user_password(struct ctl *c, int argc, char **argv);
/* cache stats --tenant SLUG [--module M] (CTL_NEED_DB): the tenant's cached keys per module. */
int cmd_cache_stats(struct ctl *c, int argc, char **argv);
/* cache flush --tenant SLUG [--module M] (CTL_NEED_DB): deletes the tenant's cached keys. */
int cmd_cache_flush(struct ctl *c, int argc, char **argv);
/* seed-demo [--tenant SLUG] [--products N] [--sales N] [--days N] (CTL_NEED_DB): adds demo
 * data to a tenant, all or nothing; prints what it added. */
int cmd_seed_demo(struct ctl *c, int argc, char **argv);
/* purge (CTL_NEED_DB): deletes expired sessions and day-old Idempotency-Key records. */
int cmd_purge(struct ctl *c, int argc, char **argv);

#endif
