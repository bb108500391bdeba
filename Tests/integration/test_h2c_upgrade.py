"""HTTP/1.1 `Upgrade: h2c` on a cleartext listener, as curl (and a plain HTTP/2 client library)
drives it: 101, then HTTP/2 with the upgrade request answered on stream 1."""
import re
import socket

import h2.config
import h2.connection
import h2.events

import herz_harness as h


def test_curl_upgrades_and_gets_the_answer_over_http2(procs):
    up = procs.upstream()
    k = procs.kernel(h.BASIC_CONFIG, [up])
    code, out, err = h.curl("-v", "--http2", f"{k.url}/small")
    assert code == 0, err
    assert "< HTTP/1.1 101" in err
    assert "< HTTP/2 200" in err
    assert out == "Hello, World!"


def test_post_body_travels_through_the_upgrade(procs):
    up = procs.upstream()
    k = procs.kernel(h.BASIC_CONFIG, [up])
    code, out, err = h.curl("-v", "--http2", "--data-binary", "ping through h2c", f"{k.url}/echo")
    assert code == 0, err
    assert "< HTTP/1.1 101" in err and "< HTTP/2 200" in err
    assert out == "ping through h2c"


def test_upgraded_connection_serves_further_requests(procs):
    up = procs.upstream()
    k = procs.kernel(h.BASIC_CONFIG, [up])
    code, out, err = h.curl("-v", "--http2", f"{k.url}/small", f"{k.url}/small", f"{k.url}/small")
    assert code == 0, err
    assert out == "Hello, World!" * 3
    assert err.count("< HTTP/1.1 101") == 1
    assert err.count("< HTTP/2 200") == 3
    assert err.count("Connected to") == 1


def test_upgrade_without_http2_settings_is_served_as_http11(procs):
    up = procs.upstream()
    k = procs.kernel(h.BASIC_CONFIG, [up])
    code, out, err = h.curl("-v", "-H", "Upgrade: h2c", "-H", "Connection: Upgrade", f"{k.url}/small")
    assert code == 0, err
    assert "< HTTP/1.1 200" in err and "< HTTP/1.1 101" not in err  # not "101": the port may contain it
    assert out == "Hello, World!"
    # The connection stays usable for a pipelined request after the declined upgrade.
    reqs = (b"GET /status/201 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
            b"GET /status/202 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", h.raw_exchange(k.port, reqs))
    assert statuses == [b"201", b"202"]


def test_malformed_http2_settings_is_rejected(procs):
    up = procs.upstream()
    k = procs.kernel(h.BASIC_CONFIG, [up])
    out = h.raw_exchange(k.port, b"GET /small HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                                  b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABk+/8\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400 ")


def test_body_too_large_to_hold_is_served_as_http11(procs, tmp_path):
    up = procs.upstream()
    k = procs.kernel(h.BASIC_CONFIG, [up])
    f = tmp_path / "body"
    f.write_bytes(b"z" * 100_000)
    # `Expect:` off, so curl sends the body right behind the upgrade request.
    code, out, err = h.curl("-v", "--http2", "-H", "Expect:", "--data-binary", f"@{f}", f"{k.url}/echo")
    assert code == 0, err
    assert "< HTTP/1.1 200" in err and "< HTTP/1.1 101" not in err  # not "101": the port may contain it
    assert out == "z" * 100_000


def test_http2_client_library_sees_stream_one_and_continues(procs):
    """A strict client (python-h2): body on stream 1, then a new stream on the same connection."""
    up = procs.upstream()
    k = procs.kernel(h.BASIC_CONFIG, [up])
    body = bytes(range(256)) * 200  # 51,200 bytes: several DATA frames, under the 64 KiB hold limit
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    settings = conn.initiate_upgrade_connection().decode()
    with socket.create_connection(("127.0.0.1", k.port), timeout=10) as s:
        s.sendall((f"POST /echo HTTP/1.1\r\nHost: 127.0.0.1:{k.port}\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                   f"Upgrade: h2c\r\nHTTP2-Settings: {settings}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = s.recv(65536)
            assert chunk, received
            received += chunk
        status_line, rest = received.split(b"\r\n", 1)
        assert status_line.startswith(b"HTTP/1.1 101"), received
        leftover = rest.split(b"\r\n\r\n", 1)[1]
        s.sendall(conn.data_to_send())

        responses = {}

        def pump(until_stream):
            data = leftover_holder.pop() if leftover_holder else s.recv(65536)
            while True:
                assert data, "connection closed early"
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.ResponseReceived):
                        responses.setdefault(event.stream_id, {"body": b""})["status"] = dict(event.headers)[b":status"]
                    elif isinstance(event, h2.events.DataReceived):
                        responses.setdefault(event.stream_id, {"body": b""})["body"] += event.data
                        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded) and event.stream_id == until_stream:
                        s.sendall(conn.data_to_send())
                        return
                    elif isinstance(event, h2.events.ConnectionTerminated):
                        raise AssertionError(f"connection terminated: {event}")
                s.sendall(conn.data_to_send())
                data = s.recv(65536)

        leftover_holder = [leftover] if leftover else []
        pump(1)
        assert responses[1]["status"] == b"200"
        assert responses[1]["body"] == body

        conn.send_headers(3, [(":method", "GET"), (":scheme", "http"), (":path", "/small"),
                              (":authority", f"127.0.0.1:{k.port}")], end_stream=True)
        s.sendall(conn.data_to_send())
        pump(3)
        assert responses[3]["status"] == b"200"
        assert responses[3]["body"] == b"Hello, World!"
