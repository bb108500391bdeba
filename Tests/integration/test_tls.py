"""TLS on both sides of the kernel, with real peers: curl and `openssl s_client` downstream
(with, without, expired and wrong-CA client certificates), a Python `ssl` upstream that requires a
client certificate, an upstream with an untrusted certificate, SNI certificate selection,
certificate rotation under an open keep-alive connection, and h2load over TLS to a TLS upstream."""
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import time

import pytest

import herz_harness as h
from tls_peers import PKI, HeaderEchoUpstream


@pytest.fixture
def pki(tmp_path):
    p = PKI(tmp_path)
    p.server_ca = p.ca("server-ca")
    p.client_ca = p.ca("client-ca")
    p.other_ca = p.ca("other-ca")
    p.server = p.issue(p.server_ca, "server", "localhost", dns=["localhost"], ips=["127.0.0.1"])
    p.client = p.issue(p.client_ca, "client", "client-a", dns=["client-a.test"], uris=["spiffe://herz.test/ns/a/sa/client"], client=True)
    p.expired = p.issue(p.client_ca, "expired", "client-old", dns=["client-a.test"], client=True, expired=True)
    p.stranger = p.issue(p.other_ca, "stranger", "client-x", dns=["client-a.test"], client=True)
    return p


@pytest.fixture
def echo(request):
    started = []

    def make(**kw):
        u = HeaderEchoUpstream(**kw)
        started.append(u)
        return u
    yield make
    for u in started:
        u.stop()


CLUSTER = """
- name: backend
  endpoints: ["{upstreams[0]}"]
"""


def tls_cluster(tls):
    """The `backend` cluster with a `tls:` block (`tls` is the YAML flow mapping's inside)."""
    return f"""
    - name: backend
      endpoints: ["{{upstreams[0]}}"]
      tls: {{{{ {tls} }}}}
    """


def https_kernel(procs, pki, upstream, tls, clusters=CLUSTER):
    cfg = h.proxy_config(clusters, protocol="https", listener=f"tls: {tls}")
    return procs.kernel(cfg, [upstream])


def mtls_block(pki, mode="require", extra=""):
    return (f'{{{{ cert: "{pki.server.cert_path}", key: "{pki.server.key_path}", client_auth: {mode}, '
            f'ca: "{pki.client_ca.cert_path}"{extra} }}}}')


def curl_tls(k, pki, *args, path="/"):
    return h.curl("-i", "--cacert", pki.server_ca.cert_path, *args, f"https://localhost:{k.port}{path}",
                  "--resolve", f"localhost:{k.port}:127.0.0.1")


def s_client(port, *args, servername="localhost"):
    p = subprocess.run(["openssl", "s_client", "-ign_eof", "-connect", f"127.0.0.1:{port}", "-servername", servername, *args],
                       input=b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                       capture_output=True, timeout=20)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def test_mtls_require_forwards_verified_identity_and_refuses_others(procs, pki, echo):
    up = echo()
    k = https_kernel(procs, pki, up, mtls_block(pki))

    code, out, err = curl_tls(k, pki, "--cert", pki.client.cert_path, "--key", pki.client.key_path,
                              "-H", 'x-forwarded-client-cert: Hash=forged;Subject="CN=admin"')
    assert code == 0, err
    assert out.startswith("HTTP/2 200") or out.startswith("HTTP/1.1 200"), out
    seen = json.loads(out.split("\r\n\r\n", 1)[1])
    xfcc = seen["x-forwarded-client-cert"]
    assert xfcc == (f'Hash={pki.client.sha256};Subject="CN=client-a,O=Herz Test,C=DE";'
                    f'URI=spiffe://herz.test/ns/a/sa/client;DNS=client-a.test'), xfcc
    assert "forged" not in out

    # No certificate, an expired one, one from another CA: the handshake fails.
    for args in [(), ("--cert", pki.expired.cert_path, "--key", pki.expired.key_path),
                 ("--cert", pki.stranger.cert_path, "--key", pki.stranger.key_path)]:
        code, out, err = curl_tls(k, pki, *args)
        assert code != 0 and "HTTP/" not in out, (args, code, out)
    rc, out, err = s_client(k.port, "-CAfile", pki.server_ca.cert_path)
    assert "HTTP/1.1 200" not in out
    rc, out, err = s_client(k.port, "-CAfile", pki.server_ca.cert_path, "-cert", pki.client.cert_path, "-key", pki.client.key_path)
    assert "HTTP/1.1 200" in out, out + err
    h.wait_for(lambda: k.output().count("downstream TLS handshake failed") >= 3, timeout=5, what="handshake failure log lines")
    log = k.output()
    assert "certificate_verify_failed" in log or "no_client_certificate" in log
    assert "BEGIN" not in log and "PRIVATE" not in log


