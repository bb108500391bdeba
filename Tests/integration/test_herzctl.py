"""herzctl against a stand-in admin API (a tiny Python HTTP server answering like the kernel).

Run:  HERZ_BIN_DIR=.build-tools/debug python3 -m pytest -q Tests/integration/test_herzctl.py
"""

import json
import os
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("HERZ_BIN_DIR", REPO / ".build" / "debug"))
HERZCTL = BIN_DIR / "herzctl"

STATUS = {
    "ready": True, "version": "0.1.0", "config_source": "/etc/herz/herz.yaml",
    "listeners": ["public", "internal"], "clusters": ["api", "web", "grpc"],
    "reloads": 4, "last_reload_error": None, "uptime_seconds": 3725,
}
CLUSTERS = {"clusters": [
    {"name": "api", "lb_policy": "round_robin", "endpoints": [
        {"address": "127.0.0.1:9001", "weight": 1, "healthy": True, "ejected": False,
         "active_requests": 2, "requests": 1234, "failures": 0},
        {"address": "127.0.0.1:9002", "weight": 3, "healthy": False, "ejected": True,
         "active_requests": 0, "requests": 17, "failures": 9},
    ]},
    {"name": "empty", "lb_policy": "least_request", "endpoints": []},
]}


class FakeAdmin(BaseHTTPRequestHandler):
    """Answers from `self.server.routes[(method, path)] = (status, body)`; records requests."""

    def _answer(self):
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self.server.seen.append((self.command, self.path))
        status, body = self.server.routes.get((self.command, self.path), (404, "not found\n"))
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def admin():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAdmin)
    server.routes, server.seen = {}, []
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def herzctl(*args, env=None):
    if not HERZCTL.exists():
        pytest.skip(f"{HERZCTL} not built (set HERZ_BIN_DIR)")
    full_env = {k: v for k, v in os.environ.items() if k != "HERZ_ADMIN"}
    full_env.update(env or {})
    return subprocess.run([str(HERZCTL), *args], capture_output=True, text=True, timeout=30, env=full_env)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_status_ready(admin):
    admin.routes[("GET", "/status")] = (200, STATUS)
    r = herzctl("status", "--admin", admin.url)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ready:", "yes"]
    assert "/etc/herz/herz.yaml" in r.stdout
    assert "2 (public, internal)" in r.stdout
    assert "3 (api, web, grpc)" in r.stdout
    assert "1h02m05s" in r.stdout


def test_status_not_ready_and_json(admin):
    admin.routes[("GET", "/status")] = (200, dict(STATUS, ready=False, last_reload_error="herz.yaml:3:7: unknown key"))
    r = herzctl("status", "--admin", admin.url)
    assert r.returncode == 1
    assert "ready:" in r.stdout and "no" in r.stdout.splitlines()[0]
    assert "herz.yaml:3:7: unknown key" in r.stdout
    r = herzctl("status", "--json", env={"HERZ_ADMIN": admin.url})
    assert r.returncode == 1
    assert json.loads(r.stdout)["ready"] is False


def test_status_falls_back_to_readyz(admin):
    admin.routes[("GET", "/readyz")] = (200, "ready\n")
    r = herzctl("status", "--admin", admin.url)
    assert r.returncode == 0
    assert r.stdout.strip() == "ready: yes"


def test_reload(admin):
    admin.routes[("POST", "/reload")] = (200, "reloaded\n")
    r = herzctl("reload", "--admin", admin.url)
    assert (r.returncode, r.stdout) == (0, "reloaded\n")
    assert ("POST", "/reload") in admin.seen
    admin.routes[("POST", "/reload")] = (400, "herz.yaml:12:5: unknown cluster 'apx'\n")
    r = herzctl("reload", "--admin", admin.url)
    assert r.returncode == 1
    assert "herz.yaml:12:5: unknown cluster 'apx'" in r.stderr


def test_clusters_table_and_json(admin):
    admin.routes[("GET", "/clusters")] = (200, CLUSTERS)
    r = herzctl("clusters", "--admin", admin.url + "/")
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines()]
    assert rows[0] == ["CLUSTER", "POLICY", "ENDPOINT", "WEIGHT", "HEALTH", "EJECTED", "ACTIVE", "REQUESTS", "FAILURES"]
    assert rows[1] == ["api", "round_robin", "127.0.0.1:9001", "1", "healthy", "no", "2", "1234", "0"]
    assert rows[2] == ["api", "round_robin", "127.0.0.1:9002", "3", "unhealthy", "yes", "0", "17", "9"]
    assert rows[3][:3] == ["empty", "least_request", "-"]
    r = herzctl("clusters", "--json", "--admin", admin.url)
    assert json.loads(r.stdout) == CLUSTERS


def test_http_error_exits_1(admin):
    admin.routes[("GET", "/clusters")] = (500, "boom\n")
    r = herzctl("clusters", "--admin", admin.url)
    assert r.returncode == 1
    assert "500" in r.stderr and "boom" in r.stderr


def test_unreachable_exits_2():
    url = f"http://127.0.0.1:{free_port()}"
    for cmd in ["status", "reload", "clusters"]:
        r = herzctl(cmd, "--admin", url)
        assert r.returncode == 2
        assert r.stderr.startswith(f"herzctl: cannot reach admin API at {url}: ")
        assert "refused" in r.stderr.lower()


def test_bad_admin_url_exits_2():
    r = herzctl("status", "--admin", "https://example")
    assert r.returncode == 2
    assert "invalid admin URL" in r.stderr


def test_silent_admin_times_out_with_exit_2():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        r = herzctl("status", "--admin", url, "--timeout", "0.5")
    assert r.returncode == 2
    assert r.stderr.strip() == f"herzctl: admin API at {url} did not answer within 0.5s"
