"""Global limits shared through one real redis-server by separate processes (as separate kernels
would share it once the flow_control filter is wired; docs/flow-control.md section 9).

Each process is the test bundle's load generator (HerzHTTPTests.FlowGlobalProbe/testProbe): two
workers, each with its own FlowGlobalLimiter and Redis connection, asking for one shared key at
about 5x the limit. The processes' admission times (one monotonic clock for the whole machine)
are merged and checked against the documented bound in every window:
    admitted(t) <= burst + rate * (t + d) + H * (N - 1)
with H = processes x workers, N = the lease cap, d = the 5 ms call timeout.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

import herz_harness as h

RATE, BURST = 200, 100
LIMIT = "{ rate: %d/s, burst: %d, scope: global, on_store_failure: local(1/h, burst: 1) }" % (RATE, BURST)


class Redis:
    def __init__(self):
        self.port = h.free_port()
        self.dir = tempfile.mkdtemp(prefix="herz-redis-")
        self.proc = h.Process([shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", self.dir, "--loglevel", "warning"], "redis")
        h.wait_for(lambda: self._ping(), what="redis-server")

    def _ping(self):
        return subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True,
                              timeout=2).stdout.strip() == "PONG"

    def stop(self):
        self.proc.send_signal(signal.SIGCONT)
        self.proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def redis():
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server not installed: run scripts/install-deps")
    server = Redis()
    yield server
    server.stop()


def run_probes(port, count, seconds, tmp_path, during=None):
    """Starts `count` probe processes at once; runs `during()` meanwhile; returns their summaries."""
    bundle = h.binary("HerzPackageTests.xctest")
    procs, outs = [], []
    for i in range(count):
        out = tmp_path / f"probe-{i}.json"
        env = dict(os.environ, HERZ_FLOW_PROBE_OUT=str(out), HERZ_FLOW_PROBE_PORT=str(port), HERZ_FLOW_PROBE_LIMIT=LIMIT,
                   HERZ_FLOW_PROBE_LOOPS="2", HERZ_FLOW_PROBE_SECONDS=str(seconds), HERZ_FLOW_PROBE_INTERVAL_US="4000")
        procs.append(subprocess.Popen([bundle, "HerzHTTPTests.FlowGlobalProbe/testProbe"], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        outs.append(out)
    if during:
        during()
    for p in procs:
        output, _ = p.communicate(timeout=120)
        assert p.returncode == 0, output[-3000:]
    return [json.loads(out.read_text()) for out in outs]


def worst_window(times, instances, lease_cap, call_timeout_ns):
    """The largest (admitted - bound) over every window [times[i], times[j]]."""
    worst = (-10**9, "")
    for i in range(len(times)):
        for j in range(i, len(times)):
            t = times[j] - times[i]
            bound = int(BURST + RATE * (t + call_timeout_ns) / 1e9 + instances * (lease_cap - 1))
            if j - i + 1 - bound > worst[0]:
                worst = (j - i + 1 - bound, f"{j - i + 1} admitted in {t / 1e6:.1f} ms, bound {bound}")
    return worst


def test_two_processes_share_one_redis_budget_within_the_bound(redis, tmp_path):
    seconds = 3
    summaries = run_probes(redis.port, 2, seconds, tmp_path)
    instances = sum(s["instances"] for s in summaries)
    lease_cap, timeout_ns = summaries[0]["lease_cap"], summaries[0]["call_timeout_ns"]
    admitted = sorted(t for s in summaries for t in s["admitted"])
    excess, detail = worst_window(admitted, instances, lease_cap, timeout_ns)
    print(f"H={instances} N={lease_cap}: {len(admitted)} admitted; tightest window: {detail} (excess {excess});",
          [s["counts"] for s in summaries])
    assert excess <= 0, detail
    # Both processes ran for `seconds` (their starts differ by a few ms), at ~5x the rate in all:
    # together they get nearly the whole budget, and each gets a share of it.
    budget = BURST + RATE * seconds
    assert len(admitted) >= 0.8 * budget, (len(admitted), budget, [s["counts"] for s in summaries])
    assert all(len(s["admitted"]) >= 0.2 * budget for s in summaries), [s["counts"] for s in summaries]
    assert sum(s["answers"] for s in summaries) > 3 * len(admitted)
    assert max(s["max_answer_ns"] for s in summaries) < 60e6, [s["max_answer_ns"] for s in summaries]


def test_a_stopped_redis_is_answered_by_on_store_failure_within_the_timeout(redis, tmp_path):
    pid = redis.proc.proc.pid

    def pause_for_a_second():
        time.sleep(1.0)
        os.kill(pid, signal.SIGSTOP)
        time.sleep(1.0)
        os.kill(pid, signal.SIGCONT)

    summaries = run_probes(redis.port, 2, 4, tmp_path, during=pause_for_a_second)
    for s in summaries:
        # No answer waits for the stopped server longer than the 5 ms call timeout (plus this
        # loaded machine's scheduling); the fallback decided meanwhile, and Redis again after SIGCONT.
        assert s["max_answer_ns"] < 60e6, s["counts"]
        assert sum(n for k, n in s["counts"].items() if "storeFailure" in k) > 0, s["counts"]
        assert s["counts"].get("admit/storeFailure.circuitOpen", 0) + s["counts"].get("limit/storeFailure.circuitOpen", 0) > 0, s["counts"]
        assert max(s["admitted"]) > min(s["fallback_times"]) + 1e9, "the store decides again after SIGCONT"
