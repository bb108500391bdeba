"""Bad input and failing upstreams: every case gets the documented status, and the kernel lives."""
import json
import subprocess
import time

import herz_harness as h

LIMITS_CONFIG = h.proxy_config("""
    - name: backend
      endpoints:
        - {{ address: "{upstreams[0]}" }}
    - name: down
      connect_timeout: 250ms
      endpoints:
        - {{ address: "127.0.0.1:{dead}" }}
""", domains='"api.example.com"', listener="""
    limits: {{ max_request_headers_bytes: 8192, request_headers_timeout: 500ms, idle_timeout: 2s }}
""", filters="""
    - type: buffer
      config: {{ max_request_bytes: 1024 }}
""", routes="""
    - match: {{ prefix: "/delay" }}
      route: {{ cluster: backend, timeout: 300ms }}
    - match: {{ prefix: "/down" }}
      route: {{ cluster: down }}
    - match: {{ prefix: "/" }}
      route: {{ cluster: backend }}
""")


def kernel(procs):
    up = procs.upstream()
    return procs.kernel(LIMITS_CONFIG, [up], dead=h.free_port())


def status_line(raw):
    return raw.split(b"\r\n", 1)[0]


def test_no_route_is_404(procs):
    k = kernel(procs)
    assert h.curl_status("-H", "Host: other.example.com", f"{k.url}/") == 404
    assert h.curl_status("-H", "Host: api.example.com", f"{k.url}/") == 200


def test_upstream_down_is_503(procs):
    k = kernel(procs)
    code, out, err = h.curl("-i", "-H", "Host: api.example.com", f"{k.url}/down")
    assert out.startswith("HTTP/1.1 503"), out
    assert "upstream connect error" in out


def test_upstream_timeout_is_504(procs):
    k = kernel(procs)
    start = time.time()
    assert h.curl_status("-H", "Host: api.example.com", f"{k.url}/delay/3000") == 504
    assert time.time() - start < 2.5


def test_upstream_reset_mid_response_is_never_a_complete_response(procs):
    k = kernel(procs)
    code, out, err = h.curl("-H", "Host: api.example.com", f"{k.url}/reset")
    assert code != 0, "curl must see a truncated transfer, not a complete response"
    code, out, err = h.curl("--http2-prior-knowledge", "-H", "Host: api.example.com", f"{k.url}/reset")
    assert code != 0


def test_malformed_request_is_400_and_closed(procs):
    k = kernel(procs)
    out = h.raw_exchange(k.port, b"GARBAGE\x01 / HTTP/1.1\r\n\r\n")
    assert status_line(out).startswith(b"HTTP/1.1 400"), out


def test_oversized_headers_are_431(procs):
    k = kernel(procs)
    big = b"x" * 16384
    out = h.raw_exchange(k.port, b"GET / HTTP/1.1\r\nHost: api.example.com\r\nX-Big: " + big + b"\r\n\r\n")
    assert status_line(out).startswith(b"HTTP/1.1 431"), out[:200]


def test_body_over_limit_is_413(procs):
    k = kernel(procs)
    assert h.curl_status("-H", "Host: api.example.com", "--data-binary", "x" * 5000, f"{k.url}/echo") == 413
    # Streamed (chunked, no content-length) bodies are caught as they arrive.
    assert h.curl_status("-H", "Host: api.example.com", "-H", "Transfer-Encoding: chunked",
                         "--data-binary", "x" * 5000, f"{k.url}/echo") == 413
    assert h.curl_status("-H", "Host: api.example.com", "--data-binary", "x" * 500, f"{k.url}/echo") == 200


def test_request_smuggling_attempts_are_rejected(procs):
    k = kernel(procs)
    cases = [
        b"POST / HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
        b"POST / HTTP/1.1\r\nHost: api.example.com\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: api.example.com\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    ]
    for raw in cases:
        out = h.raw_exchange(k.port, raw)
        assert status_line(out).startswith(b"HTTP/1.1 400"), (raw, out[:200])
        # The connection is closed after the 400 (raw_exchange returned because the peer closed).
    assert k.alive()


def test_slow_header_sender_gets_408(procs):
    k = kernel(procs)
    start = time.time()
    out = h.raw_exchange(k.port, b"GET / HTTP/1.1\r\nHost: api.exa", timeout=5)
    assert status_line(out).startswith(b"HTTP/1.1 408"), out
    assert time.time() - start < 3


def test_idle_keepalive_connection_is_closed(procs):
    k = kernel(procs)
    import socket
    s = socket.create_connection(("127.0.0.1", k.port))
    s.sendall(b"GET /small HTTP/1.1\r\nHost: api.example.com\r\n\r\n")
    s.settimeout(5)
    first = s.recv(4096)
    assert first.startswith(b"HTTP/1.1 200")
    start = time.time()
    rest = s.recv(4096)
    assert rest == b"" and 1.5 < time.time() - start < 4.5
    s.close()


def test_kernel_survives_garbage_http2(procs):
    k = kernel(procs)
    out = h.raw_exchange(k.port, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x04\x09\x00\x00\x00\x00\x01garbage" * 20)
    assert k.alive()
    assert h.curl_status("-H", "Host: api.example.com", f"{k.url}/small") == 200


REQUEST_TIMEOUT_CONFIG = h.proxy_config("""
    - name: backend
      idle_timeout: 300ms
      endpoints: [{{ address: "{upstreams[0]}" }}]
""", listener="""
    limits: {{ request_timeout: 700ms }}
""", routes="""
    - match: {{ prefix: "/" }}
      route: {{ cluster: backend, timeout: 0s }}
""")


def test_listener_request_timeout(procs):
    up = procs.upstream()
    k = procs.kernel(REQUEST_TIMEOUT_CONFIG, [up])
    # Waiting for a slow upstream: 504.
    start = time.time()
    assert h.curl_status(f"{k.url}/delay/3000") == 504
    assert time.time() - start < 2
    # A client that stops sending its body: 408.
    import socket
    s = socket.create_connection(("127.0.0.1", k.port))
    s.sendall(b"POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
    s.settimeout(5)
    assert s.recv(4096).startswith(b"HTTP/1.1 408")
    s.close()


def test_idle_upstream_connections_are_closed(procs):
    up = procs.upstream()
    k = procs.kernel(REQUEST_TIMEOUT_CONFIG, [up])
    assert h.curl_status(f"{k.url}/small") == 200
    clusters = lambda: json.loads(k.admin_get("/clusters")[1])["clusters"][0]
    assert clusters()["connections"] == 1
    h.wait_for(lambda: clusters()["connections"] == 0, timeout=3, what="idle upstream connection to close")
