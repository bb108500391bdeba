"""herz-demo-upstream, used like a user would: start the binary, talk HTTP to it, assert.

Run:  HERZ_BIN_DIR=.build-tools/debug python3 -m pytest -q Tests/integration/test_demo_upstream.py
"""

import json
import os
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("HERZ_BIN_DIR", REPO / ".build" / "debug"))
BINARY = BIN_DIR / "herz-demo-upstream"
LISTENING = re.compile(r"^herz-demo-upstream (\S+) listening on (\S+):(\d+) \((http1|h2c)\)$")


class Upstream:
    """A running herz-demo-upstream process on a free port."""

    def __init__(self, *args, name="alpha"):
        if not BINARY.exists():
            pytest.skip(f"{BINARY} not built (set HERZ_BIN_DIR)")
        self.proc = subprocess.Popen(
            [str(BINARY), "--port", "0", "--name", name, "--threads", "2", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.line = self._first_line(timeout=30)
        m = LISTENING.match(self.line)
        assert m, f"unexpected listening line: {self.line!r}"
        self.name, self.host, self.port, self.protocol = m.group(1), m.group(2), int(m.group(3)), m.group(4)
        self.url = f"http://{self.host}:{self.port}"

    def _first_line(self, timeout):
        box = []
        reader = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not box or not box[0]:
            self.stop()
            pytest.fail(f"no listening line within {timeout}s; stderr: {self.proc.stderr.read()}")
        return box[0].rstrip("\n")

    def rss_kib(self):
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def up():
    u = Upstream(name="alpha")
    yield u
    u.stop()


@pytest.fixture(scope="module")
def up_h2():
    u = Upstream("--h2", name="beta")
    yield u
    u.stop()


@pytest.fixture
def fresh():
    """A private instance, for tests that depend on server-wide state."""
    u = Upstream(name="gamma")
    yield u
    u.stop()


def raw_exchange(up, request: bytes, until=None, timeout=5.0):
    """Sends raw bytes and reads until `until` appears, EOF or reset; returns (bytes, error)."""
    data, error = b"", None
    with socket.create_connection((up.host, up.port), timeout=timeout) as s:
        s.sendall(request)
        try:
            while until is None or until not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError as e:
            error = e
    return data, error


def curl(*args):
    return subprocess.run(["curl", "-sS", *args], capture_output=True, timeout=60)


# --- start-up -------------------------------------------------------------------------------

def test_prints_listening_line(up, up_h2):
    assert up.line == f"herz-demo-upstream alpha listening on 127.0.0.1:{up.port} (http1)"
    assert up_h2.protocol == "h2c" and up_h2.name == "beta"


# --- plain answers --------------------------------------------------------------------------

def test_root_and_unmatched_say_hello(up):
    for path in ["/", "/anything/else?q=1"]:
        r = requests.get(up.url + path)
        assert r.status_code == 200
        assert r.text == "hello from alpha\n"
        assert r.headers["x-upstream"] == "alpha"
        assert r.headers["content-type"] == "text/plain"


def test_small_is_exactly_13_bytes(up):
    r = requests.get(up.url + "/small")
    assert r.status_code == 200
    assert r.content == b"Hello, World!"
    assert r.headers["content-length"] == "13"


def test_keep_alive_and_pipelining(up):
    req = b"GET /small HTTP/1.1\r\nHost: x\r\n\r\n"
    last = b"GET /status/201 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    data, error = raw_exchange(up, req * 3 + last)
    assert error is None
    assert data.count(b"HTTP/1.1 200 OK") == 3
    assert data.count(b"Hello, World!") == 3
    assert data.rindex(b"HTTP/1.1 201") > data.rindex(b"Hello, World!")  # in order
    assert b"connection: close" in data.lower()


def test_status_codes(up):
    r = requests.get(up.url + "/status/418")
    assert r.status_code == 418 and r.text == "status 418\n"
    r = requests.post(up.url + "/status/503")
    assert r.status_code == 503
    r = requests.get(up.url + "/status/204")
    assert r.status_code == 204 and r.content == b""
    assert requests.get(up.url + "/status/abc").status_code == 400
    assert requests.get(up.url + "/status/99").status_code == 400


def test_delay_uses_a_timer(up):
    start = time.monotonic()
    r = requests.get(up.url + "/delay/300")
    elapsed = time.monotonic() - start
    assert r.status_code == 200 and r.text == "hello from alpha\n"
    assert elapsed >= 0.3
    # The event loop is not blocked meanwhile: a concurrent fast request is not held up.
    slow = threading.Thread(target=lambda: requests.get(up.url + "/delay/1000"))
    slow.start()
    time.sleep(0.05)
    start = time.monotonic()
    assert requests.get(up.url + "/small").status_code == 200
    assert time.monotonic() - start < 0.5
    slow.join()


# --- bodies ---------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 65536, 65537, 1_000_000])
def test_bytes_exact_length(up, n):
    r = requests.get(up.url + f"/bytes/{n}")
    assert r.status_code == 200
    assert r.headers["content-length"] == str(n)
    assert len(r.content) == n


def test_bytes_large_streams_with_constant_memory(up):
    # 256 MiB through curl: full length arrives.
    out = curl("-o", "/dev/null", "-w", "%{size_download}", up.url + f"/bytes/{256 << 20}")
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == 256 << 20
    # 8 GiB to a client that does not read: the server must not buffer it.
    before = up.rss_kib()
    with socket.create_connection((up.host, up.port)) as s:
        s.sendall(b"GET /bytes/8589934592 HTTP/1.1\r\nHost: x\r\n\r\n")
        head = s.recv(4096)
        assert b"content-length: 8589934592" in head.lower()
        time.sleep(1.0)
        grown_mib = (up.rss_kib() - before) / 1024
    assert grown_mib < 64, f"server RSS grew by {grown_mib:.0f} MiB"


def test_echo_streams_body_back(up):
    body = os.urandom(300_000)
    r = requests.post(up.url + "/echo?x=1", data=body, headers={"Content-Type": "application/x-test"})
    assert r.status_code == 200
    assert r.content == body
    assert r.headers["x-echo-method"] == "POST"
    assert r.headers["x-echo-path"] == "/echo?x=1"
    assert r.headers["x-echo-host"] == f"{up.host}:{up.port}"
    assert r.headers["transfer-encoding"] == "chunked"
    assert r.headers["content-type"] == "application/x-test"


def test_echo_headers_json(up):
    r = requests.put(up.url + "/echo?headers=1", data=b"x" * 1234, headers={"X-Test": 'quote " me'})
    assert r.status_code == 200
    doc = r.json()
    assert doc["method"] == "PUT"
    assert doc["uri"] == "/echo?headers=1"
    assert ["X-Test", 'quote " me'] in doc["headers"]
    assert doc["body_bytes"] == 1234


def test_sink_counts_a_streamed_body(up):
    chunk = b"z" * 65536

    def body():
        for _ in range(800):  # 50 MiB, chunked
            yield chunk

    r = requests.post(up.url + "/sink", data=body())
    assert r.status_code == 200
    assert r.json() == {"bytes": 800 * 65536}


def test_expect_100_continue(up):
    with socket.create_connection((up.host, up.port), timeout=5) as s:
        s.sendall(b"POST /expect HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        interim = s.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n")
        s.sendall(b"hello")
        data = b""
        while b'}' not in data:
            data += s.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert json.loads(body) == {"bytes": 5, "continue_sent": True}


# --- trailers -------------------------------------------------------------------------------

def test_trailers_http1(up):
    data, _ = raw_exchange(up, b"GET /trailers HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n", until=b"x-trailer: yes\r\n\r\n")
    head, _, rest = data.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert rest == b"2\r\nok\r\n0\r\ngrpc-status: 0\r\nx-trailer: yes\r\n\r\n"


def test_h2_prior_knowledge_and_trailers(up_h2):
    out = curl("--http2-prior-knowledge", "-w", "%{http_version}", up_h2.url + "/small")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"Hello, World!2"
    out = curl("--http2-prior-knowledge", "-v", up_h2.url + "/trailers")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"ok"
    # curl -v prints HTTP/2 trailers as received header lines after the body.
    assert b"< grpc-status: 0" in out.stderr
    assert b"< x-trailer: yes" in out.stderr


def test_h2_streams_bytes_and_echo(up_h2):
    out = curl("--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{size_download}", up_h2.url + "/bytes/3000000")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"3000000"
    out = curl("--http2-prior-knowledge", "--data-binary", "abc" * 1000, up_h2.url + "/echo")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"abc" * 1000


# --- misbehaviour on purpose ----------------------------------------------------------------

def test_reset_truncates_the_response(up):
    out = curl("-o", "/dev/null", "-w", "%{size_download}", up.url + "/reset")
    assert out.returncode != 0  # 56 (reset) or 18 (partial file)
    assert int(out.stdout) < 100000
    data, error = raw_exchange(up, b"GET /reset HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"content-length: 100000" in head.lower()
    assert len(body) <= 10
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(up.url + "/reset")


def test_h2_reset_and_close(up_h2):
    out = curl("--http2-prior-knowledge", up_h2.url + "/reset")
    assert out.returncode != 0
    assert b"CANCEL" in out.stderr  # RST_STREAM, the connection survives
    out = curl("--http2-prior-knowledge", up_h2.url + "/close")
    assert out.returncode != 0
    assert out.stdout == b""


def test_close_answers_nothing(up):
    data, _ = raw_exchange(up, b"GET /close HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data == b""


# --- admin ----------------------------------------------------------------------------------

def test_healthz_toggle(fresh):
    assert requests.get(fresh.url + "/healthz").text == "ok\n"
    assert requests.get(fresh.url + "/admin/unhealthy").status_code == 405
    assert requests.post(fresh.url + "/admin/unhealthy").status_code == 200
    for _ in range(4):  # every event loop sees it
        assert requests.get(fresh.url + "/healthz").status_code == 503
    assert requests.post(fresh.url + "/admin/healthy").status_code == 200
    for _ in range(4):
        r = requests.get(fresh.url + "/healthz")
        assert r.status_code == 200 and r.text == "ok\n"


def test_stats_count_requests(fresh):
    for _ in range(5):
        requests.get(fresh.url + "/small")  # new connection each: spread over loops
    requests.get(fresh.url + "/healthz")
    assert requests.get(fresh.url + "/admin/stats").json() == {"requests": 6, "healthz": 1}
    assert requests.post(fresh.url + "/admin/reset-stats").status_code == 200
    assert requests.get(fresh.url + "/admin/stats").json() == {"requests": 0, "healthz": 0}
    with requests.Session() as s:
        for _ in range(3):
            s.get(fresh.url + "/")
    assert requests.get(fresh.url + "/admin/stats").json()["requests"] == 3


def test_fault_makes_hello_answers_slow_or_failing_until_cleared(fresh):
    assert requests.get(fresh.url + "/admin/fault").status_code == 405
    assert requests.post(fresh.url + "/admin/fault?status=700").status_code == 400
    assert requests.post(fresh.url + "/admin/fault?delay_ms=150&status=503").status_code == 200
    for _ in range(4):  # every event loop sees it
        start = time.time()
        r = requests.get(fresh.url + "/")
        assert r.status_code == 503 and time.time() - start >= 0.14
    assert requests.get(fresh.url + "/small").status_code == 200  # other routes unaffected
    assert requests.post(fresh.url + "/admin/fault").text == "no fault\n"
    for _ in range(4):
        r = requests.get(fresh.url + "/")
        assert r.status_code == 200 and r.text.startswith("hello from")
