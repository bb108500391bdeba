#!/usr/bin/env python3
"""Cost of the flow_control filter (driven by bench/flow): per-request overhead of 0, 10, 100 and
1,000 rules against the same kernel without the filter, and the added latency of a global limit
(Redis) against a local one.

Every kernel variant runs one worker pinned to core 0 (release build); the origin
(herz-demo-upstream), redis-server and the load generator (wrk) share core 1, as in bench/run.
Variants are measured interleaved, round after round; the median of the rounds is reported.

Rules of an N-rule variant: rule 0 matches the benchmark request (`GET /small`, a rate limit that
never refuses); rules 1..N-1 are `method == "GET" && path.startsWith("/svcI/")` rate limits, so the
index (method, then path prefix) rules them out without evaluating them. Throughput runs use wrk
with 64 connections; latency runs use one connection (no queueing: p99 is one request's latency).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as b  # noqa: E402 - the shared helpers (servers, ports, wrk, CPU accounting)

RULE_COUNTS = [0, 10, 100, 1000]
HIT = 'rule "r0" {\n  match: path.startsWith("/small")\n  limit: { rate: 1000000000/s, burst: 1000000000 }\n}\n'
GLOBAL_HIT = ('rule "r0" {\n  match: path.startsWith("/small")\n'
              '  limit: { rate: 1000000/s, burst: 1000000, scope: global, on_store_failure: allow }\n}\n')


def rules_text(count: int) -> str:
    if count == 0:
        return "# no rules\n"
    others = [f'rule "r{i}" {{\n  match: method == "GET" && path.startsWith("/svc{i}/")\n'
              f'  limit: {{ rate: 1000/s, burst: 1000 }}\n}}\n' for i in range(1, count)]
    return HIT + "".join(others)


def config(port: int, admin: int, origin: int, rules: str | None, store: str = "") -> str:
    filters = "      - type: flow_control\n" if rules else ""
    flow = f'flow_control:\n  rules: "{rules}"\n' + (f"  store: {{ {store} }}\n" if store else "") if rules else ""
    return f"""admin: {{ address: "127.0.0.1:{admin}" }}
{flow}listeners:
  - name: h1
    address: "127.0.0.1:{port}"
    protocol: http
    filters:
{filters}      - type: router
        config:
          virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
                - match: {{ prefix: "/" }}
                  route: {{ cluster: origin }}
clusters:
  - name: origin
    endpoints: [ {{ address: "127.0.0.1:{origin}" }} ]
