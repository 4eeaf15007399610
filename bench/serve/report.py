#!/usr/bin/env python3
"""report.py - the service benchmark's results (one JSON object per wrk run, written by
common.lua's done() and run.sh) as the Markdown of bench/RESULTS.md, section "Service".

usage: report.py RESULTS.jsonl --duration S --warmup S --wrk-threads N --server-threads N
                 --pool N --read-target R --create-target R --repeat N

Each workload was run --repeat times: the table shows the run of median throughput (its
latencies) and the range over all runs, since the machine is shared and the figures move.
"""
import argparse
import json

P99_TARGET_MS = 20.0
ORDER = ["reads", "reads at target", "creates", "creates at target"]


def rate(r):
    return r["requests"] / (r["duration_us"] / 1e6)


def ms(us):
    return "%.1f" % (us / 1000.0) if us >= 1000 else "%.2f" % (us / 1000.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    for opt in ("--duration", "--warmup", "--wrk-threads", "--server-threads", "--pool",
                "--read-target", "--create-target", "--repeat"):
        ap.add_argument(opt, type=int, required=True)
    a = ap.parse_args()
    runs = []
    try:
        with open(a.results) as f:
            runs = [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        pass
    groups = {}
    for r in runs:
        groups.setdefault((r["backend"], r["name"]), []).append(r)
    conns = sorted({r["connections"] for r in runs})
    print(f"Method: wrk on loopback, {a.wrk_threads} wrk threads and {', '.join(map(str, conns)) or '?'} "
          f"connections (keep-alive), against `imr serve --threads {a.server_threads}` on the same "
          f"machine; per workload a {a.warmup} s warm-up run, then {a.repeat} runs of {a.duration} s; "
          f"the table gives the run of median throughput and, in brackets, the range over the runs. "
          f"\"at target\" runs are paced by the Lua script (wrk has no rate option and wrk2 is not "
          f"in Debian): latency is measured from each request's write, so a server that falls "
          f"behind shows a lower rate reached rather than queueing delay. Reads: "
          f"`GET /api/cases/{{id}}` with a bearer token, ids at random from the demo cases plus "
          f"{a.pool} cases with drafts. Creations: `POST /api/cases?draft=1`, the example case file "
          f"`CM15-0000001` with intake fields and two progress reports, a unique case number per "
          f"request, registered and drafted by the engine in one request. Server CPU: the server "
          f"process's user + system time during the run over its requests (a PostgreSQL backend's "
          f"own CPU is not included). Latencies in ms.")
    print()
    print("| database | workload | target | reached, req/s | p50 | p90 | p99 [range] | p99.9 | max | errors | server CPU / req | load |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    medians = {}
    for backend in ("sqlite", "postgresql"):
        for name in ORDER:
            rs = sorted(groups.get((backend, name), []), key=rate)
            if not rs:
                continue
            m = rs[len(rs) // 2]
            medians[(backend, name)] = m
            rates = [rate(r) for r in rs]
            p99s = [r["p99_us"] for r in rs]
            errs = sum(sum(r["errors"].values()) for r in rs)
            cpu = m["server_cpu_s"] / max(m["requests"], 1) * 1e6
            loads = [r.get("load", 0.0) for r in rs]
            print(f"| {backend} | {name} | {m['rate_target'] or 'max'} | {rate(m):,.0f} [{min(rates):,.0f}-{max(rates):,.0f}] | "
                  f"{ms(m['p50_us'])} | {ms(m['p90_us'])} | {ms(m['p99_us'])} [{ms(min(p99s))}-{ms(max(p99s))}] | "
                  f"{ms(m['p999_us'])} | {ms(m['max_us'])} | {errs} | {cpu:,.0f} µs | {min(loads):.1f}-{max(loads):.1f} |")
    if not runs:
        print("| (no runs) | | | | | | | | | | | |")
    print()
    for backend in ("sqlite", "postgresql"):
        if not any(b == backend for b, _ in medians):
            print(f"- {backend}: not run (no PostgreSQL server could be started)." if backend == "postgresql"
                  else f"- {backend}: not run.")
            continue
        verdicts = []
        for kind, target in (("reads", a.read_target), ("creates", a.create_target)):
            best, paced = medians.get((backend, kind)), medians.get((backend, kind + " at target"))
            if best:
                verdicts.append(f"{kind} {rate(best):,.0f}/s (target {target:,}+: {'met' if rate(best) >= target else 'MISSED'})")
            if paced:
                p99 = paced["p99_us"] / 1000.0
                ok = p99 < P99_TARGET_MS and rate(paced) >= 0.95 * target
                verdicts.append(f"paced to {target:,}/s: {rate(paced):,.0f}/s reached, p99 {p99:.1f} ms "
                                f"(target < {P99_TARGET_MS:g} ms at that rate: {'met' if ok else 'MISSED'})")
        errors = sum(sum(r["errors"].values()) for r in runs if r["backend"] == backend)
        verdicts.append(f"errors (non-2xx, socket errors, timeouts) over all runs: {errors}")
        print(f"- {backend}: " + "; ".join(verdicts) + ".")


if __name__ == "__main__":
    main()
