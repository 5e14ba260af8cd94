#!/usr/bin/env bash
# test_deploy.sh: the deployment files, checked without a Docker engine.
#
# - docker-compose.yml / docker-compose.prod.yml: `docker-compose config` validates them; its
#   resolved output (YAML, turned into JSON with the python3-yaml that docker-compose itself
#   depends on, then read with jq) must carry the Redis settings of SPEC §7 exactly, healthchecks
#   everywhere, depends_on service_healthy, no published Redis/PostgreSQL port in prod, and the
#   passwords only from the environment (prod fails without them). Dummy passwords only.
# - .env.example documents every variable, and the pool accepts it as its settings file.
# - deploy/Dockerfile: its structure (multi-stage debian:12, non-root final stage with both
#   binaries, `make bins` not `make all`/`make test`), its packages against the libraries the
#   release binaries really link, and a dry run of its build stage on exactly what it copies.
#   The image itself cannot be built here (no Docker engine).
# - deploy/systemd/*.service: `systemd-analyze verify` (binaries pointed at build/release).
# - nginx: `nginx -t` of the dev config (as nginx_render writes it) and of nginx/stock.prod.conf
#   (rendered with a self-signed certificate, inside Debian's own nginx.conf), then the prod
#   config live in front of a pool started with deploy/spawn-fcgi.sh: redirect, TLS, headers,
#   caching, 413 (1 MiB; 4 KiB on the login location), /health through it; and with a dead host
#   and that pool in its upstream (STOCK_FCGI_ADDR lists both): every request answered.
# - docker-entrypoint.sh nginx-render: one address renders exactly as before (the pool twice,
#   max_fails=0), three give one line each (max_fails=1 fail_timeout=5s) that nginx -t takes, a
#   bad address is exit 1 with one line naming STOCK_FCGI_ADDR and nothing written.
# - No write is sent twice: through the dev and the prod config, a PUT or DELETE whose worker
#   dies mid-request (the ASan pool's fault hook) is a 502, not sent again; a GET is passed on.
# - deploy/docker-entrypoint.sh: its healthcheck against a live pool, and its migrate-then-exec
#   start on the host (and that it refuses to start the pool when the migrations fail).
# Environment from tests/run_all.sh: DATABASE_URL, REDIS_URL, STOCK_TEST_DIR.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"
cd "$ROOT" || exit 1

: "${DATABASE_URL:?run through tests/run_all.sh}" "${REDIS_URL:?run through tests/run_all.sh}"
DIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}/deploy-test
rm -rf "$DIR"
mkdir -p "$DIR"
RELEASE=$ROOT/build/release
PY=/usr/bin/python3

