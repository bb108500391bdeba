"""jwt_authn end to end: herz-kernel + herz-jwt + a demo upstream, tokens signed by PyJWT, Python
`cryptography` and joserfc with every algorithm; 200 with claim headers, 401 / 403 with
WWW-Authenticate, JWKS rotation without a restart, and kill -9 of herz-jwt under load."""
import json
import os
import signal
import time

import pytest

import herz_harness as h
import jwt_tokens as t

# joserfc warns that RFC 9864 deprecates the name "EdDSA"; herz-jwt verifies it as RFC 8037 defines it.
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")

PROVIDERS = """
max_token_bytes: 4KiB
providers:
  main:
    issuer: "{issuer}"
    audiences: ["{audience}"]
    local_jwks: {{ filename: main.json }}
    forward_payload_header: x-jwt-payload
    claim_to_headers:
      - {{ header_name: x-jwt-sub, claim_name: sub }}
      - {{ header_name: x-jwt-scope, claim_name: scope }}
  browser:
    issuer: "{issuer}"
    local_jwks: {{ filename: main.json }}
    from_cookies: [session]
    from_params: [access_token]
    claim_to_headers: [{{ header_name: x-browser-sub, claim_name: sub }}]
rules:
  - match: {{ prefix: /public }}
  - match: {{ prefix: /browser }}
    requires: {{ provider_name: browser }}
  - match: {{ prefix: /optional }}
    requires: {{ provider_name: main, allow_missing: true }}
  - match: {{ prefix: / }}
    requires: {{ provider_name: main }}
requirement_map:
  browser_only: {{ provider_name: browser }}
""".format(issuer=t.ISSUER, audience=t.AUDIENCE)

# Every route rewrites to the demo upstream's /echo, so `?headers=1` shows what reached it.
ROUTES = "\n".join(f"""
- match: {{{{ prefix: "{prefix}" }}}}
  route: {{{{ cluster: backend, prefix_rewrite: "/echo" }}}}{extra}""" for prefix, extra in [
    ("/open", "\n  per_filter_config: {{ jwt_authn: {{ disabled: true }} }}"),
    ("/swapped", "\n  per_filter_config: {{ jwt_authn: {{ requirement_name: browser_only }} }}"),
    ("/public", ""), ("/browser", ""), ("/optional", ""), ("/api", ""),
])


def jwt_config(policy="fail_closed", timeout="500ms"):
    filters = "- type: jwt_authn\n  config:\n" + "\n".join("    " + line for line in PROVIDERS.replace("{", "{{").replace("}", "}}").strip("\n").splitlines())
    return h.coprocessor_config("jwt", filters, ROUTES, policy=policy, timeout=timeout, max_wait="5s")


class Setup:
    """Keys of every algorithm in main.json, herz-jwt reading it, a kernel in front of an upstream."""

    def __init__(self, procs, tmp_path, policy="fail_closed", poll_ms=100):
        self.dir = str(tmp_path)
        self.keys = {alg: t.Key(alg, f"key-{alg}") for alg in t.ALGORITHMS}
        self.jwks = os.path.join(self.dir, "main.json")
        t.write_jwks(self.jwks, self.keys.values())
        self.coproc = self.start_coproc(poll_ms)
        self.upstream = procs.upstream()
        self.kernel = procs.kernel(jwt_config(policy), [self.upstream], endpoint=self.coproc.endpoint)
        h.wait_coprocessor_ready(self.kernel)

    def start_coproc(self, poll_ms=100):
        return h.Coprocessor("herz-jwt", "--jwks-root", self.dir, "--jwks-poll-ms", str(poll_ms), "--spin-us", "5", name="jwt")

    def get(self, path, token=None, headers=None):
        """GET `path?headers=1`; returns (status, upstream's view of the request headers or the
        reply body, response headers)."""
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        sep = "&" if "?" in path else "?"
        code, body, response_headers = h.http_request(f"{self.kernel.url}{path}{sep}headers=1", headers=headers)
        if code == 200:
            return code, {n.lower(): v for n, v in json.loads(body)["headers"]}, response_headers
        return code, body, {k.lower(): v for k, v in response_headers.items()}


