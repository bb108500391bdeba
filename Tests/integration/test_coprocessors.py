"""The coprocessor runtime with real processes: the Rust example filter attached through the
`coproc` filter, failure policies with the coprocessor killed (-9) and restarted, rogue
coprocessors, version mismatch."""
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request

import pytest

import herz_harness as h

ROUTES = """
    - match: {{ prefix: "/plain" }}
      route: {{ cluster: backend, prefix_rewrite: "/echo" }}
      per_filter_config: {{ coproc: {{ disabled: true }} }}
    - match: {{ prefix: "/filtered" }}
      route: {{ cluster: backend, prefix_rewrite: "/echo" }}
    - match: {{ prefix: "/" }}
      route: {{ cluster: backend }}
"""


def coproc_config(policy="fail_closed", timeout="200ms", max_wait="3s", phases="[request_headers, request_body, response_headers]"):
    return h.coprocessor_config("example", f"""
- type: coproc
  config:
    coprocessor: example
    phases: {phases}
""", ROUTES, policy=policy, timeout=timeout, max_wait=max_wait)


def start(procs, program="herz-filter-example", *args, policy="fail_closed", **kw):
    cp = h.Coprocessor(program, "--name", "example", *args, name="example")
    up = procs.upstream()
    k = procs.kernel(coproc_config(policy, **kw), [up], endpoint=cp.endpoint)
    return cp, up, k


def wait_attached(k, timeout=10):
    h.wait_coprocessor_ready(k, timeout=timeout)


def post(k, path, body, timeout=10):
    return h.http_request(k.url + path, method="POST", data=body, timeout=timeout)


def post_chunked(k, path, chunks, pause=0.0, timeout=10):
    """POSTs `chunks` with `transfer-encoding: chunked`, pausing between them; returns (status, body)."""
    def body():
        for i, chunk in enumerate(chunks):
            if i and pause:
                time.sleep(pause)
            yield chunk
    req = urllib.request.Request(k.url + path, data=body(), method="POST", headers={"Transfer-Encoding": "chunked"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


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


@pytest.mark.parametrize("phases", ["[request_body]", "[request_headers, request_body, response_headers, response_body]"])
@pytest.mark.parametrize("pause", [0.0, 0.2])
def test_streamed_bodies_in_many_chunks_flow_through_asynchronous_answers(procs, cleanup, phases, pause):
    """Every chunk is a separate call answered later on the worker's event loop: what the answers
    release must reach the upstream (and the response the client) without waiting for more input."""
    cp, up, k = start(procs, phases=phases)
    cleanup.append(cp)
    wait_attached(k)
    chunks = [b"one secret, ", b"sec", b"ret two, ", b"three secret", b""]
    code, body = post_chunked(k, "/filtered", chunks, pause=pause, timeout=10)
    assert (code, body) == (200, b"one ***, *** two, three ***")


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


def outcome(k, path):
    code, body, headers = post(k, path, b"a secret", timeout=5)
    return (code, headers.get("x-herz-coproc-error")) if code != 200 else (200, body)


# What the filtered route may answer while the coprocessor is killed and restarted, per policy.
KILL_LOOP_OUTCOMES = {
    "fail_closed": {(200, "a ***"), (503, "down"), (503, "protocol")},
    "fail_open": {(200, "a ***"), (200, "a secret")},
    "wait": {(200, "a ***")},
}


@pytest.mark.parametrize("policy", sorted(KILL_LOOP_OUTCOMES))
def test_kill_9_in_a_loop_under_load_applies_the_policy_and_reattaches(procs, cleanup, policy):
    """While the coprocessor is gone its route gets the policy at once (fail_closed: 503 +
    x-herz-coproc-error; fail_open: the unfiltered body; wait: held until the restart), never a hung
    request; the route without it is unaffected; every restart is reattached."""
    cp, up, k = start(procs, policy=policy)
    wait_attached(k)
    cleanup.append(cp)
    with h.Load(filtered=(lambda: outcome(k, "/filtered"), 2), plain=(lambda: outcome(k, "/plain"), 1)) as load:
        h.kill_and_restart(cp, 5, lambda: wait_attached(k), started=cleanup)
        time.sleep(0.4)
    filtered, plain = load.counts["filtered"], load.counts["plain"]
    assert set(plain) == {(200, "a secret")}, plain
    assert set(filtered) <= KILL_LOOP_OUTCOMES[policy], filtered
    assert filtered[(200, "a ***")] > 0, filtered
    if policy != "wait":
        assert sum(n for key, n in filtered.items() if key != (200, "a ***")) > 0, f"the kills were never seen: {filtered}"
    assert k.alive()
    status = json.loads(k.admin_get("/coprocessors")[1])["coprocessors"][0]
    assert status["state"] == "ready" and status["restarts"] >= 5, status
    code, body, headers = post(k, "/filtered", b"secret")
    assert (code, body, headers.get("x-herz-example")) == (200, "***", "1")
