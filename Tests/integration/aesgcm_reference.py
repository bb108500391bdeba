"""An independent implementation of Herz's sealed-message format (docs/aes-gcm-format.md), written
from the document with Python `cryptography` only, so tests can check herz-aesgcm against something
that shares none of its code.
"""
import base64
import json
import os
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"HZG"
VERSION = 1
SALT_BYTES = 32
TAG_BYTES = 16
PREFIX_BYTES = 8
KDF_INFO = b"herz-aesgcm v1 message key"
DEFAULT_CHUNK = 16 * 1024


def key_file(active, keys):
    """The text of a herz-aesgcm key file: `keys` is {key id: key bytes}."""
    return json.dumps({"active": active, "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()}})


class Refused(Exception):
    """The message does not open."""


def header(key_id, chunk_size, salt):
    kid = key_id.encode()
    return MAGIC + bytes([VERSION, len(kid)]) + kid + struct.pack(">I", chunk_size) + salt


def _message_key(key, salt):
    okm = HKDF(algorithm=hashes.SHA256(), length=len(key) + PREFIX_BYTES, salt=salt, info=KDF_INFO).derive(key)
    return AESGCM(okm[: len(key)]), okm[len(key):]


def _aad(head, seq, final, context):
    return head + struct.pack(">IB", seq, 1 if final else 0) + context.encode()


def seal(plaintext, key_id, key, context="body", chunk_size=DEFAULT_CHUNK, salt=None):
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    head = header(key_id, chunk_size, salt)
    aead, prefix = _message_key(key, salt)
    out = bytearray(head)
    full = len(plaintext) // chunk_size  # every full chunk is non-final; the final one holds the rest
    for seq in range(full + 1):
        final = seq == full
        piece = plaintext[seq * chunk_size:(seq + 1) * chunk_size] if not final else plaintext[full * chunk_size:]
        out += aead.encrypt(prefix + struct.pack(">I", seq), piece, _aad(head, seq, final, context))
    return bytes(out)


def open_(sealed, keys, context="body"):
    """keys: {key_id: key bytes}. Returns the plaintext or raises Refused."""
    if sealed[:3] != MAGIC or len(sealed) < 5 or sealed[3] != VERSION:
        raise Refused("bad magic or version")
    kid_len = sealed[4]
    head_len = 3 + 2 + kid_len + 4 + SALT_BYTES
    if len(sealed) < head_len:
        raise Refused("truncated header")
    key_id = sealed[5:5 + kid_len].decode()
    (chunk_size,) = struct.unpack(">I", sealed[5 + kid_len:9 + kid_len])
    salt = sealed[9 + kid_len:head_len]
    if key_id not in keys:
        raise Refused(f"unknown key {key_id}")
    head = sealed[:head_len]
    aead, prefix = _message_key(keys[key_id], salt)
    body = sealed[head_len:]
    step = chunk_size + TAG_BYTES
    out = bytearray()
    seq = 0
    while len(body) >= step:
        out += _open_chunk(aead, prefix, head, seq, False, body[:step], context)
        body = body[step:]
        seq += 1
    if len(body) < TAG_BYTES:
        raise Refused("truncated")
    out += _open_chunk(aead, prefix, head, seq, True, body, context)
    return bytes(out)


def _open_chunk(aead, prefix, head, seq, final, chunk, context):
    try:
        return aead.decrypt(prefix + struct.pack(">I", seq), chunk, _aad(head, seq, final, context))
    except Exception as error:  # cryptography raises InvalidTag
        raise Refused(f"chunk {seq}: {error!r}") from None