@pytest.fixture
def setup(procs, tmp_path):
    s = Setup(procs, tmp_path)
    yield s
    s.coproc.stop(signal.SIGKILL)


@pytest.mark.parametrize("alg", t.ALGORITHMS)
def test_every_algorithm_signed_by_pyjwt_verifies_and_claims_reach_the_upstream(setup, alg):
    token = setup.keys[alg].sign(t.claims(sub=f"user-{alg}"))
    code, seen, _ = setup.get("/api", token)
    assert code == 200, seen
    assert seen["x-jwt-sub"] == f"user-{alg}"
    assert seen["x-jwt-scope"] == "read write"
    assert seen["x-jwt-payload"] == t.payload_segment(token)
    assert "authorization" not in seen, "the token is stripped (forward: false)"


@pytest.mark.parametrize("alg", t.ALGORITHMS)
def test_tokens_signed_by_joserfc_verify_too(setup, alg):
    code, seen, _ = setup.get("/api", setup.keys[alg].sign_with_joserfc(t.claims(sub="jose")))
    assert (code, seen.get("x-jwt-sub") if code == 200 else seen) == (200, "jose")


def test_a_missing_token_is_401_with_the_realm(setup):
    code, body, headers = setup.get("/api")
    assert code == 401
    assert headers["www-authenticate"] == f'Bearer realm="http://127.0.0.1:{setup.kernel.port}/api"'
    assert body == "Jwt is missing"


def invalid_tokens(keys):
    es = keys["ES256"]
    now = int(time.time())
    good = es.sign(t.claims())
    head, payload, sig = good.split(".")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    stranger = t.Key("ES256", es.kid)
    return {
        "expired": es.sign(t.claims(exp=now - 3600)),
        "nbf-in-the-future": es.sign(t.claims(nbf=now + 3600)),
        "bad-signature": f"{head}.{payload}.{flipped}",
        "signed-by-another-key": stranger.sign(t.claims()),
        "alg-none": t.unsigned({"alg": "none", "kid": es.kid}, t.claims()),
        "hs256-with-the-public-key": t.hmac_with_public_key(keys["RS256"], t.claims()),
        "alg-does-not-fit-key": keys["ES384"].sign_raw(json.dumps({"alg": "ES384", "kid": es.kid}), json.dumps(t.claims())),
        "unknown-kid": es.sign(t.claims(), kid="rotated-away"),
        "oversized": es.sign(t.claims(padding="x" * 5000)),
        "malformed-base64": f"{head}.{payload}!.{sig}",
        "malformed-json": es.sign_raw('{"alg":"ES256"', json.dumps(t.claims())),
        "duplicate-header-member": es.sign_raw(json.dumps({"alg": "ES256", "kid": es.kid})[:-1] + ', "alg": "ES256"}', json.dumps(t.claims())),
        "duplicate-claim": es.sign_raw(json.dumps({"alg": "ES256", "kid": es.kid}), json.dumps(t.claims())[:-1] + ', "sub": "root"}'),
        "unknown-crit": es.sign(t.claims(), crit=["urn:example:must-understand"], **{"urn:example:must-understand": 1}),
        "two-segments": f"{head}.{payload}",
    }


@pytest.mark.parametrize("case", sorted(invalid_tokens({alg: t.Key(alg, "x") for alg in t.ALGORITHMS})))
def test_invalid_tokens_are_401_invalid_token(setup, case):
    code, body, headers = setup.get("/api", invalid_tokens(setup.keys)[case])
    assert code == 401, (case, body)
    assert headers["www-authenticate"] == f'Bearer realm="http://127.0.0.1:{setup.kernel.port}/api", error="invalid_token"', case
    assert body.startswith(("Jwt", "No key")), body


@pytest.mark.parametrize("claim,value,reason", [("aud", "other-api", "Audiences in Jwt are not allowed"),
                                                 ("iss", "https://evil.test", "Jwt issuer is not allowed")])
