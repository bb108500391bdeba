"""The coprocessor runtime with real processes: the Rust example filter attached through the
`coproc` filter, failure policies with the coprocessor killed (-9) and restarted, rogue
coprocessors, version mismatch."""
import json
import os
import signal
import subprocess
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


def coproc_config(policy="fail_closed", timeout="200ms", max_wait="3s", phases="[request_headers, request_body, response_headers]",
                  extra="", filter_extra=""):
    return h.coprocessor_config("example", f"""
- type: coproc
  config:
    coprocessor: example
    phases: {phases}
    {filter_extra}
""", ROUTES, policy=policy, timeout=timeout, max_wait=max_wait, extra=extra)


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


def test_streamed_bodies_over_http2_flow_through_asynchronous_answers(procs, cleanup):
    cp, up, k = start(procs, phases="[request_body, response_headers, response_body]")
    cleanup.append(cp)
    wait_attached(k)
    p = subprocess.run(["bash", "-c", "(printf 'a secret '; sleep 0.2; printf 'b sec'; sleep 0.2; printf 'ret c') | "
                        f"curl -sS -m 10 --http2-prior-knowledge -D - -T - -X POST {k.url}/filtered"],
                       capture_output=True, text=True, timeout=20)
    assert p.stdout.startswith("HTTP/2 200"), (p.stdout, p.stderr)
    assert "x-herz-example: 1" in p.stdout
    assert p.stdout.endswith("a *** b *** c"), p.stdout


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


def process_footprint(pid):
    """(open file descriptors, resident set size in KiB) of a process."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return fds, rss


@pytest.mark.parametrize("mode", ["garbage", "double", "unknown-call", "oversized"])
def test_a_rogue_coprocessor_cannot_hurt_the_kernel(procs, cleanup, mode):
    """Every misbehaviour ends the session as a protocol failure (or, answering twice, drops the
    late answer); the kernel keeps serving, and sessions broken again and again leak nothing:
    file descriptors and memory stay flat."""
    cp, up, k = start(procs, "herz-coproc-rogue", "--mode", mode)
    cleanup.append(cp)
    wait_attached(k)

    def exchange(n):
        for _ in range(n):
            code, body, headers = post(k, "/filtered", b"payload")
            assert code in (200, 503), (code, body)
            if code == 503:
                # `hung`: on an overloaded machine a re-attached session can miss its heartbeat deadline.
                assert headers.get("x-herz-coproc-error") in ("protocol", "down", "hung"), headers
            if mode != "double":
                time.sleep(0.02)  # let the session be re-attached, so the next call breaks it again
    exchange(20)
    fds_before, rss_before = process_footprint(k.proc.pid)
    exchange(150)
    fds_after, rss_after = process_footprint(k.proc.pid)
    assert fds_after <= fds_before + 8, f"file descriptors grew from {fds_before} to {fds_after}"
    assert rss_after <= rss_before + 24 * 1024, f"RSS grew from {rss_before} KiB to {rss_after} KiB"
    if mode != "double":
        assert json.loads(k.admin_get("/coprocessors")[1])["coprocessors"][0]["restarts"] > 20
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
    "fail_closed": {(200, "a ***"), (503, "down"), (503, "protocol"), (503, "hung")},
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


def herzctl(k, *args):
    p = subprocess.run([h.binary("herzctl"), *args, "--admin", f"http://127.0.0.1:{k.admin_port}"],
                       capture_output=True, text=True, timeout=20)
    return p.returncode, p.stdout, p.stderr


def coprocessor_status(k):
    return json.loads(k.admin_get("/coprocessors")[1])["coprocessors"]


def test_herzctl_coproc_list_and_drain(procs, cleanup):
    cp, up, k = start(procs)
    cleanup.append(cp)
    wait_attached(k)
    code, out, err = herzctl(k, "coproc", "list")
    assert code == 0, err
    header, row = out.splitlines()[:2]
    assert header.split()[:3] == ["NAME", "STATE", "PID"]
    assert row.split()[:3] == ["example", "ready", str(cp.proc.pid)], out
    before = coprocessor_status(k)[0]["active_session"]
    code, out, err = herzctl(k, "coproc", "drain", "example")
    assert code == 0 and "drains" in out, (out, err)
    h.wait_for(lambda: coprocessor_status(k)[0]["active_session"] not in (None, before), what="a fresh session after the drain")
    assert post(k, "/filtered", b"secret")[1] == "***"
    code, out, err = herzctl(k, "coproc", "drain", "nope")
    assert code == 1 and "nope" in err, (out, err)
    code, out, err = herzctl(k, "coproc", "reload", "example")
    assert code == 0 and "example reloaded" in out, (out, err)
    assert "coprocessor example reload: ok" in k.output()
    code, out, err = herzctl(k, "coproc", "reload", "nope")
    assert code == 1 and "404" in err, (out, err)
    code, out, err = herzctl(k, "coproc", "list", "--json")
    assert code == 0 and json.loads(out)["coprocessors"][0]["name"] == "example"


def test_reload_adds_changes_and_removes_coprocessors(procs, cleanup):
    cp, up, k = start(procs, policy="fail_closed")
    cleanup.append(cp)
    wait_attached(k)
    # A changed entry: the new policy applies (a new client takes the calls, the old session drains).
    k.write_config(coproc_config("fail_open"))
    assert k.admin_post("/reload")[0] == 200
    h.wait_for(lambda: coprocessor_status(k)[0]["on_failure"] == "fail_open" and coprocessor_status(k)[0]["state"] == "ready",
               what="the changed coprocessor re-attached")
    assert post(k, "/filtered", b"secret")[1] == "***"
    cp.stop(signal.SIGKILL)
    h.wait_for(lambda: coprocessor_status(k)[0]["state"] != "ready", what="the kill seen")
    assert post(k, "/filtered", b"secret")[:2] == (200, "secret"), "fail_open after the reload"
    # Removed: nothing is listed, nothing is filtered.
    k.write_config(h.proxy_config("""
    - name: backend
      endpoints: [{{ address: "{upstreams[0]}" }}]
