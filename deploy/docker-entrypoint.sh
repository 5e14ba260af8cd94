#!/bin/sh
# docker-entrypoint.sh: the entry point of the images of deploy/Dockerfile (POSIX sh: the images
# have no bash).
#
#   stock-fcgi [ARGS]   (the app image's default) applies the migrations with `stockctl migrate`
#                       (retried while PostgreSQL comes up; STOCK_MIGRATE=false skips them) as
#                       STOCK_MIGRATE_DATABASE_URL's role when set (the owner), granting
#                       STOCK_DB_APP_ROLE (the role of DATABASE_URL) its rights, then
#                       execs the pool, which becomes PID 1 and gets `docker stop`'s SIGTERM
#                       (it drains its workers) and SIGHUP (rolling restart of the workers).
#   healthcheck         GET /health straight to the pool over FastCGI (cgi-fcgi); exit 0 when a
#                       worker answers {"status": "ok"}.
#   nginx-dev           (nginx image) renders nginx/stock.conf.in for STOCK_FCGI_ADDR and runs
#                       nginx in the foreground on port 80.
#   nginx-prod          (nginx image) renders nginx/stock.prod.conf into conf.d (STOCK_FCGI_ADDR,
#                       STOCK_SERVER_NAME, STOCK_TLS_CERT, STOCK_TLS_KEY, STOCK_OPS_ALLOW) and
#                       runs nginx.
#   nginx-render IN OUT renders the template IN into OUT as nginx-dev and nginx-prod do, and
#                       nothing else (no nginx needed: for hosts without docker, and the tests).
#                       Also reads STOCK_STATIC_DIR (default /usr/share/stock/static).
#                       Exit 1 with one line on stderr, OUT untouched, on a bad STOCK_FCGI_ADDR
#                       or STOCK_OPS_ALLOW (see ops_allow: who may read /metrics, /health/*).
#
# STOCK_FCGI_ADDR (default app:9000) is the pool, or several hosts' pools, separated by spaces or
# commas: each host:port, [v6]:port or unix:/path. One address becomes today's two server lines
# with max_fails=0 (a GET whose worker died is retried on the same pool, which is never marked
# down); several become one line per host with max_fails=1 fail_timeout=5s (a host that failed
# is skipped for 5 s, its GETs passed on to another host). See the upstream of stock.prod.conf.
#   anything else       exec'd as given, e.g. `docker-compose exec app stockctl tenant create ...`.
set -eu

log()
{
    printf '%s\n' "docker-entrypoint: $*" >&2
}