def test_request_mode_serves_clients_without_a_certificate(procs, pki, echo):
    up = echo()
    k = https_kernel(procs, pki, up, mtls_block(pki, mode="request"))
    code, out, err = curl_tls(k, pki)
    assert code == 0 and " 200" in out.split("\r\n")[0], err
    assert "x-forwarded-client-cert" not in json.loads(out.split("\r\n\r\n", 1)[1])
    code, out, err = curl_tls(k, pki, "--cert", pki.client.cert_path, "--key", pki.client.key_path)
    assert "client-a" in json.loads(out.split("\r\n\r\n", 1)[1])["x-forwarded-client-cert"]
    # A presented certificate that does not validate still fails the handshake in request mode.
    code, out, err = curl_tls(k, pki, "--cert", pki.stranger.cert_path, "--key", pki.stranger.key_path)
    assert code != 0


def test_allowed_sans_refuses_other_identities(procs, pki, echo, tmp_path):
    up = echo()
    other = pki.issue(pki.client_ca, "client-b", "client-b", dns=["client-b.test"], client=True)
    k = https_kernel(procs, pki, up, mtls_block(pki, extra=', allowed_sans: ["spiffe://herz.test/ns/a/sa/client", "*.ops.test"]'))
    code, out, err = curl_tls(k, pki, "--cert", pki.client.cert_path, "--key", pki.client.key_path)
    assert " 200" in out.split("\r\n")[0], err
    code, out, err = curl_tls(k, pki, "--cert", other.cert_path, "--key", other.key_path)
    assert "HTTP/" not in out
    h.wait_for(lambda: "no SAN in allowed_sans" in k.output(), timeout=5, what="SAN refusal log line")


def test_incoming_xfcc_is_removed_on_cleartext_listeners(procs, echo):
    up = echo()
    k = procs.kernel(h.proxy_config(CLUSTER), [up])
    status, body, _ = h.http_request(k.url + "/", headers={"x-forwarded-client-cert": "Hash=forged"})
    assert status == 200 and "x-forwarded-client-cert" not in json.loads(body)


def test_sni_picks_the_certificate(procs, pki, echo):
    up = echo()
    a = pki.issue(pki.server_ca, "a", "a.test", dns=["a.test"])
    b = pki.issue(pki.server_ca, "b", "wild.b.test", dns=["*.b.test"])
    tls = (f'{{{{ certificates: [{{{{ cert: "{pki.server.cert_path}", key: "{pki.server.key_path}" }}}}, '
           f'{{{{ cert: "{a.cert_path}", key: "{a.key_path}", server_names: ["a.test"] }}}}, '
           f'{{{{ cert: "{b.cert_path}", key: "{b.key_path}", server_names: ["*.b.test"] }}}}] }}}}')
    k = https_kernel(procs, pki, up, tls)
    for servername, cn in [("a.test", "a.test"), ("x.b.test", "wild.b.test"), ("localhost", "localhost"), ("other.test", "localhost")]:
        rc, out, err = s_client(k.port, "-CAfile", pki.server_ca.cert_path, servername=servername)
        assert re.search(rf"subject=.*CN ?= ?{re.escape(cn)}\b", out), (servername, out[:800])
        assert "HTTP/1.1 200" in out


def test_certificate_reload_keeps_open_connections(procs, pki, echo):
    up = echo()
    live_cert, live_key = os.path.join(pki.dir, "live.crt"), os.path.join(pki.dir, "live.key")
    shutil.copy(pki.server.cert_path, live_cert)
    shutil.copy(pki.server.key_path, live_key)
    k = https_kernel(procs, pki, up, f'{{{{ cert: "{live_cert}", key: "{live_key}" }}}}')

    ctx = ssl.create_default_context(cafile=pki.server_ca.cert_path)
    import http.client
    conn = http.client.HTTPSConnection("127.0.0.1", k.port, context=ctx, timeout=10)
    conn.request("GET", "/one")
    r = conn.getresponse(); r.read()
    assert r.status == 200
    first_serial = conn.sock.getpeercert()["serialNumber"]

    fresh = pki.issue(pki.server_ca, "fresh", "localhost", dns=["localhost"], ips=["127.0.0.1"])
    # Deploy as cert-manager does: write beside, rename over.
    shutil.copy(fresh.key_path, live_key + ".tmp"); os.rename(live_key + ".tmp", live_key)
    shutil.copy(fresh.cert_path, live_cert + ".tmp"); os.rename(live_cert + ".tmp", live_cert)

    def new_serial():
        with socket.create_connection(("127.0.0.1", k.port)) as raw, ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return s.getpeercert()["serialNumber"]
    h.wait_for(lambda: new_serial() != first_serial, timeout=10, what="new handshakes to use the new certificate")
    assert "TLS certificates reloaded" in k.output()

    # The connection opened before the swap still serves requests.
    conn.request("GET", "/two")
    r = conn.getresponse(); r.read()
    assert r.status == 200
    assert conn.sock.getpeercert()["serialNumber"] == first_serial
    conn.close()


