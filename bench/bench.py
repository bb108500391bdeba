#!/usr/bin/env python3
"""Herz vs nginx vs HAProxy vs Caddy, side by side, in one run (driven by bench/run).

Every proxy runs one worker pinned to core 0; the shared origin and the load generator (wrk for
HTTP/1.1, h2load for HTTP/2 over TLS) share core 1. Proxies are measured in an interleaved order,
round after round, and the median of the rounds is reported. Python standard library only.

Everything this script writes goes to a fresh temp dir (configs, certs, logs, origin files) and to
bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import atexit
import datetime
import json
import math
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

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
CONFIGS = os.path.join(BENCH_DIR, "configs")
RESULTS = os.path.join(BENCH_DIR, "results")

PROXY_CORE = "0"
LOAD_CORE = "1"

ALL_PROXIES = ["herz", "nginx", "haproxy", "caddy"]
LABELS = {"herz": "Herz", "nginx": "nginx", "haproxy": "HAProxy", "caddy": "Caddy", "herz-base": "Herz (baseline)"}
SIZES = [("13B", 13), ("64KiB", 64 * 1024), ("1MiB", 1024 * 1024)]
PROTOCOLS = [("h1", "HTTP/1.1"), ("h2", "HTTP/2 over TLS")]

# The targets, checked for HTTP/1.1 13-byte responses.
TARGET_RPS_VS_NGINX = 0.7
TARGET_RPS_VS_CADDY = 1.0
TARGET_P99_VS_NGINX = 2.0

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Processes


class Server:
    """A long-running process (origin or proxy) in its own process group."""

    def __init__(self, name: str, cmd: list[str], workdir: str, env: dict | None = None):
        self.name = name
        self.cmd = cmd
        self.workdir = workdir
        self.env = env
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         cwd=self.workdir, env=env, start_new_session=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        else:
            # The leader is gone; make sure nothing it left behind in its group survives.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.proc = None

    def log_tail(self, lines: int = 15) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return ""

    def pids(self) -> list[int]:
        """The leader and all its descendants (e.g. nginx master + worker)."""
        if not self.alive():
            return []
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            stat = read_stat(int(entry))
            if stat is not None:
                children.setdefault(stat[0], []).append(int(entry))
        result, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            result.append(pid)
            todo.extend(children.get(pid, []))
        return result


def exit_description(server: "Server") -> str:
    code = server.proc.returncode if server.proc is not None else None
    if code is None:
        return "not running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def read_stat(pid: int):
    """(ppid, utime+stime ticks) of a process (all its threads, including exited ones), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def cpu_ticks(pids: list[int]) -> dict[int, int]:
    out = {}
    for pid in pids:
        stat = read_stat(pid)
        if stat is not None:
            out[pid] = stat[1]
    return out


