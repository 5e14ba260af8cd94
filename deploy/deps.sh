#!/bin/sh
# Installs the Debian packages stock needs to build, run and test, only those missing.
# Idempotent; prints nothing when everything is present (and with --quiet, only on install).
set -eu
PKGS="gcc make pkg-config curl procps iproute2 libfcgi-dev libfcgi-bin libpq-dev libhiredis-dev
libjson-c-dev libsodium-dev libcunit1-dev liburiparser-dev nginx-light redis-server redis-tools
postgresql postgresql-client spawn-fcgi clang libclang-rt-14-dev wrk jq docker-compose systemd
chromium valgrind clang-format cppcheck"
# openssl: the certificates and TLS handshakes of test_deploy and test_leastpriv.
PKGS="$PKGS openssl"
# PgBouncer 1.18 for tests/http/test_pgbouncer.sh, which runs its own /usr/sbin/pgbouncer (the
# Debian service it may start on :6432 is not used).
PKGS="$PKGS pgbouncer"
# poppler-utils: pdftotext, the text of the receipt printed to PDF (tests/browser/receipt.test.mjs).
PKGS="$PKGS poppler-utils"
# python3: its csv module reads the exports back in tests/http/test_csv.sh (an independent parser).
PKGS="$PKGS python3"
# prometheus ships promtool, which checks deploy/prometheus/*.yml (no service starts here: no systemd).
PKGS="$PKGS prometheus"
# Node.js runs the browser test; a machine that already has one (NodeSource, say) keeps it,
# since Debian's npm package conflicts with NodeSource's nodejs.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
# Debian's full nginx package satisfies the need for nginx-light.
case " $missing " in *" nginx-light "*) command -v nginx >/dev/null 2>&1 && missing=$(echo "$missing" | sed 's/ nginx-light//') ;; esac
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -qq --no-install-recommends $missing >/tmp/stock-apt.log 2>&1; then
    $SUDO apt-get update -qq >/tmp/stock-apt.log 2>&1
    $SUDO apt-get install -y -qq --no-install-recommends $missing >>/tmp/stock-apt.log 2>&1 || {
        echo "deps: apt-get install failed, see /tmp/stock-apt.log" >&2
        exit 1
    }
fi
