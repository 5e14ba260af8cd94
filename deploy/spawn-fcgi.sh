#!/bin/sh
# deploy/spawn-fcgi.sh: runs the stock worker pool under spawn-fcgi, in the foreground.
#
# spawn-fcgi binds the FastCGI socket and execs stock-fcgi with it on fd 0 (-n: no fork, so this
# script's PID becomes the pool master's: a supervisor such as systemd, runit or daemontools, or
# `kill PID`, talks to the pool directly). The pool serves the inherited socket (STOCK_LISTEN is
# then ignored) and still forks STOCK_WORKERS workers and respawns any that dies: spawn-fcgi's own
# `-F N` would fork N copies and never respawn one, so it is not used.
#
# The equivalent command:
#   spawn-fcgi -n -a 127.0.0.1 -p 9000 -- /usr/local/bin/stock-fcgi
#   spawn-fcgi -n -s /run/stock/stock-fcgi.sock -M 0660 -U stock -G www-data -u stock -- /usr/local/bin/stock-fcgi
#
# Settings (environment; the pool's own settings come from the environment, then .env in the
# working directory or $STOCK_ENV_FILE, see .env.example):
#   STOCK_SPAWN_ADDR    address to bind (default 127.0.0.1)
#   STOCK_SPAWN_PORT    TCP port (default 9000)
#   STOCK_SPAWN_SOCKET  a unix socket path instead of ADDR:PORT (nginx: upstream unix:PATH)
#   STOCK_SPAWN_SOCKET_GROUP  group of that socket, e.g. www-data (root only; mode 0660)
#   STOCK_SPAWN_USER    user to run the pool as when started as root (default stock if that user
#                       exists; the pool is never left running as root if it can be avoided)
#   STOCK_FCGI_BIN      the pool binary (default: stock-fcgi on PATH, /usr/local/bin/stock-fcgi,
#                       then build/release/stock-fcgi of this checkout)
#
# Examples:
#   DATABASE_URL=postgresql://stock@127.0.0.1/stock REDIS_URL=redis://127.0.0.1:6379/0 \
#       STOCK_WORKERS=4 deploy/spawn-fcgi.sh
#   STOCK_ENV_FILE=/etc/stock/stock.env STOCK_SPAWN_SOCKET=/run/stock/stock-fcgi.sock \
#       STOCK_SPAWN_SOCKET_GROUP=www-data deploy/spawn-fcgi.sh
# Stop: SIGTERM to the PID (the pool drains its workers and exits 0); SIGHUP restarts the workers
# one at a time.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

bin=${STOCK_FCGI_BIN:-}
if [ -z "$bin" ]; then
    if command -v stock-fcgi >/dev/null 2>&1; then
        bin=$(command -v stock-fcgi)
    elif [ -x /usr/local/bin/stock-fcgi ]; then
        bin=/usr/local/bin/stock-fcgi
    else
        bin=$here/../build/release/stock-fcgi
    fi
fi
if [ ! -x "$bin" ]; then
    echo "spawn-fcgi.sh: $bin is not an executable (make bins, or set STOCK_FCGI_BIN)" >&2
    exit 1
fi
command -v spawn-fcgi >/dev/null 2>&1 || {
    echo "spawn-fcgi.sh: spawn-fcgi is not installed (apt-get install spawn-fcgi)" >&2
    exit 1
}

set -- -n
if [ -n "${STOCK_SPAWN_SOCKET:-}" ]; then
    mkdir -p "$(dirname "$STOCK_SPAWN_SOCKET")"
    # A socket left by a previous run would make the bind fail.
    [ -S "$STOCK_SPAWN_SOCKET" ] && rm -f "$STOCK_SPAWN_SOCKET"
    set -- "$@" -s "$STOCK_SPAWN_SOCKET" -M 0660
else
    set -- "$@" -a "${STOCK_SPAWN_ADDR:-127.0.0.1}" -p "${STOCK_SPAWN_PORT:-9000}"
fi

if [ "$(id -u)" -eq 0 ]; then
    user=${STOCK_SPAWN_USER:-}
    if [ -z "$user" ] && id stock >/dev/null 2>&1; then
        user=stock
    fi
    [ -n "$user" ] && set -- "$@" -u "$user"
    if [ -n "${STOCK_SPAWN_SOCKET:-}" ]; then
        [ -n "$user" ] && set -- "$@" -U "$user"
        [ -n "${STOCK_SPAWN_SOCKET_GROUP:-}" ] && set -- "$@" -G "$STOCK_SPAWN_SOCKET_GROUP"
    fi
fi

exec spawn-fcgi "$@" -- "$bin"
