#!/usr/bin/env bash
# test_monitoring.sh: the monitoring profile (README "Dashboards and alerts") against the real
# /metrics of the test stack:
# - promtool: deploy/prometheus/prometheus.yml and alerts.yml check; the unit tests
#   deploy/prometheus/alerts_test.yml pass, cover every alert both firing and silent, and fail
#   on a copy of alerts.yml whose alerts never fire (so they can fail). Without promtool these
#   are skipped, never passed.
# - Names: every metric and label that alerts.yml and the dashboard's expressions (and its
#   variables) use is in a real scrape of $STOCK_TEST_BASE_URL/metrics (after a few requests;
#   histogram families as _bucket/_sum/_count), but `up` and `ALERTS`, Prometheus's own series.
#   Every dashboard expression also parses (promtool check rules, as recording rules).
# - A real Prometheus (the prometheus package) with a copy of prometheus.yml aimed at the test
#   stack's nginx (scraping every second) and alerts.yml: the target is up, every rule loads
#   and evaluates, and every dashboard expression returns series (but ALERTS: none fires).
# - deploy/grafana: the dashboard is valid JSON (python3 -m json.tool), schemaVersion 39, every
#   panel has a datasource and at least one target with an expression; the datasource variable
#   defaults to the provisioned data source's uid; provisioning paths match the compose mounts.
# - Compose: docker-compose.yml and docker-compose.prod.yml are valid with --profile monitoring
#   (docker-compose config; no Docker needed); prometheus and grafana are in that profile only,
#   mount the deploy/ files, publish on 127.0.0.1 only; Prometheus is on the monitoring network
#   only, at a fixed address inside its subnet, which is the one non-loopback entry of nginx's
#   STOCK_OPS_ALLOW; prod Grafana refuses to start without GRAFANA_ADMIN_PASSWORD.
# - nginx, live: the dev template and the prod config, rendered by docker-entrypoint.sh
#   nginx-render with the compose file's STOCK_OPS_ALLOW (Prometheus's address standing as
#   127.0.0.2), in front of the test pool: /metrics 200 from 127.0.0.1 and 127.0.0.2 (on prod's
#   port 80 and 443), 403 from 127.0.0.3.
# Environment from tests/run_all.sh: STOCK_TEST_BASE_URL, STOCK_TEST_FCGI_ADDR, STOCK_TEST_DIR.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"
cd "$ROOT" || exit 1

SUITE=monitoring
BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
FCGI_ADDR=${STOCK_TEST_FCGI_ADDR:?run through tests/run_all.sh}
DIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}/monitoring-test
rm -rf "$DIR"
mkdir -p "$DIR"
PY=/usr/bin/python3
[[ -x "$PY" ]] || PY=python3
PROM=deploy/prometheus
DASH=deploy/grafana/dashboards/stock.json
NGX_DEV=$DIR/nginx-dev
NGX_PROD=$DIR/nginx-prod

PROM_PID=""

cleanup()
{
    [[ -n "$PROM_PID" ]] && stop_pid "$PROM_PID" 10 TERM
    nginx_stop "$NGX_DEV" 2>/dev/null
    nginx_stop "$NGX_PROD" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 143' TERM INT

for tool in jq curl nginx openssl docker-compose; do
    command -v "$tool" >/dev/null 2>&1 || {
        t_not_ok "$tool is installed (deploy/deps.sh installs it)"
        t_result "$SUITE"
        exit 1
    }
done
if ! "$PY" -c 'import yaml' 2>/dev/null; then
    t_not_ok "$PY has the yaml module (python3-yaml, a dependency of docker-compose)"
    t_result "$SUITE"
    exit 1
fi

# The helper of the name and dashboard checks (python3: PyYAML and json).
HELPER=$DIR/mon.py
cat >"$HELPER" <<'EOF'
import json, re, sys, yaml

# PromQL words that are not metric names.
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "offset", "inf", "nan", "le"}

