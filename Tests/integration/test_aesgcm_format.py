"""herz-aesgcm's sealed-message format against an independent implementation (aesgcm_reference.py,
Python `cryptography`): what the real binary seals, Python opens; what Python seals, the binary
opens; what is damaged, the binary refuses without releasing the damaged chunk's plaintext.
"""
import os
import select
import struct
import subprocess

import pytest

import aesgcm_reference as ref
import herz_harness as h

KEYS = {"k-128": bytes(range(16)), "k-256": bytes(range(100, 132))}


@pytest.fixture
def keyfile(tmp_path):
    def write(active="k-256", keys=KEYS):
        path = tmp_path / "keys.json"
        path.write_text(ref.key_file(active, keys))
        path.chmod(0o600)
        return str(path)
    return write


def herz(mode, keys_path, data, *args):
    return subprocess.run([h.binary("herz-aesgcm"), mode, "--keys", keys_path, *args], input=data, capture_output=True,
                          timeout=60)


def plaintext(n):
    return bytes((i * 31 + 7) % 256 for i in range(n))


@pytest.mark.parametrize("active", ["k-128", "k-256"])
@pytest.mark.parametrize("size", [0, 1, 16383, 16384, 16385, 100_000])
def test_python_opens_what_herz_seals(keyfile, active, size):
    p = herz("seal", keyfile(active), plaintext(size))
    assert p.returncode == 0, p.stderr
    assert p.stdout[5:5 + len(active)] == active.encode(), "sealed with the active key"
    assert ref.open_(p.stdout, KEYS) == plaintext(size)


@pytest.mark.parametrize("context", ["header:x-card", "cookie:session"])
def test_contexts_bind_on_both_sides(keyfile, context):
    p = herz("seal", keyfile(), b"4111 1111 1111 1111", "--context", context)
    assert ref.open_(p.stdout, KEYS, context) == b"4111 1111 1111 1111"
    with pytest.raises(ref.Refused):
        ref.open_(p.stdout, KEYS, "body")
    assert herz("open", keyfile(), ref.seal(b"v", "k-128", KEYS["k-128"], context), "--context", context).stdout == b"v"


@pytest.mark.parametrize("key_id", ["k-128", "k-256"])
@pytest.mark.parametrize("chunk_size,size", [(1, 5), (7, 50), (16384, 0), (16384, 40_000), (1 << 20, 70_000)])
def test_herz_opens_what_python_seals(keyfile, key_id, chunk_size, size):
    sealed = ref.seal(plaintext(size), key_id, KEYS[key_id], chunk_size=chunk_size)
    p = herz("open", keyfile(), sealed)
    assert p.returncode == 0, p.stderr
    assert p.stdout == plaintext(size)


def test_golden_message_matches_the_swift_tests():
    """The same bytes GoldenVectorTests.swift expects from Herz."""
    sealed = ref.seal(b"Herz golden vector: three chunks of sixteen.", "k-128", bytes(range(16)), chunk_size=16,
                      salt=bytes(range(0x20, 0x40)))
    assert sealed.hex().startswith("485a4701056b2d31323800000010202122")
    assert sealed.hex().endswith("a101a226ddb12b6002ae8fb605")


def _python_message():
    """A 4-chunk message (chunk size 8: 8, 8, 8 and a final 6) and its parts."""
    sealed = ref.seal(plaintext(30), "k-128", KEYS["k-128"], chunk_size=8)
    head = len(sealed) - 3 * 24 - 22
    return sealed, sealed[:head], [sealed[head + i * 24:head + (i + 1) * 24] for i in range(3)] + [sealed[head + 72:]]


def _flip(data, index):
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1:]


def _damaged():
    """Damaged messages: (bytes, the refusal, how many plaintext bytes precede the damage)."""
    sealed, head, c = _python_message()
    other = _python_message()[2]
    return {
        "ciphertext bit": (_flip(sealed, len(head) + 3), "chunk 0 failed authentication", 0),
        "tag bit": (_flip(sealed, len(sealed) - 1), "chunk 3 failed authentication", 24),
        "header salt bit": (_flip(sealed, len(head) - 1), "chunk 0 failed authentication", 0),
        "header key id": (sealed.replace(b"k-128", b"k-256", 1), "chunk 0 failed authentication", 0),
        "unknown key": (sealed.replace(b"k-128", b"k-999", 1), "unknown key id k-999", 0),
        "truncated final chunk": (sealed[:-1], "chunk 3 failed authentication", 24),
        "dropped final chunk": (head + b"".join(c[:3]), "message truncated", 24),
        "dropped chunk": (head + c[0] + c[2] + c[3], "chunk 1 failed authentication", 8),
        "reordered chunks": (head + c[1] + c[0] + c[2] + c[3], "chunk 0 failed authentication", 0),
        "spliced chunk": (head + c[0] + other[1] + c[2] + c[3], "chunk 1 failed authentication", 8),
        "appended bytes": (sealed + b"\0", "chunk 3 failed authentication", 24),
        "not sealed": (b"hello", "not a sealed message", 0),
    }


@pytest.mark.parametrize("case", sorted(_damaged()))
def test_herz_refuses_damaged_messages(keyfile, case):
    data, reason, sound = _damaged()[case]
    p = herz("open", keyfile(), data)
    assert p.returncode == 1
    assert reason in p.stderr.decode()
    # Chunks before the damage may have been released (depending on how the input was read), never
    # anything of the damaged chunk or after it.
    assert plaintext(30)[:sound].startswith(p.stdout)
    with pytest.raises(ref.Refused):
        ref.open_(data, KEYS)


def test_seal_streams_chunks_before_the_input_ends(keyfile):
    """Ciphertext for full chunks leaves while standard input is still open."""
    p = subprocess.Popen([h.binary("herz-aesgcm"), "seal", "--keys", keyfile("k-128"), "--chunk-size", "1024"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        p.stdin.write(plaintext(2500))
        p.stdin.flush()
        expected = len(ref.header("k-128", 1024, bytes(32))) + 2 * (1024 + 16)
        got = b""
        while len(got) < expected:
            ready, _, _ = select.select([p.stdout], [], [], 10)
            assert ready, f"only {len(got)} of {expected} bytes before end of input"
            got += os.read(p.stdout.fileno(), expected - len(got))
        p.stdin.close()
        rest = p.stdout.read()
        assert p.wait(timeout=10) == 0
    finally:
        p.kill()
    assert ref.open_(got + rest, KEYS) == plaintext(2500)
    assert struct.unpack(">I", got[10:14]) == (1024,)
