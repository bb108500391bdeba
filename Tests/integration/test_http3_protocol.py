"""QUIC and HTTP/3 protocol behaviour of Herz's quic listener seen by aioquic (an implementation
independent of ngtcp2/nghttp3): a Retry round trip, key updates, stateless resets after a restart
(with and without `quic.secret_file`), and the HTTP/3 error codes for malformed frames."""
import asyncio
import json
import os
import re
import socket
import subprocess
import threading
import time

import pytest
from aioquic import tls
from aioquic.quic.events import ConnectionTerminated

import herz_harness as h
from h3_client import h3_connect
from test_http3 import certs, metric, run  # noqa: F401 - `certs` is a fixture

H3_CONFIG = h.proxy_config("""
    - name: backend
      endpoints:
        - {{ address: "{upstreams[0]}" }}
""", protocol="quic", listener="""
    tls: {{ cert: "{cert}", key: "{key}" }}
    quic: {{ {quic} }}
""")

# RFC 9114 §8.1 and RFC 9204 §6 error codes.
H3_STREAM_CREATION_ERROR = 0x103
H3_CLOSED_CRITICAL_STREAM = 0x104
H3_FRAME_UNEXPECTED = 0x105
QPACK_DECOMPRESSION_FAILED = 0x200


def kernel(procs, certs, quic="retry: off"):
    up = procs.upstream("h3")
    return procs.kernel(H3_CONFIG, [up], cert=certs[0], key=certs[1], quic=quic)


async def get_ok(port, cafile):
    async with h3_connect(port, cafile=cafile) as client:
        response = await client.request("GET", "/")
        assert response.status == 200 and b"hello from h3" in response.body


def test_retry_round_trip(procs, certs):
    """With `retry: always` every client first gets a Retry and comes back with its token."""
    k = kernel(procs, certs, quic="retry: always")

    async def go():
        async with h3_connect(k.port, cafile=certs[0]) as client:
            assert (await client.request("GET", "/")).status == 200
            return client._quic._retry_count
    assert run(go()) == 1, "aioquic saw no Retry"
    assert metric(k, "herz_quic_stateless_packets_total", kind="retry") >= 1
    assert metric(k, "herz_quic_handshakes_total", result="ok") == 1
    # The closed connection's smoothed RTT is in the histogram (loopback: well under 100 ms).
    h.wait_for(lambda: metric(k, "herz_quic_smoothed_rtt_seconds_count") == 1, what="the RTT sample")
    assert metric(k, "herz_quic_smoothed_rtt_seconds_bucket", le="0.1") == 1


def test_key_updates_keep_the_connection_working(procs, certs):
    """aioquic moves to new 1-RTT keys and stops decrypting the old phase at once, so a response
    only arrives if Herz followed each update (RFC 9001 §6)."""
    k = kernel(procs, certs)

    async def go():
        async with h3_connect(k.port, cafile=certs[0]) as client:
            assert (await client.request("GET", "/")).status == 200
            crypto = client._quic._cryptos[tls.Epoch.ONE_RTT]
            for update in range(3):
                phase = crypto.key_phase
                client._quic.request_key_update()
                response = await client.request("GET", "/", timeout=10)
                assert response.status == 200, f"update {update}"
                assert crypto.recv.key_phase != phase, f"aioquic did not make update {update}"
                await asyncio.sleep(0.5)  # let the acknowledgements settle before the next one
    run(go())


