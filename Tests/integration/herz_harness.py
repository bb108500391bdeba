"""Starts Herz's real binaries for integration tests: demo upstreams and the kernel.

Every process gets free loopback ports, is stopped at the end of the test, and its output is kept
so a failing test can show what the kernel logged.
"""
import json
import os
import signal
import socket
import subprocess
import tempfile
import textwrap
import threading
import time
import urllib.request
from collections import Counter

BIN_DIR = os.environ.get("HERZ_BIN_DIR", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug"))


def binary(name):
    path = os.path.join(BIN_DIR, name)
    if not os.path.exists(path):
        raise RuntimeError(f"{path} not found: build first (swift build) or set HERZ_BIN_DIR")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=15.0, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")


class Process:
    def __init__(self, args, name):
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix=f"herz-{name}-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)

    def output(self):
        with open(self.log.name, "r", errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class Upstream(Process):
    """A herz-demo-upstream on a free port."""

    def __init__(self, name="up", h2=False, port=None):
        self.port = port or free_port()
        args = [binary("herz-demo-upstream"), "--port", str(self.port), "--name", name, "--threads", "1"]
        if h2:
            args.append("--h2")
        super().__init__(args, f"upstream-{name}")
        wait_for(lambda: "listening" in self.output(), what=f"upstream {name} to listen")

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"


class Kernel(Process):
    """herz-kernel on a YAML config written from a template.

    The template may use {port}, {admin} and {upstreams[i]} placeholders, filled with free ports
    and the given upstreams' addresses.
    """

    def __init__(self, config, upstreams=(), workers=1, extra_args=(), wait_ready=True, **fmt):
        self.port = free_port()
        self.admin_port = free_port()
        self.fmt = dict(port=self.port, admin=self.admin_port, upstreams=[u.address for u in upstreams], **fmt)
        self.config_file = tempfile.NamedTemporaryFile("w", prefix="herz-", suffix=".yaml", delete=False)
        self.write_config(config)
        self.args = [binary("herz-kernel"), "--config", self.config_file.name, "--workers", str(workers), *extra_args]
        super().__init__(self.args, "kernel")
        if wait_ready:
            wait_for(lambda: self.admin_get("/readyz")[0] == 200, what="kernel readiness")

    def restart(self, sig=signal.SIGKILL):
        """Stops the kernel with `sig` and starts a new process on the same config file and ports."""
        self.stop(sig)
        super().__init__(self.args, "kernel")
        wait_for(lambda: self.admin_get("/readyz")[0] == 200, what="kernel readiness after restart")

    def write_config(self, config):
        text = textwrap.dedent(config).format(**self.fmt)
        with open(self.config_file.name, "w") as f:
            f.write(text)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def admin_get(self, path):
        return http_request(f"http://127.0.0.1:{self.admin_port}{path}")

    def admin_post(self, path):
        return http_request(f"http://127.0.0.1:{self.admin_port}{path}", method="POST")


def http_request(url, method="GET", headers=None, data=None, timeout=10):
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace"), dict(resp.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace"), dict(e.headers)


def curl(*args, timeout=30):
    """Runs curl; returns (exit code, stdout, stderr)."""
    p = subprocess.run(["curl", "-sS", "--max-time", str(timeout), *args], capture_output=True, timeout=timeout + 5)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def curl_status(*args, timeout=30):
    code, out, err = curl("-o", "/dev/null", "-w", "%{http_code}", *args, timeout=timeout)
    return int(out or 0)


def raw_exchange(port, data, timeout=5.0, read_until_close=True):
    """Sends raw bytes to 127.0.0.1:port and returns everything read until the peer closes
    (or the timeout passes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        s.settimeout(timeout)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if not read_until_close:
                    break
        except socket.timeout:
            pass
        return b"".join(chunks)


def _indent(block, spaces):
    block = textwrap.dedent(block).strip("\n")
    return "\n".join((" " * spaces + line) if line.strip() else line for line in block.splitlines())


def proxy_config(clusters, routes=None, cluster="backend", filters="", listener="", top="", protocol="http",
                 domains='"*"'):
    """A config template with the admin API, one listener named `main` and the given clusters.

    `routes` (YAML list items) default to one catch-all route to `cluster`; `domains` are the one
    virtual host's domains (YAML flow list items); `filters` go before the
    router; `listener` adds keys to the listener (limits, tls); `top` adds top-level keys. The result
    is a template: `{port}`, `{admin}`, `{upstreams[i]}` and literal braces as `{{ }}`.
    """
    routes = routes or f"""
        - match: {{{{ prefix: "/" }}}}
          route: {{{{ cluster: {cluster} }}}}
    """
    parts = [
        'admin: {{ address: "127.0.0.1:{admin}" }}',
        textwrap.dedent(top).strip("\n"),
        "listeners:",
        "  - name: main",
        '    address: "127.0.0.1:{port}"',
        f"    protocol: {protocol}",
        _indent(listener, 4),
        "    filters:",
        _indent(filters, 6),
        "      - type: router",
        "        config:",
        "          virtual_hosts:",
        "            - name: all",
        f"              domains: [{domains}]",
        "              routes:",
        _indent(routes, 16),
        "clusters:",
        _indent(clusters, 2),
    ]
    return "\n".join(p for p in parts if p.strip()) + "\n"


def coprocessor_config(name, filters, routes, policy="fail_closed", timeout="200ms", max_wait="3s", extra=""):
    """A config template with one coprocessor `name` (its endpoint is the `{endpoint}` placeholder,
    filled in by `Kernel(..., endpoint=...)`; `extra` adds lines to its entry), the given `filters`
    and `routes` (as in `proxy_config`) and one cluster `backend` at `{upstreams[0]}`."""
    return proxy_config("""
    - name: backend
      endpoints: [{{ address: "{upstreams[0]}" }}]
""", routes=routes, filters=filters, top=f"""
coprocessors:
  - name: {name}
    endpoint: "{{endpoint}}"
    timeout: {timeout}
    on_failure: {policy}
    max_wait: {max_wait}
    {extra}
""")


BASIC_CONFIG = proxy_config("""
    - name: backend
      endpoints:
        - {{ address: "{upstreams[0]}" }}
""")


class H2Response:
    def __init__(self):
        self.headers, self.body, self.trailers, self.reset, self.ended = None, b"", None, None, False


class H2Client:
    """A minimal HTTP/2 prior-knowledge client (python-h2) on one connection: send requests, then wait
    for each stream to end or be reset. Responses of other streams are collected on the way."""

    def __init__(self, port, timeout=10):
        import h2.config
        import h2.connection
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.port = port
        self.streams = {}

    def send(self, path, headers=(), body=b"", authority=None, trailers=None):
        """Starts a request (POST when it has a body); `trailers` (name, value pairs) end it after the
        body. The body goes in frames of at most 16 KiB and must fit the initial 64 KiB window."""
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", "POST" if body else "GET"), (":path", path), (":scheme", "http"),
                                     (":authority", authority or f"127.0.0.1:{self.port}"), *headers],
                               end_stream=not body and not trailers)
        for start in range(0, len(body), 16384):
            self.conn.send_data(sid, body[start:start + 16384], end_stream=not trailers and start + 16384 >= len(body))
        if trailers:
            self.conn.send_headers(sid, trailers, end_stream=True)
        self.sock.sendall(self.conn.data_to_send())
        self.streams[sid] = H2Response()
        return sid

    def wait(self, sid):
        """Reads until stream `sid` ended or was reset (or the connection closed); socket.timeout if neither."""
        import h2.events
        response = self.streams[sid]
        while not (response.ended or response.reset):
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            for ev in self.conn.receive_data(chunk):
                r = self.streams.get(getattr(ev, "stream_id", None))
                if r is None:
                    continue
                if isinstance(ev, h2.events.ResponseReceived):
                    r.headers = dict((k.decode(), v.decode()) for k, v in ev.headers)
                elif isinstance(ev, h2.events.DataReceived):
                    r.body += ev.data
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.TrailersReceived):
                    r.trailers = dict((k.decode(), v.decode()) for k, v in ev.headers)
                elif isinstance(ev, h2.events.StreamReset):
                    r.reset = ev
                elif isinstance(ev, h2.events.StreamEnded):
                    r.ended = True
            self.sock.sendall(self.conn.data_to_send())
        return response

    def close(self):
        self.sock.close()


RUST_BIN_DIR = os.environ.get(
    "HERZ_RUST_BIN_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "Coprocessors", "rust", "target", "release"))


class Coprocessor(Process):
    """A coprocessor process (Rust from Coprocessors/rust/target/release, or a Swift one from the
    build directory) listening on a unix socket in a fresh temporary directory."""

    def __init__(self, program, *args, name=None, socket_dir=None):
        self.dir = socket_dir or tempfile.mkdtemp(prefix="herz-coproc-")
        self.program = program
        self.args = list(args)
        self.socket = os.path.join(self.dir, f"{name or program}.sock")
        rust = os.path.join(RUST_BIN_DIR, program)
        self.path = rust if os.path.exists(rust) else binary(program)
        super().__init__([self.path, "--listen", f"unix:{self.socket}", *self.args], f"coproc-{name or program}")
        wait_for(lambda: os.path.exists(self.socket), what=f"{program} to listen")

    @property
    def endpoint(self):
        return f"unix:{self.socket}"

    def restart(self):
        """Starts the same program again on the same socket (the previous one must be gone)."""
        return Coprocessor(self.program, *self.args, name=os.path.basename(self.socket)[:-5], socket_dir=self.dir)


def wait_coprocessor_ready(kernel, timeout=15, index=0):
    """Waits until the kernel's admin API shows its `index`-th coprocessor's session as ready."""
    def ready():
        code, body, _ = kernel.admin_get("/coprocessors")
        return code == 200 and json.loads(body)["coprocessors"][index]["state"] == "ready"
    wait_for(ready, timeout=timeout, what="coprocessor session ready")


def kill_and_restart(coproc, times, ready, started, alive_s=0.4, down_s=0.3):
    """`times` rounds of: let `coproc` serve for `alive_s`, kill -9 it, wait `down_s`, start it again
    on the same socket and wait for `ready()`. Every process started is appended to `started` (the
    caller stops them); returns the last one."""
    for _ in range(times):
        time.sleep(alive_s)
        coproc.stop(signal.SIGKILL)
        time.sleep(down_s)
        coproc = coproc.restart()
        started.append(coproc)
        ready()
    return coproc


class Load:
    """Client threads that repeat requests while the `with` block runs. `clients` maps a name to
    (request, threads): `request()` returns the outcome to count (an exception counts as
    ("error", its type name): a hung or broken request is what load tests look for). After the
    block, `counts[name]` is a Counter of the outcomes."""

    def __init__(self, **clients):
        self.counts = {name: Counter() for name in clients}
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(name, request))
                         for name, (request, threads) in clients.items() for _ in range(threads)]

    def _run(self, name, request):
        while not self._stop.is_set():
            try:
                outcome = request()
            except Exception as e:  # noqa: BLE001 - counted, see the class comment
                outcome = ("error", type(e).__name__)
            with self._lock:
                self.counts[name][outcome] += 1

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(15)
        return False

