"""The `fault` filter through the real kernel: aborts (HTTP and gRPC), delays, header-driven
faults, per-route overrides, max_active_faults, shares over 10,000 requests, and reload."""
import re
import subprocess
import threading
import time

import herz_harness as h
from traffic_peers import metric

ROUTES = """
- name: grpc
  match: {{ prefix: "/grpc" }}
  route: {{ cluster: backend }}
  per_filter_config: {{ fault: {{ abort: {{ grpc_status: 14 }} }} }}
- name: calm
  match: {{ prefix: "/calm" }}
  route: {{ cluster: backend }}
  per_filter_config: {{ fault: {{ disabled: true }} }}
- name: rest
  match: {{ prefix: "/" }}
  route: {{ cluster: backend }}
"""


def fault_config(fault):
    return h.proxy_config("""
    - name: backend
      endpoints: [{{ address: "{upstreams[0]}" }}]
    """, routes=ROUTES, filters=f"""
    - type: fault
      config: {fault}
    """)


def start(procs, fault):
    up = procs.upstream()
    return procs.kernel(fault_config(fault), [up])


def test_abort_http_grpc_and_route_override(procs):
    k = start(procs, "{{ abort: {{ http_status: 503 }} }}")
    code, out, _ = h.curl("-i", f"{k.url}/small")
    assert out.startswith("HTTP/1.1 503") and "x-herz-fault: abort" in out.lower(), out
    code, out, _ = h.curl("-i", f"{k.url}/grpc/svc.Method")
    lowered = out.lower()
    assert out.startswith("HTTP/1.1 200") and "grpc-status: 14" in lowered and "content-type: application/grpc" in lowered, out
    assert h.curl_status(f"{k.url}/calm") == 200
    h.wait_for(lambda: metric(k, "herz_fault_aborts_injected_total", route="rest") == 1, what="abort counted")
    assert metric(k, "herz_fault_aborts_injected_total", route="grpc") == 1


def test_delay_then_continue(procs):
    k = start(procs, "{{ delay: {{ fixed_delay: 400ms }} }}")
    started = time.monotonic()
    assert h.curl_status(f"{k.url}/small") == 200
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    assert h.curl_status(f"{k.url}/calm") == 200
    assert time.monotonic() - started < 0.4
    # A POST body waits behind the delay and still arrives whole.
    code, out, _ = h.curl("--data-binary", "hello body", f"{k.url}/echo")
    assert out == "hello body"
    assert metric(k, "herz_fault_delays_injected_total", route="rest") == 2


def test_header_faults_only_when_enabled(procs):
    k = start(procs, "{{ headers_enabled: false }}")
    assert h.curl_status("-H", "x-herz-fault-abort-request: 418", f"{k.url}/small") == 200
    k.write_config(fault_config("{{ headers_enabled: true }}"))
    assert k.admin_post("/reload")[0] == 200
    assert h.curl_status(f"{k.url}/small") == 200
    assert h.curl_status("-H", "x-herz-fault-abort-request: 418", f"{k.url}/small") == 418
    started = time.monotonic()
    assert h.curl_status("-H", "x-herz-fault-delay-request: 300", f"{k.url}/small") == 200
    assert time.monotonic() - started >= 0.3
    code, out, _ = h.curl("-i", "-H", "x-herz-fault-abort-grpc-request: 8", f"{k.url}/small")
    assert "grpc-status: 8" in out.lower()


def test_max_active_faults(procs):
    k = start(procs, "{{ delay: {{ fixed_delay: 1500ms }}, max_active_faults: 2 }}")
    results = []

    def one():
        started = time.monotonic()
        status = h.curl_status(f"{k.url}/small")
        results.append((status, time.monotonic() - started))

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    assert all(status == 200 for status, _ in results)
    slow = [d for _, d in results if d >= 1.5]
    assert len(slow) == 2, results
    assert metric(k, "herz_fault_skipped_total", reason="max_active_faults") == 4
    assert metric(k, "herz_fault_delays_injected_total") == 2


def test_abort_share_over_ten_thousand_requests(procs):
    """25% aborts over 10,000 requests (h2load, 4 connections): within ±2 percentage points."""
    k = start(procs, "{{ abort: {{ http_status: 503, percent: 25 }} }}")
    p = subprocess.run(["h2load", "-n", "10000", "-c", "4", "-m", "8", f"{k.url}/small"],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", p.stdout)
    assert m, p.stdout + p.stderr
    ok, aborted = int(m.group(1)), int(m.group(4))
    assert ok + aborted == 10_000, p.stdout
    assert abs(aborted / 100 - 25) <= 2, aborted
    assert metric(k, "herz_fault_aborts_injected_total", route="rest") == aborted
