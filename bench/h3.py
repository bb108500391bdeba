#!/usr/bin/env python3
"""HTTP/3 through Herz vs Caddy (driven by bench/h3): requests/s, MB/s and server CPU per request,
side by side in one run, with HTTP/2 over TLS (h2load) on the same routes for comparison.

Load client: ngtcp2's own example client `gtlsclient` (Debian's ngtcp2-client, C, ngtcp2 0.12 +
GnuTLS; h2load 1.52 in Debian is built without HTTP/3 and curl without QUIC). One gtlsclient
process is one QUIC connection sending `-n N` requests for the same URL with as many streams in
flight as the server allows (100 here); `--clients` processes run at once. It is a test client,
not a load generator: it can be the bottleneck, so besides req/s the report gives each server's
CPU time per request and "req/s per server core" (requests / server CPU-seconds), which does not
depend on the client being fast enough, and the load core's busy share.

Pinning as in bench/run: the proxies (Herz `--workers 1`, Caddy `GOMAXPROCS=1`) on core 0; the
origin (herz-demo-upstream, 1 thread) and the clients on core 1. Variants are measured
interleaved, round after round; medians are reported.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as b  # noqa: E402 - the shared helpers (servers, ports, CPU accounting, h2load)

TARGET_PER_CORE_VS_CADDY = 1.0
WORKLOADS = [("13B", "/small", 13), ("1MiB", "/bytes/1048576", 1024 * 1024)]

HERZ_CONFIG = """admin: {{ address: "127.0.0.1:{admin}" }}
listeners:
  - name: h3
    address: "127.0.0.1:{port}"
    protocol: quic
    tls: {{ cert: "{cert}", key: "{key}" }}
    limits: {{ max_concurrent_streams: 100 }}
    quic: {{ retry: off }}
    filters: &filters
      - type: router
        config:
          virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
                - match: {{ prefix: "/" }}
                  route: {{ cluster: origin }}
  - name: h2
    address: "127.0.0.1:{port}"
    protocol: https
    tls: {{ cert: "{cert}", key: "{key}" }}
    limits: {{ max_concurrent_streams: 100 }}
    filters: *filters
clusters:
  - name: origin
    endpoints: [ {{ address: "127.0.0.1:{origin}" }} ]