def strip(expr):
    """expr without its string literals, label matchers, ranges, grouping label lists and
    Grafana variables."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", "X", e)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    return e

def metrics(expr):
    """The metric names of a PromQL expression: identifiers not called as functions, not
    keywords, not numbers."""
    e = strip(expr)
    out = set()
    for m in re.finditer(r"(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", e):
        name, call = m.group(1), m.group(2)
        if call or name.lower() in KEYWORDS or name == "X" or re.fullmatch(r"[0-9eE]+", name):
            continue
        out.add(name)
    return out

def labels(expr):
    """Label names of matchers and grouping lists."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    out = set()
    for m in re.finditer(r"\{([^}]*)\}", e):
        for part in m.group(1).split(","):
            part = part.strip()
            if part:
                out.add(re.split(r"\s*(=~|!~|!=|=)", part)[0].strip())
    for m in re.finditer(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", e):
        out.update(x.strip() for x in m.group(1).split(",") if x.strip())
    return out

def dashboard_exprs(d):
    """(where, expr) of every target and query variable."""
    res = []
    for p in d.get("panels", []):
        for t in p.get("targets", []) or []:
            res.append((p.get("title", "?"), t.get("expr", "")))
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v.get("query")
            q = q.get("query", "") if isinstance(q, dict) else q
            m = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", q or "")
            res.append(("variable " + v["name"], "count by (%s) (%s)" % (m.group(2), m.group(1)) if m else q))
    return res

def alert_exprs(path):
    doc = yaml.safe_load(open(path))
    return [(r["alert"], r["expr"]) for g in doc["groups"] for r in g["rules"] if "alert" in r]

def scrape(path):
    """metric names and label names of a Prometheus text exposition."""
    names, labs = set(), set()
    for line in open(path):
        if not line.strip() or line.startswith("#"):
            continue
        m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(\{([^}]*)\})?\s", line)
        if m:
            names.add(m.group(1))
            for l in re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="', m.group(3) or ""):
                labs.add(l)
    return names, labs

cmd = sys.argv[1]
if cmd == "names":
    # names SCRAPE ALERTS DASHBOARD: one line per missing name; stats on stderr.
    names, labs = scrape(sys.argv[2])
    own = {"up", "ALERTS"}
    own_labels = {"job", "instance", "alertname", "alertstate", "severity", "le"}
    used = alert_exprs(sys.argv[3]) + dashboard_exprs(json.load(open(sys.argv[4])))
    seen_m, seen_l, bad = set(), set(), []
    for where, e in used:
        for n in metrics(e):
            seen_m.add(n)
            if n not in names and n not in own:
                bad.append("metric %s (%s)" % (n, where))
        for l in labels(e):
            seen_l.add(l)
            if l not in labs and l not in own_labels:
                bad.append("label %s (%s)" % (l, where))
    print("%d expressions, %d metric names, %d label names used; %d names in the scrape"
          % (len(used), len(seen_m), len(seen_l), len(names)), file=sys.stderr)
    for b in sorted(set(bad)):
        print(b)
elif cmd == "count":
    # count ALERTS DASHBOARD: distinct metric names used by each.
    a = set().union(*(metrics(e) for _, e in alert_exprs(sys.argv[2])))
    d = set().union(*(metrics(e) for _, e in dashboard_exprs(json.load(open(sys.argv[3])))))
    print(len(a), len(d))
elif cmd == "selftest":
    # The extractor itself, on known expressions.
    e = 'histogram_quantile(0.95, sum by (route, le) (rate(stock_x_bucket{route=~"$route"}[$__rate_interval]))) / clamp_min(sum(rate(b_total[5m]) + c), 1e-9) > 0.5 and on (module) d == bool 1'
    ok = metrics(e) == {"stock_x_bucket", "b_total", "c", "d"} and labels(e) == {"route", "le", "module"}
    sys.exit(0 if ok else 1)
elif cmd == "rules":
    # rules DASHBOARD OUT: every dashboard expression as a recording rule (Grafana's variables
    # replaced), for promtool check rules.
    d = json.load(open(sys.argv[2]))
    rules = []
    for i, (where, e) in enumerate(dashboard_exprs(d)):
        e = e.replace("$__rate_interval", "5m").replace("$__range", "1h").replace("$__interval", "1m")
        e = re.sub(r"\$\{?[A-Za-z_]+\}?", ".*", e)
        rules.append({"record": "dashboard:expr_%d" % i, "expr": e})
    yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(sys.argv[3], "w"))
    print(len(rules))
elif cmd == "panels":
    # panels DASHBOARD: one line per panel lacking a datasource or a target with an expression.
    d = json.load(open(sys.argv[2]))
    n = 0
    for p in d["panels"]:
        if p.get("type") == "row":
            for sub in p.get("panels", []):
                d["panels"].append(sub)
            continue
        n += 1
        ds = p.get("datasource") or {}
        if not ds.get("uid"):
            print("no datasource: %s" % p.get("title"))
        ts = p.get("targets") or []
        if not ts:
            print("no target: %s" % p.get("title"))
        for t in ts:
            if not (t.get("expr") or "").strip():
                print("target without expr: %s" % p.get("title"))
            if not (t.get("datasource") or {}).get("uid"):
                print("target without datasource: %s" % p.get("title"))
    print("panels %d" % n, file=sys.stderr)
elif cmd == "coverage":
    # coverage ALERTS TESTS: alerts lacking a firing case or a silent case in the unit tests.
    alerts = [a for a, _ in alert_exprs(sys.argv[2])]
    t = yaml.safe_load(open(sys.argv[3]))
    fire, silent = set(), set()
    for test in t["tests"]:
        for c in test.get("alert_rule_test", []):
            (fire if c.get("exp_alerts") else silent).add(c["alertname"])
    for a in alerts:
        if a not in fire:
            print("%s: no case where it fires" % a)
        if a not in silent:
            print("%s: no case where it stays silent" % a)
    print("alerts %d" % len(alerts), file=sys.stderr)
