"""The coprocessor runtime with real processes: the Rust example filter attached through the
`coproc` filter, failure policies with the coprocessor killed (-9) and restarted, rogue
coprocessors, version mismatch."""
import json
import os
import signal
import threading
import time

import pytest

import herz_harness as h

ROUTES = """
    - match: {{ prefix: "/filtered" }}
      route: {{ cluster: backend, prefix_rewrite: "/echo" }}
    - match: {{ prefix: "/" }}
      route: {{ cluster: backend }}
"""


def coproc_config(policy="fail_closed", timeout="200ms", max_wait="3s", phases="[request_headers, request_body, response_headers]"):
    return h.proxy_config("""
    - name: backend
      endpoints: [{{ address: "{upstreams[0]}" }}]
""", routes=ROUTES, top=f"""
coprocessors:
  - name: example
    endpoint: "{{endpoint}}"
    timeout: {timeout}
    on_failure: {policy}
    max_wait: {max_wait}
""", filters=f"""
- type: coproc
  config:
    coprocessor: example
    phases: {phases}
""")


def start(procs, program="herz-filter-example", *args, policy="fail_closed", **kw):
    cp = h.Coprocessor(program, "--name", "example", *args, name="example")
    up = procs.upstream()
    k = procs.kernel(coproc_config(policy, **kw), [up], endpoint=cp.endpoint)
    return cp, up, k


def wait_attached(k, timeout=10):
    def ready():
        code, body, _ = k.admin_get("/coprocessors")
        return code == 200 and json.loads(body)["coprocessors"][0]["state"] == "ready"
    h.wait_for(ready, timeout=timeout, what="coprocessor session ready")


def post(k, path, body, timeout=10):
    return h.http_request(k.url + path, method="POST", data=body, timeout=timeout)


@pytest.fixture
def cleanup():
    started = []
    yield started
    for p in started:
        p.stop(signal.SIGKILL)


def test_rust_example_filter_rewrites_streamed_bodies_and_adds_a_header(procs, cleanup):
    cp, up, k = start(procs)
    cleanup.append(cp)
    wait_attached(k)
    code, body, headers = post(k, "/filtered", b"this secret is a secret")
    assert code == 200, body
    assert body == "this *** is a ***"
    assert headers.get("x-herz-example") == "1"


def test_fail_open_passes_requests_through_while_the_coprocessor_is_down(procs, cleanup):
    cp, up, k = start(procs, policy="fail_open")
    wait_attached(k)
    cp.stop(signal.SIGKILL)
    code, body, headers = post(k, "/filtered", b"secret stays")
    assert (code, body) == (200, "secret stays")
    assert "x-herz-example" not in headers


def test_wait_policy_holds_calls_until_the_coprocessor_is_back(procs, cleanup):
    cp, up, k = start(procs, policy="wait", max_wait="5s")
    wait_attached(k)
    cp.stop(signal.SIGKILL)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("r", post(k, "/filtered", b"x secret", timeout=15)))
    t.start()
    time.sleep(0.5)
    again = cp.restart()
    cleanup.append(again)
    t.join(15)
    code, body, _ = result["r"]
    assert (code, body) == (200, "x ***")


def test_a_silent_coprocessor_times_out_with_the_policy(procs, cleanup):
    cp, up, k = start(procs, "herz-coproc-rogue", "--mode", "silent", timeout="100ms")
    cleanup.append(cp)
    wait_attached(k)
    started = time.time()
    code, body, headers = post(k, "/filtered", b"x")
    assert code == 503 and headers.get("x-herz-coproc-error") == "timeout", (code, body, headers)
    assert time.time() - started < 2


@pytest.mark.parametrize("mode", ["garbage", "double", "unknown-call", "oversized"])
def test_a_rogue_coprocessor_cannot_hurt_the_kernel(procs, cleanup, mode):
    cp, up, k = start(procs, "herz-coproc-rogue", "--mode", mode)
    cleanup.append(cp)
    wait_attached(k)
    for _ in range(20):
        code, body, headers = post(k, "/filtered", b"payload")
        assert code in (200, 503), (code, body)
        if code == 503:
            assert headers.get("x-herz-coproc-error") in ("protocol", "down"), headers
    assert k.alive()
    assert k.admin_get("/healthz")[0] == 200
    if mode != "double":
        assert "protocol violation" in k.output()


def test_a_version_mismatch_is_refused_with_a_clear_log_line(procs, cleanup):
    cp, up, k = start(procs, "herz-coproc-rogue", "--mode", "wrong-version")
    cleanup.append(cp)
    h.wait_for(lambda: "ring protocol 99, kernel speaks 1" in k.output(), what="refusal logged")
    code, body, headers = post(k, "/filtered", b"x")
    assert code == 503 and headers.get("x-herz-coproc-error") in ("refused", "down"), (code, headers)