def core_times() -> dict[str, tuple[int, int]]:
    """Per-core (busy, total) ticks from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                parts = line.split()
                ticks = [int(x) for x in parts[1:9]]  # user nice system idle iowait irq softirq steal
                idle = ticks[3] + ticks[4]
                out[parts[0][3:]] = (sum(ticks) - idle, sum(ticks))
    return out


def core_busy_pct(before: dict, after: dict, core: str) -> float | None:
    if core not in before or core not in after:
        return None
    busy = after[core][0] - before[core][0]
    total = after[core][1] - before[core][1]
    return 100.0 * busy / total if total > 0 else None


def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def wait_port(port: int, server: Server, timeout: float = 30.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not server.alive():
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def render(template: str, dest: str, values: dict[str, str]) -> str:
    with open(os.path.join(CONFIGS, template)) as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    leftover = re.findall(r"@@[A-Z_]+@@", text)
    if leftover:
        raise RuntimeError(f"{template}: unfilled placeholders {sorted(set(leftover))}")
    with open(dest, "w") as f:
        f.write(text)
    return dest


def tool_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        text = (out.stdout + out.stderr).strip().splitlines()
        return text[0].strip() if text else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"


# ---------------------------------------------------------------------------------------------
# Setup


class Bench:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="herz-bench-")
        os.chmod(self.tmp, 0o755)
        self.servers: list[Server] = []
        self.proxies: dict[str, dict] = {}  # name -> {server, port, tls_port}
        self.failed: dict[str, str] = {}    # name -> reason
        self.origin: Server | None = None
        self.paths: dict[int, str] = {}     # body size -> URL path on the origin
        self.user_line = "user root root;" if os.geteuid() == 0 else ""

    def cleanup(self) -> None:
        for server in reversed(self.servers):
            server.stop()
        self.servers = []
        if self.args.keep_tmp:
            log(f"temp dir kept: {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def make_cert(self) -> None:
        self.cert = os.path.join(self.tmp, "cert.pem")
        self.key = os.path.join(self.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, capture_output=True)
        self.cert_and_key = os.path.join(self.tmp, "cert+key.pem")
        with open(self.cert_and_key, "w") as out:
            for path in (self.cert, self.key):
                with open(path) as f:
                    out.write(f.read())
        for path in (self.cert, self.key, self.cert_and_key):
            os.chmod(path, 0o644)

    def start_origin(self) -> None:
        (self.origin_port,) = free_ports(1)
        if self.args.origin == "nginx":
            www = os.path.join(self.tmp, "www")
            os.makedirs(www)
            for label, size in SIZES:
                body = b"Hello, world\n" if size == 13 else bytes((i * 7 + 13) % 251 for i in range(size))
                assert len(body) == size
                with open(os.path.join(www, label), "wb") as f:
                    f.write(body)
                self.paths[size] = "/" + label
            for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
                os.makedirs(os.path.join(self.tmp, "origin-tmp", sub))
            conf = render("origin-nginx.conf", os.path.join(self.tmp, "origin-nginx.conf"),
                          {"USER": self.user_line, "DIR": self.tmp, "ORIGIN_PORT": str(self.origin_port)})
            cmd = ["taskset", "-c", LOAD_CORE, "nginx", "-p", self.tmp, "-e", os.path.join(self.tmp, "origin.error.log"),
                   "-c", conf]
        else:
            binary = os.path.join(REPO, ".build", "release", "herz-demo-upstream")
            if not os.access(binary, os.X_OK):
                raise SystemExit(f"--origin demo: {binary} is missing (run without --no-build)")
            self.paths = {13: "/small", 64 * 1024: f"/bytes/{64 * 1024}", 1024 * 1024: f"/bytes/{1024 * 1024}"}
            cmd = ["taskset", "-c", LOAD_CORE, binary, "--port", str(self.origin_port), "--threads", "1"]
        self.origin = Server("origin", cmd, self.tmp)
        self.origin.start()
        self.servers.append(self.origin)
        if not wait_port(self.origin_port, self.origin):
            raise SystemExit(f"origin did not start:\n{self.origin.log_tail()}")
        for _, size in SIZES:
            ok, detail = check_url(f"http://127.0.0.1:{self.origin_port}{self.paths[size]}", size, h2=False)
            if not ok:
                raise SystemExit(f"origin answers wrongly for {self.paths[size]}: {detail}")
        log(f"origin ({self.args.origin}) on 127.0.0.1:{self.origin_port}, core {LOAD_CORE}")

    def proxy_command(self, name: str, port: int, tls_port: int, admin_port: int):
        values = {"USER": self.user_line, "DIR": self.tmp, "PORT": str(port), "TLS_PORT": str(tls_port),
                  "ADMIN_PORT": str(admin_port), "ORIGIN_PORT": str(self.origin_port), "CERT": self.cert,
                  "KEY": self.key, "CERT_AND_KEY": self.cert_and_key}
        pin = ["taskset", "-c", PROXY_CORE]
        if name == "nginx":
            for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
                os.makedirs(os.path.join(self.tmp, "nginx-proxy-tmp", sub), exist_ok=True)
            conf = render("nginx.conf", os.path.join(self.tmp, "nginx-proxy.conf"), values)
            return pin + ["nginx", "-p", self.tmp, "-e", os.path.join(self.tmp, "nginx-proxy.error.log"), "-c", conf], None
        if name == "haproxy":
            conf = render("haproxy.cfg", os.path.join(self.tmp, "haproxy.cfg"), values)
            return pin + ["haproxy", "-db", "-f", conf], None
        if name == "caddy":
            conf = render("Caddyfile", os.path.join(self.tmp, "Caddyfile"), values)
            env = {"GOMAXPROCS": "1", "HOME": self.tmp, "XDG_DATA_HOME": os.path.join(self.tmp, "caddy-data"),
                   "XDG_CONFIG_HOME": os.path.join(self.tmp, "caddy-config")}
            return pin + ["caddy", "run", "--adapter", "caddyfile", "--config", conf], env
        if name in ("herz", "herz-base"):
            binary = os.path.join(REPO, ".build", "release", "herz-kernel") if name == "herz" else self.args.baseline_herz
            if not os.access(binary, os.X_OK):
                raise RuntimeError(f"{binary} is missing (build it, or run bench/run without --no-build)")
            conf = render("herz.yaml", os.path.join(self.tmp, "herz.yaml"), values)
            env = None
            if self.args.allocs:
                env = {"LD_PRELOAD": build_malloc_counter(self.tmp), "MCOUNT_FILE": os.path.join(self.tmp, f"{name}.mallocs")}
            return pin + [binary, "--config", conf, "--workers", "1", "--log-level", "warning"], env
        raise ValueError(name)

    def start_proxies(self) -> None:
        for name in self.args.proxies:
            port, tls_port, admin_port = free_ports(3)
            try:
                cmd, env = self.proxy_command(name, port, tls_port, admin_port)
            except Exception as e:  # noqa: BLE001 - report and carry on with the others
                self.failed[name] = f"not started: {e}"
                log(f"{LABELS[name]}: {self.failed[name]}")
                continue
            server = Server(name, cmd, self.tmp, env)
            server.start()
            self.servers.append(server)
            if not (wait_port(port, server) and wait_port(tls_port, server)):
                self.failed[name] = "did not start (no listening port); log tail:\n" + server.log_tail()
                log(f"{LABELS[name]}: {self.failed[name]}")
                server.stop()
                continue
            problems = []
            for _, size in self.sizes():
                for proto in self.protocols():
                    url = self.url(name, port, tls_port, proto, size)
                    ok, detail = check_url(url, size, h2=(proto == "h2"))
                    if not ok:
                        problems.append(f"{proto} {size} B: {detail}")
            if problems:
                self.failed[name] = "answered wrongly: " + "; ".join(problems)
                log(f"{LABELS[name]}: {self.failed[name]}\n{server.log_tail()}")
                server.stop()
                continue
            self.proxies[name] = {"server": server, "port": port, "tls_port": tls_port, "pids": server.pids()}
            log(f"{LABELS[name]} on :{port} (h1) :{tls_port} (h2/TLS), core {PROXY_CORE}, pids {self.proxies[name]['pids']}")

    def sizes(self):
        return [s for s in SIZES if s[0] in self.args.sizes]

    def protocols(self):
        return [p for p, _ in PROTOCOLS if p in self.args.protocols]

    def url(self, name, port, tls_port, proto, size) -> str:
        path = self.paths[size]
        return f"http://127.0.0.1:{port}{path}" if proto == "h1" else f"https://127.0.0.1:{tls_port}{path}"


def check_url(url: str, size: int, h2: bool) -> tuple[bool, str]:
    cmd = ["curl", "-s", "-o", "/dev/null", "--max-time", "10", "-w", "%{http_code} %{size_download} %{http_version}"]
    if h2:
        cmd += ["--http2", "-k"]
    try:
        out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=15).stdout.split()
    except subprocess.TimeoutExpired:
        return False, "curl timed out"
    if len(out) != 3:
        return False, f"curl failed ({' '.join(out) or 'no output'})"
    status, got, version = out
    want_version = "2" if h2 else "1.1"
    if status != "200" or int(got) != size or version != want_version:
        return False, f"status {status}, {got} bytes, HTTP/{version} (want 200, {size} bytes, HTTP/{want_version})"
    return True, "ok"


# ---------------------------------------------------------------------------------------------
# Load runs

TIME_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def wrk_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * TIME_UNITS[m.group(2)]


def run_wrk(url: str, duration: int, connections: int) -> dict:
    cmd = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    text = out.stdout + out.stderr
    res = {"tool": "wrk", "raw": text}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", text)
    rps = re.search(r"Requests/sec:\s*([\d.]+)", text)
    if not (m and rps):
        raise RuntimeError(f"cannot parse wrk output:\n{text}")
    res["requests"] = int(m.group(1))
    res["rps"] = float(rps.group(1))
    for pct in ("50", "99"):
        pm = re.search(rf"^\s*{pct}(?:\.0+)?%\s+(\S+)", text, re.M)
        res[f"p{pct}"] = wrk_ms(pm.group(1)) if pm else None
    errors = 0
    sm = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if sm:
        errors += sum(int(x) for x in sm.groups())
    nm = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if nm:
        errors += int(nm.group(1))
    res["errors"] = errors
    return res


def run_h2load(url: str, duration: int, clients: int, streams: int, log_file: str | None) -> dict:
    cmd = ["taskset", "-c", LOAD_CORE, "h2load", f"-c{clients}", f"-m{streams}", "-D", str(duration)]
    if log_file:
        cmd.append(f"--log-file={log_file}")
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=duration + 60)
    text = out.stdout + out.stderr
    res = {"tool": "h2load", "raw": text}
    fm = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text)
    rm = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout",
                   text)
    if not (fm and rm):
        raise RuntimeError(f"cannot parse h2load output:\n{text}")
    res["rps"] = float(fm.group(1))
    res["requests"] = int(rm.group(2))
    res["errors"] = int(rm.group(3)) + int(rm.group(4)) + int(rm.group(5))
    am = re.search(r"Application protocol: (\S+)", text)
    if not am or am.group(1) != "h2":
        res["errors"] += 1
        res["note"] = f"negotiated {am.group(1) if am else 'nothing'}, not h2"
    cm = re.search(r"Cipher: (\S+)", text)
    res["cipher"] = cm.group(1) if cm else "?"
    res["p50"] = res["p99"] = None
    if log_file and os.path.exists(log_file):
        durations = []
        with open(log_file) as f:
            for line in f:
                parts = line.split("\t")
                if len(parts) >= 3:
                    durations.append(int(parts[2]))
        os.unlink(log_file)
        if durations:
            durations.sort()
            res["p50"] = percentile(durations, 50) / 1000.0
            res["p99"] = percentile(durations, 99) / 1000.0
    return res


def percentile(sorted_values: list, pct: float):
    # Nearest rank.
    k = max(0, min(len(sorted_values) - 1, math.ceil(pct / 100.0 * len(sorted_values)) - 1))
    return sorted_values[k]


def measure(bench: Bench, name: str, proto: str, size: int, duration: int, warmup: int) -> dict:
    info = bench.proxies[name]
    url = bench.url(name, info["port"], info["tls_port"], proto, size)
    a = bench.args

    def load(d: int, log_file: str | None):
        if proto == "h1":
            return run_wrk(url, d, a.connections)
        return run_h2load(url, d, a.h2_clients, a.h2_streams, log_file)

    if warmup > 0:
        load(warmup, None)
    pids = info["server"].pids() or info["pids"]
    before, cores_before, t0 = cpu_ticks(pids), core_times(), time.monotonic()
    res = load(duration, os.path.join(bench.tmp, "h2load.log") if proto == "h2" else None)
    after, cores_after, t1 = cpu_ticks(pids), core_times(), time.monotonic()
    ticks = sum(after[p] - before[p] for p in before if p in after)
    cpu_s = ticks / CLK_TCK
    res["cpu_pct"] = 100.0 * cpu_s / (t1 - t0)
    # Noise and bottleneck indicators: core 0's busy time not spent in the proxy (other work, or
    # softirq time the kernel does not charge to the proxy), and how busy core 1 (load + origin) was.
    core0 = core_busy_pct(cores_before, cores_after, PROXY_CORE)
    res["core0_other_pct"] = max(0.0, core0 - res["cpu_pct"]) if core0 is not None else None
    res["core1_pct"] = core_busy_pct(cores_before, cores_after, LOAD_CORE)
    res["cpu_us_per_req"] = 1e6 * cpu_s / res["requests"] if res["requests"] else None
    # req/s per fully used core: what the proxy would do at 100% of core 0 with this CPU cost.
    res["rps_per_core"] = 1e6 / res["cpu_us_per_req"] if res["cpu_us_per_req"] else None
    if not info["server"].alive():
        res["errors"] += 1
        res["note"] = "proxy exited during the run"
    return res


def build_malloc_counter(tmp: str) -> str:
    """Compiles bench/malloc-count.c (with the Swift toolchain's clang) into the temp dir; returns the .so path."""
    out = os.path.join(tmp, "malloc-count.so")
    if not os.path.exists(out):
        cc = shutil.which("clang") or shutil.which("cc")
        subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", out, os.path.join(REPO, "bench", "malloc-count.c")], check=True)
    return out


def count_allocations(bench: Bench, name: str, requests: int = 8000, connections: int = 8) -> float | None:
    """Heap allocations per proxied HTTP/1.1 13-byte GET: the LD_PRELOAD counter's total before and
    after `requests` keep-alive requests (Python clients, `connections` in parallel; responses checked)."""
    import http.client
    import threading
    info = bench.proxies[name]
    pid, path = info["server"].pids()[-1], os.path.join(bench.tmp, f"{name}.mallocs")
    target = bench.paths[13]

    def load(n: int) -> None:
        def worker(k: int) -> None:
            c = http.client.HTTPConnection("127.0.0.1", info["port"], timeout=30)
            for _ in range(k):
                c.request("GET", target)
                r = c.getresponse()
                if r.status != 200 or len(r.read()) != 13:
                    raise RuntimeError(f"{name}: bad response {r.status}")
            c.close()
        threads = [threading.Thread(target=worker, args=(n // connections,)) for _ in range(connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def total() -> int:
        if os.path.exists(path):
            os.remove(path)
        os.kill(pid, signal.SIGUSR2)
        for _ in range(50):
            if os.path.exists(path) and open(path).read().endswith("\n"):
                return int(open(path).read())
            time.sleep(0.05)
        raise RuntimeError(f"{name}: the malloc counter did not answer (is it loaded?)")

    load(1000)  # warm: connection pools, metric handles, buffers
    before = total()
    load(requests)
    return (total() - before) / requests


def profile_herz(bench: Bench, duration: int, warmup: int, top: int = 25) -> str | None:
    """perf record (software cpu-clock event: works without hardware counters) of herz-kernel while
    wrk drives HTTP/1.1 13-byte load; returns the top symbols by self time, demangled."""
    if not shutil.which("perf"):
        log("--profile: perf is not installed (apt-get install linux-perf)")
        return None
    name = "herz" if "herz" in bench.proxies else "herz-base"
    info = bench.proxies[name]
    url = bench.url(name, info["port"], info["tls_port"], "h1", 13)
    data = os.path.join(bench.tmp, "perf.data")
    if warmup > 0:
        run_wrk(url, warmup, bench.args.connections)
    pid = info["server"].pids()[-1]
    perf = subprocess.Popen(["taskset", "-c", LOAD_CORE, "perf", "record", "-e", "cpu-clock", "-F", "999", "-g", "-p", str(pid),
                             "-o", data], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    time.sleep(0.3)
    r = run_wrk(url, duration, bench.args.connections)
    perf.send_signal(signal.SIGINT)
    try:
        _, err = perf.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        perf.kill()
        return None
    if not os.path.exists(data):
        log(f"--profile: perf record failed: {err.decode(errors='replace')[-500:]}")
        return None
    rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso,symbol", "-g", "none",
                          "--percent-limit", "0.1"], capture_output=True, text=True, timeout=300).stdout
    lines = [l for l in rep.splitlines() if re.match(r"\s+[\d.]+%", l)][:top]
    def demangle(text_lines):
        if not shutil.which("swift") or not text_lines:
            return text_lines
        dem = subprocess.run(["swift", "demangle", "--simplified"], input="\n".join(text_lines), capture_output=True,
                             text=True, timeout=60)
        return dem.stdout.splitlines() if dem.returncode == 0 and dem.stdout.strip() else text_lines
    samples = re.search(r"# Samples: (\S+) of event", rep)
    by_dso = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso", "-g", "none",
                             "--percent-limit", "1"], capture_output=True, text=True, timeout=300).stdout
    dso_lines = [l.strip() for l in by_dso.splitlines() if re.match(r"\s+[\d.]+%", l)]
    own = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "symbol", "-g", "none",
                          "--dsos", "herz-kernel", "--percentage", "absolute"], capture_output=True, text=True,
                         timeout=300).stdout
    own_lines = [l for l in own.splitlines() if re.match(r"\s+[\d.]+%", l)][:15]
    lines, own_lines = demangle(lines), demangle(own_lines)
    head = (f"Herz profile: perf record -e cpu-clock -F 999 -g, HTTP/1.1 13 B, wrk -c{bench.args.connections} {duration} s "
            f"({r['rps']:,.0f} req/s under perf; {samples.group(1) if samples else '?'} samples); top {top} symbols by self time:")
    return (head + "\n" + "\n".join(l[:200].rstrip() for l in lines) + "\n"
            + "by shared object (≥ 1%): " + "; ".join(" ".join(l.split()) for l in dso_lines) + "\n"
            + "top 15 symbols inside herz-kernel (Herz, SwiftNIO and other statically linked Swift code; % of all samples):\n"
            + "\n".join(l[:200].rstrip() for l in own_lines) + "\n")