def reset_reply(port, cid, timeout=3.0):
    """Sends a 1200-byte short-header packet for `cid` and returns the datagram that comes back."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(bytes([0x40 | (os.urandom(1)[0] & 0x3f)]) + cid + os.urandom(1200 - 1 - len(cid)),
                    ("127.0.0.1", port))
        return sock.recvfrom(2048)[0]


def server_cids(client):
    """The connection IDs Herz issued to aioquic, with their stateless reset tokens."""
    quic = client._quic
    return [(c.cid, c.stateless_reset_token) for c in [quic._peer_cid, *quic._peer_cid_available]
            if c.stateless_reset_token]


@pytest.mark.parametrize("shared_secret", [True, False])
def test_stateless_reset_after_a_restart(procs, certs, tmp_path, shared_secret):
    """After a crash and restart, packets for the old connection are answered with a stateless
    reset. Its token matches the one the client got during the connection only when the kernel
    derives tokens from `quic.secret_file` (else the new process' random secret makes the reset
    unrecognisable, which is why the option exists)."""
    quic = "retry: off"
    if shared_secret:
        (tmp_path / "quic.key").write_bytes(os.urandom(32))
        quic += f', secret_file: "{tmp_path / "quic.key"}"'
    k = kernel(procs, certs, quic=quic)

    async def connect():
        async with h3_connect(k.port, cafile=certs[0]) as client:
            assert (await client.request("GET", "/")).status == 200
            return server_cids(client)
    cids = run(connect())
    assert cids, "Herz gave aioquic no stateless reset token"
    k.restart()
    for cid, token in cids:
        reply = reset_reply(k.port, cid)
        assert reply[0] & 0xc0 == 0x40, "a stateless reset looks like a short-header packet"
        assert 21 <= len(reply) < 1200, "smaller than the packet that triggered it (RFC 9000 §10.3.3)"
        assert (reply[-16:] == token) == shared_secret
    assert metric(k, "herz_quic_stateless_packets_total", kind="stateless_reset") >= len(cids)
    run(get_ok(k.port, certs[0]))


def control_stream_id(client):
    return client.http._local_control_stream_id


MALFORMED = {
    # DATA before HEADERS on a request stream (RFC 9114 §4.1).
    "data_first": (lambda c, s: c._quic.send_stream_data(s(), b"\x00\x03abc", end_stream=True), H3_FRAME_UNEXPECTED),
    # SETTINGS is only allowed on the control stream (§7.2.4).
    "settings_on_request": (lambda c, s: c._quic.send_stream_data(s(), b"\x04\x00", end_stream=True), H3_FRAME_UNEXPECTED),
    # A field line naming static table entry 200 (the table has 99; RFC 9204 §4.5.2).
    "bad_qpack_index": (lambda c, s: c._quic.send_stream_data(s(), b"\x01\x05\x00\x00\xff\x89\x01", end_stream=True),
                        QPACK_DECOMPRESSION_FAILED),
    # A second control stream (§6.2.1).
    "second_control_stream": (lambda c, s: c._quic.send_stream_data(s(unidirectional=True), b"\x00\x04\x00"),
                              H3_STREAM_CREATION_ERROR),
    # Closing the control stream (§6.2.1).
    "control_stream_closed": (lambda c, s: c._quic.send_stream_data(control_stream_id(c), b"", end_stream=True),
                              H3_CLOSED_CRITICAL_STREAM),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_http3_closes_the_connection_with_the_h3_error_code(procs, certs, case):
    send, expected = MALFORMED[case]
    k = kernel(procs, certs)

    async def go():
        async with h3_connect(k.port, cafile=certs[0]) as client:
            assert (await client.request("GET", "/")).status == 200
            send(client, lambda unidirectional=False: client._quic.get_next_available_stream_id(is_unidirectional=unidirectional))
            client.transmit()
            for _ in range(100):
                if client.terminated is not None:
                    break
                await asyncio.sleep(0.05)
            assert isinstance(client.terminated, ConnectionTerminated), "Herz did not close the connection"
            return client.terminated.error_code, client.terminated.reason_phrase
    code, reason = run(go())
    assert code == expected, f"closed with {code:#x} ({reason!r}), expected {expected:#x}"
    run(get_ok(k.port, certs[0]))


def test_new_token_lets_a_returning_client_skip_retry(procs, certs):
    """With `retry: always`, a client that kept the NEW_TOKEN token of its previous connection
    proves its address with it and gets no Retry; a forged token only costs it the Retry."""
    k = kernel(procs, certs, quic="retry: always")
    tokens = []

    async def connect(token=b""):
        async with h3_connect(k.port, cafile=certs[0], token=token, token_handler=tokens.append) as client:
            assert (await client.request("GET", "/")).status == 200
            await asyncio.sleep(0.2)  # NEW_TOKEN comes after HANDSHAKE_DONE
            return client._quic._retry_count
    assert run(connect()) == 1
    assert tokens, "Herz sent no NEW_TOKEN frame"
    assert run(connect(tokens[0])) == 0, "the token did not replace the Retry"
    forged = bytes([tokens[0][0]]) + os.urandom(len(tokens[0]) - 1)
    assert run(connect(forged)) == 1
    assert metric(k, "herz_quic_address_tokens_total", result="accepted") == 1
    assert metric(k, "herz_quic_address_tokens_total", result="rejected") == 1
    assert metric(k, "herz_quic_address_tokens_total", result="issued") == 3


class Relay:
    """A UDP relay between one client and the kernel that records what the client sent, so a test
    can replay a client's first flight (its ClientHello and 0-RTT packets) as an attacker would."""

    def __init__(self, target_port):
        self.client_side = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.client_side.bind(("127.0.0.1", 0))
        self.server_side = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.target = ("127.0.0.1", target_port)
        self.sent = []
        self.client = None
        self.running = True
        self.threads = [threading.Thread(target=self._up, daemon=True), threading.Thread(target=self._down, daemon=True)]
        for t in self.threads:
            t.start()

    @property
    def port(self):
        return self.client_side.getsockname()[1]

    def _up(self):
        self.client_side.settimeout(0.2)
        while self.running:
            try:
                data, self.client = self.client_side.recvfrom(65536)
            except socket.timeout:
                continue
            self.sent.append(data)
            self.server_side.sendto(data, self.target)

    def _down(self):
        self.server_side.settimeout(0.2)
        while self.running:
            try:
                data, _ = self.server_side.recvfrom(65536)
            except (socket.timeout, OSError):
                continue
            if self.client:
                self.client_side.sendto(data, self.client)

    def close(self):
        self.running = False
        for t in self.threads:
            t.join()
        self.client_side.close()
        self.server_side.close()


