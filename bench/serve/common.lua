-- common.lua - shared by the wrk scripts of the service benchmark (bench/serve/run.sh):
-- the bearer token, optional pacing to a target rate, and a JSON line of results.
--
-- Environment (read in every wrk Lua state):
--   IMR_BENCH_TOKEN    the API token sent as "Authorization: Bearer ..."
--   IMR_BENCH_RATE     requests/s for the whole run; 0 or unset = as fast as possible
--   IMR_BENCH_THREADS  wrk's -t (the rate is split evenly between its threads)
--   IMR_BENCH_OUT      file the results are appended to (one JSON object per run)
--   IMR_BENCH_NAME     the run's name in that file
--
-- Pacing: wrk calls delay() before each request of a connection; each thread hands out
-- send slots at its share of the rate and a connection waits for its slot. wrk measures a
-- request's latency from the moment it is written, not from its slot, so a server that
-- falls behind shows as a lower rate, not as queueing delay (wrk2 would count that delay;
-- it is not packaged in Debian). The results say which rate was reached.
local ffi = require("ffi")
pcall(ffi.cdef, [[
typedef struct { long tv_sec; long tv_nsec; } imr_bench_timespec;
int clock_gettime(int clock_id, imr_bench_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local ts = ffi.new("imr_bench_timespec")

local function now_ms()
    ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

imr_bench = {}

-- The value of a required environment variable (one value, unlike assert's two).
function imr_bench.env(name)
    local v = os.getenv(name)
    if not v or v == "" then error(name .. " is not set", 2) end
    return v
end

function imr_bench.headers(extra)
    local h = {["Authorization"] = "Bearer " .. imr_bench.env("IMR_BENCH_TOKEN")}
    for k, v in pairs(extra or {}) do h[k] = v end
    return h
end

local rate = tonumber(os.getenv("IMR_BENCH_RATE") or "0") or 0
local nthreads = tonumber(os.getenv("IMR_BENCH_THREADS") or "1") or 1
if rate > 0 then
    local interval = nthreads * 1000 / rate -- ms between this thread's slots
    local slot = nil
    function delay()
        local t = now_ms()
        if not slot or slot < t - 1000 then -- start, or more than a second behind: restart
            slot = t
        end
        slot = slot + interval
        local wait = slot - interval - t
        return wait > 0 and wait or 0
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    local f = assert(io.open(imr_bench.env("IMR_BENCH_OUT"), "a"))
    f:write(string.format(
        '{"name": "%s", "rate_target": %d, "requests": %d, "duration_us": %d, "bytes": %d, ' ..
        '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
        '"mean_us": %.1f, "p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d}\n',
        os.getenv("IMR_BENCH_NAME") or "run", rate, summary.requests, summary.duration, summary.bytes,
        e.connect, e.read, e.write, e.status, e.timeout, latency.mean,
        latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency:percentile(99.9), latency.max))
    f:close()
end
