/*
 * stockctl: the admin CLI of SPEC §6 (migrations, tenants, users, cache): its help, its command
 * table and main. The commands live in ctl/, one file per command group; ctl/ctl.c dispatches.
 * It reads the same configuration as the workers and talks to PostgreSQL through core/db and to
 * Redis through core/cache. Exit status: 0 done, 1 failure or invalid value, 2 usage error.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ctl/commands.h"

static const char ctl_usage_text[] =
    "usage: stockctl COMMAND [ARGS]\n"
    "\n"
    "  migrate [--app-role ROLE]                apply the pending migrations (idempotent), as\n"
    "                                           the owner; --app-role then grants ROLE (the\n"
    "                                           app's login) what the app needs, nothing more\n"
    "  tenant create SLUG NAME [--timezone TZ] [--locale en|es] [--currency CODE]\n"
    "                                           create a tenant and print its id; the UI\n"
    "                                           speaks its locale (default en) and shows\n"
    "                                           money in its currency, an active ISO 4217\n"
    "                                           code in capitals (default USD)\n"
    "  user create --tenant SLUG --email EMAIL [--role admin|staff]\n"
    "                                           create a user (default role staff) and print\n"
    "                                           its id; the password is the first line of\n"
    "                                           standard input (10 to 256 characters, not\n"
    "                                           the email)\n"
    "  user list --tenant SLUG                  the tenant's users, one a line: id, email,\n"
    "                                           role, active or disabled (tab-separated)\n"
    "  user disable|enable --tenant SLUG --email EMAIL\n"
    "                                           disable a user (their sessions end on every\n"
    "                                           host at once; not the last active admin), or\n"
    "                                           enable them again\n"
    "  user password --tenant SLUG --email EMAIL\n"
    "                                           set a user's password (first line of standard\n"
    "                                           input, as for create); their sessions end\n"
    "  seed-demo [--tenant SLUG] [--products N] [--sales N] [--days N]\n"
    "                                           add demo data to a tenant (default demo):\n"
    "                                           the units and categories it lacks, then N\n"
    "                                           more products (default 200, at most 1000000)\n"
    "                                           with opening stock; prints what it added.\n"
    "                                           --sales N (default 0) more confirmed sales,\n"
    "                                           half of them paid, over the last --days N\n"
    "                                           (default 90)\n"
    "  purge                                    delete expired sessions and Idempotency-Key\n"
    "                                           records older than a day, in every tenant;\n"
    "                                           prints how many (run it daily: see\n"
    "                                           deploy/systemd/stock-purge.timer)\n"
    "  cache stats --tenant SLUG [--module M]   count the tenant's cached keys per module\n"
    "  cache flush --tenant SLUG [--module M]   delete the tenant's cached keys\n"
    "\n"
    "Configuration as for the workers: the environment, then the file $STOCK_ENV_FILE\n"
    "(default .env), then defaults.\n"
    "Exit status: 0 done, 1 failure or invalid value, 2 usage error.\n";

static int cmd_help(struct ctl *c, int argc, char **argv)
{
    (void)c;
    (void)argc;
    (void)argv;
    fputs(ctl_usage_text, stdout);
    return CTL_OK;
}

/* Every command, with the setup the dispatcher prepares for it (see ctl_start). */
static const struct ctl_cmd ctl_commands[] = {
    {"help", NULL, cmd_help, 0},
    {"migrate", NULL, cmd_migrate, CTL_NEED_DB},
    {"tenant", "create", cmd_tenant_create, CTL_NEED_DB},
    {"user", "create", cmd_user_create, CTL_NEED_DB},
    {"user", "list", cmd_user_list, CTL_NEED_DB},
    {"user", "disable", cmd_user_disable, CTL_NEED_DB},
    {"user", "enable", cmd_user_enable, CTL_NEED_DB},
    {"user", "password", cmd_user_password, CTL_NEED_DB},
    {"seed-demo", NULL, cmd_seed_demo, CTL_NEED_DB},
    {"purge", NULL, cmd_purge, CTL_NEED_DB},
    {"cache", "stats", cmd_cache_stats, CTL_NEED_DB},
    {"cache", "flush", cmd_cache_flush, CTL_NEED_DB},
    {NULL, NULL, NULL, 0},
};

int main(int argc, char **argv)
{
    struct ctl c;
    int rc;

    memset(&c, 0, sizeof(c));
    /* A Redis or PostgreSQL connection closed under a write must be an error, not a kill. */
    signal(SIGPIPE, SIG_IGN);
    /* A help request anywhere on the line wins over everything else. */
    for (rc = 1; rc < argc; rc++) {
        if (!strcmp(argv[rc], "--help") || !strcmp(argv[rc], "-h")) {
            fputs(ctl_usage_text, stdout);
            return CTL_OK;
        }
    }
    if (argc < 2) {
        fputs(ctl_usage_text, stderr);
        return CTL_USAGE;
    }
    rc = ctl_dispatch(&c, ctl_commands, argc - 1, argv + 1);
    if (fflush(stdout) != 0 && rc == CTL_OK)
        rc = ctl_fail("cannot write to standard output");
    return rc;
}
