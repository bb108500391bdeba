#!/usr/bin/env python3
"""Crypto coprocessors side by side with their references, in one run (bench/README.md, "Crypto
coprocessors"). Started by bench/crypto, which builds the release binaries first.

- AES-256-GCM MB/s for 16 KiB chunks: herz-aesgcm over the rings (the kernel's client) vs
  swift-crypto AES.GCM.seal in-process (`herz-coproc-bench aesgcm`). Target: ratio >= 0.6.
- JWT verifications/s for ES256 and RS256 (keys and tokens made here with Python `cryptography`):
  * herz-jwt alone over the rings (`herz-coproc-bench jwt`), per fully used core;
  * end to end through Herz: herz-kernel (--workers 1, pinned to core 0) with `jwt_authn` in front
    of herz-demo-upstream, driven by wrk with a valid token on every request;
  * `openssl speed -seconds 3 ecdsap256 rsa2048` verify/s on one core of the same machine.
  Target: herz-jwt ES256 verifications/s per core >= 0.8 x openssl's ecdsap256 verify/s.
Drivers and the kernel run on core 0, coprocessors, openssl, wrk and the upstream on core 1.
Writes the Markdown report to stdout and --output. Standard library + `cryptography` only."""
import argparse
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

AES_TARGET = 0.6
ES256_TARGET = 0.8


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(n, size=None):
    return n.to_bytes(size or (n.bit_length() + 7) // 8, "big")


def make_keys_and_tokens(directory):
    """Writes jwks.json (an EC P-256 and an RSA 2048 key) into `directory`; returns {alg: token}."""
    es = ec.generate_private_key(ec.SECP256R1())
    rs = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    es_pub, rs_pub = es.public_key().public_numbers(), rs.public_key().public_numbers()
    jwks = {"keys": [
        {"kty": "EC", "crv": "P-256", "kid": "es", "alg": "ES256", "x": b64url(uint(es_pub.x, 32)), "y": b64url(uint(es_pub.y, 32))},
        {"kty": "RSA", "kid": "rs", "alg": "RS256", "n": b64url(uint(rs_pub.n)), "e": b64url(uint(rs_pub.e))},
    ]}
    with open(os.path.join(directory, "jwks.json"), "w") as f:
        json.dump(jwks, f)
    payload = b64url(json.dumps({"iss": "bench", "aud": "bench", "sub": "bench-user", "exp": int(time.time()) + 86400}).encode())
    tokens = {}
    for alg, kid in (("ES256", "es"), ("RS256", "rs")):
        signing_input = f"{b64url(json.dumps({'alg': alg, 'kid': kid, 'typ': 'JWT'}).encode())}.{payload}".encode()
        if alg == "ES256":
            r, s = decode_dss_signature(es.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            signature = uint(r, 32) + uint(s, 32)
        else:
            signature = rs.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        tokens[alg] = f"{signing_input.decode()}.{b64url(signature)}"
    return tokens


def pinned(core, argv):
    return (["taskset", "-c", str(core)] if shutil.which("taskset") and os.cpu_count() >= 2 else []) + argv


def openssl_verify_rates(seconds):
    """verify/s of `openssl speed` for ecdsap256 and rsa2048 on core 1."""
    out = subprocess.run(pinned(1, ["openssl", "speed", "-seconds", str(seconds), "ecdsap256", "rsa2048"]),
                         capture_output=True, text=True, check=True).stdout
    numbers = lambda line: [float(x) for x in re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", line)]
    es = next(line for line in out.splitlines() if "(nistp256)" in line)
    rs = next(line for line in out.splitlines() if line.startswith("rsa 2048 bits"))
    return {"ES256": numbers(es.split(")")[1])[1], "RS256": numbers(rs)[1]}


def run_json(argv):
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(argv[:4])}… failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.05)
    sys.exit(f"timed out waiting for {what}")


def get(url, token=None):
    request = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


KERNEL_CONFIG = """admin: {{ address: "127.0.0.1:{admin}" }}
coprocessors:
  - {{ name: jwt, endpoint: "unix:{socket}", timeout: 1s, on_failure: fail_closed }}
listeners:
  - name: main
    address: "127.0.0.1:{port}"
    protocol: http
    filters:
      - type: jwt_authn
        config:
          providers:
            bench: {{ issuer: bench, audiences: [bench], local_jwks: {{ filename: jwks.json }},
                      claim_to_headers: [{{ header_name: x-jwt-sub, claim_name: sub }}] }}
          rules: [{{ match: {{ prefix: / }}, requires: {{ provider_name: bench }} }}]
      - type: router
        config:
          virtual_hosts:
            - name: all
              domains: ["*"]
              routes: [{{ match: {{ prefix: / }}, route: {{ cluster: up, prefix_rewrite: /small }} }}]
clusters:
  - {{ name: up, endpoints: [{{ address: "127.0.0.1:{upstream}" }}] }}
"""


def end_to_end(bins, directory, tokens, duration, connections):
    """req/s through herz-kernel + jwt_authn + herz-jwt for each token, and the CPU each process used."""
    port, admin, upstream_port = free_port(), free_port(), free_port()
    sock = os.path.join(directory, "jwt.sock")
    config = os.path.join(directory, "herz.yaml")
    with open(config, "w") as f:
        f.write(KERNEL_CONFIG.format(admin=admin, socket=sock, port=port, upstream=upstream_port))
    log = open(os.path.join(directory, "processes.log"), "w")
    procs = []
    try:
        upstream = subprocess.Popen(pinned(1, [f"{bins}/herz-demo-upstream", "--port", str(upstream_port), "--threads", "1"]), stdout=log, stderr=log)
        jwt = subprocess.Popen(pinned(1, [f"{bins}/herz-jwt", "--listen", f"unix:{sock}", "--jwks-root", directory, "--log-level", "warning"]),
                               stdout=log, stderr=log)
        procs += [upstream, jwt]
        wait_for(lambda: os.path.exists(sock), "herz-jwt to listen")
        kernel = subprocess.Popen(pinned(0, [f"{bins}/herz-kernel", "--config", config, "--workers", "1"]), stdout=log, stderr=log)
        procs.append(kernel)
        wait_for(lambda: json.loads(urllib.request.urlopen(f"http://127.0.0.1:{admin}/coprocessors", timeout=2).read())
                 ["coprocessors"][0]["state"] == "ready", "the kernel's herz-jwt session")
        url = f"http://127.0.0.1:{port}/api"
        results = {}
        for alg, token in tokens.items():
            wait_for(lambda: get(url, token) == 200, f"a {alg} request to pass")
            if get(url) != 401:
                sys.exit("a request without a token was not refused: the benchmark would not measure verification")
            subprocess.run(pinned(1, ["wrk", "-t1", f"-c{connections}", "-d1s", "-H", f"Authorization: Bearer {token}", url]),
                           capture_output=True)  # warm-up
            before = {name: cpu_seconds(p.pid) for name, p in (("kernel", kernel), ("jwt", jwt))}
            started = time.time()
            out = subprocess.run(pinned(1, ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "-H", f"Authorization: Bearer {token}", url]),
                                 capture_output=True, text=True, check=True).stdout
            wall = time.time() - started
            cpu = {name: (cpu_seconds(p.pid) - before[name]) / wall for name, p in (("kernel", kernel), ("jwt", jwt))}
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            errors = re.search(r"Socket errors: (.*)", out)
            results[alg] = {"req_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
                            "kernel_cpu": cpu["kernel"], "jwt_cpu": cpu["jwt"],
                            "non_2xx": int(non2xx.group(1)) if non2xx else 0, "socket_errors": errors.group(1) if errors else ""}
        return results
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()


