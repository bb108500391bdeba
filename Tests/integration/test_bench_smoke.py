"""bench/coproc still works: a very short `herz-coproc-bench run` (debug build) measures every
variant — in-process, the unix-socket server it spawns, and the kernel's coprocessor runtime talking
to an SDK coprocessor over the rings — and prints a report row for each. No timing assertions: this
only proves the program and all three transports run end to end."""
import re
import subprocess

import herz_harness as h

VARIANTS = ["in-process", "unix socket", "ring (Herz)"]


def test_coproc_bench_reports_every_variant(tmp_path):
    report_file = tmp_path / "report.md"
    result = subprocess.run(
        [h.binary("herz-coproc-bench"), "run", "--duration", "0.2", "--warmup", "0.05", "--sizes", "64",
         "--window", "4", "--output", str(report_file)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr[-4000:]}"
    rows = {}
    for line in result.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[0] == "64 B":
            rows[cells[1]] = cells
    assert sorted(rows) == sorted(VARIANTS), result.stdout
    for variant, cells in rows.items():
        closed_loop, windowed = (int(c.replace(",", "")) for c in cells[5:7])
        assert closed_loop > 0 and windowed > 0, f"{variant}: {cells}"
        assert all(re.fullmatch(r"[0-9.]+", c) for c in cells[2:5]), f"{variant}: {cells}"
    assert "| p50 < 10 µs |" in result.stdout
    assert report_file.read_text() == result.stdout


def _bench_json(args):
    result = subprocess.run([h.binary("herz-coproc-bench"), *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr[-4000:]}"
    import json
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_crypto_bench_drives_the_real_coprocessors(tmp_path):
    """bench/crypto's Swift drivers still run: herz-aesgcm seals 16 KiB chunks over the rings (every
    answer checked by the driver), and herz-jwt verifies an ES256 and an RS256 token made the way
    bench/crypto.py makes them. No timing assertions."""
    import importlib.util
    import os
    spec = importlib.util.spec_from_file_location("crypto_bench", os.path.join(os.path.dirname(__file__), "..", "..", "bench", "crypto.py"))
    crypto = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(crypto)

    aes = _bench_json(["aesgcm", "--duration", "0.2", "--warmup", "0.05"])
    assert aes["ring_mb_s"] > 0 and aes["swift_crypto_mb_s"] > 0 and aes["stream_sealer_mb_s"] > 0, aes
    assert aes["ring_failed_calls"] == 0, aes

    tokens = crypto.make_keys_and_tokens(str(tmp_path))
    for alg, token in tokens.items():
        result = _bench_json(["jwt", "--token", token, "--jwks-root", str(tmp_path), "--jwks", "jwks.json",
                              "--duration", "0.2", "--warmup", "0.05", "--window", "4"])
        assert result["verifications_s"] > 0 and result["failed_calls"] == 0, (alg, result)
