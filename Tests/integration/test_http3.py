"""HTTP/3 over QUIC through Herz (ngtcp2 + nghttp3 + GnuTLS), driven by aioquic — an independent
QUIC/HTTP/3 implementation — and by ngtcp2's gtlsclient: the same routes, filters and upstream
pools as HTTP/1.1 and HTTP/2."""
import asyncio
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

import herz_harness as h
from h3_client import h3_connect

QUIC_CONFIG = h.proxy_config("""
    - name: backend
      endpoints:
        - {{ address: "{upstreams[0]}" }}
""", protocol="quic", listener="""
    tls: {{ cert: "{cert}", key: "{key}" }}
    limits: {{ max_concurrent_streams: 250, idle_timeout: {idle} }}
""", filters="""
    - type: header_mutation
      config: {{ response: {{ add: [{{ name: x-via-filter, value: h3 }}] }} }}
""")


@pytest.fixture
def certs(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    return str(cert), str(key)


def quic_kernel(procs, certs, up, idle="30s", **kw):
    return procs.kernel(QUIC_CONFIG, [up], cert=certs[0], key=certs[1], idle=idle, **kw)


def run(coro, timeout=120):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def metric(kernel, name, **labels):
    """Sum of a Prometheus counter's samples whose labels include `labels`."""
    _, text, _ = kernel.admin_get("/metrics")
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_handshake_and_get_through_the_filter_chain(procs, certs):
    up = procs.upstream("h3")
    k = quic_kernel(procs, certs, up)

    async def go():
        async with h3_connect(k.port, cafile=certs[0]) as client:
            response = await client.request("GET", "/")
            assert response.status == 200, response.headers
            assert b"hello from h3" in response.body
            assert response.headers.get("x-via-filter") == "h3"
            missing = await client.request("GET", "/status/404")
            assert missing.status == 404
    run(go())
    assert metric(k, "herz_quic_handshakes_total", result="ok") >= 1
    assert metric(k, "herz_requests_total", listener="main", code="200") >= 1


@pytest.mark.parametrize("size", [0, 1024, 10 * 1024 * 1024])
def test_post_bodies_stream_both_ways(procs, certs, size):
    up = procs.upstream("echo")
    k = quic_kernel(procs, certs, up)
    body = os.urandom(size)

    async def go():
        async with h3_connect(k.port, cafile=certs[0]) as client:
            echoed = await client.request("POST", "/echo", body=body, timeout=60)
            assert echoed.status == 200 and echoed.reset_code is None
            assert hashlib.sha256(echoed.body).hexdigest() == hashlib.sha256(body).hexdigest()
            download = await client.request("GET", f"/bytes/{size}", timeout=60)
            assert download.status == 200 and len(download.body) == size
    run(go())


def test_many_concurrent_streams_on_one_connection(procs, certs):
    up = procs.upstream("many")
    k = quic_kernel(procs, certs, up)

    async def go():
        async with h3_connect(k.port, cafile=certs[0]) as client:
            pending = [client.start("GET", f"/bytes/{100 + i}") for i in range(200)]
            responses = await asyncio.wait_for(asyncio.gather(*(r.done for r in pending)), 60)
            assert [r.status for r in responses] == [200] * 200
            assert [len(r.body) for r in responses] == [100 + i for i in range(200)]
    run(go())
    assert metric(k, "herz_quic_connections_total") == 1


def test_malformed_datagrams_are_dropped_and_the_kernel_keeps_serving(procs, certs):
    up = procs.upstream("junk")
    k = quic_kernel(procs, certs, up)
    junk = [
        b"",
        b"\x00" * 40,                                    # short header without the fixed bit
        b"\xc0\x00\x00\x00\x01\x15" + b"\x01" * 30,      # destination ID length 21
        b"\xc0\x00\x00\x00\x01\x08" + b"\x01" * 8,       # cut after the destination ID
        b"\xc0\x00\x00\x00\x01\x08" + os.urandom(8) + b"\x00" + os.urandom(1200),  # Initial that fails decryption
        b"\xc0\x00\x00\x00\x01\x08" + os.urandom(8) + b"\x00" + os.urandom(100),   # Initial under 1200 bytes
        b"\xc0\xff\x00\x00\x1d\x08" + os.urandom(8) + b"\x00" + os.urandom(1200),  # unknown version → VN
        b"\x40" + os.urandom(60),                        # short header for no connection
    ] + [os.urandom(n) for n in (1, 7, 64, 500, 1200, 1500) for _ in range(20)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        for datagram in junk:
            s.sendto(datagram, ("127.0.0.1", k.port))
        # The unknown version gets Version Negotiation (version 0) listing QUIC v1.
        answers = []
        try:
            while True:
                answers.append(s.recv(2048))
        except socket.timeout:
            pass
    assert any(a[1:5] == b"\x00\x00\x00\x00" and b"\x00\x00\x00\x01" in a[5:] for a in answers), answers

    async def go():
        async with h3_connect(k.port, cafile=certs[0]) as client:
            assert (await client.request("GET", "/")).status == 200
    run(go())
    assert k.alive()
    assert metric(k, "herz_quic_datagrams_dropped_total") >= 100
    assert metric(k, "herz_quic_stateless_packets_total", kind="version_negotiation") >= 1


def test_idle_connections_are_closed(procs, certs):
    up = procs.upstream("idle")
    k = quic_kernel(procs, certs, up, idle="1s")

    async def go():
        async with h3_connect(k.port, cafile=certs[0], idle_timeout=60) as client:
            assert (await client.request("GET", "/")).status == 200
            for _ in range(200):
                if metric(k, "herz_quic_idle_timeouts_total") >= 1:
                    break
                await asyncio.sleep(0.05)
            assert metric(k, "herz_quic_idle_timeouts_total") >= 1
            assert metric(k, "herz_quic_connections_active") == 0
    run(go())


def test_a_reset_request_stream_does_not_disturb_the_connection(procs, certs):
    up = procs.upstream("reset")
    k = quic_kernel(procs, certs, up)

    async def go():
        async with h3_connect(k.port, cafile=certs[0]) as client:
            slow = client.start("GET", "/bytes/50000000")
            await asyncio.sleep(0.3)
            # Abandon the 50 MB download half way (RESET_STREAM + STOP_SENDING, H3_REQUEST_CANCELLED).
            stream_id = next(sid for sid, r in client.responses.items() if r is slow)
            client._quic.reset_stream(stream_id, 0x010c)
            client._quic.stop_stream(stream_id, 0x010c)
            client.transmit()
            assert (await client.request("GET", "/")).status == 200
    run(go())
    h.wait_for(lambda: metric(k, "herz_requests_total", code="0") >= 1, timeout=10, what="the reset to be recorded")


@pytest.mark.skipif(shutil.which("gtlsclient") is None, reason="ngtcp2-client (gtlsclient) not installed")
def test_gtlsclient_smoke(procs, certs):
    up = procs.upstream("gtls")
    k = quic_kernel(procs, certs, up)
    # Without -q, gtlsclient hexdumps each response body ("|hello from gtls.|").
    p = subprocess.run(["gtlsclient", "--exit-on-all-streams-close", "--no-quic-dump", "-n", "3",
                        "127.0.0.1", str(k.port), f"https://localhost:{k.port}/"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out[-2000:]
    assert out.count("|hello from gtls.|") == 3, out[-2000:]
    assert out.count("[:status: 200]") == 3


def test_gtlsclient_many_requests_with_a_greased_quic_bit(procs, certs):
    """ngtcp2's client clears the fixed bit of its 1-RTT packets when the server advertises
    grease_quic_bit (RFC 9287); Herz must not drop those. Several connections of 1,000 requests
    each (a stalled one ends with ERR_IDLE_CLOSE after --timeout)."""
    up = procs.upstream("gtls")
    k = quic_kernel(procs, certs, up)
    for _ in range(4):
        p = subprocess.run(["gtlsclient", "-q", "--no-quic-dump", "--no-http-dump", "--exit-on-all-streams-close",
                            "--timeout=5s", "-n", "1000", "127.0.0.1", str(k.port), f"https://localhost:{k.port}/small"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        assert b"IDLE_CLOSE" not in p.stdout, p.stdout[-2000:]
    assert metric(k, "herz_requests_total", listener="main", code="200") == 4000
    assert metric(k, "herz_quic_datagrams_dropped_total", reason="malformed") == 0


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def test_a_client_that_stops_reading_does_not_grow_the_kernel(procs, certs):
    """A 2 GB download to a client that stops (SIGSTOP) with a 256 KiB stream window: Herz can
    only send a window ahead, the stream's send queue passes its watermark, the proxy stops reading
    the upstream, and the kernel's memory stays flat while the client is frozen."""
    up = procs.upstream("big")
    k = quic_kernel(procs, certs, up)
    run(asyncio.sleep(0))
    baseline = rss_kib(k.proc.pid)
    client = subprocess.Popen(["gtlsclient", "-q", "--no-quic-dump", "--no-http-dump", "--timeout=60s",
                               "--max-stream-data-bidi-local=262144", "--max-data=1048576", "-n", "1",
                               "127.0.0.1", str(k.port), f"https://localhost:{k.port}/bytes/2000000000"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.5)
        client.send_signal(signal.SIGSTOP)
        time.sleep(2)
        frozen = rss_kib(k.proc.pid)
        time.sleep(3)
        later = rss_kib(k.proc.pid)
    finally:
        client.kill()
        client.wait()
    assert later - frozen < 8 * 1024, f"RSS grew {later - frozen} KiB in 3 s with the client frozen"
    assert later - baseline < 64 * 1024, f"RSS {later} KiB vs {baseline} KiB at start"
    assert h.curl_status(f"http://{up.address}/") == 200
    assert metric(k, "herz_quic_connections_total") == 1


def test_lost_packets_are_retransmitted_and_counted(procs, certs):
    """gtlsclient drops 10% of what it receives (-r 0.1): the responses still arrive whole, and the
    retransmissions show in herz_quic_stream_packets_lost_total."""
    up = procs.upstream("lossy")
    k = quic_kernel(procs, certs, up)
    p = subprocess.run(["gtlsclient", "-q", "--no-quic-dump", "--no-http-dump", "--exit-on-all-streams-close", "-r", "0.1",
                        "--timeout=10s", "-n", "5", "127.0.0.1", str(k.port), f"https://localhost:{k.port}/bytes/200000"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    assert p.returncode == 0 and b"IDLE_CLOSE" not in p.stdout, p.stdout[-2000:]
    assert metric(k, "herz_requests_total", listener="main", code="200") == 5
    assert metric(k, "herz_quic_stream_packets_lost_total") > 0


def test_drain_finishes_requests_in_flight_and_rejects_new_ones(procs, certs):
    up = procs.upstream("drain")
    k = quic_kernel(procs, certs, up)

    async def go():
        async with h3_connect(k.port, cafile=certs[0]) as client:
            assert (await client.request("GET", "/")).status == 200
            in_flight = client.start("GET", "/delay/1500")
            await asyncio.sleep(0.3)
            k.send_signal(__import__("signal").SIGTERM)
            await asyncio.sleep(0.5)
            late = client.start("GET", "/")
            done = await asyncio.wait_for(in_flight.done, 10)
            assert done.status == 200 and b"hello from drain" in done.body
            await asyncio.wait_for(late.done, 10)
            assert late.status is None and late.reset_code == 0x010b  # H3_REQUEST_REJECTED after GOAWAY
            for _ in range(200):  # (an asyncio-friendly wait: the client must keep reading)
                if client.terminated is not None:
                    break
                await asyncio.sleep(0.05)
            assert client.terminated.error_code == 0x0100  # H3_NO_ERROR
    run(go())
    assert k.proc.wait(timeout=15) == 0


def test_client_migrating_its_port_keeps_the_connection(procs, certs):
    up = procs.upstream("migrate")
    k = quic_kernel(procs, certs, up, workers=2)

    async def go():
        loop = asyncio.get_running_loop()
        async with h3_connect(k.port, cafile=certs[0]) as client:
            assert (await client.request("GET", "/")).status == 200
            ports = set()
            for _ in range(6):
                # A new local socket for the same QUIC connection (a NAT rebinding or a migration);
                # with two workers some of these 4-tuples hash to the worker that does not own the
                # connection, which must hand the datagrams over by connection ID.
                transport, _ = await loop.create_datagram_endpoint(lambda: client, local_addr=("::", 0))
                ports.add(transport.get_extra_info("sockname")[1])
                client._quic.change_connection_id()
                response = await client.request("GET", "/bytes/20000")
                assert response.status == 200 and len(response.body) == 20000
            assert len(ports) == 6
    run(go())
    assert metric(k, "herz_quic_connections_total") == 1


ALT_SVC_CONFIG = """
admin: {{ address: "127.0.0.1:{admin}" }}
listeners:
  - name: tls
    address: "127.0.0.1:{port}"
    protocol: https
    tls: {{ cert: "{cert}", key: "{key}" }}
    filters: [{{ type: router, config: {{ virtual_hosts: [{{ name: all, domains: ["*"], routes: [{{ match: {{ prefix: "/" }}, route: {{ cluster: backend }} }}] }}] }} }}]
  - name: h3
    address: "127.0.0.1:{port}"
    protocol: quic
    tls: {{ cert: "{cert}", key: "{key}" }}
    filters: [{{ type: router, config: {{ virtual_hosts: [{{ name: all, domains: ["*"], routes: [{{ match: {{ prefix: "/" }}, route: {{ cluster: backend }} }}] }}] }} }}]
clusters:
  - name: backend
    endpoints: [{{ address: "{upstreams[0]}" }}]
"""


def test_tls_listener_sharing_port_and_certificate_advertises_h3(procs, certs):
    up = procs.upstream("alt")
    k = procs.kernel(ALT_SVC_CONFIG, [up], cert=certs[0], key=certs[1])
    for version in ("--http1.1", "--http2"):
        code, out, err = h.curl("-si", "--cacert", certs[0], version, f"https://localhost:{k.port}/",
                                "--resolve", f"localhost:{k.port}:127.0.0.1")
        assert code == 0, err
        assert f'alt-svc: h3=":{k.port}"; ma=86400' in out.lower(), out

    async def go():
        async with h3_connect(k.port, cafile=certs[0]) as client:
            response = await client.request("GET", "/")
            assert response.status == 200 and "alt-svc" not in response.headers
    run(go())
