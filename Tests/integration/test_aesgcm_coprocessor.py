"""herz-aesgcm behind the real kernel through the typed `aes_gcm` filter (per-route operations in
the kernel's config, sent as the settings of docs/aes-gcm-format.md section 4): bodies decrypted on
the way in and encrypted on the way out as streams, headers and cookies, route-pinned keys and
contexts, messages that end with HTTP/2 trailers (the final chunk is still written and checked),
tampered ciphertext refused with 400/502, keys rotated through the control plane, `fail_open`
refused at config load, kill -9 under load answered by the route's policy and recovered from."""
import base64
import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

import aesgcm_reference as ref
import herz_harness as h

KEYS = {"k1": bytes(range(32)), "k2": bytes(range(16))}


def _route(prefix, rewrite, operations, cluster="backend"):
    return f"""
    - match: {{{{ prefix: "{prefix}" }}}}
      route: {{{{ cluster: {cluster}, prefix_rewrite: "{rewrite}" }}}}
      per_filter_config: {{{{ aes_gcm: {operations} }}}}
"""


ROUTES = "".join([
    # The client sends sealed bodies and an x-card header; the upstream sees plaintext; the reply is sealed.
    _route("/vault", "/echo", "{{ request: {{ body: decrypt, headers: {{ x-card: decrypt }} }}, "
                              "response: {{ body: encrypt }}, chunk_size: 1024 }}"),
    # The upstream consumes the opened body and answers only at its end (so a refusal is always a clean 400).
    _route("/sealed-sink", "/sink", "{{ request: {{ body: decrypt }} }}"),
    # The upstream echoes what the client sent (ciphertext); the client gets it opened.
    _route("/opened", "/echo", "{{ response: {{ body: decrypt }} }}"),
    # Header and cookie values opened for the upstream, which reports what it saw.
    _route("/summary", "/echo", "{{ request: {{ headers: {{ x-card: decrypt }}, cookies: {{ session: decrypt }} }} }}"),
    # Pinned to key k2 and the context "orders": sealed with k2 although k1 is active; only k2 opens.
    _route("/orders", "/echo", "{{ request: {{ body: decrypt, key_id: k2, context: orders }}, "
                               "response: {{ body: encrypt, key_id: k2, context: orders }} }}"),
    # gRPC-like messages over HTTP/2 that end with trailers (an HTTP/2 upstream).
    _route("/grpc-sealed", "/trailers", "{{ response: {{ body: encrypt }} }}", cluster="grpc"),
    _route("/grpc-opened", "/echo", "{{ request: {{ body: decrypt }} }}", cluster="grpc"),
    # The listener's operations are switched off here.
    _route("/plain", "/echo", "{{ disabled: true }}"),
])

# The listener-level filter does nothing by itself: every route above says what it wants.
FILTERS = """
- type: aes_gcm
  config:
    coprocessor: aesgcm
    max_body_bytes: 256KiB
"""


def config(policy="fail_closed"):
    return h.proxy_config("""
    - name: backend
      endpoints: [{{ address: "{upstreams[0]}" }}]
    - name: grpc
      upstream_protocol: http2
      endpoints: [{{ address: "{upstreams[1]}" }}]
""", routes=ROUTES, filters=FILTERS, top=f"""
coprocessors:
  - name: aesgcm
    endpoint: "{{endpoint}}"
    timeout: 2s
    on_failure: {policy}
""")


def write_keys(path, active, keys=KEYS):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(ref.key_file(active, keys))


@pytest.fixture
def setup(procs, tmp_path):
    keys = str(tmp_path / "keys.json")
    write_keys(keys, "k1")
    started = []

    def start(policy="fail_closed"):
        cp = h.Coprocessor("herz-aesgcm", "--keys", keys, "--keys-poll-ms", "50", name="aesgcm")
        started.append(cp)
        up, grpc = procs.upstream(), procs.upstream("grpc", h2=True)
        k = procs.kernel(config(policy), [up, grpc], endpoint=cp.endpoint)
        h.wait_coprocessor_ready(k)
        return cp, k, keys, started

    yield start
    for p in started:
        p.stop(signal.SIGKILL)


