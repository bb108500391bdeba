"""Certificates and TLS peers for the TLS tests, made in the test run: a private PKI built with
the `cryptography` package (CAs, server and client certificates, expired ones), and a Python
HTTP/1.1 upstream (plain or TLS, optionally requiring a client certificate) that answers every
request with the request headers it saw, as JSON."""
import datetime
import json
import os
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import herz_harness as h


def _name(cn, org="Herz Test"):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class Issued:
    def __init__(self, cert, key, cert_path, key_path):
        self.cert, self.key, self.cert_path, self.key_path = cert, key, cert_path, key_path

    @property
    def sha256(self):
        return self.cert.fingerprint(hashes.SHA256()).hex()


class PKI:
    """Writes PEM files under `directory`."""

    def __init__(self, directory):
        self.dir = str(directory)

    def _write(self, name, cert, key):
        cert_path, key_path = os.path.join(self.dir, name + ".crt"), os.path.join(self.dir, name + ".key")
        with open(cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(key_path, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        return Issued(cert, key, cert_path, key_path)

    def ca(self, name):
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False, key_agreement=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .sign(key, hashes.SHA256()))
        return self._write(name, cert, key)

    def issue(self, ca, name, cn, dns=(), uris=(), ips=(), client=False, expired=False, file_name=None):
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        start, end = ((now - datetime.timedelta(days=10), now - datetime.timedelta(days=1)) if expired
                      else (now - datetime.timedelta(hours=1), now + datetime.timedelta(days=10)))
        import ipaddress
        sans = [x509.DNSName(d) for d in dns] + [x509.UniformResourceIdentifier(u) for u in uris] + \
               [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        builder = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca.cert.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(end)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(ca.key, hashes.SHA256())
        return self._write(file_name or name, cert, key)


class HeaderEchoUpstream:
    """HTTP/1.1 keep-alive upstream on a free port; every answer is 200 with the request headers as
    JSON. With `tls` (an Issued) it speaks TLS; with `client_ca` it requires a client certificate
    from that CA and adds the client's CN as `x-client-cn`."""

    def __init__(self, tls=None, client_ca=None):
        self.port = h.free_port()
        self.handshake_errors = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                peer = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
                if peer:
                    cn = [v for rdn in peer["subject"] for (k, v) in rdn if k == "commonName"]
                    self.send_header("x-client-cn", cn[0] if cn else "")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

            def handle_error(self, request, client_address):
                import sys
                outer.handshake_errors.append(str(sys.exc_info()[1]))

        self.server = Server(("127.0.0.1", self.port), Handler)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls.cert_path, tls.key_path)
            if client_ca:
                ctx.verify_mode = ssl.CERT_REQUIRED
                ctx.load_verify_locations(client_ca.cert_path)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.name = "python-upstream"

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def stop(self, *a, **kw):
        self.server.shutdown()
        self.server.server_close()
