"""The flow rules' cluster layer against real upstreams: dynamic weights from measured latency and
error rates, the cluster breaker, ejection interplay and reload (docs/flow-control.md, "Cluster
layer"). Upstreams are herz-demo-upstream processes whose `hello` answers are made slow or failing
at run time with `POST /admin/fault`.

Timing (1 s measurement period, 5 s window, decay 0.5) makes the weights move within seconds; the
tolerances are generous because the test machine is small and shared.
"""
import http.client
import json
import os
import re
import subprocess
import tempfile
import threading
import time

import herz_harness as h


def rules_file(text):
    f = tempfile.NamedTemporaryFile("w", prefix="herz-flow-", suffix=".flow", delete=False)
    f.write(text)
    f.close()
    return f.name


def config(rules_path, endpoints, lb_policy="round_robin", extra=""):
    """A config template (literal braces doubled, also in `extra`: YAML lines added to the cluster)."""
    eps = ", ".join(f'{{{{ address: "{{upstreams[{i}]}}" }}}}' for i in range(endpoints))
    return h.proxy_config(f"""
    - name: backend
      lb_policy: {lb_policy}
      endpoints: [{eps}]
{extra}
""", top=f'flow_control: {{{{ rules: "{rules_path}" }}}}')


def fault(upstream, query=""):
    code, body, _ = h.http_request(f"http://{upstream.address}/admin/fault{('?' + query) if query else ''}", method="POST")
    assert code == 200, body


def upstream_requests(upstream):
    return json.loads(h.http_request(f"http://{upstream.address}/admin/stats")[1])["requests"]


def flow_clusters(kernel):
    code, body, _ = kernel.admin_get("/flow/clusters")
    assert code == 200, body
    return {c["name"]: c for c in json.loads(body)["clusters"]}


def metric(kernel, name, labels):
    text = kernel.admin_get("/metrics")[1]
    pattern = re.escape(name) + r"\{" + re.escape(labels) + r"\} (\S+)"
    m = re.search(pattern, text)
    return float(m.group(1)) if m else None


class Traffic:
    """Client threads on keep-alive connections sending GET / while the `with` block runs; every
    answer is kept as (time, upstream name or '-', status, x-herz-breaker)."""

    def __init__(self, port, threads=6):
        self.port, self.threads = port, threads
        self.answers, self._lock, self._stop = [], threading.Lock(), threading.Event()

    def _run(self):
        conn = None
        while not self._stop.is_set():
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", "/")
                resp = conn.getresponse()
                resp.read()
                answer = (time.time(), resp.getheader("x-upstream", "-"), resp.status, resp.getheader("x-herz-breaker"))
            except Exception:  # noqa: BLE001 - a broken request is counted, not fatal
                conn, answer = None, (time.time(), "error", 0, None)
            with self._lock:
                self.answers.append(answer)

    def share(self, name, seconds=2.0):
        """Fraction of the answers of the last `seconds` that came from upstream `name`."""
        since = time.time() - seconds
        with self._lock:
            recent = [a for a in self.answers if a[0] >= since]
        return (sum(1 for a in recent if a[1] == name) / len(recent)) if len(recent) >= 20 else None

    def wait_share(self, name, below=None, above=None, timeout=30.0):
        """Seconds until `name`'s share of the last 2 s goes below/above the bound."""
        start = time.time()

        def reached():
            share = self.share(name)
            return share is not None and ((below is not None and share < below) or (above is not None and share > above))
        h.wait_for(reached, timeout=timeout, interval=0.25, what=f"share of {name} {'<' if below else '>'} {below or above}")
        return time.time() - start

    def __enter__(self):
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(self.threads)]
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(15)
        return False


def wait_ejected(kernel, upstream, timeout=5):
    """Waits until /flow/clusters shows `upstream` ejected (the first weight update that saw it);
    returns that view's endpoints by address."""
    seen = {}

    def ejected():
        seen.update({e["address"]: e for e in flow_clusters(kernel)["backend"]["endpoints"]})
        return seen[upstream.address]["ejected"]
    h.wait_for(ejected, timeout=timeout, interval=0.1, what=f"{upstream.name} ejected")
    return seen


def get(kernel):
    return h.http_request(kernel.url + "/")