# Everything started here is recorded and stopped on exit (run_all.sh also finds the pidfiles:
# *fcgi*.pid and nginx.pid under STOCK_TEST_DIR).
STARTED_POOLS=()
STARTED_NGINX=()
cleanup()
{
    local p
    for p in "${STARTED_NGINX[@]}"; do
        nginx_stop "$p"
    done
    for p in "${STARTED_POOLS[@]}"; do
        pool_stop "$p" 20
    done
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# =============================================================================================
# docker-compose

REDIS_PW=dummy-redis-pw-0123
PG_PW=dummy-pg-pw-4567
APP_PW=dummy-app-pw-8901
CS=dummy-cache-secret-0123456789abcdef0123456789abcdef
: >"$DIR/empty.env"

# dc FILE [NAME=VALUE ...] -- ARGS: docker-compose with only the given variables (no developer .env,
# no exported password).
dc()
{
    local file=$1 vars=()
    shift
    while [[ $# -gt 0 && "$1" != -- ]]; do
        vars+=("$1")
        shift
    done
    shift
    env -i PATH="$PATH" HOME="$DIR" LANG=C.UTF-8 "${vars[@]}" \
        timeout 60 docker-compose --env-file "$DIR/empty.env" -f "$file" "$@"
}

# compose_json FILE OUT [NAME=VALUE ...]: the resolved config of FILE as JSON in OUT.
compose_json()
{
    local file=$1 out=$2
    shift 2
    dc "$file" "$@" -- config >"$out.yml" 2>"$out.err" || return 1
    "$PY" -c 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)' \
        <"$out.yml" >"$out" 2>>"$out.err"
}

# jqc JSON FILTER: succeeds when FILTER yields true (jq -e).
jqc()
{
    jq -e "$2" "$1" >/dev/null 2>&1
}

# A service's command as a list of words, whether written as a string or a list.
CMD_WORDS='(if type == "string" then [splits(" +")] | map(select(. != "")) else . end)'
HC_TEXT='(.healthcheck.test // [] | if type == "string" then . else join(" ") end)'
# Published ports as "[ip:]published:target[/proto]", from the short or the long syntax.
PORTS='[.ports[]? | if type == "object" then
    ((.host_ip // "" | if . == "" then "" else . + ":" end) + "\(.published):\(.target)")
    else tostring end]'

DEV_JSON=$DIR/dev.json
PROD_JSON=$DIR/prod.json

if ! command -v docker-compose >/dev/null; then
    t_not_ok "docker-compose is installed (deploy/deps.sh installs it)"
elif ! "$PY" -c 'import yaml' 2>/dev/null; then
    t_not_ok "$PY has the yaml module (python3-yaml, a dependency of docker-compose)"
else
    t_check "docker-compose.yml: docker-compose config -q succeeds" \
        dc docker-compose.yml -- config -q
    if compose_json docker-compose.yml "$DEV_JSON"; then
        t_ok "docker-compose.yml: config output parsed"
    else
        t_not_ok "docker-compose.yml: config output parsed" "$(head -c 300 "$DEV_JSON.err")"
    fi

    t_check "prod: docker-compose config -q succeeds with REDIS_PASSWORD, POSTGRES_PASSWORD and STOCK_DB_APP_PASSWORD" \
        dc docker-compose.prod.yml REDIS_PASSWORD=$REDIS_PW POSTGRES_PASSWORD=$PG_PW \
        STOCK_DB_APP_PASSWORD=$APP_PW CACHE_SECRET=$CS -- config -q
    dc docker-compose.prod.yml POSTGRES_PASSWORD=$PG_PW STOCK_DB_APP_PASSWORD=$APP_PW CACHE_SECRET=$CS -- config -q \
        >"$DIR/nopw.out" 2>&1
    rc=$?
    t_check "prod: docker-compose config fails without REDIS_PASSWORD, naming it" \
        eval '((rc != 0)) && grep -q "REDIS_PASSWORD must be set" "$DIR/nopw.out"'
    dc docker-compose.prod.yml REDIS_PASSWORD=$REDIS_PW STOCK_DB_APP_PASSWORD=$APP_PW CACHE_SECRET=$CS -- config -q \
        >"$DIR/nopgpw.out" 2>&1
    rc=$?
    t_check "prod: docker-compose config fails without POSTGRES_PASSWORD, naming it" \
        eval '((rc != 0)) && grep -q "POSTGRES_PASSWORD must be set" "$DIR/nopgpw.out"'
    dc docker-compose.prod.yml REDIS_PASSWORD=$REDIS_PW POSTGRES_PASSWORD=$PG_PW -- config -q \
        >"$DIR/noapppw.out" 2>&1
    rc=$?
    t_check "prod: docker-compose config fails without STOCK_DB_APP_PASSWORD, naming it" \
        eval '((rc != 0)) && grep -q "STOCK_DB_APP_PASSWORD must be set" "$DIR/noapppw.out"'
    dc docker-compose.prod.yml REDIS_PASSWORD=$REDIS_PW POSTGRES_PASSWORD=$PG_PW STOCK_DB_APP_PASSWORD=$APP_PW \
        -- config -q >"$DIR/nocs.out" 2>&1
    rc=$?
    t_check "prod: docker-compose config fails without CACHE_SECRET, naming it (SPEC §11)" \
        eval '((rc != 0)) && grep -q "CACHE_SECRET must be set" "$DIR/nocs.out"'
    dc docker-compose.prod.yml REDIS_PASSWORD= POSTGRES_PASSWORD=$PG_PW STOCK_DB_APP_PASSWORD=$APP_PW CACHE_SECRET=$CS \
        -- config -q >/dev/null 2>&1
    rc=$?
    t_check "prod: docker-compose config fails with an empty REDIS_PASSWORD" test "$rc" -ne 0
    if compose_json docker-compose.prod.yml "$PROD_JSON" REDIS_PASSWORD=$REDIS_PW \
        POSTGRES_PASSWORD=$PG_PW STOCK_DB_APP_PASSWORD=$APP_PW CACHE_SECRET=$CS; then
        t_ok "docker-compose.prod.yml: config output parsed"
    else
        t_not_ok "docker-compose.prod.yml: config output parsed" "$(head -c 300 "$PROD_JSON.err")"
    fi
fi

if [[ -s "$DEV_JSON" ]]; then
    f=$DEV_JSON
    t_check "dev: services postgres, redis, app, nginx" \
        jqc "$f" '.services | has("postgres") and has("redis") and has("app") and has("nginx")'
    t_check "dev: redis image is redis:7-alpine" jqc "$f" '.services.redis.image == "redis:7-alpine"'
    t_check "dev: redis command is exactly the dev settings of SPEC §7" jqc "$f" \
        ".services.redis.command | $CMD_WORDS == [\"redis-server\", \"--maxmemory\", \"256mb\",
          \"--maxmemory-policy\", \"allkeys-lru\", \"--save\", \"60\", \"1\", \"--loglevel\", \"warning\"]"
    t_check "dev: redis port 6379 published" jqc "$f" \
        ".services.redis | $PORTS | map(test(\"(^|:)6379:6379(/tcp)?$\")) | any"
    t_check "dev: redis healthcheck is redis-cli ping" jqc "$f" \
        ".services.redis | $HC_TEXT | test(\"redis-cli.* ping\")"
    t_check "dev: redis on network stock-network" jqc "$f" \
        '.services.redis.networks | has("stock-network")'
    t_check "dev: redis data in volume redis_data" jqc "$f" \
        '([.services.redis.volumes[]? | tostring | startswith("redis_data:/data")] | any)
         and (.volumes | has("redis_data"))'
    t_check "dev: postgres is postgres:15 with a pg_isready healthcheck and a volume" jqc "$f" \
        ".services.postgres | .image == \"postgres:15\" and ($HC_TEXT | test(\"pg_isready\"))
         and ((.volumes // []) | length > 0)"
    t_check "dev: app built from deploy/Dockerfile with context ." jqc "$f" \
        ".services.app.build | .dockerfile == \"deploy/Dockerfile\" and
         (.context == \"$ROOT\" or .context == \"$(cd "$ROOT" && pwd -P)\" or .context == \".\")"
    t_check "dev: app healthcheck asks a worker for /health (entrypoint healthcheck)" jqc "$f" \
        ".services.app | $HC_TEXT | test(\"docker-entrypoint.sh healthcheck|cgi-fcgi\")"
    t_check "dev: nginx published on 127.0.0.1:8080 with a /nginx-health healthcheck" jqc "$f" \
        ".services.nginx | ($PORTS | map(startswith(\"127.0.0.1:8080:80\")) | any)
         and ($HC_TEXT | test(\"/nginx-health\"))"
    t_check "dev: app waits for healthy postgres and redis, nginx for a healthy app" jqc "$f" \
        '(.services.app.depends_on | keys == ["postgres", "redis"]) and
         (.services.nginx.depends_on | keys == ["app"])'
fi

if [[ -s "$PROD_JSON" ]]; then
    f=$PROD_JSON
    t_check "prod: services postgres, redis, app, nginx" \
        jqc "$f" '.services | has("postgres") and has("redis") and has("app") and has("nginx")'
    t_check "prod: redis image is redis:7-alpine" jqc "$f" '.services.redis.image == "redis:7-alpine"'
    # SPEC §7's settings, with the ACL file of deploy/redis-start.sh in place of --requirepass
    # (SPEC §11: no password on a command line; tests/http/test_leastpriv.sh runs it).
    t_check "prod: redis command is the prod settings of SPEC §7, through redis-start.sh, with an ACL file" \
        jqc "$f" ".services.redis.command | $CMD_WORDS == [\"sh\", \"/usr/local/bin/stock-redis-start.sh\",
          \"redis-server\", \"--appendonly\", \"yes\",
          \"--appendfsync\", \"everysec\", \"--maxmemory\", \"512mb\", \"--maxmemory-policy\",
          \"allkeys-lru\", \"--save\", \"900\", \"1\", \"--save\", \"300\", \"10\", \"--save\", \"60\",
          \"10000\", \"--loglevel\", \"notice\", \"--aclfile\", \"/run/stock-redis/users.acl\"]"
    t_check "prod: no published port on redis or postgres" jqc "$f" \
        '((.services.redis.ports // []) | length == 0) and ((.services.postgres.ports // []) | length == 0)'
    t_check "prod: redis healthcheck authenticates as the app's user (REDISCLI_AUTH, redis-cli --user, ping)" jqc "$f" \
        ".services.redis | ($HC_TEXT | test(\"REDISCLI_AUTH=.*REDIS_PASSWORD.* redis-cli --user .*REDIS_USERNAME.* ping\"))
         and .environment.REDIS_PASSWORD == \"$REDIS_PW\" and .environment.REDIS_USERNAME == \"stock-app\""
    t_check "prod: redis data in volume redis_data_prod" jqc "$f" \
        '([.services.redis.volumes[]? | tostring | startswith("redis_data_prod:/data")] | any)
         and (.volumes | has("redis_data_prod"))'
    t_check "prod: redis on network backend" jqc "$f" '.services.redis.networks | has("backend")'
    t_check "prod: app connects to redis:6379/0 as REDIS_USERNAME with REDIS_PASSWORD from the environment" \
        jqc "$f" ".services.app.environment | .REDIS_URL == \"redis://redis:6379/0\" and
          .REDIS_USERNAME == \"stock-app\" and .REDIS_PASSWORD == \"$REDIS_PW\""
    t_check "prod: app DATABASE_URL is the app role with STOCK_DB_APP_PASSWORD; the migrate service's the owner" jqc "$f" \
        "(.services.app.environment.DATABASE_URL == \"postgresql://stock_app:$APP_PW@postgres:5432/stock\")
          and (.services.migrate.environment.DATABASE_URL == \"postgresql://stock:$PG_PW@postgres:5432/stock\")"
    t_check "prod: postgres password from the environment" jqc "$f" \
        ".services.postgres.environment.POSTGRES_PASSWORD == \"$PG_PW\""
    t_check "prod: nginx publishes 80 and 443" jqc "$f" \
        ".services.nginx | $PORTS | (map(test(\"(^|:)80:80(/tcp)?$\")) | any)
         and (map(test(\"(^|:)443:443(/tcp)?$\")) | any)"
    t_check "prod: every service has a restart policy" jqc "$f" \
        '[.services[] | .restart // "" | test("^(always|unless-stopped|on-failure)")] | all'
    t_check "prod: app waits for the migrations and healthy servers, nginx for a healthy app" jqc "$f" \
        '(.services.app.depends_on | keys == ["migrate", "postgres", "redis"]) and
         .services.app.depends_on.migrate.condition == "service_completed_successfully" and
         (.services.migrate.depends_on | keys == ["postgres"]) and
         (.services.nginx.depends_on | keys == ["app"])'
    t_check "prod: app is scalable (--scale app=N): no container_name, no published port" jqc "$f" \
        '.services.app | (has("container_name") | not) and ((.ports // []) | length == 0)'
    t_check "prod: nginx sends to app:9000 (every replica) unless STOCK_FCGI_ADDR says otherwise" \
        jqc "$f" '.services.nginx.environment.STOCK_FCGI_ADDR == "app:9000"'
    if compose_json docker-compose.prod.yml "$DIR/prod-fleet.json" REDIS_PASSWORD=$REDIS_PW \
        POSTGRES_PASSWORD=$PG_PW STOCK_DB_APP_PASSWORD=$APP_PW CACHE_SECRET=$CS \
        "STOCK_FCGI_ADDR=10.0.0.11:9000 10.0.0.12:9000"; then
        t_check "prod: STOCK_FCGI_ADDR from the environment (a list of app hosts) reaches nginx" \
            jqc "$DIR/prod-fleet.json" \
            '.services.nginx.environment.STOCK_FCGI_ADDR == "10.0.0.11:9000 10.0.0.12:9000"'
    else
        t_not_ok "prod: docker-compose config with STOCK_FCGI_ADDR set" \
            "$(head -c 300 "$DIR/prod-fleet.json.err")"
    fi
    t_check "prod: the committed file holds no password (only \${REDIS_PASSWORD:?}, \${POSTGRES_PASSWORD:?}, \${STOCK_DB_APP_PASSWORD:?})" \
        eval 'grep -q "REDIS_PASSWORD: \${REDIS_PASSWORD:?" docker-compose.prod.yml &&
              grep -q ":\${STOCK_DB_APP_PASSWORD:?STOCK_DB_APP_PASSWORD must be set}@postgres" docker-compose.prod.yml &&
              ! grep -v "^[[:space:]]*#" docker-compose.prod.yml | grep -q -- "--requirepass" &&
              ! grep -Eiq "(requirepass|password:) +[A-Za-z0-9]" docker-compose.prod.yml'
fi

for f in "$DEV_JSON" "$PROD_JSON"; do
    [[ -s "$f" ]] || continue
    n=$(basename "$f" .json)
    # prod's migrate is a one-shot (restart on-failure): waited for until it completed.
    t_check "$n: every service has a healthcheck (but the one-shot migrate)" jqc "$f" \
        "[.services | to_entries[] | select(.key != \"migrate\") | .value
          | ($HC_TEXT | length > 0) and ($HC_TEXT != \"NONE\") and (.healthcheck.disable // false | not)] | all"
    t_check "$n: every depends_on waits for condition service_healthy (migrate: service_completed_successfully)" jqc "$f" \
        '[.services[] | .depends_on // {} | to_entries[] | .value.condition ==
          (if .key == "migrate" then "service_completed_successfully" else "service_healthy" end)] | all'
    if [[ "$n" == dev ]]; then
        # (but the monitoring profile's prometheus and grafana: on its monitoring network only,
        # checked by tests/http/test_monitoring.sh)
        t_check "$n: every service is on stock-network (prometheus, grafana: monitoring only)" jqc "$f" \
            '([.services | to_entries[] | select(.key != "prometheus" and .key != "grafana") | .value.networks // {} | has("stock-network")] | all)
             and (.networks | has("stock-network"))'
    else
        # The frontend/backend split is checked by tests/http/test_leastpriv.sh.
        # (and monitoring: nginx, prometheus, grafana; checked by tests/http/test_monitoring.sh)
        t_check "$n: every service is on frontend or backend (or the monitoring profile's network), nothing else" jqc "$f" \
            '[.services[] | .networks // {} | keys | length > 0 and all(. == "frontend" or . == "backend" or . == "monitoring")] | all'
    fi
done

# =============================================================================================
# .env.example

VARS="DATABASE_URL REDIS_URL REDIS_PASSWORD CACHE_ENABLED CACHE_DEFAULT_TTL CACHE_PRODUCTS_TTL
CACHE_CATEGORIES_TTL CACHE_UOM_TTL CACHE_BALANCE_TTL CACHE_NEGATIVE_TTL CACHE_KEY_PREFIX
REDIS_CONNECT_TIMEOUT REDIS_SOCKET_TIMEOUT REDIS_MAX_CONNECTIONS REDIS_HEALTH_CHECK_INTERVAL
REDIS_RETRY_ON_TIMEOUT STOCK_LISTEN STOCK_WORKERS LOG_LEVEL POSTGRES_PASSWORD STOCK_ENV CACHE_SECRET
CACHE_SECRET_PREVIOUS"
# ...and every variable the compose files read.
VARS="$VARS $(grep -hv '^[[:space:]]*#' docker-compose.yml docker-compose.prod.yml |
    grep -oE '\$\{[A-Z_]+' | tr -d '${' | sort -u)"
missing=""
for v in $VARS; do
    grep -qE "^#?$v=" .env.example || missing="$missing $v"
done
t_check ".env.example documents every variable (missing:${missing:- none})" test -z "$missing"
t_check ".env.example gives every line a comment above its group" \
    awk '/^#?[A-Z_]+=/ { if (!prev) exit 1; next } { prev = ($0 ~ /^#/) } END { exit 0 }' .env.example
t_check ".env.example holds no password" \
    eval '! grep -E "^[A-Z_]*PASSWORD=." .env.example && ! grep -v "^#" .env.example | grep -Eq "redis://[^@/]*:[^@]+@"'
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    t_check ".env is gitignored" git -C "$ROOT" check-ignore -q .env
fi

# =============================================================================================
# deploy/Dockerfile

DF=deploy/Dockerfile
# Stage N's lines (N from 1), without comments and with continuations joined.
stage()
{
    sed -e 's/[[:space:]]*#.*$//' "$DF" | awk -v want="$1" '
        /\\$/ { sub(/\\$/, ""); buf = buf $0 " "; next }
        { line = buf $0; buf = "" }
        toupper(line) ~ /^[[:space:]]*FROM[[:space:]]/ { n++ }
        n == want && line !~ /^[[:space:]]*$/ { print line }'
}
nstages=$(grep -ciE '^[[:space:]]*FROM[[:space:]]' "$DF")
final=$(stage "$nstages")
first=$(stage 1)
t_check "Dockerfile: multi-stage ($nstages stages), every stage on debian:12 (bookworm)" \
    eval '((nstages >= 2)) && ! grep -iE "^[[:space:]]*FROM[[:space:]]" "$DF" |
        grep -viqE "^[[:space:]]*FROM[[:space:]]+debian:(12|bookworm)([-.:@][^[:space:]]*)?([[:space:]]|$)"'
t_check "Dockerfile: the build stage runs make bins VARIANT=release" \
    eval 'grep -qE "make bins VARIANT=release" <<<"$first"'
all_stages=$(for ((i = 1; i <= nstages; i++)); do stage "$i"; done)
t_check "Dockerfile: no make all, make test, make run or deps.sh" \
    eval '! grep -qE "make +(all|test|run|deps|check)([[:space:];&|]|$)|(^|[;&|] *|RUN +)make *($|&&|;)|deps\.sh" <<<"$all_stages"'
t_check "Dockerfile: the final stage is debian:12-slim" \
    eval 'grep -qiE "^FROM[[:space:]]+debian:(12|bookworm)-slim" <<<"$final"'
t_check "Dockerfile: the final stage runs as user stock (non-root)" \
    eval '[[ "$(grep -iE "^[[:space:]]*USER[[:space:]]" <<<"$final" | tail -n 1 | awk "{print \$2}")" == stock ]] &&
          grep -qE "useradd.* stock" <<<"$final"'
t_check "Dockerfile: the final stage copies stock-fcgi and stockctl from the build stage" \
    eval 'grep -iE "^COPY[[:space:]]+--from=" <<<"$final" | grep -q "build/release/stock-fcgi" &&
          grep -iE "^COPY[[:space:]]+--from=" <<<"$final" | grep -q "build/release/stockctl"'
t_check "Dockerfile: the final stage has EXPOSE 9000, HEALTHCHECK and ENTRYPOINT" \
    eval 'grep -qiE "^EXPOSE .*9000" <<<"$final" && grep -qiE "^HEALTHCHECK" <<<"$final" &&
          grep -qiE "^ENTRYPOINT" <<<"$final"'
t_check "Dockerfile: no -dev package in the final stage" \
    eval '! grep -iE "^RUN" <<<"$final" | grep -qE "[a-z0-9]-dev([[:space:]]|$)"'
t_check "deploy/docker-entrypoint.sh exists, is executable and parses" \
    eval '[[ -x deploy/docker-entrypoint.sh ]] && sh -n deploy/docker-entrypoint.sh'

# The libraries the release binaries link (readelf NEEDED) come from packages the final stage
# installs (or libc6, part of the base image).
final_pkgs=" libc6 $(grep -iE '^RUN' <<<"$final" | grep -oE '[a-z0-9][a-z0-9.+-]+' | tr '\n' ' ') "
lib_missing=""
for so in $(readelf -d "$RELEASE/stock-fcgi" "$RELEASE/stockctl" 2>/dev/null |
    sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort -u); do
    found=""
    for p in $(dpkg -S "*/$so" 2>/dev/null | cut -d: -f1 | tr ',' ' ' | sort -u); do
        [[ "$final_pkgs" == *" $p "* ]] && found=$p
    done
    [[ -n "$found" ]] || lib_missing="$lib_missing $so"
done
t_check "Dockerfile: the final stage installs the package of every library the binaries link (missing:${lib_missing:- none})" \
    eval '[[ -z "$lib_missing" && -n "$(readelf -d "$RELEASE/stock-fcgi" 2>/dev/null)" ]]'
# The build stage installs the -dev package of every pkg-config module of the Makefile.
dev_missing=""
for m in $(sed -n 's/^PKGS[[:space:]]*:=//p' Makefile); do
    pc=$(pkg-config --variable=pcfiledir "$m" 2>/dev/null)/$m.pc
    p=$(dpkg -S "$pc" 2>/dev/null | cut -d: -f1 | head -n 1)
    grep -iE '^RUN' <<<"$first" | grep -qE "(^|[[:space:]])$p([[:space:]]|$)" || dev_missing="$dev_missing $m(${p:-?})"
done
t_check "Dockerfile: the build stage installs the -dev package of every library (missing:${dev_missing:- none})" \
    test -z "$dev_missing"
# Package names exist in Debian 12 (when apt's lists are there to ask).
if apt-cache show libpq5 >/dev/null 2>&1; then
    unknown=""
    for p in $(grep -hiE '^RUN' <<<"$first
$final
$(stage 2)" | grep -oE 'apt-get install [^&]*' | sed 's/apt-get install//' | tr ' ' '\n' |
        grep -E '^[a-z0-9][a-z0-9.+-]+$'); do
        apt-cache show "$p" >/dev/null 2>&1 || unknown="$unknown $p"
    done
    t_check "Dockerfile: every apt package exists in this Debian (unknown:${unknown:- none})" test -z "$unknown"
else
    t_skip "Dockerfile: every apt package exists in this Debian" "apt lists unavailable here"
fi
# A dry run of the build stage on exactly the files it copies: make finds every source.
ctx=$DIR/docker-build
mkdir -p "$ctx"
copy_ok=1
while read -r -a words; do
    n=${#words[@]}
    dest=${words[n - 1]}
    for ((i = 1; i < n - 1; i++)); do
        src=${words[i]}
        [[ "$src" == --* ]] && continue
        [[ -e "$src" ]] || { copy_ok=0; continue; }
        # Docker's semantics: a folder's contents go into dest; a file into dest/ or as dest.
        if [[ -d "$src" ]]; then
            mkdir -p "$ctx/$dest" && cp -a "${src%/}/." "$ctx/$dest/"
        elif [[ "$dest" == */ || "$dest" == . ]]; then
            mkdir -p "$ctx/$dest" && cp -a "$src" "$ctx/$dest/"
        else
            mkdir -p "$ctx/$(dirname "$dest")" && cp -a "$src" "$ctx/$dest"
        fi
    done
done < <(grep -iE '^COPY[[:space:]]' <<<"$first")
t_check "Dockerfile: every file the build stage copies exists" test "$copy_ok" -eq 1
t_check "Dockerfile: make -n bins VARIANT=release succeeds on the copied files alone" \
    eval 'make -C "$ctx" -n bins VARIANT=release >"$DIR/make-n.out" 2>&1 && grep -q stock-fcgi "$DIR/make-n.out"'
copied="" absent=""
for f in $(grep -iE '^COPY[[:space:]]' <<<"$(stage 2)
$final" | grep -v -- '--from' | awk '{for (i = 2; i < NF; i++) print $i}'); do
    copied+="$f "
    [[ -e "$f" ]] || absent+=" $f"
done
t_check "Dockerfile: every file copied into the images from the context exists (missing:${absent:- none})" \
    eval '[[ -n "$copied" && -z "$absent" ]]'

# =============================================================================================
# systemd

UNITS=(deploy/systemd/*.service deploy/systemd/*.timer)
t_check "deploy/systemd/stock-fcgi.service exists" test -f deploy/systemd/stock-fcgi.service
u=deploy/systemd/stock-fcgi.service
absent=""
for d in 'Type=simple' 'ExecStartPre=/usr/local/bin/stockctl migrate' \
    'ExecStart=/usr/local/bin/stock-fcgi' 'EnvironmentFile=/etc/stock/stock.env' 'User=stock' \
    'Restart=on-failure' 'RestartSec=[0-9]+' 'KillSignal=SIGTERM' 'TimeoutStopSec=[0-9]+' \
    'ExecReload=/bin/kill -HUP \$MAINPID' 'NoNewPrivileges=yes' 'ProtectSystem=strict' \
    'ProtectHome=yes' 'PrivateTmp=yes' 'PrivateDevices=yes' 'ProtectKernelTunables=yes' \
    'ProtectKernelModules=yes' 'ProtectControlGroups=yes' \
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'RestrictNamespaces=yes' \
    'LockPersonality=yes' 'MemoryDenyWriteExecute=yes' 'CapabilityBoundingSet=' \
    'SystemCallArchitectures=native' 'RuntimeDirectory=stock'; do
    grep -qE "^$d\$" "$u" || absent+=" $d"
done
t_check "stock-fcgi.service has each hardening and lifecycle directive (missing:${absent:- none})" \
    test -z "$absent"
t_check "stock-purge.service runs stockctl purge once, as stock, with the pool's configuration" \
    eval 'grep -qx "Type=oneshot" deploy/systemd/stock-purge.service &&
          grep -qx "ExecStart=/usr/local/bin/stockctl purge" deploy/systemd/stock-purge.service &&
          grep -qx "User=stock" deploy/systemd/stock-purge.service &&
          grep -qx "EnvironmentFile=/etc/stock/stock.env" deploy/systemd/stock-purge.service'
t_check "stock-purge.timer starts it daily, catching up a missed run" \
    eval 'grep -qx "OnCalendar=daily" deploy/systemd/stock-purge.timer &&
          grep -qx "Persistent=true" deploy/systemd/stock-purge.timer'
t_check "stockctl's help names the timer" eval '"$RELEASE/stockctl" --help | grep -q stock-purge.timer'
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$DIR/units"
    for f in "${UNITS[@]}"; do
        sed -e "s|/usr/local/bin/stock-fcgi|$RELEASE/stock-fcgi|g" \
            -e "s|/usr/local/bin/stockctl|$RELEASE/stockctl|g" "$f" >"$DIR/units/$(basename "$f")"
    done
    out=$(cd "$DIR/units" && timeout 60 systemd-analyze verify ./*.service ./*.timer 2>&1)
    rc=$?
    t_check "systemd-analyze verify deploy/systemd/*.service *.timer: no error, no warning" \
        eval '((rc == 0)) && [[ -z "$out" ]]'
    [[ -n "$out" ]] && printf '%s\n' "$out" | head -n 10 | sed 's/^/    /'
else
    t_skip "systemd-analyze verify deploy/systemd/*.service *.timer" "systemd-analyze unavailable here"
fi

# =============================================================================================
# nginx: the dev config as nginx_render writes it, the prod config inside Debian's nginx.conf

nginx_render nginx/stock.conf.in "$DIR/nginx-dev/nginx.conf" 127.0.0.1:1 127.0.0.1:9 \
    "$ROOT/nginx/static" "$DIR/nginx-dev" "$DIR/nginx-dev/logs"
mkdir -p "$DIR/nginx-dev/tmp" "$DIR/nginx-dev/logs"
t_check "nginx -t: nginx/stock.conf.in rendered by nginx_render" \
    nginx -q -t -p "$DIR/nginx-dev" -c "$DIR/nginx-dev/nginx.conf" -e "$DIR/nginx-dev/logs/nginx-error.log"

NP=$DIR/nginx-prod
mkdir -p "$NP/tmp" "$NP/logs" "$NP/tls" "$NP/static"
openssl req -x509 -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 2 \
    -subj /CN=localhost -keyout "$NP/tls/privkey.pem" -out "$NP/tls/fullchain.pem" \
    >"$NP/logs/openssl.out" 2>&1
t_check "a self-signed certificate for the test" test -s "$NP/tls/fullchain.pem"
cp -a nginx/static/. "$NP/static/"
printf '<svg xmlns="http://www.w3.org/2000/svg"/>\n' >"$NP/static/test-asset.svg"

# render_prod FCGI OUT: nginx/stock.prod.conf with its placeholders filled.
render_prod()
{
    sed -e "s|@FCGI@|$1|g" -e "s|@STATIC@|$NP/static|g" -e "s|@SERVER_NAME@|localhost|g" \
        -e "s|@SSL_CERT@|$NP/tls/fullchain.pem|g" -e "s|@SSL_KEY@|$NP/tls/privkey.pem|g" \
        nginx/stock.prod.conf >"$2"
}

# main_conf INCLUDE OUT: Debian's /etc/nginx/nginx.conf with its conf.d include pointing at
# INCLUDE and its files (pid, logs, temp) under NP; a minimal main config without it.
main_conf()
{
    local inc=$1 out=$2 temps
    temps="client_body_temp_path $NP/tmp/client_body; proxy_temp_path $NP/tmp/proxy;"
    temps+=" fastcgi_temp_path $NP/tmp/fastcgi; uwsgi_temp_path $NP/tmp/uwsgi;"
    temps+=" scgi_temp_path $NP/tmp/scgi;"
    if [[ -r /etc/nginx/nginx.conf ]] && grep -q 'include /etc/nginx/conf.d/\*.conf;' /etc/nginx/nginx.conf; then
        sed -e '/^[[:space:]]*user[[:space:]]/d' \
            -e "s|^[[:space:]]*pid[[:space:]].*|pid $NP/nginx.pid;|" \
            -e "s|^[[:space:]]*error_log[[:space:]].*|error_log $NP/logs/nginx-error.log;|" \
            -e "s|^[[:space:]]*access_log[[:space:]].*|access_log $NP/logs/nginx-access.log;|" \
            -e "s|include /etc/nginx/conf.d/\*.conf;|$temps include $inc;|" \
            -e '/include \/etc\/nginx\/sites-enabled/d' -e '/modules-enabled/d' \
            /etc/nginx/nginx.conf >"$out"
    else
        cat >"$out" <<EOF
pid $NP/nginx.pid;
error_log $NP/logs/nginx-error.log;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $NP/logs/nginx-access.log;
    $temps
    include $inc;
}
EOF
    fi
}

render_prod 127.0.0.1:9 "$NP/stock-check.conf"
main_conf "$NP/stock-check.conf" "$NP/nginx-check.conf"
t_check "nginx/stock.prod.conf: every placeholder is filled by the documented ones" \
    eval '! grep -q "@[A-Z_]*@" "$NP/stock-check.conf"'
t_check "nginx -t: nginx/stock.prod.conf (self-signed certificate) inside Debian's nginx.conf" \
    nginx -q -t -p "$NP" -c "$NP/nginx-check.conf" -e "$NP/logs/nginx-error.log"

# docker-entrypoint.sh nginx-render: the rendering of the images, usable without docker.
# ep_render ADDR TEMPLATE OUT: renders with STOCK_FCGI_ADDR=ADDR and this test's other values;
# stderr in OUT.err.
ep_render()
{
    env STOCK_FCGI_ADDR="$1" STOCK_STATIC_DIR="$NP/static" STOCK_SERVER_NAME=localhost \
        STOCK_TLS_CERT="$NP/tls/fullchain.pem" STOCK_TLS_KEY="$NP/tls/privkey.pem" \
        sh deploy/docker-entrypoint.sh nginx-render "$2" "$3" 2>"$3.err"
}
# upstream_lines FILE: the lines of FILE's upstream stock_pool block, trimmed.
upstream_lines()
{
    awk '/^[[:space:]]*upstream stock_pool/ { on = 1; next } on && /}/ { exit }
         on { sub(/^[[:space:]]+/, ""); print }' "$1"
}
ER=$DIR/nginx-render
mkdir -p "$ER"
ep_render 127.0.0.1:9 nginx/stock.prod.conf "$ER/one.conf"
rc=$?
t_check "nginx-render, one address: exit 0, the very file the sed of the placeholders gives" \
    eval '((rc == 0)) && cmp -s "$ER/one.conf" "$NP/stock-check.conf" && [[ ! -s "$ER/one.conf.err" ]]'
t_check "nginx-render, one address: the pool twice, max_fails=0 (got $(upstream_lines "$ER/one.conf" | tr '\n' '|'))" \
    test "$(upstream_lines "$ER/one.conf")" = "server 127.0.0.1:9 max_fails=0;
server 127.0.0.1:9 max_fails=0;"

THREE="127.0.0.1:9001, 127.0.0.2:9002 [::1]:9003"
ep_render "$THREE" nginx/stock.prod.conf "$ER/three.conf"
rc=$?
t_check "nginx-render, three addresses (commas and spaces): one line each, max_fails=1 fail_timeout=5s" \
    eval '((rc == 0)) && [[ "$(upstream_lines "$ER/three.conf")" == "server 127.0.0.1:9001 max_fails=1 fail_timeout=5s;
server 127.0.0.2:9002 max_fails=1 fail_timeout=5s;
server [::1]:9003 max_fails=1 fail_timeout=5s;" ]]'
t_check "nginx-render, three addresses: the rest of the file is as with one" \
    eval 'diff <(grep -v "^[[:space:]]*server .*max_fails" "$ER/one.conf" | grep -v "^#") \
               <(grep -v "^[[:space:]]*server .*max_fails" "$ER/three.conf" | grep -v "^#") >/dev/null'
main_conf "$ER/three.conf" "$ER/nginx-three.conf"
t_check "nginx -t: nginx/stock.prod.conf rendered for three hosts" \
    nginx -q -t -p "$NP" -c "$ER/nginx-three.conf" -e "$NP/logs/nginx-error.log"
ep_render "unix:/run/stock/a.sock,unix:/run/stock/b.sock" nginx/stock.prod.conf "$ER/unix.conf"
main_conf "$ER/unix.conf" "$ER/nginx-unix.conf"
t_check "nginx-render: unix:/path hosts, and nginx -t takes them" \
    eval '[[ "$(upstream_lines "$ER/unix.conf" | grep -c "^server unix:/run/stock/[ab].sock max_fails=1 fail_timeout=5s;$")" == 2 ]] &&
          nginx -q -t -p "$NP" -c "$ER/nginx-unix.conf" -e "$NP/logs/nginx-error.log"'
ep_render "127.0.0.1:9001 127.0.0.1:9002" nginx/stock.conf.in "$ER/dev.conf"
t_check "nginx-render: the dev template gets one line per host too in each upstream (stock_pool, stock_pool_kept), with its indentation" \
    eval '[[ "$(grep -c "^        server 127.0.0.1:900[12] max_fails=1 fail_timeout=5s;$" "$ER/dev.conf")" == 6 &&
             "$(grep -c "^[[:space:]]*server .*max_fails" "$ER/dev.conf")" == 6 ]]'

# A bad STOCK_FCGI_ADDR: exit 1, one line on stderr naming it, and nothing written (an OUT that
# exists stays as it was, no temporary file is left).
for bad in '127.0.0.1:9000;deny' '127.0.0.1:9000}' 'app' '::1:9000' 'app:0' 'app:65536' \
    '/run/stock/stock-fcgi.sock' 'a:1 a:1' ',' "app:9000\$(id)"; do
    printf 'before\n' >"$ER/bad.conf"
    ep_render "$bad" nginx/stock.prod.conf "$ER/bad.conf"
    rc=$?
    t_check "nginx-render refuses STOCK_FCGI_ADDR='$bad': exit 1, one line naming it ($(head -c 120 "$ER/bad.conf.err")), nothing written" \
        eval '((rc == 1)) && [[ "$(wc -l <"$ER/bad.conf.err")" == 1 ]] &&
              grep -q "STOCK_FCGI_ADDR" "$ER/bad.conf.err" && [[ "$(cat "$ER/bad.conf")" == before ]] &&
              [[ -z "$(ls "$ER" | grep -F bad.conf. | grep -v "^bad.conf.err$")" ]]'
done
rm -f "$ER/absent.conf"
ep_render 'app:9000 bad;' nginx/stock.prod.conf "$ER/absent.conf"
rc=$?
t_check "nginx-render with a bad address creates no file" eval '((rc == 1)) && [[ ! -e "$ER/absent.conf" ]]'
sh deploy/docker-entrypoint.sh nginx-render nginx/stock.prod.conf >/dev/null 2>&1
rc=$?
t_check "nginx-render without OUT is a usage error (exit 2, got $rc)" test "$rc" = 2

P=nginx/stock.prod.conf
# block REGEX: the lines of the location block whose opening line matches REGEX.
block()
{
    awk -v re="$1" '$0 ~ re && /location/ { on = 1 } on { print } on && /^[[:space:]]*}/ { exit }' "$P"
}
t_check "prod nginx: listen 443 ssl with ssl_certificate/ssl_certificate_key placeholders" \
    eval 'grep -qE "listen 443 ssl" "$P" && grep -qE "ssl_certificate @SSL_CERT@;" "$P" &&
          grep -qE "ssl_certificate_key @SSL_KEY@;" "$P"'
t_check "prod nginx: port 80 redirects to https" \
    eval 'grep -qE "listen 80" "$P" && grep -qE "return 301 https://" "$P"'
t_check "prod nginx: FastCGI to the pool through an upstream" \
    eval 'grep -qE "^upstream stock_pool" "$P" && grep -qE "fastcgi_pass stock_pool;" "$P" &&
          ! grep -v "^[[:space:]]*#" "$P" | grep -E "fastcgi_pass" | grep -qv stock_pool'
t_check "prod nginx: client_max_body_size 1m" grep -qE "client_max_body_size 1m;" "$P"
b=$(block "location = /api/v1/auth/login ")
t_check "prod nginx: the login location limits its body to 4k, with the JSON 413 of @login_too_large" \
    eval 'grep -qE "^[[:space:]]*client_max_body_size 4k;" <<<"$b" &&
          grep -qE "^[[:space:]]*error_page 413 @login_too_large;" <<<"$b" &&
          block "location @login_too_large " | grep -q "return 413 .*payload_too_large.*over 4 KiB"'
t_check "prod nginx: the login location keeps the server's other error pages and its rate limit" \
    eval 'grep -q "error_page 429 @rate_limited;" <<<"$b" && grep -q "error_page 502 @unavailable;" <<<"$b" &&
          grep -q "error_page 504 @timeout;" <<<"$b" && grep -q "limit_req zone=stock_login" <<<"$b"'
t_check "prod nginx: real_ip is documented but off (set_real_ip_from, real_ip_header only in comments)" \
    eval 'grep -qE "^#[[:space:]]*set_real_ip_from " "$P" && grep -qE "^#[[:space:]]*real_ip_header X-Forwarded-For;" "$P" &&
          grep -qE "^#[[:space:]]*real_ip_recursive on;" "$P" &&
          ! grep -qE "^[[:space:]]*(set_real_ip_from|real_ip_header|real_ip_recursive)[[:space:]]" "$P"'
for loc in '= /metrics' '\^~ /health/'; do
    b=$(block "location $loc ")
    t_check "prod nginx: location ${loc//\\/} allows loopback only, its lines tagged for STOCK_OPS_ALLOW (deny all)" \
        eval '[[ "$(grep -E "^[[:space:]]*(allow|deny)" <<<"$b" | tr -s " " | sed "s/^ //" | tr "\n" "|")" == \
              "allow 127.0.0.1; # STOCK_OPS_ALLOW|allow ::1; # STOCK_OPS_ALLOW|deny all;|" ]]'
done
t_check "prod nginx: /nginx-health and /health public" \
    eval '! block "location = /nginx-health" | grep -q deny && ! block "location = /health " | grep -q deny &&
          [[ -n "$(block "location = /health ")" ]]'

# The prod config live: deploy/spawn-fcgi.sh starts the pool (settings: .env.example, with the
# harness's DATABASE_URL/REDIS_URL from the environment winning), nginx fronts it on two ports.
pick_port SP_PORT && pick_port HTTP_PORT && pick_port HTTPS_PORT && pick_port EP_PORT || exit 1
SP_ADDR=127.0.0.1:$SP_PORT
sp_log=$DIR/stock-fcgi-spawn.log
env STOCK_ENV_FILE="$ROOT/.env.example" STOCK_FCGI_BIN="$RELEASE/stock-fcgi" \
    STOCK_SPAWN_ADDR=127.0.0.1 STOCK_SPAWN_PORT="$SP_PORT" STOCK_WORKERS=2 LOG_LEVEL=info \
    setsid sh deploy/spawn-fcgi.sh </dev/null >>"$sp_log" 2>&1 &
SP_PID=$!
echo "$SP_PID" >"$DIR/spawn-fcgi.pid"
STARTED_POOLS+=("$SP_PID")
if wait_for 20 pool_ready "$SP_PID" "$SP_ADDR"; then
    t_ok "deploy/spawn-fcgi.sh: the pool answers GET /health over FastCGI (settings from .env.example)"
    out=$(fcgi_get "$SP_ADDR" /health)
    t_check "spawn-fcgi: /health is 200 JSON status ok" eval \
        'grep -q "^Status: 200" <<<"$out" && grep -qi "^Content-Type: application/json" <<<"$out" &&
         grep -q "\"status\":[[:space:]]*\"ok\"" <<<"$out"'
    t_check "spawn-fcgi: the PID of the script is the pool master (no fork), serving the inherited socket" \
        eval '[[ "$(ps -o comm= -p "$SP_PID")" == stock-fcgi* ]] && grep -q "inherited listening socket" "$sp_log"'
    workers=$(pid_children "$SP_PID" | sort -n | tr '\n' ' ')
    t_check "spawn-fcgi: the pool runs its 2 workers" test "$(wc -w <<<"$workers")" -eq 2
    victim=$(awk '{print $1}' <<<"$workers")
    kill -KILL "$victim" 2>/dev/null
    respawned()
    {
        local now
        now=$(pid_children "$SP_PID" | sort -n | tr '\n' ' ')
        [[ "$(wc -w <<<"$now")" -eq 2 && " $now " != *" $victim "* ]]
    }
    t_check "spawn-fcgi: a killed worker is respawned by the pool (spawn-fcgi never would)" \
        wait_for 10 respawned

    # The docker healthcheck against this live pool.
    t_check "docker-entrypoint.sh healthcheck: 0 against a live pool" \
        env STOCK_LISTEN="$SP_ADDR" sh deploy/docker-entrypoint.sh healthcheck
    t_check "docker-entrypoint.sh healthcheck: a 0.0.0.0 listen address is checked on loopback" \
        env STOCK_LISTEN="0.0.0.0:$SP_PORT" sh deploy/docker-entrypoint.sh healthcheck
    t_check "docker-entrypoint.sh healthcheck: non-zero when nothing listens" \
        eval '! env STOCK_LISTEN=127.0.0.1:9 sh deploy/docker-entrypoint.sh healthcheck'

    # nginx with the prod config in front of it.
    render_prod "$SP_ADDR" "$NP/stock.conf"
    sed -i -e "s|listen 80 default_server;|listen 127.0.0.1:$HTTP_PORT default_server;|" \
        -e "s|listen 443 ssl default_server;|listen 127.0.0.1:$HTTPS_PORT ssl default_server;|" \
        "$NP/stock.conf"
    main_conf "$NP/stock.conf" "$NP/nginx.conf"
    if grep -q "127.0.0.1:$HTTPS_PORT ssl" "$NP/stock.conf" &&
        nginx_start "$NP" "$NP/nginx.conf" "127.0.0.1:$HTTP_PORT" "$NP/logs"; then
        STARTED_NGINX+=("$NP")
        H=http://127.0.0.1:$HTTP_PORT
        S=https://127.0.0.1:$HTTPS_PORT
        req GET "$H/nginx-health"
        t_check "prod nginx :80 /nginx-health is 200 ok" eval '[[ "$R_STATUS" == 200 && "$R_BODY" == ok ]]'
        req GET "$H/api/v1/products?x=1"
        t_check "prod nginx :80 redirects to https (301, same path)" eval \
            '[[ "$R_STATUS" == 301 && "$(header Location)" == https://127.0.0.1/api/v1/products\?x=1 ]]'
        req GET "$S/health" -k
        t_check "prod nginx :443 GET /health is 200 from the spawn-fcgi pool" eval \
            '[[ "$R_STATUS" == 200 ]] && json_has status ok'
        t_check "prod nginx: HSTS" eval '[[ "$(header Strict-Transport-Security)" == max-age=* ]]'
        t_check "prod nginx: X-Content-Type-Options nosniff" test "$(header X-Content-Type-Options)" = nosniff
        t_check "prod nginx: X-Frame-Options DENY" test "$(header X-Frame-Options)" = DENY
        t_check "prod nginx: Referrer-Policy" test -n "$(header Referrer-Policy)"
        csp=$(header Content-Security-Policy)
        t_check "prod nginx: CSP script-src 'self' without unsafe-inline" eval \
            '[[ "$csp" == *"script-src '"'self'"'"* && "$csp" != *unsafe-inline* ]]'
        t_check "prod nginx: X-Request-Id" test -n "$(header X-Request-Id)"
        req GET "$S/health/db" -k
        t_check "prod nginx: /health/db from loopback is 200" test "$R_STATUS" = 200
        req GET "$S/metrics" -k
        t_check "prod nginx: /metrics from loopback is 200" test "$R_STATUS" = 200
        req GET "$S/nginx-health" -k
        t_check "prod nginx :443 /nginx-health is 200" test "$R_STATUS" = 200
        req GET "$S/" -k
        t_check "prod nginx: the UI is served, revalidated (Cache-Control no-cache) with the security headers" \
            eval '[[ "$R_STATUS" == 200 && "$(header Content-Type)" == text/html* &&
                     "$(header Cache-Control)" == no-cache && -n "$(header Strict-Transport-Security)" ]]'
        req GET "$S/test-asset.svg" -k
        t_check "prod nginx: images are cached (Cache-Control max-age, Expires) with the security headers" \
            eval '[[ "$R_STATUS" == 200 && "$(header Cache-Control)" == max-age=* &&
                     -n "$(header Expires)" && "$(header X-Content-Type-Options)" == nosniff ]]'
        req GET "$S/api/v1/openapi.json" -k
        t_check "prod nginx: the OpenAPI document is served without a session (200 JSON, max-age, HSTS)" \
            eval '[[ "$R_STATUS" == 200 && "$(header Content-Type)" == application/json* &&
                     "$(header Cache-Control)" == max-age=* && -n "$(header Strict-Transport-Security)" ]] &&
                  jq -e ".openapi == \"3.1.0\"" <<<"$R_BODY" >/dev/null'
        req GET "$S/js/main.js" -k
        t_check "prod nginx: the UI's entry module is JavaScript, revalidated on every load (no-cache, ETag)" \
            eval '[[ "$R_STATUS" == 200 && "$(header Content-Type)" == application/javascript* &&
                     "$(header Cache-Control)" == no-cache && -n "$(header ETag)" &&
                     -n "$(header Content-Security-Policy)" ]]'
        etag=$(header ETag)
        req GET "$S/js/main.js" -k -H "If-None-Match: $etag"
        t_check "prod nginx: an unchanged module revalidates as 304" test "$R_STATUS" = 304
        big=$DIR/big.json
        head -c $((1024 * 1024 + 100)) /dev/zero | tr '\0' 'a' >"$big"
        req POST "$S/api/v1/products" -k -H 'Content-Type: application/json' --data-binary "@$big"
        rm -f "$big"
        t_check "prod nginx: a body over 1 MiB is 413 JSON" eval \
            '[[ "$R_STATUS" == 413 ]] && json_has code payload_too_large'
        head -c 5120 /dev/zero | tr '\0' ' ' >"$big"
        req POST "$S/api/v1/auth/login" -k -H 'Content-Type: application/json' --data-binary "@$big"
        rm -f "$big"
        t_check "prod nginx: a 5 KiB login body is nginx's own 413 JSON (over 4 KiB), with HSTS" eval \
            '[[ "$R_STATUS" == 413 && "$R_BODY" == *"over 4 KiB"* && -n "$(header Strict-Transport-Security)" ]] &&
             json_has code payload_too_large'
        req GET "$S/api/v1/nope.js" -k
        t_check "prod nginx: an API path ending in .js still goes to the pool (404 JSON)" eval \
            '[[ "$R_STATUS" == 404 ]] && grep -q "\"error\"" <<<"$R_BODY"'
        nginx_stop "$NP"

        # Two hosts as nginx-render lists them: one dead (nothing listens on its port), then
        # the live pool. Every request is answered by the live one: the dead host is tried
        # (each nginx worker's first pick), fails, is passed over and then skipped.
        pick_port DEAD_PORT || DEAD_PORT=9
        ep_render "127.0.0.1:$DEAD_PORT $SP_ADDR" nginx/stock.prod.conf "$NP/stock.conf"
        sed -i -e "s|listen 80 default_server;|listen 127.0.0.1:$HTTP_PORT default_server;|" \
            -e "s|listen 443 ssl default_server;|listen 127.0.0.1:$HTTPS_PORT ssl default_server;|" \
            "$NP/stock.conf"
        : >"$NP/logs/nginx-error.log"
        if grep -q "server 127.0.0.1:$DEAD_PORT max_fails=1 fail_timeout=5s;" "$NP/stock.conf" &&
            nginx_start "$NP" "$NP/nginx.conf" "127.0.0.1:$HTTP_PORT" "$NP/logs"; then
            n_get=0 n_post=0
            for _ in 1 2 3 4 5 6 7 8; do
                req GET "$S/health" -k
                [[ "$R_STATUS" == 200 ]] && n_get=$((n_get + 1))
                # A write that could not connect was never sent: passed on (401: no session).
                req POST "$S/api/v1/categories" -k -H 'Content-Type: application/json' \
                    --data-binary '{"name":"never"}'
                [[ "$R_STATUS" == 401 ]] && n_post=$((n_post + 1))
            done
            t_check "prod nginx, a dead host and a live one: GET /health 200 every time ($n_get of 8)" \
                test "$n_get" = 8
            t_check "prod nginx, a dead host and a live one: a POST that could not connect is passed on ($n_post of 8 reach the pool)" \
                test "$n_post" = 8
            t_check "prod nginx, a dead host and a live one: nginx did try the dead host (its error log)" \
                grep -q "127.0.0.1:$DEAD_PORT" "$NP/logs/nginx-error.log"
            nginx_stop "$NP"
        else
            t_not_ok "prod nginx starts with two hosts in its upstream" "see $NP/logs/nginx-error.log"
        fi
    else
        t_not_ok "prod nginx starts in front of the spawn-fcgi pool" "see $NP/logs/nginx-error.log"
        tail -n 5 "$NP/logs/nginx-error.log" 2>/dev/null | sed 's/^/    /'
    fi
else
    t_not_ok "deploy/spawn-fcgi.sh: the pool answers GET /health" "see $sp_log"
    tail -n 10 "$sp_log" | sed 's/^/    /'
fi
kill -TERM "$SP_PID" 2>/dev/null
wait_for 30 pid_dead "$SP_PID"
wait "$SP_PID" 2>/dev/null
rc=$?
t_check "spawn-fcgi: the pool stops on SIGTERM to its PID, exit status 0 (got $rc)" \
    eval 'pid_dead "$SP_PID" && ((rc == 0)) && port_closed 127.0.0.1 "$SP_PORT"'

# =============================================================================================
# No write is sent twice: through the harness's nginx (nginx/stock.conf.in) and through the prod
# config in front of the harness's ASan pool, whose fault hook "X-Stock-Fault: crash-once-TOKEN"
# makes the first worker that sees TOKEN die before handling the request, as a worker dying
# mid-request does. nginx passes a GET on to another worker (200), but neither a PUT nor a
# DELETE, which it would otherwise send again (it takes them for idempotent).

WS_SLUG=deploy-once-$$-$RANDOM
WS_PW=once-pass-$$-$RANDOM
secret_note "$WS_PW"
WS_TOKEN=""
if "$RELEASE/stockctl" tenant create "$WS_SLUG" "Once" >/dev/null 2>"$DIR/once.err" &&
    printf '%s\n' "$WS_PW" | "$RELEASE/stockctl" user create --tenant "$WS_SLUG" \
        --email "a@$WS_SLUG.test" --role admin >/dev/null 2>>"$DIR/once.err"; then
    req POST "${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}/api/v1/auth/login" \
        -H 'Content-Type: application/json' --data-binary \
        "{\"tenant\":\"$WS_SLUG\",\"email\":\"a@$WS_SLUG.test\",\"password\":\"$WS_PW\"}"
    WS_TOKEN=$(jq -r '.token // empty' <<<"$R_BODY" 2>/dev/null)
fi
# ws API METHOD PATH [curl args]: a call with the session through API (a base URL + /api/v1).
ws()
{
    local api=$1 m=$2 p=$3
    shift 3
    req "$m" "$api$p" -k -H "Authorization: Bearer $WS_TOKEN" "$@"
}
# writes_once NAME API: the checks through one front.
writes_once()
{
    local name=$1 api=$2 id cat
    cat="once-$$-$RANDOM"
    ws "$api" POST /categories -H 'Content-Type: application/json' --data-binary "{\"name\":\"$cat\"}"
    id=$(jq -r '.id // empty' <<<"$R_BODY" 2>/dev/null)
    if [[ ! "$id" =~ ^[0-9]+$ ]]; then
        t_not_ok "$name: a category to write to" "got $R_STATUS"
        return
    fi
    ws "$api" DELETE "/categories/$id" -H "X-Stock-Fault: crash-once-del-$$-$RANDOM"
    t_check "$name: a DELETE whose worker dies is not sent again: 502 JSON (got $R_STATUS)" \
        eval '[[ "$R_STATUS" == 502 ]] && json_has code unavailable'
    ws "$api" PUT "/categories/$id" -H "X-Stock-Fault: crash-once-put-$$-$RANDOM" \
        -H 'Content-Type: application/json' --data-binary '{"name":"put-once"}'
    t_check "$name: a PUT whose worker dies is not sent again: 502 JSON (got $R_STATUS)" \
        eval '[[ "$R_STATUS" == 502 ]] && json_has code unavailable'
    ws "$api" GET "/categories/$id" -H "X-Stock-Fault: crash-once-get-$$-$RANDOM"
    t_check "$name: a GET whose worker dies is passed on: 200, the category as it was (got $R_STATUS)" \
        eval '[[ "$R_STATUS" == 200 ]] && json_has name "$cat"'
    ws "$api" PUT "/categories/$id" -H 'Content-Type: application/json' \
        --data-binary '{"name":"put-once","description":"d"}'
    t_check "$name: a PUT is served, with its body (got $R_STATUS)" \
        eval '[[ "$R_STATUS" == 200 ]] && json_has name put-once && json_has description d'
    head -c $((1024 * 1024 + 100)) /dev/zero | tr '\0' 'a' >"$DIR/once-big.json"
    ws "$api" PUT "/categories/$id" -H 'Content-Type: application/json' \
        --data-binary "@$DIR/once-big.json"
    t_check "$name: a PUT over 1 MiB is 413 JSON (got $R_STATUS)" \
        eval '[[ "$R_STATUS" == 413 ]] && json_has code payload_too_large'
    ws "$api" PUT "/categories/$id" -H 'Content-Type: application/json' \
        -H 'Transfer-Encoding: chunked' --data-binary "@$DIR/once-big.json"
    rm -f "$DIR/once-big.json"
    t_check "$name: a chunked PUT over 1 MiB is 413 JSON (got $R_STATUS)" \
        eval '[[ "$R_STATUS" == 413 ]] && json_has code payload_too_large'
    ws "$api" DELETE "/categories/$id"
    t_check "$name: a DELETE is served (204, got $R_STATUS), with the security headers" \
        eval '[[ "$R_STATUS" == 204 && "$(header X-Content-Type-Options)" == nosniff &&
                 -n "$(header X-Request-Id)" ]]'
    ws "$api" GET "/categories/$id"
    t_check "$name: ... and the category is gone (404, got $R_STATUS)" test "$R_STATUS" = 404
}
if [[ -n "$WS_TOKEN" ]]; then
    writes_once "dev nginx" "$STOCK_TEST_BASE_URL/api/v1"
    pick_port WS_HTTP && pick_port WS_HTTPS || exit 1
    ep_render "${STOCK_TEST_FCGI_ADDR:?run through tests/run_all.sh}" nginx/stock.prod.conf \
        "$NP/stock.conf"
    sed -i -e "s|listen 80 default_server;|listen 127.0.0.1:$WS_HTTP default_server;|" \
        -e "s|listen 443 ssl default_server;|listen 127.0.0.1:$WS_HTTPS ssl default_server;|" \
        "$NP/stock.conf"
    main_conf "$NP/stock.conf" "$NP/nginx.conf"
    if nginx_start "$NP" "$NP/nginx.conf" "127.0.0.1:$WS_HTTP" "$NP/logs"; then
        STARTED_NGINX+=("$NP")
        writes_once "prod nginx" "https://127.0.0.1:$WS_HTTPS/api/v1"
        nginx_stop "$NP"
    else
        t_not_ok "prod nginx starts in front of the harness's pool" "see $NP/logs/nginx-error.log"
    fi
    ws "$STOCK_TEST_BASE_URL/api/v1" POST /auth/logout
else
    t_not_ok "a tenant and a session for the write-once checks" "$(tr '\n' ' ' <"$DIR/once.err")"
fi

# =============================================================================================
# deploy/docker-entrypoint.sh on the host: migrations, then exec of the pool (same PID).

ep_log=$DIR/stock-fcgi-entrypoint.log
env PATH="$RELEASE:$PATH" STOCK_ENV_FILE=/dev/null STOCK_LISTEN="127.0.0.1:$EP_PORT" STOCK_WORKERS=1 \
    setsid sh deploy/docker-entrypoint.sh </dev/null >>"$ep_log" 2>&1 &
EP_PID=$!
echo "$EP_PID" >"$DIR/entrypoint-fcgi.pid"
STARTED_POOLS+=("$EP_PID")
t_check "docker-entrypoint.sh: migrates, then execs the pool, which answers /health" \
    wait_for 20 pool_ready "$EP_PID" "127.0.0.1:$EP_PORT"
t_check "docker-entrypoint.sh: the pool has the entrypoint's PID (exec)" \
    eval '[[ "$(ps -o comm= -p "$EP_PID")" == stock-fcgi* ]]'
pool_stop "$EP_PID" 20

pick_port BAD_PORT || exit 1
env PATH="$RELEASE:$PATH" STOCK_ENV_FILE=/dev/null STOCK_LISTEN="127.0.0.1:$BAD_PORT" \
    DATABASE_URL="postgresql://stock@127.0.0.1:9/stock?connect_timeout=2" STOCK_MIGRATE_TRIES=1 \
    timeout 30 sh deploy/docker-entrypoint.sh >"$DIR/entrypoint-bad.out" 2>&1 </dev/null
rc=$?
t_check "docker-entrypoint.sh: a failed migration stops the start (exit $rc, no pool)" \
    eval '((rc != 0 && rc != 124)) && port_closed 127.0.0.1 "$BAD_PORT"'

# =============================================================================================
# Shell scripts

if command -v shellcheck >/dev/null; then
    t_check "shellcheck: deploy/spawn-fcgi.sh deploy/docker-entrypoint.sh" \
        shellcheck -s sh deploy/spawn-fcgi.sh deploy/docker-entrypoint.sh
fi
t_check "deploy/spawn-fcgi.sh is executable and parses" eval '[[ -x deploy/spawn-fcgi.sh ]] && sh -n deploy/spawn-fcgi.sh'

t_result http-deploy