def test_zero_rtt_forwards_safe_methods_marked_refuses_others_and_replays(procs, certs, tmp_path):
    """With `early_data: true`, a resuming aioquic client's GET in 0-RTT reaches the origin with
    `Early-Data: 1`, a POST in 0-RTT gets 425 and never reaches it, and the same first flight
    replayed later gets no early data accepted (GnuTLS anti-replay + Herz's ClientHello cache)."""
    k = kernel(procs, certs, quic="retry: off, early_data: true")
    up_stats = lambda: json.loads(h.http_request(f"http://{k.fmt['upstreams'][0]}/admin/stats")[1])["requests"]
    tickets = []

    async def first():
        async with h3_connect(k.port, cafile=certs[0], session_ticket_handler=tickets.append) as client:
            assert (await client.request("GET", "/")).status == 200
            await asyncio.sleep(0.3)  # the NewSessionTicket follows the handshake
    run(first())
    assert tickets and tickets[-1].max_early_data_size == 0xffffffff, "no ticket allowing 0-RTT"

    relay = Relay(k.port)
    try:
        async def early():
            async with h3_connect(relay.port, cafile=certs[0], session_ticket=tickets[-1], wait_connected=False) as client:
                get = client.start("GET", "/echo?headers=1")
                post = client.start("POST", "/echo", body=b"not idempotent")
                responses = await asyncio.wait_for(asyncio.gather(get.done, post.done), 30)
                return responses, client._quic.tls.session_resumed, client._quic.tls.early_data_accepted
        (get, post), resumed, accepted = run(early())
    finally:
        relay.close()
    assert resumed and accepted, (resumed, accepted)
    assert get.status == 200
    seen = dict((name, value) for name, value in json.loads(bytes(get.body))["headers"])
    assert seen.get("early-data") == "1", seen
    assert post.status == 425 and post.headers.get("x-herz-early-data") == "refused", (post.status, post.headers)
    assert metric(k, "herz_quic_early_data_total", result="accepted") == 1
    assert metric(k, "herz_quic_early_data_total", result="too_early") == 1

    # Replay the client's first flight once the original connection is gone.
    h.wait_for(lambda: metric(k, "herz_quic_connections_active") == 0, timeout=20, what="connections to close")
    before = up_stats()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as attacker:
        for datagram in relay.sent[:3]:
            attacker.sendto(datagram, ("127.0.0.1", k.port))
        time.sleep(1.0)
    assert metric(k, "herz_quic_early_data_total", result="replay_refused") >= 1
    assert metric(k, "herz_quic_early_data_total", result="accepted") == 1
    assert up_stats() == before, "the replayed 0-RTT request reached the origin"


