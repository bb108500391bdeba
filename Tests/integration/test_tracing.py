"""Distributed tracing against a real OTLP/HTTP receiver (otlp_receiver.py decodes with the
official opentelemetry-proto): span names, parent/child links and attributes for a request through
a coprocessor filter and for one with a retry; an incoming sampled traceparent (and B3) continued;
the upstream's traceparent naming the kernel's client span; a down or stuck collector costing
requests nothing."""
import json
import time

import pytest

import herz_harness as h
from otlp_receiver import OTLPReceiver

ROUTES = """
    - match: {{ prefix: "/retry" }}
      route: {{ cluster: backend, retry_policy: {{ retry_on: "5xx", num_retries: 1 }} }}
    - match: {{ prefix: "/" }}
      route: {{ cluster: backend }}
"""

COPROC_FILTER = """
- type: coproc
  config:
    coprocessor: example
    phases: [request_headers]
"""


def tracing_block(endpoint, ratio):
    return f"""
tracing:
  otlp_endpoint: "{endpoint}"
  sampling_ratio: {ratio}
  service_name: herz-test
  export_interval: 100ms
  export_timeout: 500ms
"""


@pytest.fixture
def receiver():
    r = OTLPReceiver()
    yield r
    r.close()


def upstream_traceparent(body):
    headers = json.loads(body)["headers"]
    values = [v for k, v in headers if k.lower() == "traceparent"]
    assert len(values) == 1, headers
    assert not [k for k, _ in headers if k.lower().startswith("x-b3") or k.lower() == "b3"], headers
    return values[0]


def wait_spans(receiver, trace_id, count):
    h.wait_for(lambda: len(receiver.trace(trace_id)) >= count, timeout=15, what=f"{count} spans of {trace_id}")
    time.sleep(0.3)  # nothing more should arrive
    return receiver.trace(trace_id)


def test_coprocessor_retry_and_propagation_spans(procs, receiver):
    cp = h.Coprocessor("herz-filter-example", "--name", "example", name="example")
    try:
        up = procs.upstream()
        config = h.coprocessor_config("example", COPROC_FILTER, ROUTES)
        config = config.replace("coprocessors:", tracing_block(receiver.endpoint, 0).strip() + "\ncoprocessors:", 1)
        k = procs.kernel(config, [up], endpoint=cp.endpoint)
        h.wait_coprocessor_ready(k)

        # 1. A sampled incoming W3C parent is continued even at sampling_ratio 0.
        trace_a, parent_a = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
        status, body, _ = h.http_request(k.url + "/echo?headers=1",
                                         headers={"traceparent": f"00-{trace_a}-{parent_a}-01", "tracestate": "vendor=1"})
        assert status == 200, body
        seen = upstream_traceparent(body)
        version, seen_trace, seen_parent, flags = seen.split("-")
        assert (version, seen_trace, flags) == ("00", trace_a, "01")
        assert seen_parent != parent_a

        spans = wait_spans(receiver, trace_a, 4)
        by_kind = {}
        for span in spans:
            by_kind.setdefault(span["kind"], []).append(span)
        [server] = by_kind["server"]
        [client] = by_kind["client"]
        assert server["parent_span_id"] == parent_a, spans
        assert server["name"].startswith("GET "), spans
        assert server["attributes"]["http.response.status_code"] == 200, spans
        assert server["attributes"]["url.path"] == "/echo"
        assert client["span_id"] == seen_parent, "the upstream's traceparent names the kernel's client span"
        assert client["parent_span_id"] == server["span_id"]
        assert client["attributes"]["http.response.status_code"] == 200
        assert client["attributes"]["herz.attempt"] == 1
        assert client["attributes"]["server.port"] == up.port
        coproc = [s for s in spans if s["name"] == "coproc example"]
        assert len(coproc) == 1, [s["name"] for s in spans]
        assert coproc[0]["parent_span_id"] == server["span_id"]
        assert coproc[0]["attributes"]["herz.coproc.phase"] == "request_headers"
        assert coproc[0]["attributes"]["herz.coproc.outcome"] == "answered"
        assert 0 <= coproc[0]["attributes"]["herz.coproc.ring_rtt_us"] < 5_000_000
        stopped = [s for s in spans if s["name"] == "filter coproc example (request)"]
        assert len(stopped) == 1 and stopped[0]["parent_span_id"] == server["span_id"], [s["name"] for s in spans]
        assert server["start"] <= coproc[0]["start"] <= coproc[0]["end"] <= client["start"] <= client["end"] <= server["end"]
        assert receiver.service_names == {"herz-test"}

        # 2. One retry: two client spans (attempts 1 and 2, both 503), a 503 server span.
        assert h.http_request(f"http://{up.address}/admin/fault?status=503", method="POST")[0] == 200
        trace_b = "0af7651916cd43dd8448eb211c80319c"
        status, _, _ = h.http_request(k.url + "/retry", headers={"traceparent": f"00-{trace_b}-b7ad6b7169203331-01"})
        assert status == 503
        spans = wait_spans(receiver, trace_b, 5)
        [server] = [s for s in spans if s["kind"] == "server"]
        clients = sorted((s for s in spans if s["kind"] == "client"), key=lambda s: s["attributes"]["herz.attempt"])
        assert [c["attributes"]["herz.attempt"] for c in clients] == [1, 2]
        assert all(c["attributes"]["http.response.status_code"] == 503 and c["error"] for c in clients)
        assert all(c["parent_span_id"] == server["span_id"] for c in clients)
        assert clients[0]["span_id"] != clients[1]["span_id"] and clients[0]["end"] <= clients[1]["start"]
        assert server["error"] and server["attributes"]["http.response.status_code"] == 503
        assert server["attributes"]["herz.attempts"] == 2
        assert h.http_request(f"http://{up.address}/admin/fault", method="POST")[0] == 200

        # 3. B3 single on input: same trace id upstream, as traceparent; exported.
        status, body, _ = h.http_request(k.url + "/echo?headers=1", headers={"b3": "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"})
        assert status == 200
        assert upstream_traceparent(body).startswith("00-80f198ee56343ba864fe8b2a57d3eff7-")
        [server] = [s for s in wait_spans(receiver, "80f198ee56343ba864fe8b2a57d3eff7", 4) if s["kind"] == "server"]
        assert server["parent_span_id"] == "e457b5a2e4d86bd1"

        # 4. No parent at ratio 0: a new unsampled trace upstream, nothing exported.
        before = len(receiver.spans)
        status, body, _ = h.http_request(k.url + "/echo?headers=1")
        assert status == 200
        version, new_trace, _, flags = upstream_traceparent(body).split("-")
        assert flags == "00" and new_trace not in (trace_a, trace_b)
        time.sleep(0.5)
        assert len(receiver.spans) == before
        assert not receiver.trace(new_trace)
    finally:
        cp.stop()