elif cmd == "live":
    # live DASHBOARD: each dashboard expression (Grafana's variables replaced for a Prometheus
    # scraping every second), one a line: "where<TAB>expr".
    d = json.load(open(sys.argv[2]))
    for where, e in dashboard_exprs(d):
        e = e.replace("$__rate_interval", "10s").replace("$__range", "1m").replace("$__interval", "1s")
        e = re.sub(r"\$\{?[A-Za-z_]+\}?", ".*", e)
        print("%s\t%s" % (where, " ".join(e.split())))
elif cmd == "neverfire":
    # neverfire ALERTS OUT: alerts.yml with every alert's expression never true.
    doc = yaml.safe_load(open(sys.argv[2]))
    for g in doc["groups"]:
        for r in g["rules"]:
            if "alert" in r:
                r["expr"] = "vector(1) == 0"
    yaml.safe_dump(doc, open(sys.argv[3], "w"))
EOF

t_check "the name extractor finds metric and label names of a known expression" "$PY" "$HELPER" selftest

# =============================================================================================
# promtool

if command -v promtool >/dev/null 2>&1; then
    t_check "promtool check config deploy/prometheus/prometheus.yml (and its rule file)" \
        eval 'promtool check config "$PROM/prometheus.yml" >"$DIR/check-config.out" 2>&1'
    t_check "promtool check rules deploy/prometheus/alerts.yml" \
        eval 'promtool check rules "$PROM/alerts.yml" >"$DIR/check-rules.out" 2>&1'
    if (cd "$PROM" && promtool test rules alerts_test.yml) >"$DIR/test-rules.out" 2>&1; then
        t_ok "promtool test rules deploy/prometheus/alerts_test.yml"
    else
        t_not_ok "promtool test rules deploy/prometheus/alerts_test.yml" "$(tail -n 15 "$DIR/test-rules.out" | tr '\n' ' ' | head -c 600)"
    fi
    mkdir -p "$DIR/neverfire"
    cp "$PROM/alerts_test.yml" "$DIR/neverfire/"
    "$PY" "$HELPER" neverfire "$PROM/alerts.yml" "$DIR/neverfire/alerts.yml"
    (cd "$DIR/neverfire" && promtool test rules alerts_test.yml) >"$DIR/neverfire.out" 2>&1
    rc=$?
    t_check "the unit tests fail on alerts that never fire (exit $rc)" \
        eval '((rc != 0)) && grep -q "StockRedisDown" "$DIR/neverfire.out"'
    if "$PY" "$HELPER" rules "$DASH" "$DIR/dashboard-rules.yml" >"$DIR/dashboard-rules.n" 2>"$DIR/dashboard-rules.err"; then
        n=$(cat "$DIR/dashboard-rules.n")
        t_check "promtool parses every dashboard expression ($n, as recording rules)" \
            eval '((n > 20)) && promtool check rules "$DIR/dashboard-rules.yml" >"$DIR/dashboard-rules.out" 2>&1'
    else
        t_not_ok "the dashboard's expressions as recording rules" "$(head -c 300 "$DIR/dashboard-rules.err")"
    fi
else
    for c in "promtool check config" "promtool check rules" "promtool test rules alerts_test.yml" \
        "the unit tests fail on alerts that never fire" "promtool parses every dashboard expression"; do
        t_skip "$c" "promtool is not installed (deploy/deps.sh installs prometheus)"
    done
fi
gaps=$("$PY" "$HELPER" coverage "$PROM/alerts.yml" "$PROM/alerts_test.yml" 2>"$DIR/coverage.err")
t_check "every alert of alerts.yml has a firing and a silent case in alerts_test.yml ($(cat "$DIR/coverage.err"); gaps: ${gaps:-none})" \
    eval '[[ -z "$gaps" ]] && grep -qE "^alerts [1-9]" "$DIR/coverage.err"'

# =============================================================================================
# The names used exist in the real /metrics

# A few requests first: per-route rows (requests and the latency histogram) print once non-zero.
for p in /health /health/cache /health/db /api/v1/products /api/v1/no-such-route /metrics; do
    curl -s -o /dev/null --max-time 10 "$BASE$p" || true
done
curl -s --max-time 10 -o "$DIR/metrics.txt" "$BASE/metrics" || : >"$DIR/metrics.txt"
t_check "GET /metrics of the test stack answers Prometheus text with a latency histogram" \
    eval 'grep -q "^# TYPE stock_http_request_duration_seconds histogram" "$DIR/metrics.txt" &&
          grep -q "^stock_http_request_duration_seconds_bucket{" "$DIR/metrics.txt" &&
          grep -q "^stock_http_requests_total{route=\"none\",status=\"404\"}" "$DIR/metrics.txt"'
