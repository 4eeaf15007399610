-- read.lua - wrk script: GET /api/cases/{id} with a bearer token, the id drawn at random
-- from a pool (one case id per line in IMR_BENCH_POOL, written by setup.py).
dofile((os.getenv("IMR_BENCH_LUA") or error("IMR_BENCH_LUA is not set")) .. "/common.lua")

local ids = {}
for line in assert(io.open(imr_bench.env("IMR_BENCH_POOL"))):lines() do
    if #line > 0 then ids[#ids + 1] = line end
end
assert(#ids > 0, "the case pool is empty")

local counter = 0
function setup(thread)
    counter = counter + 1
    thread:set("thread_id", counter)
end

local headers
function init(args)
    headers = imr_bench.headers()
    math.randomseed(1000 + (thread_id or 0))
end

function request()
    return wrk.format("GET", "/api/cases/" .. ids[math.random(#ids)], headers)
end
