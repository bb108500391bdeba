"""Request mirroring (request_mirror_policies) through the real kernel: the copy's head and body
reach the mirror cluster with a `-shadow` host, and a slow, failing or down mirror changes nothing
for the client."""
import json
import os
import subprocess
import time

import pytest

import herz_harness as h
from traffic_peers import BlackHole, RecordingServer, metric


def mirror_config(policies, extra_clusters=""):
    return h.proxy_config("""
    - name: backend
      endpoints: [{{ address: "{upstreams[0]}" }}]
    - name: shadow
      endpoints: [{{ address: "{mirror}" }}]
    """ + extra_clusters, routes=f"""
    - name: mirrored
      match: {{{{ prefix: "/" }}}}
      route:
        cluster: backend
        timeout: 10s
        request_mirror_policies: {policies}
    """)


@pytest.fixture
def peers():
    started = []
    yield started
    for p in started:
        p.stop()


def start(procs, peers, mirror, policies="[{{ cluster: shadow }}]"):
    peers.append(mirror)
    up = procs.upstream("primary")
    k = procs.kernel(mirror_config(policies), [up], mirror=mirror.address)
    return k


def timed_post(url, body, headers=None):
    started = time.monotonic()
    status, text, _ = h.http_request(url, method="POST", data=body, headers=headers or {})
    return status, text, time.monotonic() - started


def test_mirror_gets_head_and_body_with_shadow_host(procs, peers):
    mirror = RecordingServer()
    k = start(procs, peers, mirror)
    body = os.urandom(20_000)
    status, text, _ = timed_post(f"{k.url}/echo?x=1", body, {"host": f"api.example.com:{k.port}"})
    assert status == 200
    h.wait_for(lambda: mirror.count() == 1, what="the mirrored request")
    got = mirror.requests[0]
    assert got["host"] == f"api.example.com-shadow:{k.port}"
    assert got["path"] == "/echo?x=1" and got["method"] == "POST" and got["body"] == body
    h.wait_for(lambda: metric(k, "herz_mirror_requests_total", cluster="shadow") == 1, what="mirrored counted")
    # A GET without a body is mirrored too.
    assert h.curl_status(f"{k.url}/small") == 200
    h.wait_for(lambda: mirror.count() == 2, what="the mirrored GET")


def test_slow_mirror_changes_nothing_for_the_client(procs, peers):
    mirror = RecordingServer(delay=3.0)
    k = start(procs, peers, mirror)
    for _ in range(5):
        status, _, elapsed = timed_post(f"{k.url}/echo", b"payload")
        assert status == 200 and elapsed < 1.5, elapsed
    h.wait_for(lambda: metric(k, "herz_mirror_requests_total", cluster="shadow") == 5, timeout=20, what="slow mirrors complete")


def test_failing_mirror_changes_nothing_for_the_client(procs, peers):
    mirror = RecordingServer(status=503)
    k = start(procs, peers, mirror)
    for _ in range(5):
        status, text, _ = timed_post(f"{k.url}/echo", b"payload")
        assert (status, text) == (200, "payload")
    h.wait_for(lambda: metric(k, "herz_mirror_failures_total", cluster="shadow", reason="5xx") == 5, what="5xx counted")
    assert metric(k, "herz_mirror_requests_total", cluster="shadow") == 0


def test_down_mirror_changes_nothing_for_the_client(procs, peers):
    up = procs.upstream("primary")
    k = procs.kernel(mirror_config("[{{ cluster: shadow }}]"), [up], mirror=f"127.0.0.1:{h.free_port()}")
    for _ in range(5):
        status, text, elapsed = timed_post(f"{k.url}/echo", b"payload")
        assert (status, text) == (200, "payload") and elapsed < 1.5
    h.wait_for(lambda: metric(k, "herz_mirror_failures_total", cluster="shadow", reason="connect_failure") == 5,
               what="connect failures counted")


