#!/usr/bin/env python3
"""Cost of distributed tracing (driven by bench/tracing): req/s of the same kernel with `tracing:`
off, at 1 % and at 100 % sampling, side by side in one run. Targets: 1 % costs under 3 % of the
req/s, 100 % under 15 %.

Every kernel variant runs one worker pinned to core 0 (release build); the origin
(herz-demo-upstream), the OTLP sink and wrk share core 1, as in bench/run. The sink answers every
export with 200 without decoding it (the collector's cost is not Herz's). Variants are measured
interleaved, round after round; the median of the rounds is reported.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as b  # noqa: E402 - the shared helpers (servers, ports, wrk, CPU accounting)

VARIANTS = [("tracing off", None), ("1% sampled", 0.01), ("100% sampled", 1.0)]


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    spans_bytes = 0

    def log_message(self, *args):
        pass

    def do_POST(self):
        Sink.spans_bytes += len(self.rfile.read(int(self.headers.get("content-length", 0))))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()


def config(port: int, admin: int, origin: int, sink: int, ratio: float | None) -> str:
    tracing = (f'tracing:\n  otlp_endpoint: "http://127.0.0.1:{sink}/v1/traces"\n  sampling_ratio: {ratio}\n'
               f'  max_queue_spans: 65536\n  max_batch_spans: 2048\n  export_interval: 200ms\n') if ratio is not None else ""
    return f"""admin: {{ address: "127.0.0.1:{admin}" }}
{tracing}listeners:
  - name: h1
    address: "127.0.0.1:{port}"
    protocol: http
    filters:
      - type: router
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


def main(argv) -> int:
    p = argparse.ArgumentParser(prog="bench/tracing", description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=int, default=10, help="seconds per measured run (default 10)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up seconds before each run (default 1)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    args = p.parse_args(argv)
    processes = b.ProcessSet("herz-tracing-bench-")
    tmp = processes.tmp

    os.sched_setaffinity(0, {int(b.LOAD_CORE)})  # the sink thread runs in this process
    sink = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    origin = b.free_ports(1)[0]
    upstream = os.path.join(b.REPO, ".build", "release", "herz-demo-upstream")
    processes.start("origin", ["taskset", "-c", b.LOAD_CORE, upstream, "--port", str(origin), "--threads", "1"], origin)
    kernel = os.path.join(b.REPO, ".build", "release", "herz-kernel")
    variants = {}
    for index, (name, ratio) in enumerate(VARIANTS):
        port, admin = b.free_ports(2)
        conf = os.path.join(tmp, f"herz-{index}.yaml")
        with open(conf, "w") as f:
            f.write(config(port, admin, origin, sink.server_address[1], ratio))
        server = processes.start(f"herz-{index}", ["taskset", "-c", b.PROXY_CORE, kernel, "--config", conf, "--workers", "1",
                                                   "--log-level", "warning"], port)
        url = f"http://127.0.0.1:{port}/small"
        ok, detail = b.check_url(url, 13, h2=False)
        if not ok:
            raise SystemExit(f"{name}: wrong answer: {detail}\n{server.log_tail()}")
        variants[name] = {"server": server, "url": url}

    meta = b.run_meta()
    results = {name: [] for name in variants}
    for round_number in range(args.rounds):
        for name, variant in variants.items():
            if args.warmup:
                b.run_wrk(variant["url"], args.warmup, args.connections)
            pids = variant["server"].pids()
            before, t0 = b.cpu_ticks(pids), time.monotonic()
            res = b.run_wrk(variant["url"], args.duration, args.connections)
            after, t1 = b.cpu_ticks(pids), time.monotonic()
            cpu_s = sum(after[p] - before[p] for p in before if p in after) / b.CLK_TCK
            res["cpu_ns_per_req"] = 1e9 * cpu_s / res["requests"] if res["requests"] else None
            b.log(f"round {round_number + 1}: {name}: {res['rps']:.0f} req/s, {res['cpu_ns_per_req'] or 0:.0f} CPU ns/req")
            results[name].append(res)

    base = b.summarize(results["tracing off"]).get("rps")
    rows = []
    for name, runs in results.items():
        s = b.summarize(runs)
        rows.append([name, b.fmt_num(s.get("rps")), b.fmt_ratio(b.ratio(s.get("rps"), base)),
                     b.fmt_num(b.median([r.get("cpu_ns_per_req") for r in runs])), str(sum(r.get("errors", 0) for r in runs))])
    out = [f"# Tracing cost ({meta['date']}, commit {meta['commit']})", "",
           f"Release build, `--workers 1` pinned to core 0; origin, OTLP sink and wrk on core 1. {args.rounds} round(s) of "
           f"{args.duration} s per variant, interleaved; medians. wrk, {args.connections} connections, GET /small. "
           f"Load average at start: {meta['loadavg']}.", "",
           b.table(["variant", "req/s", "vs off", "CPU ns/req", "errors"], rows, True), ""]
    for name, target in (("1% sampled", 0.97), ("100% sampled", 0.85)):
        r = b.ratio(b.summarize(results[name]).get("rps"), base)
        if r is not None:
            out.append(f"{name}: {r:.3f} of the tracing-off req/s (target ≥ {target}: {'met' if r >= target else 'NOT met'}).")
    out.append(f"OTLP bytes received by the sink: {Sink.spans_bytes}.")
    text = "\n".join(out) + "\n"
    b.save_report("tracing", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
