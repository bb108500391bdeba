"""Admin API, herzctl, access log and the built-in filters."""
import json
import os
import subprocess
import time

import herz_harness as h

FILTERS_CONFIG = h.proxy_config("""
    - name: backend
      endpoints:
        - {{ address: "{upstreams[0]}", metadata: {{ version: v1 }} }}
""", top="""
    access_log: {{ path: "{log}", format: json }}
""", filters="""
    - type: header_mutation
      config:
        request: {{ add: [{{ name: x-added, value: "yes" }}], remove: [x-drop-me] }}
        response: {{ add: [{{ name: x-served-by, value: herz, append: false }}] }}
    - type: local_ratelimit
      config: {{ max_tokens: 1000, tokens_per_fill: 1000, fill_interval: 1s }}
""", routes="""
    - name: limited
      match: {{ prefix: "/limited" }}
      route: {{ cluster: backend, prefix_rewrite: "/echo" }}
      per_filter_config:
        local_ratelimit: {{ max_tokens: 3, tokens_per_fill: 1, fill_interval: 10s }}
    - name: rest
      match: {{ prefix: "/" }}
      route: {{ cluster: backend, host_rewrite: "internal.example" }}
      request_headers_to_add: [{{ name: x-route, value: rest }}]
      response_headers_to_remove: [x-upstream]
""")


def start(procs, tmp_path):
    up = procs.upstream("x")
    log = tmp_path / "access.log"
    return procs.kernel(FILTERS_CONFIG, [up], log=str(log)), log


def test_header_mutation_and_route_rewrites(procs, tmp_path):
    k, _ = start(procs, tmp_path)
    code, out, err = h.curl("-i", "-H", "x-drop-me: 1", f"{k.url}/echo?headers=1")
    head, _, body = out.partition("\r\n\r\n")
    assert "x-served-by: herz" in head.lower()
    assert "x-upstream" not in head.lower()
    headers = {n.lower(): v for n, v in json.loads(body)["headers"]}
    assert headers["x-added"] == "yes" and headers["x-route"] == "rest"
    assert "x-drop-me" not in headers
    assert headers["host"] == "internal.example"


def test_local_ratelimit_per_route_429_with_retry_after(procs, tmp_path):
    k, _ = start(procs, tmp_path)
    codes = [h.curl_status(f"{k.url}/limited?headers=1") for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    code, out, err = h.curl("-i", f"{k.url}/limited")
    assert "retry-after:" in out.lower()
    # Other routes have their own bucket.
    assert h.curl_status(f"{k.url}/small") == 200


def test_admin_endpoints(procs, tmp_path):
    k, log = start(procs, tmp_path)
    for _ in range(3):
        h.curl(f"{k.url}/small")
    code, text, _ = k.admin_get("/metrics")
    assert code == 200
    assert 'herz_requests_total{listener="main",route="rest",cluster="backend",code="200"} 3' in text
    assert "herz_request_duration_seconds_bucket" in text
    assert "herz_downstream_connections_active" in text
    assert "herz_lb_picks_total" in text
    code, text, _ = k.admin_get("/config_dump")
    assert code == 200 and "backend" in text
    code, text, _ = k.admin_get("/clusters")
    c = json.loads(text)["clusters"][0]
    assert c["name"] == "backend" and c["endpoints"][0]["requests"] >= 3
    assert k.admin_get("/healthz")[0] == 200 and k.admin_get("/readyz")[0] == 200
    assert k.admin_get("/nope")[0] == 404
    # Access log: one JSON line per request.
    h.wait_for(lambda: len(log.read_text().splitlines()) >= 3, what="access log lines")
    entry = json.loads(log.read_text().splitlines()[0])
    assert entry["status"] == 200 and entry["route"] == "rest" and entry["cluster"] == "backend"


def test_config_dump_redacts_tls_keys(procs, tmp_path):
    k, _ = start(procs, tmp_path)
    code, text, _ = k.admin_get("/config_dump")
    assert "key" not in text or "<redacted>" in text or '"tls"' not in text


def test_herzctl(procs, tmp_path):
    k, _ = start(procs, tmp_path)
    admin = f"http://127.0.0.1:{k.admin_port}"
    p = subprocess.run([h.binary("herzctl"), "status", "--admin", admin], capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr
    assert "ready" in p.stdout
    p = subprocess.run([h.binary("herzctl"), "clusters", "--admin", admin], capture_output=True, text=True, timeout=20)
    assert p.returncode == 0 and "backend" in p.stdout
    p = subprocess.run([h.binary("herzctl"), "reload", "--admin", admin], capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stdout + p.stderr
    p = subprocess.run([h.binary("herzctl"), "status", "--admin", "http://127.0.0.1:1"], capture_output=True, text=True, timeout=20)
    assert p.returncode == 2 and "cannot reach admin API" in p.stderr