def test_slow_endpoint_loses_traffic_within_seconds_and_regains_it_after_recovery(procs):
    fast, slow = procs.upstream("fast"), procs.upstream("slow")
    rules = rules_file('cluster "backend" { weight: dynamic(latency_p95) { base: 100, decay: 0.5, min: 5 } }\n')
    k = procs.kernel(config(rules, 2), [fast, slow], workers=2)
    with Traffic(k.port) as traffic:
        h.wait_for(lambda: traffic.share("slow") is not None, what="traffic")
        assert 0.3 < traffic.share("slow", 1.5) < 0.7  # round robin, equal weights
        fault(slow, "delay_ms=300")
        lost = traffic.wait_share("slow", below=0.15, timeout=20)
        weights = {e["address"]: e for e in flow_clusters(k)["backend"]["endpoints"]}
        assert weights[slow.address]["dynamic_weight"] < 30, weights
        assert weights[slow.address]["p95_ms"] >= 250, weights
        assert weights[fast.address]["dynamic_weight"] == 100, weights
        fault(slow)  # recovered
        regained = traffic.wait_share("slow", above=0.3, timeout=30)
    print(f"slow endpoint under 15% of traffic after {lost:.1f}s; back over 30% {regained:.1f}s after recovery")
    changes = metric(k, "herz_flow_weight_changes_total", 'cluster="backend"')
    assert changes and changes >= 4
    # Both serve alike again: both near base (whichever is a little faster has exactly 100).
    for u in (fast, slow):
        assert metric(k, "herz_flow_endpoint_weight", f'cluster="backend",endpoint="{u.address}"') > 50


def test_error_rate_weights_shift_traffic_away_from_an_endpoint_answering_5xx(procs):
    good, bad = procs.upstream("good"), procs.upstream("bad")
    rules = rules_file('cluster "backend" { weight: dynamic(error_rate) { base: 100, decay: 0.5, min: 2 } }\n')
    k = procs.kernel(config(rules, 2), [good, bad])
    fault(bad, "status=503")
    with Traffic(k.port, threads=4) as traffic:
        took = traffic.wait_share("bad", below=0.1, timeout=20)
        statuses = [a[2] for a in traffic.answers[-100:]]
    print(f"5xx endpoint under 10% of traffic after {took:.1f}s")
    assert statuses.count(503) < 30, statuses
    bad_view = next(e for e in flow_clusters(k)["backend"]["endpoints"] if e["address"] == bad.address)
    assert bad_view["error_rate"] > 0.9 and bad_view["dynamic_weight"] <= 10, bad_view


BREAKER_RULES = """cluster "backend" {{
  breaker: {{ error_rate > 50% over 10s, min_requests: 10, open_for: {open_for}, half_open_probes: 3 }}
}}
"""


def open_breaker(kernel, upstream):
    """Makes the single endpoint fail until the breaker opens; returns upstream-served 503s."""
    fault(upstream, "status=503")
    served = 0
    for _ in range(40):
        code, _, headers = get(kernel)
        assert code == 503
        if headers.get("x-herz-breaker"):
            return served
        served += 1
    raise AssertionError("breaker never opened")