# ---------------------------------------------------------------------------------------------
# Report


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_num(v, digits=0):
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}"


def fmt_ms(v):
    if v is None:
        return "n/a"
    return f"{v:.2f} ms" if v < 100 else f"{v:.0f} ms"


def fmt_ratio(v):
    return "n/a" if v is None else f"{v:.2f}x"


def ratio(a, b):
    return a / b if a is not None and b else None


def summarize(runs: list[dict]) -> dict:
    keys = ("rps", "p50", "p99", "cpu_us_per_req", "cpu_pct", "rps_per_core", "core0_other_pct", "core1_pct")
    out = {k: median([r.get(k) for r in runs]) for k in keys}
    out["errors"] = sum(r.get("errors", 0) for r in runs)
    out["rounds"] = len(runs)
    out["notes"] = sorted({r["note"] for r in runs if r.get("note")})
    out["cipher"] = next((r["cipher"] for r in runs if r.get("cipher")), None)
    return out


def table(headers: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    def line(cells):
        return "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(cells))
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def report(bench: Bench, results: dict, meta: dict, markdown: bool) -> str:
    out = []
    h = "## " if markdown else "== "
    out.append(f"{'# ' if markdown else ''}Herz proxy benchmark — {meta['date']}")
    out.append("")
    meta_lines = [
        f"commit {meta['commit']} (checkout at run time); herz-kernel binary built {meta['herz_built']}; "
        f"{meta['cores']} cores; load average before: {meta['loadavg']}",
        f"each proxy: 1 worker pinned to core {PROXY_CORE}; origin ({meta['origin']}) and load generator on core {LOAD_CORE}",
        f"HTTP/1.1: wrk -t1 -c{bench.args.connections} -d{meta['duration']}s --latency; "
        f"HTTP/2 over TLS: h2load -c{bench.args.h2_clients} -m{bench.args.h2_streams} -D {meta['duration']}",
        f"warm-up {meta['warmup']} s before each run; {meta['rounds']} round(s), proxies interleaved, median of rounds shown",
        f"versions: {meta['versions']}",
    ]
    out += [("- " if markdown else "") + line for line in meta_lines]
    out.append("")
    for name, reason in bench.failed.items():
        first = reason.splitlines()[0]
        out.append(f"{'- ' if markdown else ''}{LABELS[name]}: FAILED — {first}")
    if bench.failed:
        out.append("")
    headers = ["proxy", "req/s", "p50", "p99", "CPU µs/req", "CPU %", "req/s/core", "core0 other", "core1", "errors"]
    unsaturated = False
    for proto, proto_label in PROTOCOLS:
        for size_label, size in SIZES:
            key = f"{proto}/{size_label}"
            if key not in results:
                continue
            rows = []
            for name in bench.args.proxies:
                s = results[key].get(name)
                if s is None:
                    why = "not measured" if name not in bench.failed else "FAILED (see above)"
                    rows.append([LABELS[name], why] + [""] * (len(headers) - 2))
                    continue
                mark = ""
                if s["cpu_pct"] is not None and s["cpu_pct"] < 90:
                    mark, unsaturated = "*", True
                rows.append([LABELS[name], fmt_num(s["rps"]), fmt_ms(s["p50"]), fmt_ms(s["p99"]),
                             fmt_num(s["cpu_us_per_req"], 1), fmt_num(s["cpu_pct"]) + "%" + mark,
                             fmt_num(s["rps_per_core"]), fmt_num(s["core0_other_pct"]) + "%", fmt_num(s["core1_pct"]) + "%",
                             str(s["errors"]) + (" " + "; ".join(s["notes"]) if s["notes"] else "")])
            cipher = next((s["cipher"] for s in results[key].values() if s and s.get("cipher")), None)
            title = f"{proto_label}, {size_label} responses" + (f" (TLS cipher: {cipher})" if cipher else "")
            out.append(f"{h}{title}")
            out.append("")
            out.append(table(headers, rows, markdown))
            out.append("")
    notes = ["req/s/core = req/s ÷ (CPU % / 100): the proxy's throughput per fully used core (= req/s when CPU % is ~100).",
             "core0 other = core 0's busy time not charged to the proxy (other processes on the machine, or kernel softirq "
             "work); core1 = how busy core 1 (load generator + origin) was. core1 near 100% means core 1 was the bottleneck."]
    if unsaturated:
        notes.append("*: CPU % under 90. The proxy did not use a full core: core 1 (load generator + origin) was the "
                     "bottleneck, or other processes took core 0 (see core0 other / core1). So its req/s understates its "
                     "capacity; compare CPU µs/req and req/s/core instead.")
    if any(r.get("p50") is None for res in results.values() for r in res.values() if r):
        notes.append("n/a latency: the load generator did not report it.")
    notes.append("HTTP/2 p50/p99 come from h2load's per-request --log-file (h2load itself prints only min/max/mean/sd).")
    out += [("- " if markdown else "") + n for n in notes]
    out.append("")

    if "herz" not in bench.args.proxies:
        return "\n".join(out)

    # Ratios that matter.
    out.append(f"{h}Ratios (Herz ÷ other; req/s higher is better, p99 and CPU/req lower are better)")
    out.append("")
    rows = []
    for proto, proto_label in PROTOCOLS:
        for size_label, size in SIZES:
            key = f"{proto}/{size_label}"
            if key not in results:
                continue
            herz = results[key].get("herz")
            for other in ("nginx", "caddy", "haproxy", "herz-base"):
                o = results[key].get(other)
                if other not in bench.args.proxies:
                    continue
                cells = [f"{proto} {size_label}", f"Herz/{LABELS[other]}"]
                if not herz or not o:
                    rows.append(cells + ["n/a"] * 4)
                    continue
                rows.append(cells + [fmt_ratio(ratio(herz["rps"], o["rps"])), fmt_ratio(ratio(herz["rps_per_core"], o["rps_per_core"])),
                                     fmt_ratio(ratio(herz["p99"], o["p99"])), fmt_ratio(ratio(herz["cpu_us_per_req"], o["cpu_us_per_req"]))])
    out.append(table(["scenario", "ratio", "req/s", "req/s/core", "p99", "CPU µs/req"], rows, markdown))
    out.append("")

    # Targets.
    out.append(f"{h}Targets (HTTP/1.1, 13-byte responses; req/s compared per core)")
    out.append("")
    res = results.get("h1/13B", {})
    herz, nginx, caddy = res.get("herz"), res.get("nginx"), res.get("caddy")
    rows = []
    def verdict(value, limit, higher_is_better):
        if value is None:
            return "n/a"
        ok = value >= limit if higher_is_better else value <= limit
        return "PASS" if ok else "FAIL"
    for label, value, limit, hib in [
        (f"Herz req/s per core ≥ {TARGET_RPS_VS_NGINX}x nginx", ratio(herz and herz["rps_per_core"], nginx and nginx["rps_per_core"]), TARGET_RPS_VS_NGINX, True),
        (f"Herz req/s per core ≥ {TARGET_RPS_VS_CADDY}x Caddy", ratio(herz and herz["rps_per_core"], caddy and caddy["rps_per_core"]), TARGET_RPS_VS_CADDY, True),
        (f"Herz p99 ≤ {TARGET_P99_VS_NGINX}x nginx", ratio(herz and herz["p99"], nginx and nginx["p99"]), TARGET_P99_VS_NGINX, False),
    ]:
        rows.append([label, fmt_ratio(value), verdict(value, limit, hib)])
    out.append(table(["target", "measured", "result"], rows, markdown))
    out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Main


class ProcessSet:
    """The long-running processes of one benchmark run in a scratch directory: started and
    waited for on their port; stopped and the directory removed at exit (also on SIGTERM/SIGHUP)."""

    def __init__(self, prefix: str):
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix=prefix))
        self.servers: list[Server] = []
        atexit.register(self.cleanup)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda *_: sys.exit(130))

    def start(self, name: str, cmd: list[str], port: int, env: dict | None = None) -> Server:
        server = Server(name, cmd, self.tmp, env)
        server.start()
        self.servers.append(server)
        if not wait_port(port, server):
            raise SystemExit(f"{name} did not start:\n{server.log_tail()}")
        return server

    def cleanup(self) -> None:
        for server in reversed(self.servers):
            server.stop()
        self.servers = []
        shutil.rmtree(self.tmp, ignore_errors=True)


