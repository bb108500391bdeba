"""Reload (SIGHUP and POST /reload), --check, drain on SIGTERM, and the deploy/ units."""
import os
import re
import signal
import subprocess
import threading
import time

import pytest

import herz_harness as h

TWO_CLUSTERS = h.proxy_config("""
    - name: one
      endpoints: [{{ address: "{upstreams[0]}" }}]
    - name: two
      endpoints: [{{ address: "{upstreams[1]}" }}]
""", cluster="{target}")


def body(k, path="/"):
    return h.curl(f"{k.url}{path}")[1]


def test_check_accepts_valid_and_reports_file_line_col(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(h.BASIC_CONFIG.format(admin=1, port=2, upstreams=["127.0.0.1:3"]))
    p = subprocess.run([h.binary("herz-kernel"), "--check", str(good)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(h.BASIC_CONFIG.format(admin=1, port=2, upstreams=["127.0.0.1:3"]).replace("cluster: backend", "cluster: nope"))
    p = subprocess.run([h.binary("herz-kernel"), "--check", str(bad)], capture_output=True, text=True)
    assert p.returncode == 1
    line = [i + 1 for i, l in enumerate(bad.read_text().splitlines()) if "cluster: nope" in l][0]
    assert f"{bad}:{line}:" in p.stderr, p.stderr
    assert "nope" in p.stderr


def test_sighup_reload_switches_routes_and_bad_config_keeps_old(procs):
    a, b = procs.upstream("one"), procs.upstream("two")
    k = procs.kernel(TWO_CLUSTERS, [a, b], target="one")
    assert "hello from one" in body(k)
    k.fmt["target"] = "two"
    k.write_config(TWO_CLUSTERS)
    k.send_signal(signal.SIGHUP)
    h.wait_for(lambda: "hello from two" in body(k), what="reload to take effect")
    # A broken file: rejected with file:line:col, the running config keeps serving.
    with open(k.config_file.name, "a") as f:
        f.write("  - name: broken\n    endpoints: 17\n")
    code, text, _ = k.admin_post("/reload")
    assert code == 400
    assert f"{k.config_file.name}:" in text
    assert "hello from two" in body(k)
    _, metrics, _ = k.admin_get("/metrics")
    assert 'herz_config_reloads_total{result="failed"} 1' in metrics
    assert 'herz_config_last_reload_error{error="' in metrics
    assert k.alive()


def test_reload_under_load_loses_no_request(procs):
    a, b = procs.upstream("one"), procs.upstream("two")
    k = procs.kernel(TWO_CLUSTERS, [a, b], target="one", workers=2)
    result = {}

    def load():
        p = subprocess.run(["h2load", "-n", "20000", "-c", "8", "-m", "4", "-t", "1", f"{k.url}/small"],
                           capture_output=True, text=True, timeout=300)
        result["out"] = p.stdout
        p2 = subprocess.run(["h2load", "--h1", "-n", "5000", "-c", "8", "-t", "1", f"{k.url}/small"],
                            capture_output=True, text=True, timeout=300)
        result["out1"] = p2.stdout

    t = threading.Thread(target=load)
    t.start()
    for i in range(10):
        k.fmt["target"] = "two" if i % 2 == 0 else "one"
        k.write_config(TWO_CLUSTERS)
        assert k.admin_post("/reload")[0] == 200
        time.sleep(0.1)
    t.join()
    assert "20000 succeeded, 0 failed, 0 errored" in result["out"], result["out"]
    assert "5000 succeeded, 0 failed, 0 errored" in result["out1"], result["out1"]


def test_sigterm_drains_in_flight_requests_then_exits_zero(procs):
    up = procs.upstream()
    k = procs.kernel(h.BASIC_CONFIG, [up])
    results = []
    t = threading.Thread(target=lambda: results.append(h.curl("-i", f"{k.url}/delay/1000")))
    t.start()
    time.sleep(0.3)
    k.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    # New connections are refused while draining.
    assert h.curl_status(f"{k.url}/small", timeout=2) == 0
    t.join()
    code, out, err = results[0]
    assert code == 0 and out.startswith("HTTP/1.1 200"), (out, err)
    assert k.proc.wait(timeout=15) == 0


def _deploy_units():
    """Every unit file under deploy/, and every drop-in directory `TEMPLATE@INSTANCE.service.d`
    (verified as that instance of the template with its drop-ins)."""
    deploy = os.path.join(os.path.dirname(__file__), "..", "..", "deploy")
    units = [f for f in os.listdir(deploy) if f.endswith((".service", ".target"))]
    dropins = [f[:-2] for f in os.listdir(deploy) if f.endswith(".service.d") and "@" in f]
    return sorted(units + dropins)


# Programs the units start, by the path they are installed at: verified against the build.
_INSTALLED = {
    "/usr/local/bin/herz-kernel": "herz-kernel",
    "/usr/local/lib/herz/coprocessors/herz-jwt": "herz-jwt",
    "/usr/local/lib/herz/coprocessors/herz-aesgcm": "herz-aesgcm",
}


def _pointed_at_build(text):
    import shutil
    for installed, program in _INSTALLED.items():
        if installed in text:
            text = text.replace(installed, h.binary(program))
    # The coprocessor template runs the program named by its instance: check it against a real binary.
    return text.replace("/usr/local/lib/herz/coprocessors/%i", shutil.which("true"))


@pytest.mark.parametrize("unit_name", _deploy_units())
def test_systemd_units_verify(tmp_path, unit_name):
    """Every unit under deploy/ passes `systemd-analyze verify` (binaries pointed at the build); a
    template is verified as an instance, with the instance's drop-ins when deploy/ has some."""
    import shutil
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze not installed")
    deploy = os.path.join(os.path.dirname(__file__), "..", "..", "deploy")
    template = re.sub(r"@[^.]+\.service$", "@.service", unit_name)
    unit = _pointed_at_build(open(os.path.join(deploy, template)).read())
    name = unit_name.replace("@.service", "@filter-example.service")
    (tmp_path / name).write_text(unit)
    if name != template:
        (tmp_path / template).write_text(unit)
    dropins = os.path.join(deploy, name + ".d")
    if os.path.isdir(dropins):
        (tmp_path / (name + ".d")).mkdir()
        for conf in os.listdir(dropins):
            (tmp_path / (name + ".d") / conf).write_text(_pointed_at_build(open(os.path.join(dropins, conf)).read()))
    p = subprocess.run(["systemd-analyze", "verify", str(tmp_path / name)], capture_output=True, text=True, cwd=tmp_path)
    problems = [l for l in (p.stdout + p.stderr).splitlines() if name in l or template in l]
    assert problems == [], problems


def test_reload_adds_and_removes_listeners(procs):
    up = procs.upstream()
    extra = h.free_port()
    second = f"""
  - name: second
    address: "127.0.0.1:{extra}"
    protocol: http
    filters:
      - type: router
        config:
          virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
                - match: {{{{ prefix: "/" }}}}
                  route: {{{{ cluster: backend }}}}
"""
    k = procs.kernel(h.BASIC_CONFIG, [up], workers=2)
    k.write_config(h.BASIC_CONFIG.replace("clusters:", second.strip("\n") + "\nclusters:"))
    code, text, _ = k.admin_post("/reload")
    assert code == 200, text
    assert h.curl(f"http://127.0.0.1:{extra}/small")[1] == "Hello, World!"
    # Moving an existing listener to another address is refused; the old config keeps serving.
    k.write_config(h.BASIC_CONFIG.replace(f"127.0.0.1:{{port}}", "127.0.0.1:1"))
    code, text, _ = k.admin_post("/reload")
    assert code == 400 and "address or protocol changed" in text
    assert h.curl(f"{k.url}/small")[1] == "Hello, World!"
    # Removing the second listener closes it.
    k.write_config(h.BASIC_CONFIG)
    assert k.admin_post("/reload")[0] == 200
    assert h.curl_status(f"http://127.0.0.1:{extra}/small", timeout=3) == 0
    assert k.alive()
