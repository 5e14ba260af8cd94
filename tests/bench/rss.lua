-- rss.lua: wrk script for the worker memory check of bench.sh: cycles through a mix of
-- requests (cached reads, a miss, an error) and stops after STOP_AFTER responses.
local paths = {}
local n = 0
local stop_after = tonumber(os.getenv("STOP_AFTER") or "1000")
local token = os.getenv("BENCH_TOKEN") or ""
local series = os.getenv("BENCH_SERIES") or "/health"
local i = 0

function init(args)
    paths = { series, "/api/v1/products?limit=50", "/api/v1/me", "/api/v1/categories",
              "/api/v1/products?q=a&stock=low", "/api/v1/products/999999999", "/api/v1/nope" }
end

function request()
    i = i + 1
    local p = paths[(i % #paths) + 1]
    return wrk.format("GET", p, { ["Authorization"] = "Bearer " .. token })
end

function response(status, headers, body)
    n = n + 1
    if n >= stop_after then
        wrk.thread:stop()
    end
end