def test_every_request_is_sampled_at_ratio_one_and_metrics_count_exports(procs, receiver):
    up = procs.upstream()
    k = procs.kernel(h.proxy_config("""
    - name: backend
      endpoints: [{{ address: "{upstreams[0]}" }}]
""", top=tracing_block(receiver.endpoint, 1.0)), [up])
    for _ in range(20):
        assert h.http_request(k.url + "/")[0] == 200
    h.wait_for(lambda: len({s["trace_id"] for s in receiver.spans}) == 20, what="20 traces")
    assert all(not s["parent_span_id"] for s in receiver.spans if s["kind"] == "server")
    h.wait_for(lambda: 'herz_tracing_spans_total{result="exported"} 40' in k.admin_get("/metrics")[1], what="exported metric")


@pytest.mark.parametrize("collector", ["down", "hang"])
def test_a_down_or_stuck_collector_costs_requests_nothing(procs, collector):
    stuck = OTLPReceiver(mode="hang") if collector == "hang" else None
    endpoint = stuck.endpoint if stuck else f"http://127.0.0.1:{h.free_port()}/v1/traces"
    try:
        up = procs.upstream()
        clusters = """
    - name: backend
      endpoints: [{{ address: "{upstreams[0]}" }}]
"""
        top = tracing_block(endpoint, 1.0) + "  max_queue_spans: 50\n  max_batch_spans: 10\n"
        k = procs.kernel(h.proxy_config(clusters, top=top), [up])
        slowest = 0.0
        started = time.monotonic()
        for _ in range(300):
            t = time.monotonic()
            status, _, _ = h.http_request(k.url + "/", timeout=5)
            slowest = max(slowest, time.monotonic() - t)
            assert status == 200
        elapsed = time.monotonic() - started
        # Generous bounds for a loaded machine: no request waits for the collector (export_timeout is 500ms).
        assert slowest < 0.45, slowest
        assert elapsed < 60, elapsed
        metrics = k.admin_get("/metrics")[1]

        def spans(result):
            line = [l for l in metrics.splitlines() if l.startswith(f'herz_tracing_spans_total{{result="{result}"}}')]
            return int(line[0].split()[-1])
        # Refused exports fail fast (counted); a stuck collector keeps one export in flight until its
        # timeout, so the bounded queue overflows and drops.
        assert spans("exported") == 0
        assert spans("failed") + spans("dropped") > 0
        if collector == "hang":
            assert spans("dropped") > 0
    finally:
        if stuck:
            stuck.close()
