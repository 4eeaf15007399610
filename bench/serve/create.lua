-- create.lua - wrk script: POST /api/cases?draft=1 (register a case and have the engine
-- draft its determination in the same request) with a bearer token. The body is the case
-- file in IMR_BENCH_BODY with "@CASE@" replaced by a case number unique to the run, the
-- wrk thread and the request: IMR_BENCH_PREFIX-T-N.
dofile((os.getenv("IMR_BENCH_LUA") or error("IMR_BENCH_LUA is not set")) .. "/common.lua")

local f = assert(io.open(imr_bench.env("IMR_BENCH_BODY")))
local template = f:read("*a")
f:close()
assert(template:find("@CASE@", 1, true), "the body template has no @CASE@")
local prefix = imr_bench.env("IMR_BENCH_PREFIX")

local counter = 0
function setup(thread)
    counter = counter + 1
    thread:set("thread_id", counter)
end

local headers, n
function init(args)
    headers = imr_bench.headers({["Content-Type"] = "application/json"})
    n = 0
end

function request()
    n = n + 1
    local number = string.format("%s-%d-%d", prefix, thread_id, n)
    return wrk.format("POST", "/api/cases?draft=1", headers, (template:gsub("@CASE@", number)))
end