""", routes=ROUTES))
    assert k.admin_post("/reload")[0] == 200
    h.wait_for(lambda: coprocessor_status(k) == [], what="the coprocessor removed")
    assert post(k, "/filtered", b"secret")[:2] == (200, "secret")
    # Added back: attached again and filtering.
    again = cp.restart()
    cleanup.append(again)
    k.write_config(coproc_config("fail_closed"))
    assert k.admin_post("/reload")[0] == 200
    wait_attached(k)
    assert post(k, "/filtered", b"secret")[1] == "***"
    assert k.alive()


def streamed_outcome(k):
    """A request whose pattern straddles two chunks sent 0.15 s apart: the held-back bytes live in the
    coprocessor's per-stream state, so both chunks must reach the same session."""
    return post_chunked(k, "/filtered", [b"a sec", b"ret b"], pause=0.15, timeout=5)


def test_upgrade_under_load_fails_no_request(procs, cleanup):
    """A new build started on the same socket path takes the new streams, the old one finishes the
    streams it serves (their later chunks still go to it) and exits 0: not one request fails or is
    filtered wrongly."""
    old, up, k = start(procs)
    wait_attached(k)
    cleanup.append(old)
    with h.Load(filtered=(lambda: outcome(k, "/filtered"), 2), streamed=(lambda: streamed_outcome(k), 3)) as load:
        time.sleep(0.5)
        new = h.Coprocessor("herz-filter-example", "--name", "example", name="example", socket_dir=old.dir)
        cleanup.append(new)
        h.wait_for(lambda: coprocessor_status(k)[0]["pid"] == new.proc.pid, what="the new build taking the calls")
        assert old.proc.wait(timeout=10) == 0, "the old build drains and exits 0"
        time.sleep(0.5)
    filtered, streamed = load.counts["filtered"], load.counts["streamed"]
    assert set(filtered) == {(200, "a ***")}, filtered
    assert set(streamed) == {(200, b"a *** b")}, streamed
    assert filtered[(200, "a ***")] > 20 and streamed[(200, b"a *** b")] > 10, load.counts
    status = coprocessor_status(k)[0]
    assert status["restarts"] == 0 and status["handshakes"] == 2, status
    assert "session" in k.output() and "drains" in k.output()