read -r n_alert n_dash < <("$PY" "$HELPER" count "$PROM/alerts.yml" "$DASH")
missing=$("$PY" "$HELPER" names "$DIR/metrics.txt" "$PROM/alerts.yml" "$DASH" 2>"$DIR/names.err")
t_check "every metric and label of alerts.yml ($n_alert metrics) and the dashboard ($n_dash) is in the real /metrics ($(cat "$DIR/names.err"); missing: ${missing:-none})" \
    eval '[[ -z "$missing" ]] && ((n_alert >= 8 && n_dash >= 20))'
# The check can fail: a name /metrics does not print is reported.
jq '.panels[1].targets[0].expr = "rate(stock_no_such_metric_total[5m])"' "$DASH" >"$DIR/bad-dash.json"
bad=$("$PY" "$HELPER" names "$DIR/metrics.txt" "$PROM/alerts.yml" "$DIR/bad-dash.json" 2>/dev/null)
t_check "... and a name /metrics lacks is reported (got: ${bad:-nothing})" \
    eval '[[ "$bad" == "metric stock_no_such_metric_total ("* ]]'

# =============================================================================================
# A real Prometheus (Debian's prometheus package: promtool's) with this prometheus.yml and
# alerts.yml, scraping the test stack's nginx every second: the target is up, the rules load
# and evaluate, and every dashboard expression returns series.

if command -v prometheus >/dev/null 2>&1; then
    PD=$DIR/prometheus
    mkdir -p "$PD/data"
    cp "$PROM/alerts.yml" "$PD/"
    sed -e "s|targets: \['nginx:80'\]|targets: ['${BASE#http://}']|" -e 's/^  scrape_interval: 15s$/  scrape_interval: 1s/' \
        -e 's/^  evaluation_interval: 15s$/  evaluation_interval: 1s/' "$PROM/prometheus.yml" >"$PD/prometheus.yml"
    pick_port PROM_PORT || exit 1
    PU=http://127.0.0.1:$PROM_PORT
    prometheus --config.file="$PD/prometheus.yml" --storage.tsdb.path="$PD/data" \
        --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn </dev/null >"$PD/prometheus.log" 2>&1 &
    PROM_PID=$!
    # pq EXPR: the number of series EXPR returns now (-1 on an error).
    pq()
    {
        curl -s --max-time 10 --data-urlencode "query=$1" "$PU/api/v1/query" 2>/dev/null |
            jq -r 'if .status == "success" then (.data.result | length) else -1 end' 2>/dev/null || echo -1
    }
    prom_ready()
    {
        [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$PU/-/ready")" == 200 ]]
    }
    t_check "the copy of prometheus.yml targets the test stack's nginx (${BASE#http://}), every second" \
        eval 'grep -qF "targets: ['"'"'${BASE#http://}'"'"']" "$PD/prometheus.yml" && grep -q "scrape_interval: 1s" "$PD/prometheus.yml"'
    if wait_for 40 prom_ready; then
        t_ok "Prometheus starts with prometheus.yml and alerts.yml"
        t_check "the scrape of /metrics through nginx is up (up{job=\"stock\"} == 1)" \
            wait_for 30 eval '[[ "$(pq "up{job=\"stock\"} == 1")" == 1 ]]'
        # Traffic for the rates: requests until two scrapes saw it move.
        moving()
        {
            curl -s -o /dev/null --max-time 5 "$BASE/health" || true
            curl -s -o /dev/null --max-time 5 "$BASE/api/v1/products" || true
            curl -s -o /dev/null --max-time 5 "$BASE/api/v1/no-such-route" || true
            [[ "$(pq 'rate(stock_requests_total[10s]) > 0')" == 1 &&
                "$(pq 'sum(rate(stock_http_request_duration_seconds_count[10s])) > 0')" == 1 ]]
        }
        t_check "Prometheus sees the requests move (rate over 10 s)" wait_for 30 moving
        rules_ok()
        {
            curl -s --max-time 5 "$PU/api/v1/rules" |
                jq -e --argjson n "$(grep -c '^      - alert:' "$PROM/alerts.yml")" \
                    '[.data.groups[].rules[]] | length == $n and all(.health == "ok")' >/dev/null 2>&1
        }
        t_check "every alert rule loaded and evaluates (health ok: $(grep -c '^      - alert:' "$PROM/alerts.yml") rules)" \
            wait_for 20 rules_ok
        empty="" n=0
        while IFS=$'\t' read -r where expr; do
            n=$((n + 1))
            c=$(pq "$expr")
            # ALERTS: no alert fires on the test stack, so no series is the expected answer.
            [[ "$expr" == ALERTS* ]] && { ((c >= 0)) || empty+=" [$where: error]"; continue; }
            ((c >= 1)) || empty+=" [$where: $c: $expr]"
        done < <("$PY" "$HELPER" live "$DASH")
        t_check "every dashboard expression returns series from the real scrape ($n; empty or errors:${empty:- none})" \
            eval '((n > 20)) && [[ -z "$empty" ]]'
        t_check "... and one on a label value /metrics lacks (class=\"5XX\") returns none, a bad one an error" \
            eval '[[ "$(pq "sum(rate(stock_responses_total{class=\"5XX\"}[10s]))")" == 0 && "$(pq "rate(stock_responses_total[10s]")" == -1 ]]'
    else
        t_not_ok "Prometheus starts with prometheus.yml and alerts.yml" "$(tail -n 3 "$PD/prometheus.log" | tr '\n' ' ')"
    fi
    stop_pid "$PROM_PID" 10 TERM
    PROM_PID=""