def post(k, path, chunks, headers=None, timeout=15):
    """POSTs `chunks` chunked; returns (status, body bytes, headers) or (None, partial body, None) when
    the stream broke."""
    req = urllib.request.Request(k.url + path, data=iter(chunks), method="POST",
                                 headers={"Transfer-Encoding": "chunked", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = b""
            try:
                while piece := resp.read(4096):
                    body += piece
            except Exception:
                return None, body, None
            return resp.status, body, dict(resp.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)
    except (urllib.error.URLError, ConnectionError):
        return None, b"", None


def pieces(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)] or [b""]


def plaintext(n):
    return bytes((i * 7 + 3) % 251 for i in range(n))


def test_bodies_are_opened_for_the_upstream_and_sealed_for_the_client(setup):
    cp, k, _, _ = setup()
    plain = plaintext(50_000)
    sealed = ref.seal(plain, "k2", KEYS["k2"], chunk_size=4096)
    card = base64.urlsafe_b64encode(ref.seal(b"4111 1111", "k1", KEYS["k1"], "header:x-card")).rstrip(b"=").decode()
    status, body, headers = post(k, "/vault", pieces(sealed, 3000), {"x-card": card})
    assert status == 200, body
    assert body[:3] == b"HZG" and body[5:7] == b"k1", "sealed with the active key"
    assert struct_chunk_size(body) == 1024
    assert ref.open_(body, KEYS) == plain
    length = {name.lower(): value for name, value in headers.items()}.get("content-length")
    assert length is None or int(length) == len(body), "the upstream's length never survives a changed body"


def test_a_disabled_route_passes_bodies_untouched(setup):
    cp, k, _, _ = setup()
    status, body, _ = post(k, "/plain", [b"not sealed at all"])
    assert (status, body) == (200, b"not sealed at all")


def test_a_route_pinned_to_a_key_and_context(setup):
    cp, k, _, _ = setup()
    sealed = ref.seal(b"order 42", "k2", KEYS["k2"], "orders")
    status, body, _ = post(k, "/orders", [sealed])
    assert status == 200, body
    assert body[5:7] == b"k2", "sealed with the route's key, not the active k1"
    assert ref.open_(body, KEYS, "orders") == b"order 42"
    with pytest.raises(ref.Refused):
        ref.open_(body, KEYS)  # not under the default context "body"
    # Sealed under the active key, or under the right key for another context: refused.
    assert post(k, "/orders", [ref.seal(b"order 42", "k1", KEYS["k1"], "orders")])[0] == 400
    assert post(k, "/orders", [ref.seal(b"order 42", "k2", KEYS["k2"])])[0] == 400


def h2_exchange(k, path, body=b"", trailers=None, headers=()):
    client = h.H2Client(k.port)
    try:
        return client.wait(client.send(path, headers=[("te", "trailers"), ("content-type", "application/grpc"), *headers],
                                       body=body, trailers=trailers))
    finally:
        client.close()


def test_a_response_that_ends_with_trailers_is_sealed_whole_over_http2(setup):
    """The upstream's body is followed by trailers: the sealer still writes its final chunk (the kernel
    tells herz-aesgcm that the body ended before the trailers pass), and the trailers arrive intact."""
    cp, k, _, _ = setup()
    r = h2_exchange(k, "/grpc-sealed")
    assert r.headers[":status"] == "200", (r.headers, r.body)
    assert r.body[:3] == b"HZG"
    assert ref.open_(r.body, KEYS) == b"ok", "a complete message: its final chunk is there"
    assert r.trailers == {"grpc-status": "0", "x-trailer": "yes"}


def test_a_request_that_ends_with_trailers_is_opened_and_checked_to_its_final_chunk(setup):
    cp, k, _, _ = setup()
    plain = plaintext(5000)
    sealed = ref.seal(plain, "k1", KEYS["k1"], chunk_size=1024)
    r = h2_exchange(k, "/grpc-opened", body=sealed, trailers=[("x-checksum", "abc")])
    assert r.headers[":status"] == "200", (r.headers, r.body)
    assert r.body == plain
    # The same message without its final chunk: with trailers ending the request, the truncation is
    # still found, and nothing of the message reaches the upstream in clear.
    truncated = ref.seal(plaintext(2048), "k1", KEYS["k1"], chunk_size=1024)[:-16]
    r = h2_exchange(k, "/grpc-opened", body=truncated, trailers=[("x-checksum", "abc")])
    assert r.headers[":status"] == "400", (r.headers, r.body)
    assert r.body == b"invalid encrypted request\n"


def test_check_refuses_fail_open_for_an_aes_gcm_coprocessor(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(config("fail_open").format(port=1, admin=2, upstreams=["127.0.0.1:3", "127.0.0.1:4"], endpoint="unix:/tmp/x.sock"))
    p = subprocess.run([h.binary("herz-kernel"), "--check", str(bad)], capture_output=True, text=True)
    assert p.returncode == 1, p.stderr
    line = next(n for n, text in enumerate(bad.read_text().splitlines(), 1) if "coprocessor: aesgcm" in text)
    assert f"{bad}:{line}:" in p.stderr, p.stderr
    assert "cannot fail open" in p.stderr, p.stderr
    good = tmp_path / "good.yaml"
    good.write_text(config("wait").format(port=1, admin=2, upstreams=["127.0.0.1:3", "127.0.0.1:4"], endpoint="unix:/tmp/x.sock"))
    assert subprocess.run([h.binary("herz-kernel"), "--check", str(good)], capture_output=True).returncode == 0


def struct_chunk_size(sealed):
    kid = sealed[4]
    return int.from_bytes(sealed[5 + kid:9 + kid], "big")


def test_headers_and_cookies_are_opened_for_the_upstream(setup):
    cp, k, _, _ = setup()
    seal = lambda v, ctx: base64.urlsafe_b64encode(ref.seal(v, "k1", KEYS["k1"], ctx)).rstrip(b"=").decode()
    code, body, _ = h.http_request(k.url + "/summary?headers=1", headers={
        "x-card": seal(b"4111 1111", "header:x-card"),
        "cookie": f"theme=dark; session={seal(b's3cr3t', 'cookie:session')}"})
    assert code == 200, body
    seen = {name.lower(): value for name, value in json.loads(body)["headers"]}
    assert seen["x-card"] == "4111 1111"
    assert seen["cookie"] == "theme=dark; session=s3cr3t"


@pytest.mark.parametrize("damage", ["flip", "truncate", "drop final chunk", "reorder", "splice", "unknown key"])
def test_damaged_request_bodies_get_400_and_never_reach_the_upstream_in_clear(setup, damage):
    cp, k, _, _ = setup()
    secret = b"pay 100 to alice " * 200  # 3400 bytes: chunks of 1024, 1024, 1024 and a final 328
    sealed = ref.seal(secret, "k1", KEYS["k1"], chunk_size=1024)
    other = ref.seal(b"pay 999 to mallory " * 200, "k1", KEYS["k1"], chunk_size=1024)
    head, size = 43, 1024 + 16
    chunks = [sealed[head + i * size:head + (i + 1) * size] for i in range(4)]
    bad = {"flip": sealed[:-3] + bytes([sealed[-3] ^ 1]) + sealed[-2:],
           "truncate": sealed[:-1],
           "drop final chunk": sealed[:head + 3 * size],
           "reorder": sealed[:head] + chunks[1] + chunks[0] + chunks[2] + chunks[3],
           "splice": sealed[:head + size] + other[head + size:head + 2 * size] + sealed[head + 2 * size:],
           "unknown key": ref.seal(b"x", "k9", bytes(32))}[damage]
    status, body, _ = post(k, "/sealed-sink", pieces(bad, 700))
    assert status == 400
    assert body == b"invalid encrypted request\n"
    # Nothing secret in any log: no plaintext, no key bytes.
    for log in (k.output(), cp.output()):
        assert "alice" not in log and base64.b64encode(KEYS["k1"]).decode() not in log, log[-2000:]


def test_a_tampered_header_or_cookie_value_is_400(setup):
    cp, k, _, _ = setup()
    sealed = ref.seal(b"4111 1111", "k1", KEYS["k1"], "header:x-card")
    flipped = base64.urlsafe_b64encode(sealed[:-1] + bytes([sealed[-1] ^ 1])).rstrip(b"=").decode()
    code, body, _ = h.http_request(k.url + "/summary?headers=1", headers={"x-card": flipped})
    assert (code, body) == (400, "invalid encrypted request\n")
    # Sealed for another field: refused too (the context binds the value to its header).
    elsewhere = base64.urlsafe_b64encode(ref.seal(b"4111 1111", "k1", KEYS["k1"], "header:x-other")).rstrip(b"=").decode()
    code, body, _ = h.http_request(k.url + "/summary?headers=1", headers={"x-card": elsewhere})
    assert code == 400
    cookie = base64.urlsafe_b64encode(ref.seal(b"s3cr3t", "k1", KEYS["k1"], "cookie:other")).rstrip(b"=").decode()
    code, body, _ = h.http_request(k.url + "/summary?headers=1", headers={"cookie": f"session={cookie}"})
    assert code == 400


def test_damaged_response_bodies_get_502_before_the_head_leaves_or_a_reset_after(setup):
    cp, k, _, _ = setup()
    sealed = ref.seal(b"first response chunk", "k1", KEYS["k1"])
    status, body, _ = post(k, "/opened", [sealed])
    assert (status, body) == (200, b"first response chunk")

    flipped = sealed[:60] + bytes([sealed[60] ^ 1]) + sealed[61:]
    status, body, _ = post(k, "/opened", [flipped])
    assert (status, body) == (502, b"invalid encrypted response from upstream\n")

    # Damage in the last of many chunks: once the head and the sound chunks left, the stream is reset
    # (a 502 while the kernel could still replace the response); either way the client never sees
    # the damaged chunk's plaintext nor a complete body.
    plain = plaintext(40_000)
    long = ref.seal(plain, "k1", KEYS["k1"], chunk_size=1024)
    late = long[:-5] + bytes([long[-5] ^ 1]) + long[-4:]
    status, body, _ = post(k, "/opened", pieces(late, 1500))
    if status is None:
        assert plain.startswith(body) and len(body) <= len(plain) - len(plain) % 1024
    else:
        assert (status, body) == (502, b"invalid encrypted response from upstream\n")


def test_keys_rotate_through_the_file_and_the_control_plane(setup):
    cp, k, keys, _ = setup()
    write_keys(keys, "k2")
    code, text, _ = k.admin_post("/coprocessors/aesgcm/reload")
    assert code == 200 and "active k2" in text, text
    status, body, _ = post(k, "/vault", [ref.seal(b"hello", "k1", KEYS["k1"])])
    assert status == 200 and body[5:7] == b"k2", "new messages use the new active key"
    assert ref.open_(body, KEYS) == b"hello"

    write_keys(keys, "k2", {"k2": KEYS["k2"]})  # k1 retired; picked up by the file watch
    h.wait_for(lambda: post(k, "/vault", [ref.seal(b"x", "k1", KEYS["k1"])])[0] == 400, what="k1 retired")
    code, text, _ = k.admin_post("/coprocessors/aesgcm/reload")
    assert code == 200 and "1 key(s), active k2" in text, text
    with open(keys, "w") as f:
        f.write("{broken")
    code, text, _ = k.admin_post("/coprocessors/aesgcm/reload")
    assert code == 409 and "not a JSON object" in text, text
    status, body, _ = post(k, "/vault", [ref.seal(b"still", "k2", KEYS["k2"])])
    assert status == 200 and ref.open_(body, KEYS) == b"still", "a refused file keeps the previous keys"


@pytest.mark.parametrize("policy", ["fail_closed", "wait"])
def test_kill_9_under_load_gets_the_failure_policy_and_recovers(setup, policy):
    """While herz-aesgcm is gone, requests get the policy (503, or held until it is back with `wait`);
    streams whose state died with the process fail (503, or a reset once their reply head left) and
    never pass anything through unprocessed; requests succeed again after the restart."""
    cp, k, _, started = setup(policy)
    sealed = ref.seal(plaintext(20_000), "k1", KEYS["k1"], chunk_size=2048)
    outcomes = []
    stop = threading.Event()

    def load():
        while not stop.is_set():
            status, body, _ = post(k, "/vault", pieces(sealed, 5000), timeout=10)
            if status != 200:
                outcomes.append(status)
                continue
            try:
                outcomes.append("ok" if ref.open_(body, KEYS) == plaintext(20_000) else "200 with other plaintext")
            except ref.Refused as refusal:
                outcomes.append(f"200 with a body that does not open: {refusal}")

    workers = [threading.Thread(target=load) for _ in range(3)]
    for t in workers:
        t.start()
    time.sleep(1.0)
    cp.stop(signal.SIGKILL)
    time.sleep(0.5)
    again = cp.restart()
    started.append(again)
    h.wait_coprocessor_ready(k)
    time.sleep(1.0)
    stop.set()
    for t in workers:
        t.join(20)
    assert outcomes.count("ok") > 0
    assert set(outcomes) <= {"ok", 503, None}, outcomes  # the policy (a body whose state died is a 503 under `wait` too), or a reset
    # Recovered: requests succeed again (a loaded machine may still cost a heartbeat or two).
    def served():
        status, body, _ = post(k, "/vault", [sealed])
        return status == 200 and ref.open_(body, KEYS) == plaintext(20_000)
    h.wait_for(served, timeout=10, what="requests to succeed after the restart")
