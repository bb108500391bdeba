"""Keys, JWKS files and tokens for the jwt_authn integration tests, all made by PyJWT, Python
`cryptography` and joserfc: data produced independently of Herz and of swift-crypto."""
import base64
import hashlib
import hmac
import json
import os
import time

import jwt as pyjwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import get_default_algorithms

ISSUER = "https://issuer.test"
AUDIENCE = "api"
ALGORITHMS = ["ES256", "ES384", "EdDSA", "RS256", "PS256"]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Key:
    """A private key for one JWS algorithm, its public JWK (from PyJWT) and a signer."""

    def __init__(self, alg, kid):
        self.alg, self.kid = alg, kid
        if alg == "ES256":
            self.private = ec.generate_private_key(ec.SECP256R1())
        elif alg == "ES384":
            self.private = ec.generate_private_key(ec.SECP384R1())
        elif alg == "EdDSA":
            self.private = ed25519.Ed25519PrivateKey.generate()
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.algorithm = get_default_algorithms()[alg]

    def jwk(self):
        key = json.loads(self.algorithm.to_jwk(self.private.public_key()))
        key.update(kid=self.kid, use="sig")
        return key

    def public_pem(self):
        return self.private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, claims, **headers):
        """A token signed by PyJWT."""
        return pyjwt.encode(claims, self.private, algorithm=self.alg, headers={"kid": self.kid, **headers})

    def sign_raw(self, header_text, payload_text):
        """A token of exactly these header and payload texts (duplicate members, crit…), signed with
        PyJWT's algorithm object (raw r||s for ECDSA, as JWS wants)."""
        signing_input = (b64url(header_text.encode()) + "." + b64url(payload_text.encode())).encode()
        return signing_input.decode() + "." + b64url(self.algorithm.sign(signing_input, self.private))

    def sign_with_joserfc(self, claims):
        """The same kind of token, signed by joserfc (a second, independent JOSE library)."""
        from joserfc import jwt as jose_jwt
        from joserfc.jwk import import_key
        pem = self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
        key_type = {"ES256": "EC", "ES384": "EC", "EdDSA": "OKP", "RS256": "RSA", "PS256": "RSA"}[self.alg]
        return jose_jwt.encode({"alg": self.alg, "kid": self.kid}, claims, import_key(pem, key_type),
                               algorithms=[self.alg])


def claims(**overrides):
    now = int(time.time())
    values = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, "scope": "read write"}
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def write_jwks(path, keys, extra=()):
    """Writes the keys' JWKS to `path` atomically (temporary file + rename), as a rotation would."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump({"keys": [k.jwk() for k in keys] + list(extra)}, f)
    os.replace(tmp, path)


def unsigned(header, payload):
    return b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode()) + "."


def hmac_with_public_key(key, claims_):
    """Algorithm confusion: an HS256 token whose HMAC secret is `key`'s public PEM (PyJWT refuses
    to make one, so it is built by hand)."""
    signing_input = b64url(json.dumps({"alg": "HS256", "kid": key.kid}).encode()) + "." + b64url(json.dumps(claims_).encode())
    mac = hmac.new(key.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(mac)


def payload_segment(token):
    return token.split(".")[1]