else
    t_skip "a real Prometheus scrapes the test stack and runs the dashboard's queries" \
        "prometheus is not installed (deploy/deps.sh installs it)"
fi

# =============================================================================================
# The dashboard and its provisioning

t_check "the dashboard is valid JSON (python3 -m json.tool)" \
    eval '"$PY" -m json.tool "$DASH" >/dev/null 2>"$DIR/json.err"'
t_check "the dashboard: uid, title, schemaVersion 39 (Grafana 10.3 .. 11), panels" \
    eval 'jq -e ".uid == \"stock-overview\" and (.title | length > 0) and .schemaVersion == 39 and (.panels | length > 20)" "$DASH" >/dev/null'
lacking=$("$PY" "$HELPER" panels "$DASH" 2>"$DIR/panels.err")
t_check "every panel has a datasource and a target with an expression ($(cat "$DIR/panels.err"); lacking: ${lacking:-none})" \
    eval '[[ -z "$lacking" ]] && grep -qE "^panels [1-9]" "$DIR/panels.err"'
t_check "every panel and target uses the datasource variable" \
    eval 'jq -e "[.panels[] | select(.type != \"row\") | .datasource.uid, .targets[].datasource.uid] | all(. == \"\${datasource}\")" "$DASH" >/dev/null'
t_check "panel ids are unique, and no two panels overlap on the grid" \
    eval 'jq -e "[.panels[].id] | length == (unique | length)" "$DASH" >/dev/null &&
          jq -r ".panels[] | [.gridPos.x, .gridPos.y, .gridPos.w, .gridPos.h] | @tsv" "$DASH" |
          awk "{ for (x = \$1; x < \$1 + \$3; x++) for (y = \$2; y < \$2 + \$4; y++) if (cell[x, y]++) bad = 1 } END { exit bad }"'
DS_UID=$("$PY" -c 'import yaml, sys; print(yaml.safe_load(open(sys.argv[1]))["datasources"][0]["uid"])' \
    deploy/grafana/provisioning/datasources/prometheus.yml 2>/dev/null)
t_check "the datasource variable (type prometheus) defaults to the provisioned data source ($DS_UID)" \
    eval '[[ -n "$DS_UID" ]] && jq -e --arg u "$DS_UID" ".templating.list[] | select(.name == \"datasource\") | .type == \"datasource\" and .query == \"prometheus\" and .current.value == \$u" "$DASH" >/dev/null'
t_check "the provisioned data source is Prometheus at http://prometheus:9090 (the compose service)" \
    eval '"$PY" -c "import yaml, sys; d = yaml.safe_load(open(sys.argv[1]))[\"datasources\"][0]; sys.exit(not (d[\"type\"] == \"prometheus\" and d[\"url\"] == \"http://prometheus:9090\" and d[\"access\"] == \"proxy\"))" deploy/grafana/provisioning/datasources/prometheus.yml'
DASH_PATH=$("$PY" -c 'import yaml, sys; print(yaml.safe_load(open(sys.argv[1]))["providers"][0]["options"]["path"])' \
    deploy/grafana/provisioning/dashboards/stock.yml 2>/dev/null)
t_check "the dashboard provider reads $DASH_PATH (type file)" \
    eval '[[ -n "$DASH_PATH" ]] && grep -q "type: file" deploy/grafana/provisioning/dashboards/stock.yml'

# =============================================================================================
# Compose, with the profile

DC_PW=(REDIS_PASSWORD=mon-redis-pw POSTGRES_PASSWORD=mon-pg-pw STOCK_DB_APP_PASSWORD=mon-app-pw
    CACHE_SECRET=mon-cache-secret-0123456789abcdef0123456789abcdef)
: >"$DIR/empty.env"
# dc FILE [NAME=VALUE ...] -- ARGS: docker-compose with only the given variables.
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

