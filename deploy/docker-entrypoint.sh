#!/bin/sh
# docker-entrypoint.sh: the entry point of the images of deploy/Dockerfile (POSIX sh: the images
# have no bash).
#
#   stock-fcgi [ARGS]   (the app image's default) applies the migrations with `stockctl migrate`
#                       (retried while PostgreSQL comes up; STOCK_MIGRATE=false skips them), then
#                       execs the pool, which becomes PID 1 and gets `docker stop`'s SIGTERM
#                       (it drains its workers) and SIGHUP (rolling restart of the workers).
#   healthcheck         GET /health straight to the pool over FastCGI (cgi-fcgi); exit 0 when a
#                       worker answers {"status": "ok"}.
#   nginx-dev           (nginx image) renders nginx/stock.conf.in for STOCK_FCGI_ADDR and runs
#                       nginx in the foreground on port 80.
#   nginx-prod          (nginx image) renders nginx/stock.prod.conf into conf.d (STOCK_FCGI_ADDR,
#                       STOCK_SERVER_NAME, STOCK_TLS_CERT, STOCK_TLS_KEY) and runs nginx.
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
        if stockctl migrate; then
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

# nginx_render TEMPLATE OUT: replaces the @NAME@ placeholders of the stock nginx configs.
nginx_render()
{
    sed -e "s|@LISTEN@|${STOCK_HTTP_LISTEN:-80}|g" \
        -e "s|@FCGI@|${STOCK_FCGI_ADDR:-app:9000}|g" \
        -e "s|@STATIC@|/usr/share/stock/static|g" \
        -e "s|@PREFIX@|/var/lib/nginx/stock|g" \
        -e "s|@LOGS@|/var/log/nginx|g" \
        -e "s|@SERVER_NAME@|${STOCK_SERVER_NAME:-_}|g" \
        -e "s|@SSL_CERT@|${STOCK_TLS_CERT:-/etc/stock/tls/fullchain.pem}|g" \
        -e "s|@SSL_KEY@|${STOCK_TLS_KEY:-/etc/stock/tls/privkey.pem}|g" \
        "$1" >"$2"
}

case "${1:-stock-fcgi}" in
stock-fcgi)
    [ "$#" -gt 0 ] && shift
    migrate
    exec stock-fcgi "$@"
    ;;
healthcheck)
    healthcheck
    ;;
nginx-dev)
    mkdir -p /var/lib/nginx/stock/tmp
    nginx_render /usr/share/stock/nginx/stock.conf.in /etc/nginx/stock-dev.conf
    nginx -t -q -c /etc/nginx/stock-dev.conf
    exec nginx -c /etc/nginx/stock-dev.conf -g 'daemon off;'
    ;;
nginx-prod)
    for f in "${STOCK_TLS_CERT:-/etc/stock/tls/fullchain.pem}" "${STOCK_TLS_KEY:-/etc/stock/tls/privkey.pem}"; do
        [ -r "$f" ] || { log "TLS file $f is missing: mount the certificate folder (STOCK_TLS_DIR)"; exit 1; }
    done
    nginx_render /usr/share/stock/nginx/stock.prod.conf /etc/nginx/conf.d/stock.conf
    nginx -t -q
    exec nginx -g 'daemon off;'
    ;;
*)
    exec "$@"
    ;;
esac
