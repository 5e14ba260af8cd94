#!/bin/sh
# redis-start.sh: the Redis of docker-compose.prod.yml with an ACL file instead of a password on
# its command line (SPEC §11, least privilege). POSIX sh: it runs in the redis:7-alpine image
# (busybox), mounted read-only as /usr/local/bin/stock-redis-start.sh.
#
#   redis-start.sh render OUT         writes the ACL file OUT (mode 0640) from the environment
#                                     below and nothing else (the tests, hosts without docker).
#   redis-start.sh redis-server ARGS  renders the file named by ARGS' `--aclfile PATH`, removes
#                                     the passwords from its own environment and execs the
#                                     image's docker-entrypoint.sh (which drops to user redis)
#                                     with redis-server ARGS; plain redis-server without it.
#
# Environment (a *_FILE variant names a file holding the value, e.g. a docker secret; its final
# newline is dropped):
#   REDIS_USERNAME        the app's ACL user (default stock-app), [A-Za-z0-9_.-], 1 to 64
#   REDIS_PASSWORD        its password (required); only its SHA-256 reaches the file (#<hex>)
#   CACHE_KEY_PREFIX      the app's key prefix (default stock): the user may touch {prefix}:* only
#   REDIS_ADMIN_PASSWORD  optional: the default user becomes the administrator (all keys, all
#                         commands) with this password; without it the default user is off
#                         (nobody can connect without the app's user name and password).
#
# The app's user may run exactly the commands the app sends (fcgi/core/redis.c, cache.c,
# cache_outbox.c, l1_agent.c, fcgi/ctl/cache.c): AUTH HELLO PING INFO(server section only)
# SELECT ROLE MGET GET SET DEL UNLINK SCAN, on keys {prefix}:*, and for the L1 agent CLIENT ID,
# CLIENT SETNAME, CLIENT TRACKING and SUBSCRIBE to the one channel __redis__:invalidate (its
# client tracking; BCAST PREFIX {prefix}: reports key names under the prefix only). SCAN takes
# no key: it may list other key names, never read or write them. Everything else (FLUSHALL,
# CONFIG, KEYS, DEBUG, ACL, EVAL, CLIENT LIST/KILL, other channels...) is NOPERM.
set -eu

log()
{
    printf '%s\n' "redis-start: $*" >&2
}

# secret NAME: the value of NAME, else the contents of the file NAME_FILE; empty when neither.
secret()
{
    eval "v=\${$1:-}"
    eval "f=\${$1_FILE:-}"
    if [ -z "$v" ] && [ -n "$f" ]; then
        if [ ! -r "$f" ]; then
            log "$1_FILE: cannot read '$f'"
            return 1
        fi
        v=$(cat "$f")
    fi
    printf '%s' "$v"
}

sha256_hex()
{
    # printf is a builtin: the password is on no command line.
    printf '%s' "$1" | sha256sum | cut -d' ' -f1
}

# acl_render OUT: OUT written whole or not at all (a temporary file beside it, renamed).
acl_render()
{
    out=$1
    user=${REDIS_USERNAME:-stock-app}
    prefix=${CACHE_KEY_PREFIX:-stock}
    if ! printf '%s\n' "$user" | grep -Eq '^[A-Za-z0-9_.-]{1,64}$' || [ "$user" = default ]; then
        log "REDIS_USERNAME: '$user' is not 1 to 64 characters of [A-Za-z0-9_.-] (nor 'default')"
        return 1
    fi
    if ! printf '%s\n' "$prefix" | grep -Eq '^[A-Za-z0-9_.-]{1,32}$'; then
        log "CACHE_KEY_PREFIX: '$prefix' is not 1 to 32 characters of [A-Za-z0-9_.-]"
        return 1
    fi
    pw=$(secret REDIS_PASSWORD) || return 1
    if [ -z "$pw" ]; then
        log "REDIS_PASSWORD (or REDIS_PASSWORD_FILE) must be set"
        return 1
    fi
    admin=$(secret REDIS_ADMIN_PASSWORD) || return 1
    if [ -n "$admin" ] && [ "$admin" = "$pw" ]; then
        log "REDIS_ADMIN_PASSWORD must differ from REDIS_PASSWORD"
        return 1
    fi
    tmp="$out.render.$$"
    umask 077
    {
        if [ -n "$admin" ]; then
            printf 'user default on #%s ~* &* +@all\n' "$(sha256_hex "$admin")"
        else
            printf 'user default off resetpass resetkeys resetchannels -@all\n'
        fi
        printf 'user %s on #%s resetchannels &__redis__:invalidate ~%s:* -@all +auth +hello +ping +info|server +select +role +mget +get +set +del +unlink +scan +client|id +client|setname +client|tracking +subscribe\n' \
            "$user" "$(sha256_hex "$pw")" "$prefix"
    } >"$tmp" || {
        rm -f "$tmp"
        log "cannot write '$tmp'"
        return 1
    }
    chmod 0640 "$tmp"
    # Readable by the redis user the image's entrypoint drops to (when it exists).
    if [ "$(id -u)" = 0 ] && id redis >/dev/null 2>&1; then
        chown redis "$tmp"
    fi
    mv -f "$tmp" "$out" || {
        rm -f "$tmp"
        log "cannot write '$out'"
        return 1
    }
}

case "${1:-}" in
render)
    if [ "$#" -ne 2 ]; then
        log "usage: redis-start.sh render OUT"
        exit 2
    fi
    acl_render "$2" || exit 1
    ;;
redis-server)
    acl=""
    prev=""
    for a in "$@"; do
        [ "$prev" = --aclfile ] && acl=$a
        prev=$a
    done
    if [ -z "$acl" ]; then
        log "redis-server needs --aclfile PATH (the file this script renders)"
        exit 2
    fi
    mkdir -p "$(dirname "$acl")"
    acl_render "$acl" || exit 1
    unset REDIS_PASSWORD REDIS_PASSWORD_FILE REDIS_ADMIN_PASSWORD REDIS_ADMIN_PASSWORD_FILE
    if command -v docker-entrypoint.sh >/dev/null 2>&1; then
        exec docker-entrypoint.sh "$@"
    fi
    exec "$@"
    ;;
*)
    log "usage: redis-start.sh render OUT | redis-server ARGS (with --aclfile PATH)"
    exit 2
    ;;
esac