for file in docker-compose.yml docker-compose.prod.yml; do
    n=${file#docker-compose.}
    n=${n%.yml}
    [[ "$n" == yml ]] && n=dev
    vars=()
    [[ "$n" == prod ]] && vars=("${DC_PW[@]}")
    J=$DIR/$n.json
    if dc "$file" "${vars[@]}" -- --profile monitoring config >"$J.yml" 2>"$J.err" &&
        "$PY" -c 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)' <"$J.yml" >"$J" 2>>"$J.err"; then
        t_ok "$file: docker-compose --profile monitoring config succeeds (validated without Docker)"
    else
        t_not_ok "$file: docker-compose --profile monitoring config succeeds" "$(head -c 300 "$J.err")"
        continue
    fi
    j()
    {
        jq -e "$1" "$J" >/dev/null 2>&1
    }
    t_check "$n: prometheus (prom/prometheus) and grafana (grafana/grafana) in profile monitoring only; no other service in a profile" \
        j '(.services.prometheus.image | startswith("prom/prometheus:")) and (.services.grafana.image | startswith("grafana/grafana:"))
           and ([.services | to_entries[] | select(.value.profiles != null) | {(.key): .value.profiles}] == [{"grafana": ["monitoring"]}, {"prometheus": ["monitoring"]}])'
    t_check "$n: prometheus mounts deploy/prometheus on /etc/prometheus (read-only) and reads prometheus.yml there" \
        j "([.services.prometheus.volumes[] | tostring | test(\"$ROOT/deploy/prometheus:/etc/prometheus:ro\")] | any)
           and (.services.prometheus.command | index(\"--config.file=/etc/prometheus/prometheus.yml\") != null)"
    t_check "$n: grafana mounts the provisioning folder and the dashboards on $DASH_PATH (read-only)" \
        j "([.services.grafana.volumes[] | tostring | test(\"$ROOT/deploy/grafana/provisioning:/etc/grafana/provisioning:ro\")] | any)
           and ([.services.grafana.volumes[] | tostring | test(\"$ROOT/deploy/grafana/dashboards:$DASH_PATH:ro\")] | any)"
    t_check "$n: prometheus and grafana publish on 127.0.0.1 only (9090, 3000)" \
        j '([.services.prometheus, .services.grafana | .ports[] | if type == "object" then .host_ip == "127.0.0.1" else startswith("127.0.0.1:") end] | all)
           and ([.services.prometheus.ports[] | tostring | test("9090")] | any) and ([.services.grafana.ports[] | tostring | test("3000")] | any)'
    t_check "$n: prometheus is on the monitoring network only (it reaches neither the app nor its servers); grafana too; nginx joins it" \
        j '(.services.prometheus.networks | keys == ["monitoring"]) and (.services.grafana.networks | keys == ["monitoring"])
           and (.services.nginx.networks | has("monitoring")) and (.networks.monitoring.internal // false | not)'
    t_check "$n: only nginx, prometheus and grafana are on the monitoring network" \
        j '[.services | to_entries[] | select(.value.networks // {} | has("monitoring")) | .key] | sort == ["grafana", "nginx", "prometheus"]'
    t_check "$n: prometheus and grafana have healthchecks; grafana waits for a healthy prometheus" \
        j '(.services.prometheus.healthcheck.test | join(" ") | test("9090/-/ready")) and (.services.grafana.healthcheck.test | join(" ") | test("3000/api/health"))
           and .services.grafana.depends_on.prometheus.condition == "service_healthy"'
    SUBNET=$(jq -r '.networks.monitoring.ipam.config[0].subnet // empty' "$J")
    PADDR=$(jq -r '.services.prometheus.networks.monitoring.ipv4_address // empty' "$J")
    ALLOW=$(jq -r '.services.nginx.environment.STOCK_OPS_ALLOW // empty' "$J")
    t_check "$n: Prometheus's fixed address $PADDR is inside the monitoring subnet $SUBNET" \
        "$PY" -c 'import ipaddress, sys; sys.exit(not ipaddress.ip_address(sys.argv[1]) in ipaddress.ip_network(sys.argv[2]))' \
        "${PADDR:-x}" "${SUBNET:-x}"
    t_check "$n: nginx's STOCK_OPS_ALLOW is loopback and Prometheus's address only ('$ALLOW')" \
        test "$ALLOW" = "127.0.0.1 ::1 $PADDR"
    [[ "$n" == dev ]] && DEV_ALLOW=$ALLOW && DEV_PADDR=$PADDR
    [[ "$n" == prod ]] && PROD_ALLOW=$ALLOW && PROD_PADDR=$PADDR
done
t_check "prometheus.yml scrapes nginx:80/metrics, the nginx service of the monitoring network" \
    eval '"$PY" -c "import yaml, sys; c = yaml.safe_load(open(sys.argv[1]))[\"scrape_configs\"][0]; sys.exit(not (c.get(\"metrics_path\", \"/metrics\") == \"/metrics\" and c[\"static_configs\"][0][\"targets\"] == [\"nginx:80\"] and c.get(\"scheme\", \"http\") == \"http\"))" "$PROM/prometheus.yml"'
t_check "prod: STOCK_OPS_ALLOW set by the operator keeps Prometheus's address appended" \
    eval '[[ "$(dc docker-compose.prod.yml "${DC_PW[@]}" STOCK_OPS_ALLOW=10.9.0.0/16 -- config 2>/dev/null |
              "$PY" -c "import sys, yaml; print(yaml.safe_load(sys.stdin)[\"services\"][\"nginx\"][\"environment\"][\"STOCK_OPS_ALLOW\"])")" == "10.9.0.0/16 ${PROD_PADDR:-x}" ]]'

# prod Grafana's entrypoint: no admin password, no start; with one, it execs the image's /run.sh.
if [[ -s "$DIR/prod.json" ]]; then
    GSCRIPT=$(jq -r '.services.grafana.entrypoint[2] // empty' "$DIR/prod.json" | sed 's/\$\$/$/g')
    printf '#!/bin/sh\necho "run.sh started $#"\n' >"$DIR/run.sh"
    chmod +x "$DIR/run.sh"
    GS=${GSCRIPT//\/run.sh/$DIR/run.sh}
    out=$(env -i PATH="$PATH" GF_SECURITY_ADMIN_PASSWORD= sh -c "$GS" grafana-start 2>&1)
    rc=$?
    t_check "prod grafana refuses to start without GRAFANA_ADMIN_PASSWORD (exit $rc: $out)" \
        eval '((rc == 1)) && [[ "$out" == *GRAFANA_ADMIN_PASSWORD* && "$out" != *run.sh* ]]'
    out=$(env -i PATH="$PATH" GF_SECURITY_ADMIN_PASSWORD=s3cret sh -c "$GS" grafana-start 2>&1)
    t_check "prod grafana with a password execs /run.sh ($out)" test "$out" = "run.sh started 0"
    t_check "prod grafana: the password comes from GRAFANA_ADMIN_PASSWORD, empty by default; sign-up and anonymous access off" \
        eval 'jq -e ".services.grafana.environment | .GF_SECURITY_ADMIN_PASSWORD == \"\" and .GF_USERS_ALLOW_SIGN_UP == \"false\" and .GF_AUTH_ANONYMOUS_ENABLED == \"false\"" "$DIR/prod.json" >/dev/null &&
              grep -q "GF_SECURITY_ADMIN_PASSWORD: \${GRAFANA_ADMIN_PASSWORD:-}" docker-compose.prod.yml'
fi

# =============================================================================================
# nginx lets Prometheus's address read /metrics, and nobody else but loopback

st()
{
    curl -s -k -o /dev/null -w '%{http_code}' --max-time 10 "$@" 2>/dev/null
}
# main_conf DIR SERVERS: an nginx.conf around an http-context file (the prod config).
main_conf()
{
    cat >"$1/nginx.conf" <<EOF
pid $1/nginx.pid;
error_log $1/logs/nginx-error.log;
worker_processes 1;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $1/logs/nginx-access.log;
    client_body_temp_path $1/tmp/client_body; proxy_temp_path $1/tmp/proxy;
    fastcgi_temp_path $1/tmp/fastcgi; uwsgi_temp_path $1/tmp/uwsgi; scgi_temp_path $1/tmp/scgi;
    include $2;
}
EOF
}

if [[ "$(st --interface 127.0.0.2 "$BASE/nginx-health")" != 200 ]]; then
    t_skip "nginx: /metrics from Prometheus's address and from another" "curl cannot bind 127.0.0.2 here"
else
    # The dev template as docker-entrypoint.sh nginx-dev renders it, with the compose file's
    # STOCK_OPS_ALLOW (Prometheus's address standing as 127.0.0.2).
    pick_port DEV_PORT || exit 1
    mkdir -p "$NGX_DEV/tmp" "$NGX_DEV/logs"
    allow=${DEV_ALLOW:-x}
    allow=${allow/${DEV_PADDR:-none}/127.0.0.2}
    if env STOCK_FCGI_ADDR="$FCGI_ADDR" STOCK_OPS_ALLOW="$allow" STOCK_HTTP_LISTEN="127.0.0.1:$DEV_PORT" \
        STOCK_STATIC_DIR="$ROOT/nginx/static" sh deploy/docker-entrypoint.sh nginx-render nginx/stock.conf.in \
        "$NGX_DEV/nginx.conf" 2>"$NGX_DEV/render.err" &&
        sed -i -e "s|/var/lib/nginx/stock|$NGX_DEV|g" -e "s|/var/log/nginx|$NGX_DEV/logs|g" "$NGX_DEV/nginx.conf" &&
        nginx_start "$NGX_DEV" "$NGX_DEV/nginx.conf" "127.0.0.1:$DEV_PORT" "$NGX_DEV/logs"; then
        U=http://127.0.0.1:$DEV_PORT
        o="$(st "$U/metrics")|$(st --interface 127.0.0.2 "$U/metrics")|$(st --interface 127.0.0.3 "$U/metrics")|$(st --interface 127.0.0.3 "$U/health")"
        t_check "dev nginx (STOCK_OPS_ALLOW '$allow'): /metrics 200 from loopback and Prometheus's address, 403 from 127.0.0.3, /health public (got $o)" \
            test "$o" = "200|200|403|200"
        t_check "dev nginx: the /metrics that Prometheus gets is the pool's" \
            eval 'curl -s --max-time 10 --interface 127.0.0.2 "$U/metrics" | grep -q "^stock_db_up 1$"'
    else
        t_not_ok "dev nginx rendered with the compose file's STOCK_OPS_ALLOW starts" \
            "$(cat "$NGX_DEV/render.err" "$NGX_DEV/logs/nginx-error.log" 2>/dev/null | tail -n 3 | tr '\n' ' ')"
    fi

    # The prod config on its two ports, rendered as nginx-prod does (a self-signed certificate).
    pick_port PH_PORT && pick_port PS_PORT || exit 1
    mkdir -p "$NGX_PROD/tmp" "$NGX_PROD/logs" "$NGX_PROD/tls"
    allow=${PROD_ALLOW:-x}
    allow=${allow/${PROD_PADDR:-none}/127.0.0.2}
    openssl req -x509 -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 2 -subj /CN=localhost \
        -keyout "$NGX_PROD/tls/privkey.pem" -out "$NGX_PROD/tls/fullchain.pem" >"$NGX_PROD/logs/openssl.out" 2>&1
    if env STOCK_FCGI_ADDR="$FCGI_ADDR" STOCK_OPS_ALLOW="$allow" STOCK_STATIC_DIR="$ROOT/nginx/static" \
        STOCK_SERVER_NAME=localhost STOCK_TLS_CERT="$NGX_PROD/tls/fullchain.pem" STOCK_TLS_KEY="$NGX_PROD/tls/privkey.pem" \
        sh deploy/docker-entrypoint.sh nginx-render nginx/stock.prod.conf "$NGX_PROD/stock.conf" 2>"$NGX_PROD/render.err" &&
        sed -i -e "s|listen 80 default_server;|listen 127.0.0.1:$PH_PORT default_server;|" \
            -e "s|listen 443 ssl default_server;|listen 127.0.0.1:$PS_PORT ssl default_server;|" "$NGX_PROD/stock.conf" &&
        main_conf "$NGX_PROD" "$NGX_PROD/stock.conf" &&
        nginx_start "$NGX_PROD" "$NGX_PROD/nginx.conf" "127.0.0.1:$PH_PORT" "$NGX_PROD/logs"; then
        H=http://127.0.0.1:$PH_PORT
        S=https://127.0.0.1:$PS_PORT
        o="$(st --interface 127.0.0.2 "$H/metrics")|$(st "$H/metrics")|$(st --interface 127.0.0.3 "$H/metrics")|$(st --interface 127.0.0.2 "$S/metrics")|$(st --interface 127.0.0.3 "$S/metrics")"
        t_check "prod nginx (STOCK_OPS_ALLOW '$allow'): /metrics on :80 200 from Prometheus's address and loopback, 403 from 127.0.0.3; on :443 likewise (got $o)" \
            test "$o" = "200|200|403|200|403"
        t_check "prod nginx :80: the scrape is the pool's Prometheus text" \
            eval 'curl -s --max-time 10 --interface 127.0.0.2 "$H/metrics" | grep -q "^# TYPE stock_requests_total counter$"'
        req GET "$H/api/v1/products?x=1" --interface 127.0.0.2
        t_check "prod nginx :80: everything else still redirects to https, also for Prometheus's address" \
            eval '[[ "$R_STATUS" == 301 && "$(header Location)" == "https://127.0.0.1/api/v1/products?x=1" ]]'
        t_check "prod nginx :80: /health/db is not opened on :80 (a redirect)" \
            test "$(st --interface 127.0.0.2 "$H/health/db")" = 301
    else
        t_not_ok "prod nginx rendered with the compose file's STOCK_OPS_ALLOW starts" \
            "$(cat "$NGX_PROD/render.err" "$NGX_PROD/logs/nginx-error.log" 2>/dev/null | tail -n 3 | tr '\n' ' ')"
    fi
fi

t_result "$SUITE"