def test_breaker_opens_without_calling_upstream_half_opens_closes_and_reopens(procs):
    up = procs.upstream("up")
    k = procs.kernel(config(rules_file(BREAKER_RULES.format(open_for="2s")), 1), [up])
    for _ in range(5):
        assert get(k)[0] == 200
    served = open_breaker(k, up)
    assert 5 <= served <= 10, served  # 5 ok + 5 failed = 50%, the 6th failure trips (> 50% of ≥ 10)
    # Open: 503 with the reason, a retry-after, and the upstream is not called.
    before = upstream_requests(up)
    for _ in range(20):
        code, body, headers = get(k)
        assert code == 503 and headers.get("x-herz-breaker") == "open", (code, headers)
        assert 1 <= int(headers["retry-after"]) <= 2 and "circuit breaker open" in body
    assert upstream_requests(up) == before
    view = flow_clusters(k)["backend"]["breaker"]
    assert view["state"] == "open" and view["rejected"] >= 20, view
    out = subprocess.run([h.binary("herzctl"), "flow", "--admin", f"http://127.0.0.1:{k.admin_port}"],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    row = next(line for line in out.stdout.splitlines() if line.startswith("backend"))
    assert re.search(r"open \(\d+ms left\), \d+ refused", row) and up.address in row, out.stdout
    # After open_for: half-open; three good probes close it.
    fault(up)
    time.sleep(2.3)
    for _ in range(3):
        code, _, headers = get(k)
        assert code == 200 and "x-herz-breaker" not in {k.lower() for k in headers}, headers
    assert flow_clusters(k)["backend"]["breaker"]["state"] == "closed"
    assert upstream_requests(up) == before + 3
    for _ in range(10):
        assert get(k)[0] == 200
    # Open again; this time a failing probe re-opens it.
    open_breaker(k, up)
    time.sleep(2.3)
    assert get(k)[0] == 503  # the probe reached the upstream, which failed
    code, _, headers = get(k)
    assert code == 503 and headers.get("x-herz-breaker") == "open", headers
    transitions = flow_clusters(k)["backend"]["breaker"]["transitions"]
    assert transitions == {"closed->open": 2, "open->half_open": 2, "half_open->closed": 1, "half_open->open": 1}, transitions
    assert metric(k, "herz_flow_breaker_transitions_total", 'cluster="backend",from="half_open",to="open"') == 1
    assert metric(k, "herz_flow_breaker_state", 'cluster="backend"') == 1
    log = k.output()
    assert "flow breaker opened" in log and "flow breaker half_open" in log and "flow breaker closed" in log


def test_breaker_limits_half_open_to_its_probes_under_concurrency(procs):
    up = procs.upstream("up")
    k = procs.kernel(config(rules_file(BREAKER_RULES.format(open_for="1s")), 1), [up], workers=2)
    open_breaker(k, up)
    fault(up, "delay_ms=1500")  # probes will be slow: all concurrent requests arrive while they are out
    time.sleep(1.2)
    before = upstream_requests(up)
    results = []

    def one():
        code, _, headers = get(k)
        results.append((code, headers.get("x-herz-breaker")))
    threads = [threading.Thread(target=one) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sum(1 for r in results if r == (200, None)) == 3, results
    assert sum(1 for r in results if r == (503, "half_open")) == 9, results
    assert upstream_requests(up) == before + 3


def test_ejected_endpoint_stays_unpicked_even_with_the_highest_dynamic_weight(procs):
    a, b = procs.upstream("a"), procs.upstream("b")
    rules = rules_file('cluster "backend" { weight: dynamic(latency_p95) { base: 100, decay: 0.5, min: 2 } }\n')
    k = procs.kernel(config(rules, 2, extra="""      outlier_detection: {{ consecutive_5xx: 3, base_ejection_time: 60s }}"""), [a, b])
    fault(b, "delay_ms=200")
    with Traffic(k.port, threads=4) as traffic:
        traffic.wait_share("b", below=0.2, timeout=30)  # a is fast: it carries the traffic
    fault(a, "status=503")
    for _ in range(10):
        get(k)
    view = wait_ejected(k, a)
    # At the moment it is ejected, a has by far the highest weight — and gets nothing.
    assert view[a.address]["dynamic_weight"] > view[b.address]["dynamic_weight"], view
    served = [get(k)[2].get("x-upstream") for _ in range(60)]
    assert served == ["b"] * 60, served
    # Its weight is held while it is out (b, now the only measured endpoint, climbs towards base).
    view = {e["address"]: e for e in flow_clusters(k)["backend"]["endpoints"]}
    assert view[a.address]["ejected"] and view[a.address]["dynamic_weight"] == 100, view
    assert [get(k)[2].get("x-upstream") for _ in range(30)] == ["b"] * 30


def test_endpoint_failing_active_health_checks_stays_unpicked_whatever_its_weight(procs):
    a, b = procs.upstream("a"), procs.upstream("b")
    rules = rules_file('cluster "backend" { weight: dynamic(latency_p95) { base: 100, decay: 0.5, min: 1 } }\n')
    k = procs.kernel(config(rules, 2, extra="""      health_check: {{ interval: 200ms, timeout: 1s, healthy_threshold: 1, unhealthy_threshold: 1, path: /healthz }}"""),
                     [a, b])
    h.wait_for(lambda: all(e["healthy"] for e in json.loads(k.admin_get("/clusters")[1])["clusters"][0]["endpoints"]),
               what="both endpoints healthy")
    fault(b, "delay_ms=200")
    with Traffic(k.port, threads=4) as traffic:
        traffic.wait_share("b", below=0.2, timeout=30)
    assert h.http_request(f"http://{a.address}/admin/unhealthy", method="POST")[0] == 200
    view = wait_ejected(k, a, timeout=10)
    assert view[a.address]["dynamic_weight"] > view[b.address]["dynamic_weight"], view
    assert [get(k)[2].get("x-upstream") for _ in range(40)] == ["b"] * 40
    # Back in service: it re-enters with its (high) dynamic weight.
    assert h.http_request(f"http://{a.address}/admin/healthy", method="POST")[0] == 200
    h.wait_for(lambda: get(k)[2].get("x-upstream") == "a", timeout=10, what="a back in rotation")


def test_reload_keeps_an_open_breaker_open(procs):
    up = procs.upstream("up")
    rules = rules_file(BREAKER_RULES.format(open_for="60s"))
    k = procs.kernel(config(rules, 1), [up])
    open_breaker(k, up)
    fault(up)
    before = upstream_requests(up)
    # New rules (another threshold) and a changed YAML cluster (a new SharedCluster): still open.
    with open(rules, "w") as f:
        f.write(BREAKER_RULES.format(open_for="60s").replace("50%", "60%"))
    k.write_config(config(rules, 1, extra="""      connect_timeout: 2s"""))
    code, body, _ = k.admin_post("/reload")
    assert code == 200, body
    for _ in range(5):
        code, _, headers = get(k)
        assert code == 503 and headers.get("x-herz-breaker") == "open", headers
    assert upstream_requests(up) == before
    assert flow_clusters(k)["backend"]["breaker"]["state"] == "open"
    assert re.search(r"kept=\S*backend/breaker", k.output()), k.output()[-2000:]
    # Removing the cluster block removes the breaker.
    with open(rules, "w") as f:
        f.write('cluster "backend" { weight: dynamic(error_rate) }\n')
    assert k.admin_post("/reload")[0] == 200
    assert get(k)[0] == 200
    assert "breaker" not in flow_clusters(k)["backend"] or flow_clusters(k)["backend"]["breaker"] is None