def run_meta() -> dict:
    """When, at which commit and on how loaded a machine a run started (for the report header)."""
    return {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "commit": git_commit(),
            "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def save_report(name: str, text: str) -> str:
    """Writes `bench/results/NAME-latest.md` and a timestamped copy; returns the latest's path."""
    os.makedirs(RESULTS, exist_ok=True)
    latest = os.path.join(RESULTS, f"{name}-latest.md")
    for path in (latest, os.path.join(RESULTS, f"{name}-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}.md")):
        with open(path, "w") as f:
            f.write(text)
    return latest


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def binary_time(path: str) -> str:
    try:
        return datetime.datetime.fromtimestamp(os.path.getmtime(path)).strftime("%Y-%m-%d %H:%M")
    except OSError:
        return "(missing)"


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=int, default=10, help="seconds per measured run (default 10)")
    p.add_argument("--rounds", type=int, default=2, help="interleaved rounds; the median is reported (default 2)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up seconds before each measured run (default 1)")
    p.add_argument("--quick", action="store_true", help="smoke run: 2 s, 1 round, 13-byte responses only")
    p.add_argument("--proxies", default=",".join(ALL_PROXIES), help="comma list (default herz,nginx,haproxy,caddy)")
    p.add_argument("--sizes", default="13B,64KiB,1MiB", help="comma list of 13B,64KiB,1MiB")
    p.add_argument("--protocols", default="h1,h2", help="comma list of h1,h2")
    p.add_argument("--origin", choices=["nginx", "demo"], default="nginx",
                   help="nginx static origin (default) or .build/release/herz-demo-upstream")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument("--h2-clients", type=int, default=16, help="h2load connections (default 16)")
    p.add_argument("--h2-streams", type=int, default=10, help="h2load concurrent streams per connection (default 10)")
    p.add_argument("--profile", action="store_true",
                   help="after the measured runs, profile Herz under HTTP/1.1 13-byte load with perf (cpu-clock) and "
                        "print the top 25 symbols (an extra run; it does not affect the table)")
    p.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (configs, logs) for inspection")
    p.add_argument("--allocs", action="store_true",
                   help="also count Herz's heap allocations per proxied HTTP/1.1 13-byte request (an LD_PRELOAD "
                        "counter, bench/malloc-count.c; independent of the machine's load)")
    p.add_argument("--baseline-herz", metavar="BIN",
                   help="also run this herz-kernel binary (e.g. a copy built from main) as 'Herz (baseline)', "
                        "interleaved with the others: before/after figures in one run")
    a = p.parse_args(argv)
    if a.quick:
        a.duration, a.rounds, a.sizes = 2, 1, "13B"
    a.proxies = [x for x in a.proxies.split(",") if x]
    a.sizes = [x for x in a.sizes.split(",") if x]
    a.protocols = [x for x in a.protocols.split(",") if x]
    if a.baseline_herz and "herz-base" not in a.proxies:
        a.proxies.append("herz-base")
    for x in a.proxies:
        if x not in ALL_PROXIES + ["herz-base"]:
            p.error(f"unknown proxy {x}")
    for x in a.sizes:
        if x not in [s for s, _ in SIZES]:
            p.error(f"unknown size {x}")
    for x in a.protocols:
        if x not in [q for q, _ in PROTOCOLS]:
            p.error(f"unknown protocol {x}")
    if a.duration < 1 or a.rounds < 1 or a.warmup < 0:
        p.error("--duration and --rounds must be ≥ 1, --warmup ≥ 0")
    return a