def test_upstream_mtls_with_sni_and_ca(procs, pki, echo):
    upstream_cert = pki.issue(pki.server_ca, "upstream", "backend.internal", dns=["backend.internal"])
    herz_client = pki.issue(pki.client_ca, "herz-client", "herz-kernel", client=True)
    up = echo(tls=upstream_cert, client_ca=pki.client_ca)
    clusters = tls_cluster(f'sni: backend.internal, ca: "{pki.server_ca.cert_path}", cert: "{herz_client.cert_path}", key: "{herz_client.key_path}"')
    k = procs.kernel(h.proxy_config(clusters), [up])
    status, body, headers = h.http_request(k.url + "/")
    assert status == 200, body
    assert headers.get("x-client-cn") == "herz-kernel"

    # Without the client certificate the upstream refuses the handshake → 503 + reason header.
    clusters_no_cert = tls_cluster(f'sni: backend.internal, ca: "{pki.server_ca.cert_path}"')
    k2 = procs.kernel(h.proxy_config(clusters_no_cert), [up])
    status, body, headers = h.http_request(k2.url + "/")
    assert status == 503, body
    assert headers.get("x-herz-upstream-tls-error"), headers


@pytest.mark.parametrize("case", ["untrusted", "wrong_name"])
def test_upstream_with_a_bad_certificate_gets_503_and_a_reason(procs, pki, echo, case):
    if case == "untrusted":
        cert = pki.issue(pki.other_ca, "selfish", "backend.internal", dns=["backend.internal"])
    else:
        cert = pki.issue(pki.server_ca, "misnamed", "elsewhere.internal", dns=["elsewhere.internal"])
    up = echo(tls=cert)
    clusters = tls_cluster(f'sni: backend.internal, ca: "{pki.server_ca.cert_path}"')
    k = procs.kernel(h.proxy_config(clusters), [up])
    status, body, headers = h.http_request(k.url + "/")
    assert status == 503, body
    expected = "certificate_verify_failed" if case == "untrusted" else "hostname_mismatch"
    assert headers.get("x-herz-upstream-tls-error") == expected, headers
    h.wait_for(lambda: "upstream TLS handshake failed" in k.output(), timeout=5, what="upstream TLS log line")
    assert "PRIVATE" not in k.output()

    # verify: false (explicit) accepts it.
    clusters_off = tls_cluster('sni: backend.internal, verify: false')
    k2 = procs.kernel(h.proxy_config(clusters_off), [up])
    assert h.http_request(k2.url + "/")[0] == 200


def test_h2load_over_tls_to_a_tls_upstream(procs, pki, echo):
    upstream_cert = pki.issue(pki.server_ca, "upstream", "backend.internal", dns=["backend.internal"])
    up = echo(tls=upstream_cert)
    clusters = tls_cluster(f'sni: backend.internal, ca: "{pki.server_ca.cert_path}"')
    cfg = h.proxy_config(clusters, protocol="https", listener=f'tls: {{{{ cert: "{pki.server.cert_path}", key: "{pki.server.key_path}" }}}}')
    k = procs.kernel(cfg, [up])
    p = subprocess.run(["h2load", "-n", "400", "-c", "4", "-m", "4", f"https://127.0.0.1:{k.port}/"],
                       capture_output=True, text=True, timeout=120)
    assert "400 succeeded" in p.stdout and "0 failed" in p.stdout, p.stdout + p.stderr
    assert "status codes: 400 2xx" in p.stdout, p.stdout


def test_bad_tls_config_is_rejected_with_a_location_and_the_old_one_keeps_serving(procs, pki, echo, tmp_path):
    up = echo()
    k = https_kernel(procs, pki, up, mtls_block(pki))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    bad_configs = [
        (f'{{{{ cert: "{tmp_path}/missing.crt", key: "{pki.server.key_path}" }}}}', "missing.crt"),
        (f'{{{{ cert: "{garbage}", key: "{pki.server.key_path}" }}}}', "not a PEM file"),
        (f'{{{{ cert: "{pki.server.cert_path}", key: "{pki.server.key_path}", allowed_sans: ["a"] }}}}', "needs client_auth"),
        (f'{{{{ cert: "{pki.server.cert_path}", key: "{pki.server.key_path}", client_auth: require }}}}', "missing required field 'ca'"),
    ]
    for tls, message in bad_configs:
        k.write_config(h.proxy_config(CLUSTER, protocol="https", listener=f"tls: {tls}"))
        status, body, _ = k.admin_post("/reload")
        assert status != 200, body
        assert message in body, body
        assert re.search(r"\.yaml:\d+:\d+", body), body
    code, out, err = curl_tls(k, pki, "--cert", pki.client.cert_path, "--key", pki.client.key_path)
    assert " 200" in out.split("\r\n")[0], err


def test_downstream_sessions_resume(procs, pki, echo, tmp_path):
    up = echo()
    k = https_kernel(procs, pki, up, f'{{{{ cert: "{pki.server.cert_path}", key: "{pki.server.key_path}" }}}}')
    sess = str(tmp_path / "session.pem")
    rc, first, _ = s_client(k.port, "-CAfile", pki.server_ca.cert_path, "-sess_out", sess)
    rc, second, _ = s_client(k.port, "-CAfile", pki.server_ca.cert_path, "-sess_in", sess)
    assert "\nNew, TLSv1.3" in first and "HTTP/1.1 200" in first, first
    assert "\nReused, TLSv1.3" in second and "HTTP/1.1 200" in second, second
