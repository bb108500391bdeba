"""Proxying over HTTP/1.1, h2c and HTTP/2 over TLS, as a user drives it with curl."""
import json
import re
import os
import socket
import subprocess

import pytest

import herz_harness as h


def upstream_headers(kernel, *curl_args):
    code, out, err = h.curl(*curl_args, f"{kernel.url}/echo?headers=1")
    assert code == 0, err
    data = json.loads(out)
    return {k.lower(): v for k, v in data["headers"]}, data


def test_http1_get_is_proxied(procs):
    up = procs.upstream("alpha")
    k = procs.kernel(h.BASIC_CONFIG, [up])
    code, out, err = h.curl("-i", f"{k.url}/hello")
    assert code == 0, err
    assert out.startswith("HTTP/1.1 200")
    assert "hello from alpha" in out
    assert "via: 1.1 herz" in out.lower()


def test_connection_close_requests_are_recorded_as_complete(procs):
    """A request with `Connection: close` ends with Herz closing the connection after the
    response: that must count as the 200 it was (metrics, access log), not as a reset."""
    up = procs.upstream("alpha")
    k = procs.kernel(h.BASIC_CONFIG, [up])
    for _ in range(3):
        code, out, err = h.curl("-s", "-H", "Connection: close", f"{k.url}/hello")
        assert code == 0 and "hello from alpha" in out, err
    h.wait_for(lambda: 'code="200"} 3' in k.admin_get("/metrics")[1], what="three 200s in herz_requests_total")
    assert 'code="0"' not in k.admin_get("/metrics")[1]


