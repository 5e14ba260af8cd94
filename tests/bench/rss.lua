-- rss.lua: wrk script for the worker memory checks of bench.sh: cycles through a mix of
-- requests (cached reads, a miss, an error) and stops after STOP_AFTER responses.
-- BENCH_MIX=l1 interleaves, every other request, a cached read from a large set of distinct
-- keys (each a distinct cache key): product list pages (offset 0..999), balance series over
-- BENCH_SERIES_DAYS (at most 366) daily ranges ending today, one product's movements for each
-- product of BENCH_PRODUCT_MIN..BENCH_PRODUCT_MAX; one in 16 of those is a new key (an empty
-- product list page past the end, its offset counted on from BENCH_START). A small L1 then
-- evicts all the time.
-- BENCH_MIX=distinct asks only the distinct set, once each from BENCH_START (a warm-up), and
-- prints "filled: RESPONSES BYTES" at the end. BENCH_PREFIX goes before every path.
-- BENCH_START (the pool's requests served so far) moves the cycle on from one wrk run to the
-- next, since each run starts this script afresh.
local paths = {}
local distinct = {}
local n = 0
local stop_after = tonumber(os.getenv("STOP_AFTER") or "1000")
local token = os.getenv("BENCH_TOKEN") or ""
local series = os.getenv("BENCH_SERIES") or "/health"
local mix = os.getenv("BENCH_MIX") or ""
local start = tonumber(os.getenv("BENCH_START") or "0")
local prefix = os.getenv("BENCH_PREFIX") or ""
local i = 0

-- The three families interleaved (a product page, a series, a product's movements, ...), so
-- that the first thousand requests already meet every kind of body.
local function distinct_set()
    local fam = { {}, {}, {} }
    local set = {}
    local days = tonumber(os.getenv("BENCH_SERIES_DAYS") or "366")
    local pmin = tonumber(os.getenv("BENCH_PRODUCT_MIN") or "1")
    local pmax = tonumber(os.getenv("BENCH_PRODUCT_MAX") or "0")
    local now = os.time()
    local to = os.date("!%Y-%m-%d", now)
    for k = 0, 999 do
        fam[1][#fam[1] + 1] = "/api/v1/products?limit=50&offset=" .. k
    end
    for k = 0, days - 1 do
        fam[2][#fam[2] + 1] = "/api/v1/balance/series?from=" ..
                              os.date("!%Y-%m-%d", now - k * 86400) .. "&to=" .. to ..
                              "&granularity=daily&method=all"
    end
    for p = pmin, pmax do
        fam[3][#fam[3] + 1] = "/api/v1/stock/movements?product_id=" .. p .. "&limit=50"
    end
    for k = 1, math.max(#fam[1], #fam[2], #fam[3]) do
        for f = 1, 3 do
            if fam[f][k] then
                set[#set + 1] = fam[f][k]
            end
        end
    end
    return set
end

function init(args)
    paths = { series, "/api/v1/products?limit=50", "/api/v1/me", "/api/v1/categories",
              "/api/v1/products?q=a&stock=low", "/api/v1/products/999999999", "/api/v1/nope" }
    if mix ~= "" then
        distinct = distinct_set()
    end
end

function request()
    local p
    i = i + 1
    if mix == "distinct" then
        p = distinct[((start + i - 1) % #distinct) + 1]
    elseif mix == "l1" and i % 2 == 0 then
        local j = start + i / 2
        if j % 16 == 0 then
            p = "/api/v1/products?limit=50&offset=" .. (1000000 + start + i)
        else
            p = distinct[(j % #distinct) + 1]
        end
    else
        p = paths[(i % #paths) + 1]
    end
    return wrk.format("GET", prefix .. p, { ["Authorization"] = "Bearer " .. token })
end

function response(status, headers, body)
    n = n + 1
    if n >= stop_after then
        wrk.thread:stop()
    end
end

function done(summary, latency, requests)
    if mix == "distinct" then
        io.write(string.format("filled: %d %d\n", summary.requests, summary.bytes))
    end
end