def test_resumption_without_early_data(procs, certs):
    """Tickets are issued with 0-RTT off too (shorter handshakes), but allow no early data."""
    k = kernel(procs, certs)
    tickets = []

    async def connect(ticket=None):
        async with h3_connect(k.port, cafile=certs[0], session_ticket=ticket, session_ticket_handler=tickets.append) as client:
            assert (await client.request("GET", "/")).status == 200
            await asyncio.sleep(0.3)
            return client._quic.tls.session_resumed
    assert run(connect()) is False
    assert tickets and not tickets[-1].max_early_data_size
    assert run(connect(tickets[-1])) is True


def test_qlog_traces_go_to_the_directory_for_the_first_connections(procs, certs, tmp_path):
    qlog = tmp_path / "qlog"
    qlog.mkdir()
    k = kernel(procs, certs, quic=f'retry: off, qlog_dir: "{qlog}", qlog_max_files: 1')
    for _ in range(2):
        run(get_ok(k.port, certs[0]))
    files = list(qlog.iterdir())
    assert len(files) == 1 and files[0].suffix == ".sqlog", files
    h.wait_for(lambda: b'"qlog_version"' in files[0].read_bytes() and files[0].read_bytes().count(b"\x1e") > 10,
               what="qlog records")
    records = [json.loads(r) for r in files[0].read_bytes().split(b"\x1e") if r.strip()]
    assert records[0]["qlog_format"] == "JSON-SEQ", records[0]
    names = {r.get("name") for r in records[1:]}
    assert "transport:packet_received" in names and "transport:packet_sent" in names, names


def test_reload_removing_the_quic_listener_sends_goaway_and_finishes_requests(procs, certs):
    k = kernel(procs, certs)
    tcp_only = h.proxy_config("""
        - name: backend
          endpoints:
            - {{ address: "{upstreams[0]}" }}
    """).replace("  - name: main", "  - name: tcp")  # a new listener; "main" (quic) is removed

    async def go():
        async with h3_connect(k.port, cafile=certs[0]) as client:
            assert (await client.request("GET", "/")).status == 200
            in_flight = client.start("GET", "/delay/1500")
            await asyncio.sleep(0.3)
            k.write_config(tcp_only)
            code, body, _ = await asyncio.get_running_loop().run_in_executor(None, k.admin_post, "/reload")
            assert code == 200, body
            await asyncio.sleep(0.3)
            late = client.start("GET", "/")
            done = await asyncio.wait_for(in_flight.done, 10)
            assert done.status == 200 and b"hello from h3" in done.body
            await asyncio.wait_for(late.done, 10)
            assert late.status is None and late.reset_code == 0x010b  # H3_REQUEST_REJECTED after GOAWAY
            for _ in range(200):
                if client.terminated is not None:
                    break
                await asyncio.sleep(0.05)
            assert client.terminated is not None and client.terminated.error_code == 0x0100  # H3_NO_ERROR
    run(go())
    assert h.curl_status(f"{k.url}/") == 200, "the new config serves"
    h.wait_for(lambda: metric(k, "herz_quic_connections_active") == 0, what="the quic connection to be gone")