def test_a_failed_claim_requirement_is_403(setup, claim, value, reason):
    code, body, headers = setup.get("/api", setup.keys["ES256"].sign(t.claims(**{claim: value})))
    assert (code, body) == (403, reason)
    assert headers["www-authenticate"].endswith('error="insufficient_scope"')


def test_routes_without_a_requirement_pass_and_never_see_spoofed_claim_headers(setup):
    spoofed = {"x-jwt-sub": "admin", "X-JWT-Payload": "e30", "x-browser-sub": "root"}
    for path in ("/public", "/open"):
        code, seen, _ = setup.get(path, headers=spoofed)
        assert code == 200, (path, seen)
        assert not {"x-jwt-sub", "x-jwt-payload", "x-browser-sub"} & set(seen), (path, seen)
    code, seen, _ = setup.get("/api", setup.keys["EdDSA"].sign(t.claims(sub="bob")), headers=spoofed)
    assert (code, seen["x-jwt-sub"], "x-browser-sub" in seen) == (200, "bob", False)


def test_cookie_and_query_parameter_locations(setup):
    token = setup.keys["RS256"].sign(t.claims(sub="carol"))
    code, seen, _ = setup.get("/browser", headers={"Cookie": f"theme=dark; session={token}; lang=en"})
    assert (code, seen["x-browser-sub"], seen["cookie"]) == (200, "carol", "theme=dark; lang=en"), "the session cookie is stripped"
    code, seen, _ = setup.get(f"/browser?access_token={token}")
    assert (code, seen["x-browser-sub"]) == (200, "carol")
    code, _, headers = setup.get("/browser", token)
    assert code == 401 and headers["www-authenticate"].startswith("Bearer realm="), "the browser provider does not read Authorization"


def test_allow_missing_passes_tokenless_requests_but_not_invalid_ones(setup):
    assert setup.get("/optional")[0] == 200
    assert setup.get("/optional", "garbage")[0] == 401
    assert setup.get("/optional", setup.keys["PS256"].sign(t.claims()))[0] == 200


def test_a_route_can_pick_a_named_requirement(setup):
    token = setup.keys["ES256"].sign(t.claims(sub="dave"))
    assert setup.get("/swapped", token)[0] == 401, "browser_only reads cookies, not Authorization"
    code, seen, _ = setup.get("/swapped", headers={"Cookie": f"session={token}"})
    assert (code, seen["x-browser-sub"]) == (200, "dave")


def test_jwks_rotation_is_picked_up_without_a_restart_and_without_failing_a_call(setup):
    steady = setup.keys["ES256"]
    newcomer = t.Key("ES256", "key-new")
    new_token, steady_token = newcomer.sign(t.claims(sub="new")), steady.sign(t.claims(sub="steady"))
    assert setup.get("/api", new_token)[0] == 401
    with h.Load(steady=(lambda: setup.get("/api", steady_token)[0], 2)) as load:
        for round_ in range(6):
            keys = [steady, newcomer] if round_ % 2 == 0 else [steady]
            t.write_jwks(setup.jwks, keys)
            expected = 200 if newcomer in keys else 401
            h.wait_for(lambda: setup.get("/api", new_token)[0] == expected, timeout=10, what=f"rotation {round_} picked up")
    results = load.counts["steady"]
    assert set(results) == {200} and results[200] > 0, results
    assert setup.coproc.alive()
    assert "jwks" in setup.coproc.output() and "loaded 2 key(s)" in setup.coproc.output()


def test_a_broken_jwks_file_keeps_the_last_good_keys(setup):
    token = setup.keys["EdDSA"].sign(t.claims())
    assert setup.get("/api", token)[0] == 200, "main.json is loaded on first use"
    with open(setup.jwks + ".tmp", "w") as f:
        f.write('{"keys": [')
    os.replace(setup.jwks + ".tmp", setup.jwks)
    h.wait_for(lambda: "cannot be used" in setup.coproc.output(), timeout=10, what="broken file noticed")
    assert setup.get("/api", token)[0] == 200


