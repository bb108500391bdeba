#!/usr/bin/env python3
"""Upstream TLS vs plaintext through Herz, side by side in one run (see bench/README.md, "Upstream TLS").

One nginx origin serves the same 13-byte file on a cleartext port and on a TLS port (self-signed EC
P-256 made with openssl), pinned to core 1. One herz-kernel (1 worker, core 0) has two listeners:
`plain` → cluster over cleartext, `tls` → cluster over TLS (verification on, CA = the origin's
certificate). wrk (core 1) loads each listener in turn, alternating for `--rounds` rounds; the
median req/s of each and the ratio tls/plain are printed and written to bench/results/tls-latest.md.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def wrk(url, duration, connections):
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{duration}s", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"non-2xx responses from {url}:\n{out}")
    return rps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", default=".build/release")
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--output", default="bench/results/tls-latest.md")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="herz-bench-tls-")
    os.chmod(tmp, 0o755)   # mkdtemp makes it 0700; nginx's worker (nobody) must read www/ under it
    procs = []
    try:
        cert, key = os.path.join(tmp, "origin.crt"), os.path.join(tmp, "origin.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=origin.bench",
                        "-addext", "subjectAltName=DNS:origin.bench"], check=True, capture_output=True)
        os.makedirs(os.path.join(tmp, "www"))
        with open(os.path.join(tmp, "www", "small"), "w") as f:
            f.write("hello, world\n")
        plain_port, tls_port = free_port(), free_port()
        with open(os.path.join(tmp, "nginx.conf"), "w") as f:
            f.write(f"""
worker_processes 1; daemon off; pid {tmp}/nginx.pid; error_log {tmp}/nginx.err;
events {{ worker_connections 4096; }}
http {{
  access_log off; keepalive_requests 1000000;
  server {{ listen 127.0.0.1:{plain_port}; root {tmp}/www; }}
  server {{ listen 127.0.0.1:{tls_port} ssl; ssl_certificate {cert}; ssl_certificate_key {key};
           ssl_session_tickets on; root {tmp}/www; }}
}}
""")
        procs.append(subprocess.Popen(["taskset", "-c", "1", "nginx", "-c", os.path.join(tmp, "nginx.conf"), "-p", tmp],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        lp, lt, admin = free_port(), free_port(), free_port()
        route = '[{{ name: all, domains: ["*"], routes: [{{ match: {{ prefix: "/" }}, route: {{ cluster: {c} }} }}] }}]'
        config = f"""
admin: {{ address: "127.0.0.1:{admin}" }}
listeners:
  - {{ name: plain, address: "127.0.0.1:{lp}", protocol: http, filters: [{{ type: router, config: {{ virtual_hosts: {route.format(c='origin_plain')} }} }}] }}
  - {{ name: tls, address: "127.0.0.1:{lt}", protocol: http, filters: [{{ type: router, config: {{ virtual_hosts: {route.format(c='origin_tls')} }} }}] }}
clusters:
  - {{ name: origin_plain, endpoints: ["127.0.0.1:{plain_port}"] }}
  - {{ name: origin_tls, endpoints: ["127.0.0.1:{tls_port}"], tls: {{ sni: origin.bench, ca: "{cert}" }} }}
"""
        with open(os.path.join(tmp, "herz.yaml"), "w") as f:
            f.write(config)
        procs.append(subprocess.Popen(["taskset", "-c", "0", os.path.join(args.bin_dir, "herz-kernel"), "--config",
                                       os.path.join(tmp, "herz.yaml"), "--workers", "1"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(f"http://127.0.0.1:{lp}/small")
        wait_for(f"http://127.0.0.1:{lt}/small")
        results = {"plain": [], "tls": []}
        for r in range(args.rounds):
            order = ["plain", "tls"] if r % 2 == 0 else ["tls", "plain"]
            for name in order:
                port = lp if name == "plain" else lt
                wrk(f"http://127.0.0.1:{port}/small", 1, args.connections)  # warm-up
                results[name].append(wrk(f"http://127.0.0.1:{port}/small", args.duration, args.connections))
        plain, tls = statistics.median(results["plain"]), statistics.median(results["tls"])
        report = (f"# Upstream TLS vs plaintext through Herz\n\n"
                  f"`bench/tls --duration {args.duration} --rounds {args.rounds} --connections {args.connections}`; "
                  f"wrk -t1 -c{args.connections}, 13 B responses, HTTP/1.1 downstream, keep-alive upstream pool\n\n"
                  f"| upstream | req/s (median) | rounds |\n|---|---|---|\n"
                  f"| plaintext | {plain:,.0f} | {', '.join(f'{x:,.0f}' for x in results['plain'])} |\n"
                  f"| TLS (verify on) | {tls:,.0f} | {', '.join(f'{x:,.0f}' for x in results['tls'])} |\n\n"
                  f"ratio TLS / plaintext: **{tls / plain:.3f}**\n")
        print(report)
        os.makedirs(os.path.dirname(args.output), exist_ok=True)
        with open(args.output, "w") as f:
            f.write(report)
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