def make_cert(directory, common_name):
    cert, key = directory / f"{common_name}.pem", directory / f"{common_name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={common_name}",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    return str(cert), str(key)


def test_reload_swaps_the_certificate_for_new_connections_only(procs, tmp_path):
    """A reload with a new `tls:` gives new QUIC connections the new certificate while an
    established connection keeps serving; a reload naming a missing key file is refused."""
    first, second = make_cert(tmp_path, "first"), make_cert(tmp_path, "second")
    k = kernel(procs, first)

    def subject(client):
        return client._quic.tls._peer_certificate.subject.rfc4514_string()

    async def go():
        async with h3_connect(k.port) as old:
            assert (await old.request("GET", "/")).status == 200 and subject(old) == "CN=first"
            k.fmt.update(cert=second[0], key=second[1])
            k.write_config(H3_CONFIG)
            code, body, _ = await asyncio.get_running_loop().run_in_executor(None, k.admin_post, "/reload")
            assert code == 200, body
            async with h3_connect(k.port) as new:
                assert (await new.request("GET", "/")).status == 200 and subject(new) == "CN=second"
            assert (await old.request("GET", "/")).status == 200, "the old connection keeps serving"
            k.fmt.update(key=str(tmp_path / "missing.key"))
            k.write_config(H3_CONFIG)
            code, body, _ = await asyncio.get_running_loop().run_in_executor(None, k.admin_post, "/reload")
            assert code != 200 and "missing.key" in body, (code, body)
            async with h3_connect(k.port) as after:
                assert (await after.request("GET", "/")).status == 200 and subject(after) == "CN=second"
    run(go())


TWO_LISTENERS = """
admin: {{ address: "127.0.0.1:{admin}" }}
listeners:
  - name: tcp
    address: "127.0.0.1:{port}"
    protocol: https
    tls: {{ cert: "{tcp_cert}", key: "{tcp_key}" }}
    filters: &filters
      - type: router
        config:
          virtual_hosts:
            - name: all
              domains: ["*"]
              routes: [{{ match: {{ prefix: "/" }}, route: {{ cluster: backend }} }}]
  - name: h3
    address: "127.0.0.1:{port}"
    protocol: quic
    tls: {{ cert: "{cert}", key: "{key}" }}
    filters: *filters
clusters:
  - name: backend
    endpoints: [{{ address: "{upstreams[0]}" }}]
"""


def served_subject(port):
    out = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost"],
                         input=b"", capture_output=True, timeout=20).stdout.decode()
    return re.search(r"subject=.*?CN\s*=\s*(\w+)", out).group(1)


def test_a_reload_that_fails_on_one_certificate_changes_no_certificate(procs, tmp_path):
    """The https listener's new certificate loads, the quic listener's is garbage: the reload is
    rejected as a whole and the https listener keeps serving its old certificate."""
    first, second, h3 = make_cert(tmp_path, "first"), make_cert(tmp_path, "second"), make_cert(tmp_path, "hthree")
    up = procs.upstream("h3")
    k = procs.kernel(TWO_LISTENERS, [up], tcp_cert=first[0], tcp_key=first[1], cert=h3[0], key=h3[1])
    assert served_subject(k.port) == "first"
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    k.fmt.update(tcp_cert=second[0], tcp_key=second[1], cert=str(garbage))
    k.write_config(TWO_LISTENERS)
    code, body, _ = k.admin_post("/reload")
    assert code != 200 and "garbage.pem" in body, body
    assert served_subject(k.port) == "first", "a rejected reload swapped the https certificate"
    run(get_ok(k.port, h3[0]))