# The address the pool listens on, as cgi-fcgi -connect wants it (a wildcard host -> loopback).
fcgi_addr()
{
    addr=${STOCK_LISTEN:-127.0.0.1:9000}
    case "$addr" in
    /*) printf '%s\n' "$addr" ;;
    0.0.0.0:* | \[::\]:* | :*) printf '127.0.0.1:%s\n' "${addr##*:}" ;;
    *) printf '%s\n' "$addr" ;;
    esac
}

healthcheck()
{
    out=$(env -i PATH="$PATH" REQUEST_METHOD=GET SCRIPT_NAME=/health REQUEST_URI=/health \
        DOCUMENT_URI=/health QUERY_STRING= SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=127.0.0.1 \
        REQUEST_ID=docker-healthcheck CONTENT_LENGTH=0 \
        timeout 5 cgi-fcgi -bind -connect "$(fcgi_addr)" 2>/dev/null) || exit 1
    printf '%s\n' "$out" | grep -Eq '"status"[[:space:]]*:[[:space:]]*"ok"' || exit 1
    exit 0
}

migrate()
{
    case "${STOCK_MIGRATE:-true}" in
    false | 0 | no) return 0 ;;
    esac
    tries=${STOCK_MIGRATE_TRIES:-30}
    i=1
    while :; do
        # Least privilege (SPEC §11): the migrations run as the owner role of
        # STOCK_MIGRATE_DATABASE_URL when it is set (the pool's DATABASE_URL is then the app
        # role, STOCK_DB_APP_ROLE, which is granted its rights at the end); the URL reaches
        # stockctl through its environment only.
        if [ -n "${STOCK_MIGRATE_DATABASE_URL:-}" ]; then
            if DATABASE_URL=$STOCK_MIGRATE_DATABASE_URL stockctl migrate \
                ${STOCK_DB_APP_ROLE:+--app-role "$STOCK_DB_APP_ROLE"}; then
                return 0
            fi
        elif stockctl migrate ${STOCK_DB_APP_ROLE:+--app-role "$STOCK_DB_APP_ROLE"}; then
            return 0
        fi
        if [ "$i" -ge "$tries" ]; then
            log "stockctl migrate failed $tries times: not starting the pool"
            exit 1
        fi
        log "stockctl migrate failed (try $i of $tries): retrying in 2 s"
        i=$((i + 1))
        sleep 2
    done
}

# fcgi_servers: the server lines of `upstream stock_pool` for STOCK_FCGI_ADDR, one a line,
# unindented. The value goes into an nginx config: each address must be host:port, [v6]:port or
# unix:/path, of the characters [A-Za-z0-9.:_[]/-] only, and listed once; otherwise one line on
# stderr naming STOCK_FCGI_ADDR and status 1.
fcgi_servers()
{
    # Spaces, tabs, newlines and commas separate; no pathname expansion of the words ([::1]).
    list=$(printf '%s' "${STOCK_FCGI_ADDR:-app:9000}" | tr ',\t\n\r' '    ')
    addrs=" "
    n=0
    set -f
    for a in $list; do
        shown=$(printf '%s' "$a" | LC_ALL=C tr '[:cntrl:]' '?')
        if [ -n "$(printf '%s' "$a" | LC_ALL=C tr -d 'A-Za-z0-9.:_/\133\135-')" ]; then
            set +f
            log "STOCK_FCGI_ADDR: '$shown' has a character outside [A-Za-z0-9.:_[]/-]"
            return 1
        fi
        if ! printf '%s\n' "$a" | LC_ALL=C grep -Eq \
            '^(unix:/[A-Za-z0-9._/-]+|\[[0-9A-Fa-f:.]+\]:[0-9]{1,5}|[A-Za-z0-9_]([A-Za-z0-9._-]*[A-Za-z0-9_])?:[0-9]{1,5})$'; then
            set +f
            log "STOCK_FCGI_ADDR: '$shown' is not host:port, [v6]:port or unix:/path"
            return 1
        fi
        case "$a" in
        unix:*) ;;
        *)
            port=${a##*:}
            if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
                set +f
                log "STOCK_FCGI_ADDR: '$shown' has port $port, not 1 to 65535"
                return 1
            fi
            ;;
        esac
        case "$addrs" in
        *" $a "*)
            set +f
            log "STOCK_FCGI_ADDR: '$shown' is listed twice"
            return 1
            ;;
        esac
        addrs="$addrs$a "
        n=$((n + 1))
    done
    set +f
    if [ "$n" -eq 0 ]; then
        log "STOCK_FCGI_ADDR: no address in '$(printf '%s' "$STOCK_FCGI_ADDR" | LC_ALL=C tr '[:cntrl:]' '?')' (host:port, [v6]:port or unix:/path)"
        return 1
    fi
    for a in $addrs; do
        if [ "$n" -eq 1 ]; then
            printf 'server %s max_fails=0;\nserver %s max_fails=0;\n' "$a" "$a"
        else
            printf 'server %s max_fails=1 fail_timeout=5s;\n' "$a"
        fi
    done
}

# ops_allow: the addresses of STOCK_OPS_ALLOW (default "127.0.0.1 ::1": loopback only), one a
# line: who may read /metrics and /health/* through nginx/stock.prod.conf (its allow lines
# tagged `# STOCK_OPS_ALLOW` become one allow line each; deny all else). Each is an IPv4 or IPv6
# address, with an optional /prefix, of the characters [0-9A-Fa-f.:/] only ("all" is refused:
# list 0.0.0.0/0 and ::/0 to mean it); otherwise one line on stderr naming STOCK_OPS_ALLOW and
# status 1.
ops_allow()
{
    list=$(printf '%s' "${STOCK_OPS_ALLOW:-127.0.0.1 ::1}" | tr ',\t\n\r' '    ')
    n=0
    set -f
    for a in $list; do
        shown=$(printf '%s' "$a" | LC_ALL=C tr '[:cntrl:]' '?')
        if ! printf '%s\n' "$a" | LC_ALL=C grep -Eq \
            '^(([0-9]{1,3}\.){3}[0-9]{1,3}(/([0-9]|[12][0-9]|3[0-2]))?|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(/([0-9]{1,2}|1[01][0-9]|12[0-8]))?)$'; then
            set +f
            log "STOCK_OPS_ALLOW: '$shown' is not an IPv4 or IPv6 address or network (a.b.c.d[/n], v6[/n])"
            return 1
        fi
        printf '%s\n' "$a"
        n=$((n + 1))
    done
    set +f
    if [ "$n" -eq 0 ]; then
        log "STOCK_OPS_ALLOW: no address (list loopback at least: 127.0.0.1 ::1)"
        return 1
    fi
}

# nginx_render TEMPLATE OUT: replaces the @NAME@ placeholders of the stock nginx configs. The
# template's upstream lines `server @FCGI@ max_fails=0;` (adjacent, the same pool twice) become
# the lines of fcgi_servers, with their indentation. OUT is written whole or not at all (a
# temporary file beside it, renamed): on any error it is left as it was, status 1.
nginx_render()
{
    servers=$(fcgi_servers) || return 1
    ops=$(ops_allow) || return 1
    if [ ! -r "$1" ]; then
        log "cannot read the template '$1'"
        return 1
    fi
    tmp="$2.render.$$"
    if ! sed -e "s|@LISTEN@|${STOCK_HTTP_LISTEN:-80}|g" \
        -e "s|@STATIC@|${STOCK_STATIC_DIR:-/usr/share/stock/static}|g" \
        -e "s|@PREFIX@|/var/lib/nginx/stock|g" \
        -e "s|@LOGS@|/var/log/nginx|g" \
        -e "s|@SERVER_NAME@|${STOCK_SERVER_NAME:-_}|g" \
        -e "s|@SSL_CERT@|${STOCK_TLS_CERT:-/etc/stock/tls/fullchain.pem}|g" \
        -e "s|@SSL_KEY@|${STOCK_TLS_KEY:-/etc/stock/tls/privkey.pem}|g" \
        "$1" >"$tmp"; then
        rm -f "$tmp"
        log "cannot write '$tmp'"
        return 1
    fi
    # awk replaces the first server line of each run with all of fcgi_servers and drops the rest. In a
    # comment @FCGI@ becomes the list; any other @FCGI@ could take one address only, and is
    # refused (status 3) when there are several. (The addresses hold no & or \ for gsub.)
    STOCK_SERVERS=$servers STOCK_OPS=$ops awk '
        BEGIN {
            nops = split(ENVIRON["STOCK_OPS"], ops, "\n")
            inops = 0
            n = split(ENVIRON["STOCK_SERVERS"], s, "\n")
            one = (n == 2 && s[1] == s[2])
            list = ""
            for (i = 1; i <= n; i += (one ? 2 : 1)) {
                a = s[i]
                sub(/^server /, "", a)
                sub(/ .*$/, "", a)
                list = list (list == "" ? "" : " ") a
            }
            done = 0
        }
        # Each upstream of the template (a run of such lines) gets the lines of fcgi_servers.
        /^[ \t]*server @FCGI@ max_fails=0;[ \t]*$/ {
            if (!done) {
                ind = $0
                sub(/[^ \t].*$/, "", ind)
                for (i = 1; i <= n; i++)
                    print ind s[i]
                done = 1
            }
            next
        }
        { done = 0 }
        # A run of allow lines tagged "# STOCK_OPS_ALLOW" becomes one line per address, tagged.
        /^[ \t]*allow [^;#]*; # STOCK_OPS_ALLOW[ \t]*$/ {
            if (!inops) {
                ind = $0
                sub(/[^ \t].*$/, "", ind)
                for (i = 1; i <= nops; i++)
                    print ind "allow " ops[i] "; # STOCK_OPS_ALLOW"
            }
            inops = 1
            next
        }
        { inops = 0 }
        /@FCGI@/ {
            if (!one && $0 !~ /^[ \t]*#/)
                exit 3
            gsub(/@FCGI@/, list)
        }
        { print }' "$tmp" >"$tmp.awk"
    rc=$?
    rm -f "$tmp"
    if [ "$rc" -ne 0 ]; then
        rm -f "$tmp.awk"
        if [ "$rc" -eq 3 ]; then
            log "STOCK_FCGI_ADDR: '$1' uses @FCGI@ outside its upstream, which takes one address only"
        else
            log "cannot render '$1' into '$2'"
        fi
        return 1
    fi
    if ! mv -f "$tmp.awk" "$2"; then
        rm -f "$tmp.awk"
        log "cannot write '$2'"
        return 1
    fi
}

case "${1:-stock-fcgi}" in
stock-fcgi)
    [ "$#" -gt 0 ] && shift
    migrate
    # The owner's URL stays out of the pool's environment (/proc/PID/environ).
    unset STOCK_MIGRATE_DATABASE_URL
    exec stock-fcgi "$@"
    ;;
healthcheck)
    healthcheck
    ;;
nginx-render)
    if [ "$#" -ne 3 ]; then
        log "usage: docker-entrypoint.sh nginx-render TEMPLATE OUT"
        exit 2
    fi
    nginx_render "$2" "$3" || exit 1
    ;;
nginx-dev)
    mkdir -p /var/lib/nginx/stock/tmp
    nginx_render /usr/share/stock/nginx/stock.conf.in /etc/nginx/stock-dev.conf || exit 1
    nginx -t -q -c /etc/nginx/stock-dev.conf
    exec nginx -c /etc/nginx/stock-dev.conf -g 'daemon off;'
    ;;
nginx-prod)
    for f in "${STOCK_TLS_CERT:-/etc/stock/tls/fullchain.pem}" "${STOCK_TLS_KEY:-/etc/stock/tls/privkey.pem}"; do
        [ -r "$f" ] || { log "TLS file $f is missing: mount the certificate folder (STOCK_TLS_DIR)"; exit 1; }
    done
    nginx_render /usr/share/stock/nginx/stock.prod.conf /etc/nginx/conf.d/stock.conf || exit 1
    nginx -t -q
    exec nginx -g 'daemon off;'
    ;;
*)
    exec "$@"
    ;;
esac