def main(argv) -> int:
    args = parse_args(argv)
    if (os.cpu_count() or 1) < 2:
        log("warning: fewer than 2 cores; proxy and load generator will share a core")
    bench = Bench(args)
    atexit.register(bench.cleanup)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(130))

    meta = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "commit": git_commit(),
        "cores": os.cpu_count(),
        "herz_built": binary_time(os.path.join(REPO, ".build", "release", "herz-kernel")),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "origin": f"nginx static files, 1 worker" if args.origin == "nginx" else "herz-demo-upstream --threads 1",
        "duration": args.duration,
        "warmup": args.warmup,
        "rounds": args.rounds,
        "versions": ", ".join([
            tool_version(["nginx", "-v"]).replace("nginx version: ", ""),
            " ".join(tool_version(["haproxy", "-v"]).split()[:3]),
            "Caddy " + tool_version(["caddy", "version"]).split()[0],
            tool_version(["wrk", "-v"]).split(" [")[0],
            "h2load " + tool_version(["nghttp", "--version"]).split()[-1],
        ]),
    }
    bench.make_cert()
    bench.start_origin()
    bench.start_proxies()
    if not bench.proxies:
        log("no proxy started; nothing to measure")
        return 1

    scenarios = [(proto, label, size) for proto in bench.protocols() for label, size in bench.sizes()]
    raw: dict[str, dict[str, list]] = {f"{p}/{l}": {n: [] for n in bench.proxies} for p, l, _ in scenarios}
    names = list(bench.proxies)
    total = len(scenarios) * len(names) * args.rounds
    eta = total * (args.duration + args.warmup + 1)
    log(f"{total} measured runs, about {eta // 60} min {eta % 60} s")
    done = 0
    for rnd in range(args.rounds):
        for si, (proto, label, size) in enumerate(scenarios):
            # Interleave: every round and every scenario starts with a different proxy.
            shift = (rnd + si) % len(names)
            order = names[shift:] + names[:shift]
            for name in order:
                done += 1
                server = bench.proxies[name]["server"]
                if not server.alive():
                    why = exit_description(server)
                    log(f"[{done}/{total}] {LABELS[name]} is no longer running ({why}); skipped")
                    if name not in bench.failed:
                        bench.failed[name] = f"exited during the benchmark ({why}); log tail: {server.log_tail(5)!r}"
                    continue
                try:
                    r = measure(bench, name, proto, size, args.duration, args.warmup)
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    log(f"[{done}/{total}] round {rnd + 1} {proto} {label} {LABELS[name]}: run failed: {e}")
                    continue
                raw[f"{proto}/{label}"][name].append(r)
                log(f"[{done}/{total}] round {rnd + 1} {proto} {label:>5} {LABELS[name]:<7} {r['rps']:>10,.0f} req/s  "
                    f"p50 {fmt_ms(r['p50'])}  p99 {fmt_ms(r['p99'])}  CPU {r['cpu_pct']:.0f}%  "
                    f"{fmt_num(r['cpu_us_per_req'], 1)} µs/req  core0 other {fmt_num(r['core0_other_pct'])}%  "
                    f"core1 {fmt_num(r['core1_pct'])}%  errors {r['errors']}")

    results = {key: {name: (summarize(runs) if runs else None) for name, runs in per.items()} for key, per in raw.items()}
    for name in bench.failed:  # never started, or died: keep what it measured before that
        for per in results.values():
            per.setdefault(name, None)

    profile = None
    if args.profile:
        if any(n in bench.proxies and bench.proxies[n]["server"].alive() for n in ("herz", "herz-base")):
            try:
                profile = profile_herz(bench, args.duration, args.warmup)
            except Exception as e:  # noqa: BLE001 - a failed profile must not lose the table
                log(f"--profile failed: {e!r}")
        else:
            log("--profile: Herz is not running; no profile")

    allocs = ""
    if args.allocs:
        for name in ("herz", "herz-base"):
            if name in bench.proxies and bench.proxies[name]["server"].alive():
                try:
                    allocs += f"{LABELS[name]}: {count_allocations(bench, name):.1f} heap allocations per proxied HTTP/1.1 13 B request\n"
                except Exception as e:  # noqa: BLE001 - a failed count must not lose the table
                    log(f"--allocs failed for {name}: {e!r}")

    text = report(bench, results, meta, markdown=False)
    if allocs:
        text += "\n" + allocs
    if profile:
        text += "\n" + profile

    print(text, flush=True)
    os.makedirs(RESULTS, exist_ok=True)
    md = report(bench, results, meta, markdown=True)
    if allocs:
        md += "\n" + allocs
    if profile:
        md += "\n```\n" + profile + "```\n"
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for path in (os.path.join(RESULTS, "latest.md"), os.path.join(RESULTS, f"{stamp}.md")):
        with open(path, "w") as f:
            f.write(md + "\n")
    with open(os.path.join(RESULTS, f"{stamp}.json"), "w") as f:
        json.dump({"meta": meta, "failed": bench.failed, "summary": results,
                   "runs": {k: {n: [{kk: vv for kk, vv in r.items() if kk != "raw"} for r in runs] for n, runs in per.items()}
                            for k, per in raw.items()}}, f, indent=1)
    log(f"written: bench/results/latest.md, bench/results/{stamp}.md, bench/results/{stamp}.json")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