"""


class FlowBench:
    def __init__(self, args):
        self.args = args
        self.processes = b.ProcessSet("herz-flow-bench-")
        self.tmp = self.processes.tmp
        self.start = self.processes.start
        self.variants: dict[str, dict] = {}

    def start_all(self):
        origin, redis = b.free_ports(2)
        upstream = os.path.join(b.REPO, ".build", "release", "herz-demo-upstream")
        self.start("origin", ["taskset", "-c", b.LOAD_CORE, upstream, "--port", str(origin), "--threads", "1"], origin)
        self.start("redis", ["taskset", "-c", b.LOAD_CORE, "redis-server", "--port", str(redis), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", self.tmp, "--loglevel", "warning"], redis)
        kernel = os.path.join(b.REPO, ".build", "release", "herz-kernel")
        plans = [("no filter", None, "")] + [(f"{n} rules", rules_text(n), "") for n in RULE_COUNTS]
        if self.args.latency:
            plans += [("global (leases)", GLOBAL_HIT, f'address: "127.0.0.1:{redis}"'),
                      ("global (store call per request)", GLOBAL_HIT, f'address: "127.0.0.1:{redis}", max_batch: 1')]
        for index, (name, rules, store) in enumerate(plans):
            port, admin = b.free_ports(2)
            rules_path = None
            if rules is not None:
                rules_path = os.path.join(self.tmp, f"rules-{index}.flow")
                with open(rules_path, "w") as f:
                    f.write(rules)
            conf = os.path.join(self.tmp, f"herz-{index}.yaml")
            with open(conf, "w") as f:
                f.write(config(port, admin, origin, rules_path, store))
            server = self.start(f"herz-{index}", ["taskset", "-c", b.PROXY_CORE, kernel, "--config", conf, "--workers", "1",
                                                  "--log-level", "warning"], port)
            url = f"http://127.0.0.1:{port}/small"
            ok, detail = b.check_url(url, 13, h2=False)
            if not ok:
                raise SystemExit(f"{name}: wrong answer: {detail}\n{server.log_tail()}")
            self.variants[name] = {"server": server, "url": url}
        b.log(f"variants: {', '.join(self.variants)}")

    def throughput(self, name) -> dict:
        variant = self.variants[name]
        b.run_wrk(variant["url"], self.args.warmup, self.args.connections) if self.args.warmup else None
        pids = variant["server"].pids()
        before, t0 = b.cpu_ticks(pids), time.monotonic()
        res = b.run_wrk(variant["url"], self.args.duration, self.args.connections)
        after, t1 = b.cpu_ticks(pids), time.monotonic()
        cpu_s = sum(after[p] - before[p] for p in before if p in after) / b.CLK_TCK
        res["cpu_pct"] = 100.0 * cpu_s / (t1 - t0)
        res["cpu_ns_per_req"] = 1e9 * cpu_s / res["requests"] if res["requests"] else None
        return res

    def latency(self, name) -> dict:
        return b.run_wrk(self.variants[name]["url"], self.args.duration, 1)


def report(args, thr: dict, lat: dict, meta: dict) -> str:
    out = [f"# flow_control cost ({meta['date']}, commit {meta['commit']})", "",
           f"Release build, `--workers 1` pinned to core 0; origin, redis and wrk on core 1. {args.rounds} round(s) of "
           f"{args.duration} s per variant, interleaved; medians. Load average at start: {meta['loadavg']}.", ""]
    def cpu_ns(runs):
        return b.median([r.get("cpu_ns_per_req") for r in runs])

    base_rps, base_cpu = b.summarize(thr["no filter"]).get("rps"), cpu_ns(thr["no filter"])
    rows = []
    for name, runs in thr.items():
        s = b.summarize(runs)
        cpu = cpu_ns(runs)
        least = min((r["cpu_ns_per_req"] for r in runs if r.get("cpu_ns_per_req")), default=None)
        base_least = min((r["cpu_ns_per_req"] for r in thr["no filter"] if r.get("cpu_ns_per_req")), default=None)
        rows.append([name, b.fmt_num(s.get("rps")), b.fmt_ratio(b.ratio(s.get("rps"), base_rps)),
                     b.fmt_num(cpu), "-" if name == "no filter" or cpu is None or base_cpu is None else f"{cpu - base_cpu:+.0f}",
                     b.fmt_num(least), "-" if name == "no filter" or least is None or base_least is None else f"{least - base_least:+.0f}",
                     b.fmt_num(s.get("cpu_pct")), str(sum(r.get("errors", 0) for r in runs))])
    out += ["## Throughput (wrk, 64 connections, GET /small)", "",
            b.table(["variant", "req/s", "vs no filter", "CPU ns/req (median)", "added", "CPU ns/req (best round)", "added",
                     "CPU %", "errors"], rows, True), ""]
    thousand = b.summarize(thr["1000 rules"]).get("rps")
    ratio = b.ratio(thousand, base_rps)
    if ratio is not None:
        out.append(f"1,000 rules: {ratio:.3f} of the no-filter req/s (target ≥ 0.90: {'met' if ratio >= 0.9 else 'NOT met'}).")
        out.append("")
    if lat:
        rows = []
        local = b.summarize(lat["1 rule (local)"]) if "1 rule (local)" in lat else None
        for name, runs in lat.items():
            s = b.summarize(runs)
            added = None if local is None or s.get("p99") is None else (s["p99"] - local["p99"]) * 1000
            rows.append([name, b.fmt_num(s["p50"] * 1000 if s.get("p50") is not None else None),
                         b.fmt_num(s["p99"] * 1000 if s.get("p99") is not None else None), "-" if added is None else f"{added:+.0f}",
                         str(sum(r.get("errors", 0) for r in runs))])
        out += ["## Latency (wrk, 1 connection: no queueing)", "",
                b.table(["variant", "p50 µs", "p99 µs", "p99 added vs local (µs)", "errors"], rows, True), ""]
    return "\n".join(out) + "\n"


def main(argv) -> int:
    p = argparse.ArgumentParser(prog="bench/flow", description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=int, default=10, help="seconds per measured run (default 10)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up seconds before each throughput run (default 1)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections for throughput (default 64)")
    p.add_argument("--no-latency", dest="latency", action="store_false", help="skip the global-vs-local latency runs")
    args = p.parse_args(argv)
    bench = FlowBench(args)
    meta = b.run_meta()
    bench.start_all()
    names = ["no filter"] + [f"{n} rules" for n in RULE_COUNTS]
    thr = {name: [] for name in names}
    lat_names = {"1 rule (local)": "10 rules", "global (leases)": "global (leases)",
                 "global (store call per request)": "global (store call per request)"} if args.latency else {}
    lat = {name: [] for name in lat_names}
    for round_number in range(args.rounds):
        for name in names:
            res = bench.throughput(name)
            b.log(f"round {round_number + 1}: {name}: {res['rps']:.0f} req/s, {res['cpu_ns_per_req'] or 0:.0f} CPU ns/req")
            thr[name].append(res)
        for label, name in lat_names.items():
            res = bench.latency(name)
            b.log(f"round {round_number + 1}: {label}: p50 {res['p50']:.3f} ms, p99 {res['p99']:.3f} ms")
            lat[label].append(res)
    text = report(args, thr, lat, meta)
    b.save_report("flow", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
