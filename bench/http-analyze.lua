-- bench/http-analyze.lua: wrk script for POST /api/intelligence/analyze-customer
-- (used by bench/http). The body is the seed's request example
-- (INTELLIGENCE_README.md, "API Reference"), with a customerId that varies
-- per request: each wrk thread prebuilds a ring of RING requests in init()
-- and cycles through it, so the per-request cost in wrk is one table lookup
-- (no string building while measuring).
-- There is no response() callback, so wrk does not hand bodies to Lua.
--
--   wrk -t2 -c32 -d5s --latency -s bench/http-analyze.lua \
--       http://127.0.0.1:PORT/api/intelligence/analyze-customer

local RING = 1024
local BODY = '{"customerId":"bench-%d-%d","creditScore":720,"annualIncome":75000,' ..
    '"vehiclePrice":28000,"downPayment":3000,"tradeValue":5000,"visitCount":1,' ..
    '"timeOnLot":45,"engagement":0.7}'

local threads = 0
local reqs = {}
local n = 0

-- Runs in the main Lua state, once per thread, before that thread's init().
function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end

function init(_)
    local t = tid or 1
    local headers = { ["Content-Type"] = "application/json" }
    for k = 1, RING do
        reqs[k] = wrk.format("POST", nil, headers, string.format(BODY, t, k))
    end
end

function request()
    n = n % RING + 1
    return reqs[n]
end