def test_check_reports_jwt_authn_errors_with_file_line_col(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(jwt_config().format(port=1, admin=2, upstreams=["127.0.0.1:3"], endpoint="unix:/tmp/x.sock")
                   .replace("provider_name: browser }", "provider_name: nobody }", 1))
    import subprocess
    p = subprocess.run([h.binary("herz-kernel"), "--check", str(bad)], capture_output=True, text=True)
    assert p.returncode == 1
    assert f"{bad}:" in p.stderr and "no provider of that name" in p.stderr, p.stderr


def outcome(setup, path, token):
    code, seen, headers = setup.get(path, token)
    return (code, headers.get("x-herz-coproc-error")) if code != 200 else (200, seen.get("x-jwt-sub"))


# What /api may answer while herz-jwt is killed and restarted, per policy. ("hung": on a loaded
# 2-core machine a starved coprocessor can miss the kernel's 40 ms heartbeat; fail_closed answers
# that the same way.)
KILL_OUTCOMES = {
    "fail_closed": {(200, "alice"), (503, "down"), (503, "protocol"), (503, "hung")},
    "wait": {(200, "alice")},
}


@pytest.mark.parametrize("policy", sorted(KILL_OUTCOMES))
def test_kill_9_of_herz_jwt_under_load_applies_the_policy_and_recovers(procs, tmp_path, policy):
    """While herz-jwt is gone, /api gets the coprocessor's on_failure policy (never a pass without
    verification, never a hang); /public, which needs no token, never notices; every restart is
    attached again."""
    setup = Setup(procs, tmp_path, policy=policy)
    token = setup.keys["ES256"].sign(t.claims())
    started = [setup.coproc]
    try:
        with h.Load(api=(lambda: outcome(setup, "/api", token), 2), public=(lambda: outcome(setup, "/public", token), 1)) as load:
            h.kill_and_restart(setup.coproc, 4, lambda: h.wait_coprocessor_ready(setup.kernel), started=started)
            time.sleep(0.4)
        api, public = load.counts["api"], load.counts["public"]
        assert set(public) == {(200, None)}, public
        assert set(api) <= KILL_OUTCOMES[policy], api
        assert api[(200, "alice")] > 0, api
        if policy == "fail_closed":
            assert api[(503, "down")] + api[(503, "protocol")] > 0, f"the kills were never seen: {api}"
        status = json.loads(setup.kernel.admin_get("/coprocessors")[1])["coprocessors"][0]
        assert status["state"] == "ready" and status["restarts"] >= 4, status
        assert setup.get("/api", token)[0] == 200
        assert setup.kernel.alive()
    finally:
        for coproc in started:
            coproc.stop(signal.SIGKILL)


def test_over_http2_with_cookies_split_into_several_fields(setup):
    """HTTP/2 clients send each cookie as its own field (RFC 9113 section 8.2.3); the token is
    found among them and only it is removed."""
    token = setup.keys["ES384"].sign(t.claims(sub="erin"))
    client = h.H2Client(setup.kernel.port)
    try:
        bearer = client.wait(client.send("/api?headers=1", headers=[("authorization", f"Bearer {token}")]))
        cookies = client.wait(client.send("/browser?headers=1", headers=[("cookie", "theme=dark"), ("cookie", f"session={token}")]))
        missing = client.wait(client.send("/api?headers=1"))
    finally:
        client.close()
    assert bearer.headers[":status"] == "200"
    assert dict(json.loads(bearer.body)["headers"])["x-jwt-sub"] == "erin"
    assert cookies.headers[":status"] == "200"
    seen = {n.lower(): v for n, v in json.loads(cookies.body)["headers"]}
    assert (seen["x-browser-sub"], seen["cookie"]) == ("erin", "theme=dark")
    assert missing.headers[":status"] == "401" and missing.headers["www-authenticate"].startswith("Bearer realm=")
