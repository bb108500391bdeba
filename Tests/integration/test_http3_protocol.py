"""QUIC and HTTP/3 protocol behaviour of Herz's quic listener seen by aioquic (an implementation
independent of ngtcp2/nghttp3): a Retry round trip, key updates, stateless resets after a restart
(with and without `quic.secret_file`), and the HTTP/3 error codes for malformed frames."""
import asyncio
import os
import socket

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