def verdict(value, target):
    return "PASS" if value >= target else "MISS"


def report(aes, openssl, alone, e2e, args):
    load = os.getloadavg()[0]
    lines = [f"# Crypto coprocessors — {time.strftime('%Y-%m-%d %H:%M')} on {socket.gethostname()} "
             f"({os.cpu_count()} cores, load average {load:.1f} before the run)", ""]
    if aes:
        ratio = aes["ratio_ring_vs_swift_crypto"]
        per_core = aes["ratio_per_core"]
        lines += ["## AES-256-GCM, 16 KiB chunks (`herz-coproc-bench aesgcm`)", "",
                  "| variant | MB/s | MB per CPU-second |", "|---|---:|---:|",
                  f"| swift-crypto `AES.GCM.seal`, in-process (core 0) | {aes['swift_crypto_mb_s']:,.0f} | {aes['swift_crypto_mb_cpu_s']:,.0f} |",
                  f"| herz-aesgcm `StreamSealer`, in-process (core 0) | {aes['stream_sealer_mb_s']:,.0f} | {aes['stream_sealer_mb_cpu_s']:,.0f} |",
                  f"| herz-aesgcm over the rings, {aes['window']} streams (coprocessor on core 1, {aes['coprocessor_cpu_fraction']:.0%} CPU) "
                  f"| {aes['ring_mb_s']:,.0f} | {aes['ring_mb_coprocessor_cpu_s']:,.0f} (coprocessor CPU only) |", "",
                  f"Ring ÷ in-process swift-crypto, MB/s: **{ratio:.2f}x** — target ≥ {AES_TARGET}x: **{verdict(ratio, AES_TARGET)}**; "
                  f"per CPU-second of the coprocessor: {per_core:.2f}x"
                  + (f" ({aes['ring_failed_calls']} calls failed)" if aes["ring_failed_calls"] else ""), ""]
    if alone:
        lines += ["## JWT verification", "",
                  "| alg | openssl speed verify/s (1 core) | herz-jwt alone /s | herz-jwt CPU | herz-jwt /s per core | ÷ openssl "
                  "| through Herz req/s | kernel CPU | herz-jwt CPU | errors |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for alg in ("ES256", "RS256"):
            a, e = alone[alg], (e2e or {}).get(alg)
            through = (f"{e['req_s']:,.0f} | {e['kernel_cpu']:.0%} | {e['jwt_cpu']:.0%} | {e['non_2xx']} non-2xx {e['socket_errors']}".strip()
                       if e else "— | — | — | —")
            lines.append(f"| {alg} | {openssl[alg]:,.0f} | {a['verifications_s']:,.0f} | {a['coprocessor_cpu_fraction']:.0%} "
                         f"| {a['verifications_s_per_core']:,.0f} | {a['verifications_s_per_core'] / openssl[alg]:.2f}x | {through} |")
        es = alone["ES256"]["verifications_s_per_core"] / openssl["ES256"]
        lines += ["", f"herz-jwt ES256 per core ÷ openssl ecdsap256 verify: **{es:.2f}x** — target ≥ {ES256_TARGET}x: "
                  f"**{verdict(es, ES256_TARGET)}**", ""]
    lines += [f"Settings: {args.duration} s per measurement, wrk -t1 -c{args.connections}; drivers and herz-kernel on core 0, "
              "coprocessors, openssl, wrk and the upstream on core 1.", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin-dir", default=".build/release")
    parser.add_argument("--duration", type=float, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", default="aes,jwt,e2e", help="comma-separated subset of aes,jwt,e2e")
    parser.add_argument("--output")
    args = parser.parse_args()
    only = set(args.only.split(","))
    bins = os.path.abspath(args.bin_dir)
    bench = f"{bins}/herz-coproc-bench"
    directory = tempfile.mkdtemp(prefix="herz-crypto-bench-")
    try:
        aes = alone = e2e = openssl = None
        if "aes" in only:
            print("AES-256-GCM: in-process and over the rings", file=sys.stderr)
            aes = run_json(pinned(0, [bench, "aesgcm", "--duration", str(args.duration), "--server-cpu", "1"]))
        if "jwt" in only or "e2e" in only:
            tokens = make_keys_and_tokens(directory)
            print("openssl speed ecdsap256 rsa2048", file=sys.stderr)
            openssl = openssl_verify_rates(max(1, round(args.duration)))
            alone = {}
            for alg, token in tokens.items():
                print(f"herz-jwt alone: {alg}", file=sys.stderr)
                alone[alg] = run_json(pinned(0, [bench, "jwt", "--token", token, "--jwks-root", directory, "--jwks", "jwks.json",
                                                 "--duration", str(args.duration), "--server-cpu", "1"]))
            if "e2e" in only:
                print("end to end through herz-kernel", file=sys.stderr)
                e2e = end_to_end(bins, directory, tokens, max(1, round(args.duration)), args.connections)
        text = report(aes, openssl, alone, e2e, args)
        print(text)
        if args.output:
            with open(args.output, "w") as f:
                f.write(text)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