"""

CADDY_CONFIG = """{{
	admin off
	auto_https off
	default_sni localhost
	servers {{
		protocols h1 h2 h3
	}}
}}
:{port} {{
	bind 127.0.0.1
	tls {cert} {key}
	reverse_proxy 127.0.0.1:{origin} {{
		transport http {{
			keepalive 120s
			keepalive_idle_conns 256
			keepalive_idle_conns_per_host 128
		}}
	}}
}}
"""


class H3Bench:
    def __init__(self, args):
        self.args = args
        self.processes = b.ProcessSet("herz-h3-bench-")
        self.tmp = self.processes.tmp
        self.start = self.processes.start
        self.proxies: dict[str, dict] = {}

    def start_all(self):
        cert, key = os.path.join(self.tmp, "cert.pem"), os.path.join(self.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
        origin, herz_port, herz_admin, caddy_port = b.free_ports(4)
        upstream = os.path.join(b.REPO, ".build", "release", "herz-demo-upstream")
        self.start("origin", ["taskset", "-c", b.LOAD_CORE, upstream, "--port", str(origin), "--threads", "1"], origin)
        values = dict(cert=cert, key=key, origin=origin)
        conf = os.path.join(self.tmp, "herz.yaml")
        with open(conf, "w") as f:
            f.write(HERZ_CONFIG.format(port=herz_port, admin=herz_admin, **values))
        kernel = os.path.join(b.REPO, ".build", "release", "herz-kernel")
        herz = self.start("herz", ["taskset", "-c", b.PROXY_CORE, kernel, "--config", conf, "--workers", "1",
                                   "--log-level", "warning"], herz_port)
        caddyfile = os.path.join(self.tmp, "Caddyfile")
        with open(caddyfile, "w") as f:
            f.write(CADDY_CONFIG.format(port=caddy_port, **values))
        env = {"GOMAXPROCS": "1", "HOME": self.tmp, "XDG_DATA_HOME": os.path.join(self.tmp, "caddy-data"),
               "XDG_CONFIG_HOME": os.path.join(self.tmp, "caddy-config")}
        caddy = self.start("caddy", ["taskset", "-c", b.PROXY_CORE, "caddy", "run", "--adapter", "caddyfile", "--config",
                                     caddyfile], caddy_port, env)
        self.proxies = {"Herz": {"server": herz, "port": herz_port}, "Caddy": {"server": caddy, "port": caddy_port}}
        for name, proxy in self.proxies.items():
            for label, path, size in WORKLOADS:
                res = self.h3(name, path, clients=1, requests=3)
                if res["failed"]:
                    raise SystemExit(f"{name}: HTTP/3 {path} failed: {res['detail']}\n{proxy['server'].log_tail()}")

    def h3(self, name, path, clients, requests) -> dict:
        """`clients` gtlsclient processes of `requests` requests each; wall time, server CPU."""
        proxy = self.proxies[name]
        url = f"https://localhost:{proxy['port']}{path}"
        cmd = ["taskset", "-c", b.LOAD_CORE, "gtlsclient", "-q", "--no-quic-dump", "--no-http-dump",
               "--exit-on-all-streams-close", f"--timeout={self.args.timeout}s", "-n", str(requests),
               "127.0.0.1", str(proxy["port"]), url]
        pids = proxy["server"].pids()
        cores_before, before, t0 = b.core_times(), b.cpu_ticks(pids), time.monotonic()
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(clients)]
        outputs = [p.communicate(timeout=self.args.timeout * 4 + 600)[0] for p in procs]
        t1, after, cores_after = time.monotonic(), b.cpu_ticks(pids), b.core_times()
        failed = [o for p, o in zip(procs, outputs) if p.returncode != 0 or b"IDLE_CLOSE" in o or b"ERR_" in o]
        cpu_s = sum(after[p] - before[p] for p in before if p in after) / b.CLK_TCK
        total = clients * requests
        return {"requests": total, "seconds": t1 - t0, "rps": total / (t1 - t0), "cpu_s": cpu_s,
                "cpu_us_per_req": 1e6 * cpu_s / total, "per_core": total / cpu_s if cpu_s > 0 else None,
                "server_pct": 100.0 * cpu_s / (t1 - t0),
                "load_pct": b.core_busy_pct(cores_before, cores_after, b.LOAD_CORE),
                "failed": len(failed), "detail": failed[0][-400:].decode("utf-8", "replace") if failed else ""}

    def h2(self, name, path, streams) -> dict:
        proxy = self.proxies[name]
        pids = proxy["server"].pids()
        cores_before, before, t0 = b.core_times(), b.cpu_ticks(pids), time.monotonic()
        res = b.run_h2load(f"https://localhost:{proxy['port']}{path}", self.args.duration, self.args.clients, streams, None)
        t1, after, cores_after = time.monotonic(), b.cpu_ticks(pids), b.core_times()
        cpu_s = sum(after[p] - before[p] for p in before if p in after) / b.CLK_TCK
        res["server_pct"] = 100.0 * cpu_s / (t1 - t0)
        res["load_pct"] = b.core_busy_pct(cores_before, cores_after, b.LOAD_CORE)
        res["cpu_us_per_req"] = 1e6 * cpu_s / res["requests"] if res["requests"] else None
        res["per_core"] = res["requests"] / cpu_s if cpu_s > 0 else None
        return res


def report(args, results: dict, meta: dict) -> str:
    out = [f"# HTTP/3: Herz vs Caddy ({meta['date']}, commit {meta['commit']})", "",
           f"Release build; Herz `--workers 1` and Caddy (`GOMAXPROCS=1`, {meta['caddy']}) on core 0; origin and clients on "
           f"core 1. HTTP/3 client: gtlsclient (ngtcp2 {meta['ngtcp2']}), {args.clients} connections at once, "
           f"{args.requests} requests each for 13 B ({args.requests // 50} for 1 MiB); HTTP/2 rows: h2load -c{args.clients} -m100 "
           f"(-m10 for 1 MiB) -D{args.duration}. {args.rounds} round(s), interleaved; medians. Load average at start: {meta['loadavg']}.", ""]
    rows = []
    ratios = {}
    for (proto, label), by_proxy in results.items():
        for name, runs in by_proxy.items():
            def med(key):
                return b.median([r.get(key) for r in runs if r.get(key) is not None])
            rps, per_core = med("rps"), med("per_core")
            size = dict((l, s) for l, _, s in WORKLOADS)[label]
            mbps = rps * size / 1e6 if rps and size > 1000 else None
            ratios.setdefault((proto, label), {})[name] = (rps, per_core)
            rows.append([proto, label, name, b.fmt_num(rps), "-" if mbps is None else f"{mbps:.0f}",
                         b.fmt_num(med("cpu_us_per_req"), 1), b.fmt_num(per_core), b.fmt_num(med("server_pct")),
                         b.fmt_num(med("load_pct")), str(sum(r.get("failed", r.get("errors", 0)) for r in runs))])
    out += [b.table(["protocol", "response", "proxy", "req/s", "MB/s", "server CPU µs/req", "req/s per server core",
                     "server CPU %", "load core busy %", "failed"], rows, True), ""]
    out.append("Herz / Caddy:")
    for (proto, label), by_proxy in ratios.items():
        if "Herz" in by_proxy and "Caddy" in by_proxy:
            (h_rps, h_core), (c_rps, c_core) = by_proxy["Herz"], by_proxy["Caddy"]
            line = (f"- {proto} {label}: req/s {b.fmt_ratio(b.ratio(h_rps, c_rps))}, "
                    f"req/s per server core {b.fmt_ratio(b.ratio(h_core, c_core))}")
            if proto == "HTTP/3" and label == "13B" and h_core and c_core:
                met = h_core / c_core >= TARGET_PER_CORE_VS_CADDY
                line += f" (target ≥ {TARGET_PER_CORE_VS_CADDY:.1f} per core: {'met' if met else 'NOT met'})"
            out.append(line)
    out += ["", "When the load core is near 100 % busy the client (and the origin beside it) bound req/s; the per-core "
            "figure (requests per second of server CPU) is the comparison that holds either way."]
    return "\n".join(out) + "\n"


def main(argv) -> int:
    p = argparse.ArgumentParser(prog="bench/h3", description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=4, help="concurrent QUIC connections (gtlsclient processes) (default 4)")
    p.add_argument("--requests", type=int, default=5000, help="13-byte requests per connection (default 5000)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--duration", type=int, default=5, help="seconds per h2load run (default 5)")
    p.add_argument("--timeout", type=int, default=10, help="gtlsclient idle timeout, seconds (default 10)")
    p.add_argument("--no-h2", dest="h2", action="store_false", help="skip the HTTP/2 comparison rows")
    args = p.parse_args(argv)
    bench = H3Bench(args)
    meta = {**b.run_meta(),
            "caddy": b.tool_version(["caddy", "version"]).split()[0],
            "ngtcp2": subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "ngtcp2-client"], capture_output=True,
                                     text=True).stdout or "?"}
    bench.start_all()
    results: dict = {}
    for round_number in range(args.rounds):
        for label, path, size in WORKLOADS:
            requests = args.requests if size < 1000 else max(1, args.requests // 50)
            for name in bench.proxies:
                res = bench.h3(name, path, args.clients, requests)
                b.log(f"round {round_number + 1}: HTTP/3 {label} {name}: {res['rps']:.0f} req/s, "
                      f"{res['cpu_us_per_req']:.1f} server CPU µs/req, load core {res['load_pct'] or 0:.0f}% busy"
                      + (f", {res['failed']} FAILED: {res['detail']}" if res["failed"] else ""))
                results.setdefault(("HTTP/3", label), {}).setdefault(name, []).append(res)
            if args.h2:
                for name in bench.proxies:
                    # 1 MiB with 100 streams per connection would keep 400 MiB in flight, more than a run moves.
                    res = bench.h2(name, path, 100 if size < 1000 else 10)
                    b.log(f"round {round_number + 1}: HTTP/2 {label} {name}: {res['rps']:.0f} req/s")
                    results.setdefault(("HTTP/2 (TLS)", label), {}).setdefault(name, []).append(res)
    text = report(args, results, meta)
    print(text)
    b.save_report("h3", text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