def test_forwarding_headers_reach_upstream(procs):
    up = procs.upstream()
    k = procs.kernel(h.BASIC_CONFIG, [up])
    headers, data = upstream_headers(k, "-H", "X-Forwarded-For: 203.0.113.9", "-H", "Connection: x-secret",
                                     "-H", "X-Secret: 1", "-H", "Keep-Alive: timeout=5")
    assert headers["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["via"] == "1.1 herz"
    assert len(headers["x-request-id"]) == 36
    # Hop-by-hop headers, including those named in Connection, never cross the proxy.
    assert "x-secret" not in headers and "keep-alive" not in headers
    assert data["uri"] == "/echo?headers=1"


def test_request_id_is_kept_when_given(procs):
    up = procs.upstream()
    k = procs.kernel(h.BASIC_CONFIG, [up])
    headers, _ = upstream_headers(k, "-H", "x-request-id: abc-123")
    assert headers["x-request-id"] == "abc-123"


def test_h2c_prior_knowledge(procs):
    up = procs.upstream("beta")
    k = procs.kernel(h.BASIC_CONFIG, [up])
    code, out, err = h.curl("-i", "--http2-prior-knowledge", f"{k.url}/x")
    assert code == 0, err
    assert out.startswith("HTTP/2 200")
    assert "hello from beta" in out


def test_post_body_round_trips_http1_and_h2(procs, tmp_path):
    up = procs.upstream()
    k = procs.kernel(h.BASIC_CONFIG, [up])
    payload = os.urandom(3 * 1024 * 1024 + 7)
    f = tmp_path / "body.bin"
    f.write_bytes(payload)
    for proto in ("--http1.1", "--http2-prior-knowledge"):
        p = subprocess.run(["curl", "-sS", proto, "--data-binary", f"@{f}", "-H", "content-type: application/octet-stream",
                            f"{k.url}/echo"], capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert p.stdout == payload, proto


def test_expect_100_continue(procs, tmp_path):
    up = procs.upstream()
    k = procs.kernel(h.BASIC_CONFIG, [up])
    f = tmp_path / "b"
    f.write_bytes(b"x" * 200_000)
    code, out, err = h.curl("-v", "-H", "Expect: 100-continue", "--data-binary", f"@{f}", f"{k.url}/sink")
    assert code == 0, err
    assert "HTTP/1.1 100" in err
    assert json.loads(out)["bytes"] == 200_000


def test_http1_pipelining_answers_in_order(procs):
    up = procs.upstream()
    k = procs.kernel(h.BASIC_CONFIG, [up])
    reqs = b"".join(f"GET /status/{c} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for c in (201, 202, 203))
    reqs += b"GET /status/204 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    out = h.raw_exchange(k.port, reqs)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", out)
    assert statuses == [b"201", b"202", b"203", b"204"]


def test_keepalive_reuses_upstream_connections(procs):
    up = procs.upstream()
    k = procs.kernel(h.BASIC_CONFIG, [up])
    urls = [f"{k.url}/small"] * 50
    code, out, err = h.curl(*urls)
    assert code == 0 and out == "Hello, World!" * 50
    _, body, _ = k.admin_get("/clusters")
    clusters = json.loads(body)["clusters"]
    assert clusters[0]["connections"] <= 2


TLS_CONFIG = h.proxy_config("""
    - name: backend
      endpoints:
        - {{ address: "{upstreams[0]}" }}
""", protocol="https", listener="""
    tls: {{ cert: "{cert}", key: "{key}" }}
""")


@pytest.fixture
def certs(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    return str(cert), str(key)


def test_https_negotiates_h2_and_http11_by_alpn(procs, certs):
    up = procs.upstream("tls")
    k = procs.kernel(TLS_CONFIG, [up], cert=certs[0], key=certs[1])
    base = f"https://localhost:{k.port}"
    code, out, err = h.curl("-i", "--cacert", certs[0], "--http2", f"{base}/")
    assert code == 0, err
    assert out.startswith("HTTP/2 200") and "hello from tls" in out
    code, out, err = h.curl("-i", "--cacert", certs[0], "--http1.1", f"{base}/")
    assert code == 0, err
    assert out.startswith("HTTP/1.1 200")


def test_h2load_over_tls_and_h2c(procs, certs):
    up = procs.upstream()
    k = procs.kernel(TLS_CONFIG, [up], cert=certs[0], key=certs[1])
    p = subprocess.run(["h2load", "-n", "2000", "-c", "4", "-m", "10", f"https://127.0.0.1:{k.port}/small"],
                       capture_output=True, text=True, timeout=120)
    assert "2000 succeeded, 0 failed" in p.stdout, p.stdout


H2_UPSTREAM_CONFIG = h.proxy_config("""
    - name: grpc
      upstream_protocol: http2
      endpoints:
        - {{ address: "{upstreams[0]}" }}
""", cluster="grpc")


def h2_request(port, path, headers=(), body=b""):
    """One HTTP/2 prior-knowledge request; returns (headers, body, trailers)."""
    client = h.H2Client(port)
    try:
        r = client.wait(client.send(path, headers=headers, body=body))
    finally:
        client.close()
    return r.headers, r.body, r.trailers


def test_grpc_style_trailers_pass_through_http2(procs):
    up = procs.upstream("g", h2=True)
    k = procs.kernel(H2_UPSTREAM_CONFIG, [up])
    headers, body, trailers = h2_request(k.port, "/trailers", headers=[("te", "trailers"), ("content-type", "application/grpc")])
    assert headers[":status"] == "200"
    assert body == b"ok"
    assert trailers == {"grpc-status": "0", "x-trailer": "yes"}


def test_deep_pipelining_with_bodies_keeps_order(procs):
    up = procs.upstream()
    k = procs.kernel(h.BASIC_CONFIG, [up])
    reqs = b""
    expected = []
    for i in range(150):
        if i % 10 == 0:
            body = (b"%03d" % i) * 1000
            reqs += b"POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body
            expected.append(b'{"bytes": %d}' % len(body))
        else:
            code = (200, 201, 202, 203, 206, 207, 208)[i % 7]  # no 204/304: they carry no body
            reqs += b"GET /status/%d HTTP/1.1\r\nHost: x\r\n\r\n" % code
            expected.append(b"status %d" % code)
    reqs += b"GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    out = h.raw_exchange(k.port, reqs, timeout=20)
    bodies = re.findall(rb'(status \d{3}|\{"bytes": \d+\})', out)
    assert bodies == expected
    assert out.endswith(b"Hello, World!")