def test_body_over_the_limit_is_not_mirrored(procs, peers):
    mirror = RecordingServer()
    k = start(procs, peers, mirror, policies="[{{ cluster: shadow, max_body_bytes: 1KiB }}]")
    # Known length over the limit: never sent.
    status, text, _ = timed_post(f"{k.url}/echo", b"x" * 4096)
    assert (status, len(text)) == (200, 4096)
    # Chunked, over the limit mid-stream: the copy in flight is abandoned.
    p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "transfer-encoding: chunked",
                        "--data-binary", "@-", f"{k.url}/echo"], input=b"y" * 8192, capture_output=True, timeout=30)
    assert p.stdout == b"200"
    h.wait_for(lambda: metric(k, "herz_mirror_skipped_total", cluster="shadow", reason="body_too_large") == 2,
               what="both skips counted")
    # A small one still goes through.
    assert timed_post(f"{k.url}/echo", b"small")[0] == 200
    h.wait_for(lambda: any(r["body"] == b"small" for r in mirror.requests), what="small body mirrored")
    assert all(len(r["body"]) <= 1024 for r in mirror.requests)


def test_mirror_slower_than_the_client_is_dropped(procs, peers):
    hole = BlackHole()
    peers.append(hole)
    up = procs.upstream("primary")
    k = procs.kernel(mirror_config("[{{ cluster: shadow, max_body_bytes: 256MiB }}]"), [up], mirror=hole.address)
    body = os.urandom(16 * 1024 * 1024)
    p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "@-", f"{k.url}/sink"],
                       input=body, capture_output=True, timeout=60)
    assert p.stdout.decode().split()[0] == "200", p.stderr
    h.wait_for(lambda: metric(k, "herz_mirror_skipped_total", cluster="shadow", reason="slow_mirror") == 1,
               what="slow mirror dropped")


def test_percent_and_reload(procs, peers):
    mirror = RecordingServer()
    k = start(procs, peers, mirror, policies="[{{ cluster: shadow, percent: 0 }}]")
    for _ in range(20):
        assert h.curl_status(f"{k.url}/small") == 200
    assert mirror.count() == 0
    # Reload with 50%: about half of 400 requests are mirrored.
    k.write_config(mirror_config("[{{ cluster: shadow, percent: 50 }}]"))
    assert k.admin_post("/reload")[0] == 200
    args = [a for _ in range(400) for a in (f"{k.url}/small", "-o", "/dev/null")]
    code, out, _ = h.curl(*args, "-w", "%{http_code}\n", timeout=60)
    assert out.split() == ["200"] * 400
    h.wait_for(lambda: metric(k, "herz_mirror_requests_total", cluster="shadow") >= 140, what="mirrors counted")
    time.sleep(0.5)
    n = mirror.count()
    assert 140 <= n <= 260, n   # 50% of 400 ± 6 standard deviations
    # An unknown mirror cluster is refused with its position; the old config keeps serving.
    k.write_config(mirror_config("[{{ cluster: nowhere }}]"))
    code, text, _ = k.admin_post("/reload")
    assert code != 200 and "unknown cluster 'nowhere'" in text and ".yaml:" in text, text
    assert h.curl_status(f"{k.url}/small") == 200


def test_http2_client_authority_gets_the_shadow_suffix(procs, peers):
    mirror = RecordingServer()
    k = start(procs, peers, mirror)
    code, out, err = h.curl("--http2-prior-knowledge", "--data-binary", "over h2", "-H", "host: grpc.internal",
                            f"{k.url}/echo")
    assert out == "over h2", err
    h.wait_for(lambda: mirror.count() == 1, what="the mirrored h2 request")
    assert mirror.requests[0]["host"] == "grpc.internal-shadow" and mirror.requests[0]["body"] == b"over h2"


def test_mirror_to_an_http2_cluster(procs):
    up = procs.upstream("primary")
    shadow = procs.upstream("shadow-h2", h2=True)
    config = h.proxy_config("""
    - name: backend
      endpoints: [{{ address: "{upstreams[0]}" }}]
    - name: shadow
      upstream_protocol: http2
      endpoints: [{{ address: "{upstreams[1]}" }}]
    """, routes="""
    - match: {{ prefix: "/" }}
      route: {{ cluster: backend, request_mirror_policies: [{{ cluster: shadow }}] }}
    """)
    k = procs.kernel(config, [up, shadow])
    for _ in range(3):
        code, out, _ = h.curl("--data-binary", "to both", f"{k.url}/echo")
        assert out == "to both"

    def mirrored():
        code, text, _ = h.curl("--http2-prior-knowledge", f"http://{shadow.address}/admin/stats")
        return code == 0 and json.loads(text)["requests"] == 3

    h.wait_for(mirrored, what="three mirrored requests on the HTTP/2 upstream")
    h.wait_for(lambda: metric(k, "herz_mirror_requests_total", cluster="shadow") == 3, what="mirrors counted")
