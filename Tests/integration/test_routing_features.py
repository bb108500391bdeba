"""Route matching, cluster selection, retries, circuit breakers and subsets through the real kernel."""
import collections
import json
import threading

import herz_harness as h

ROUTING_CONFIG = """
admin: {{ address: "127.0.0.1:{admin}" }}
listeners:
  - name: main
    address: "127.0.0.1:{port}"
    protocol: http
    filters:
      - type: router
        config:
          virtual_hosts:
            - name: wild
              domains: ["*.example.com"]
              routes:
                - match: {{ prefix: "/" }}
                  route: {{ cluster: b }}
            - name: all
              domains: ["*"]
              routes:
                - match: {{ regex: "/items/[0-9]+" }}
                  route: {{ cluster: a }}
                - match: {{ prefix: "/h", headers: [{{ name: x-pick, exact: "b" }}] }}
                  route: {{ cluster: b }}
                - match: {{ prefix: "/m", methods: [POST] }}
                  route: {{ cluster: b }}
                - match: {{ prefix: "/choose" }}
                  route: {{ cluster_header: x-cluster }}
                - match: {{ prefix: "/split" }}
                  route: {{ weighted_clusters: {{ clusters: [{{ name: a, weight: 80 }}, {{ name: b, weight: 20 }}] }} }}
                - match: {{ prefix: "/retry" }}
                  route: {{ cluster: flaky, prefix_rewrite: "/", retry_policy: {{ retry_on: "connect-failure", num_retries: 2 }} }}
                - match: {{ prefix: "/subset" }}
                  route: {{ cluster: versions, prefix_rewrite: "/", metadata_match: {{ version: v2 }} }}
                - match: {{ prefix: "/" }}
                  route: {{ cluster: a }}
clusters:
  - name: a
    endpoints: [{{ address: "{upstreams[0]}" }}]
  - name: b
    endpoints: [{{ address: "{upstreams[1]}" }}]
  - name: flaky
    connect_timeout: 200ms
    endpoints: [{{ address: "127.0.0.1:{dead}" }}, {{ address: "{upstreams[1]}" }}]
  - name: versions
    subset: {{ selectors: [[version]], fallback_policy: no_fallback }}
    endpoints:
      - {{ address: "{upstreams[0]}", metadata: {{ version: v1 }} }}
      - {{ address: "{upstreams[1]}", metadata: {{ version: v2 }} }}
"""


def served_by(k, path, *args):
    code, out, err = h.curl(*args, f"{k.url}{path}")
    assert code == 0, err
    return out.strip().rsplit(" ", 1)[-1]


def start(procs):
    a, b = procs.upstream("a"), procs.upstream("b")
    return procs.kernel(ROUTING_CONFIG, [a, b], dead=h.free_port())


def test_route_matching_table(procs):
    k = start(procs)
    cases = [
        (("/items/42",), "a"),
        (("/items/x",), "a"),  # falls through to "/"
        (("/h", "-H", "x-pick: b"), "b"),
        (("/h",), "a"),
        (("/m", "-X", "POST"), "b"),
        (("/m",), "a"),
        (("/", "-H", "Host: shop.example.com"), "b"),
        (("/choose", "-H", "x-cluster: b"), "b"),
    ]
    for (path, *args), expected in cases:
        assert served_by(k, path, *args) == expected, (path, args)
    assert h.curl_status("-H", "x-cluster: nope", f"{k.url}/choose") == 503


def test_weighted_clusters_split(procs):
    k = start(procs)
    counts = collections.Counter(served_by(k, "/split") for _ in range(200))
    assert 130 <= counts["a"] <= 190, counts


def test_connect_failure_is_retried_on_another_endpoint(procs):
    k = start(procs)
    assert all(served_by(k, "/retry") == "b" for _ in range(10))
    _, metrics, _ = k.admin_get("/metrics")
    assert 'herz_upstream_retries_total{cluster="flaky"}' in metrics


def test_subset_selection_by_route_metadata(procs):
    k = start(procs)
    assert {served_by(k, "/subset") for _ in range(10)} == {"b"}


BREAKER_CONFIG = h.proxy_config("""
    - name: small
      circuit_breakers: {{ max_requests: 2 }}
      endpoints: [{{ address: "{upstreams[0]}" }}]
""", cluster="small")


def test_circuit_breaker_rejects_with_overloaded_header(procs):
    up = procs.upstream()
    k = procs.kernel(BREAKER_CONFIG, [up])
    results = []

    def slow():
        results.append(h.curl_status(f"{k.url}/delay/1500"))

    threads = [threading.Thread(target=slow) for _ in range(2)]
    for t in threads:
        t.start()
    h.wait_for(lambda: json.loads(k.admin_get("/clusters")[1])["clusters"][0]["active_requests"] == 2, what="2 in flight")
    code, out, err = h.curl("-i", f"{k.url}/small")
    assert out.startswith("HTTP/1.1 503"), out
    assert "x-herz-overloaded: true" in out.lower()
    for t in threads:
        t.join()
    assert results == [200, 200]
    assert h.curl_status(f"{k.url}/small") == 200
