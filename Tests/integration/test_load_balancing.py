"""Load balancing, health checks and outlier detection against real upstreams."""
import collections
import json
import time

import herz_harness as h

LB_CONFIG = h.proxy_config("""
    - name: backend
      lb_policy: {policy}
      endpoints: {endpoints}
""", routes="""
    - match: {{ prefix: "/" }}
      route:
        cluster: backend
        hash_policy: [{{ header: {{ header_name: "x-user" }} }}]
""")


def endpoints_yaml(ups, weights=None):
    weights = weights or [1] * len(ups)
    return "[" + ", ".join(f'{{{{ address: "{u.address}", weight: {w} }}}}' for u, w in zip(ups, weights)) + "]"


def who(k, n, headers_for=lambda i: []):
    """Sends n requests; returns the upstream name that served each."""
    names = []
    for i in range(n):
        args = []
        for hdr in headers_for(i):
            args += ["-H", hdr]
        code, out, err = h.curl(*args, f"{k.url}/")
        assert code == 0, err
        names.append(out.strip().rsplit(" ", 1)[-1])
    return names


def start(procs, policy, n=3, weights=None):
    ups = [procs.upstream(f"u{i}") for i in range(n)]
    cfg = LB_CONFIG.replace("{endpoints}", endpoints_yaml(ups, weights))
    return ups, procs.kernel(cfg, ups, policy=policy)


def test_weighted_round_robin_distribution(procs):
    ups, k = start(procs, "round_robin", weights=[5, 1, 1])
    counts = collections.Counter(who(k, 70))
    assert counts == {"u0": 50, "u1": 10, "u2": 10}


def test_random_and_least_request_spread_load(procs):
    for policy in ("random", "least_request"):
        ups, k = start(procs, policy)
        counts = collections.Counter(who(k, 150))
        assert set(counts) == {"u0", "u1", "u2"}, (policy, counts)
        assert min(counts.values()) >= 20, (policy, counts)
        for u in ups:
            u.stop()
        k.stop()


def test_ring_hash_and_maglev_are_sticky_and_minimally_disrupted(procs):
    for policy in ("ring_hash", "maglev"):
        ups, k = start(procs, policy, n=4)
        users = [f"user-{i}" for i in range(60)]
        first = who(k, len(users), lambda i: [f"x-user: {users[i]}"])
        again = who(k, len(users), lambda i: [f"x-user: {users[i]}"])
        assert first == again, policy
        assert len(set(first)) >= 3
        # Remove one endpoint by reload: only the keys it owned move.
        removed = ups[3]
        cfg = LB_CONFIG.replace("{endpoints}", endpoints_yaml(ups[:3]))
        k.write_config(cfg)
        assert k.admin_post("/reload")[0] == 200
        after = who(k, len(users), lambda i: [f"x-user: {users[i]}"])
        moved = sum(1 for a, b in zip(first, after) if a != b and a != "u3")
        assert moved <= len(users) * 0.15, (policy, moved)
        for u in ups:
            u.stop()
        k.stop()


HC_CONFIG = h.proxy_config("""
    - name: backend
      health_check: {{ interval: 200ms, timeout: 200ms, healthy_threshold: 2, unhealthy_threshold: 2, path: /healthz }}
      outlier_detection: {{ consecutive_5xx: 3, base_ejection_time: 1s, max_ejection_percent: 50 }}
      endpoints:
        - {{ address: "{upstreams[0]}" }}
        - {{ address: "{upstreams[1]}" }}
""")


def test_health_check_ejects_and_recovers(procs):
    a, b = procs.upstream("a"), procs.upstream("b")
    k = procs.kernel(HC_CONFIG, [a, b])
    h.http_request(f"http://{b.address}/admin/unhealthy", method="POST")
    h.wait_for(lambda: not json.loads(k.admin_get("/clusters")[1])["clusters"][0]["endpoints"][1]["healthy"],
               what="b to be marked unhealthy")
    assert set(who(k, 20)) == {"a"}
    h.http_request(f"http://{b.address}/admin/healthy", method="POST")
    h.wait_for(lambda: json.loads(k.admin_get("/clusters")[1])["clusters"][0]["endpoints"][1]["healthy"],
               what="b to recover")
    assert set(who(k, 20)) == {"a", "b"}
    _, metrics, _ = k.admin_get("/metrics")
    assert f'herz_upstream_endpoint_healthy{{cluster="backend",endpoint="{b.address}"}} 1' in metrics


def test_outlier_detection_ejects_5xx_endpoint(procs):
    a, b = procs.upstream("a"), procs.upstream("b")
    k = procs.kernel(HC_CONFIG, [a, b])
    # /status/500 fails on both; after 3 consecutive 5xx an endpoint is ejected (max 50%: one).
    for _ in range(8):
        h.curl(f"{k.url}/status/500")
    clusters = json.loads(k.admin_get("/clusters")[1])["clusters"][0]
    assert sum(1 for e in clusters["endpoints"] if e["ejected"]) == 1
    assert sum(e["ejections"] for e in clusters["endpoints"]) >= 1
    h.wait_for(lambda: not any(e["ejected"] for e in json.loads(k.admin_get("/clusters")[1])["clusters"][0]["endpoints"]),
               timeout=5, what="ejection to expire")