def metric(k, name, labels):
    for line in k.admin_get("/metrics")[1].splitlines():
        if line.startswith(name + "{") and all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_full_ring_parks_calls_until_the_coprocessor_frees_space(procs, cleanup):
    """A slow coprocessor and large request bodies fill the calls ring: calls wait (backpressure),
    none is dropped or failed, and every body arrives complete and in order (the rogue answers
    `continue` after its delay)."""
    # `wait`: should an overloaded machine make the session miss a heartbeat, its calls are re-sent.
    cp, up, k = start(procs, "herz-coproc-rogue", "--mode", "slow:20", policy="wait", max_wait="20s", timeout="20s", phases="[request_body]",
                      extra="ring_bytes: 256KiB", filter_extra="max_body_bytes: 96KiB")
    cleanup.append(cp)
    wait_attached(k)
    body = b"".join(b"%05d" % i + b"x" * 995 for i in range(60))  # 60 KB per request, every KB numbered
    expected = body.decode()
    results = []

    def one():
        results.append(post(k, "/filtered", body, timeout=60)[:2])
    threads = [threading.Thread(target=one) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert [code for code, _ in results] == [200] * 12, [(code, text[:80]) for code, text in results if code != 200]
    assert all(text == expected for _, text in results), [len(text) for _, text in results]
    assert metric(k, "herz_coproc_ring_full_total", {"coprocessor": "example"}) > 0, "the ring never filled"
    assert metric(k, "herz_coproc_calls_total", {"coprocessor": "example", "outcome": "answered"}) >= 12
    assert metric(k, "herz_coproc_up", {"coprocessor": "example"}) == 1


def test_a_peer_with_a_uid_not_allowed_is_refused(procs, cleanup):
    """SO_PEERCRED: a coprocessor running as a uid outside `allowed_uids` never gets a session."""
    other = 4242 if os.getuid() != 4242 else 4243
    cp = h.Coprocessor("herz-filter-example", "--name", "example", name="example")
    cleanup.append(cp)
    up = procs.upstream()
    k = procs.kernel(coproc_config(extra=f"allowed_uids: [{other}]"), [up], endpoint=cp.endpoint)
    h.wait_for(lambda: f"is not allowed (allowed_uids: [{other}])" in k.output(), what="the refusal logged")
    assert coprocessor_status(k)[0]["state"] != "ready"
    code, body, headers = post(k, "/filtered", b"secret")
    assert code == 503 and headers.get("x-herz-coproc-error") == "down", (code, headers)
    assert post(k, "/plain", b"secret")[:2] == (200, "secret")


def test_hung_after_gives_a_paused_coprocessor_slack(procs, cleanup):
    """With `hung_after: 3s`, a coprocessor paused for 0.8 s (an overloaded host) keeps its session
    (the default 40 ms would close it as hung: see the next test) and serves calls after."""
    cp, up, k = start(procs, extra="heartbeat_interval: 20ms\n    hung_after: 3s")
    cleanup.append(cp)
    wait_attached(k)
    cp.proc.send_signal(signal.SIGSTOP)
    try:
        time.sleep(0.8)
    finally:
        cp.proc.send_signal(signal.SIGCONT)
    assert post(k, "/filtered", b"secret")[:2] == (200, "***")
    assert "no heartbeat answer for" not in k.output()
    code, dump, _ = k.admin_get("/config_dump")
    assert '"hung_after": "3s"' in dump and '"heartbeat_interval": "20ms"' in dump, dump


def test_a_hung_coprocessor_is_detected_and_reattached_once_it_runs_again(procs, cleanup):
    """SIGSTOP: heartbeats go unanswered, the session is closed as hung (its calls get the policy);
    after SIGCONT the kernel attaches a fresh session to the same process."""
    cp, up, k = start(procs)
    cleanup.append(cp)
    wait_attached(k)
    cp.proc.send_signal(signal.SIGSTOP)
    try:
        h.wait_for(lambda: "no heartbeat answer for" in k.output(), what="the hang detected")
        code, body, headers = post(k, "/filtered", b"secret")
        assert code == 503 and headers.get("x-herz-coproc-error") in ("down", "hung"), (code, headers)
    finally:
        cp.proc.send_signal(signal.SIGCONT)
    wait_attached(k)
    assert post(k, "/filtered", b"secret")[:2] == (200, "***")
    assert coprocessor_status(k)[0]["pid"] == cp.proc.pid
