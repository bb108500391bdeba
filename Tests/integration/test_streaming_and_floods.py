"""Large transfers with flat memory, backpressure, mid-response resets, HTTP/2 flood protections,
concurrency and early responses — all through the real herz-kernel and herz-demo-upstream.

Memory is judged from the kernel's VmRSS (sampled every 100 ms while a transfer runs): Herz buffers
are bounded by watermarks (1 MiB filter buffer limit, NIO's 32/64 KiB channel watermarks, 1 MiB
HTTP/2 stream windows), so a transfer of any size must not grow the process by more than
RSS_BOUND. The debug build's baseline RSS is whatever it is; only the growth is asserted.
"""
import json
import os
import socket
import subprocess
import threading
import time

import pytest

import herz_harness as h

MiB = 1024 * 1024
GiB = 1024 * MiB
# Bound on RSS growth during a transfer: watermark-bounded buffers are a few MiB; 64 MiB leaves room
# for allocator slack of the debug build but is far below what buffering even 3 % of 2 GiB would cost.
RSS_BOUND = 64 * MiB

# Route timeout off (the default 15 s covers the whole response and would cut long transfers);
# 256 concurrent HTTP/2 streams so 200 really run at once.
BACKEND = """
    - name: backend
      endpoints:
        - {{ address: "{upstreams[0]}" }}
"""
NO_TIMEOUT_ROUTE = """
    - match: {{ prefix: "/" }}
      route: {{ cluster: backend, timeout: 0s }}
"""
STREAM_CONFIG = h.proxy_config(BACKEND, routes=NO_TIMEOUT_ROUTE, listener="""
    limits: {{ max_concurrent_streams: 256 }}
""")

# Early answers from Herz itself: on NO_ROUTE_CONFIG a host without a virtual host gets 404 at the
# request head; on LIMIT_CONFIG a buffer filter answers 413 once 1 KiB of body has arrived.
NO_ROUTE_CONFIG = h.proxy_config(BACKEND, routes=NO_TIMEOUT_ROUTE, domains='"api.example.com"')
LIMIT_CONFIG = NO_ROUTE_CONFIG.replace("""    filters:
""", """    filters:
      - type: buffer
        config: {{ max_request_bytes: 1024 }}
""")

# ---------------------------------------------------------------------------------------------
# helpers


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class RSSSampler:
    """Samples a process's VmRSS every 100 ms in a thread; `growth` is max − baseline."""

    def __init__(self, pid, interval=0.1):
        self.pid = pid
        self.interval = interval
        self.baseline = rss(pid)
        self.peak = self.baseline
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss(self.pid))
                self.samples += 1
            except (OSError, RuntimeError):
                return
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def growth(self):
        return self.peak - self.baseline

    def report(self, what):
        line = (f"{what}: RSS baseline {self.baseline / MiB:.1f} MiB, peak {self.peak / MiB:.1f} MiB, "
                f"growth {self.growth / MiB:.1f} MiB ({self.samples} samples)")
        print(line)
        return line


def stream_kernel(procs):
    up = procs.upstream("up")
    return up, procs.kernel(STREAM_CONFIG, [up])


def assert_healthy(k):
    assert k.alive(), k.output()[-3000:]
    code, out, err = h.curl("--http2-prior-knowledge", f"{k.url}/small")
    assert code == 0, err
    assert len(out) == 13
    assert h.curl_status(f"{k.url}/small") == 200


def curl_download(url, *args, timeout):
    p = subprocess.run(["curl", "-sS", "--max-time", str(timeout), *args, "-o", "/dev/null",
                        "-w", "%{http_code} %{size_download}", url], capture_output=True, text=True, timeout=timeout + 10)
    return p.returncode, p.stdout.strip(), p.stderr


def curl_upload(url, size, *args, timeout):
    """Streams `size` zero bytes from `head -c` into curl (never held in memory)."""
    cmd = f"head -c {size} /dev/zero | curl -sS --max-time {timeout} {' '.join(args)} -T - {url}"
    p = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout + 10)
    return p.returncode, p.stdout.strip(), p.stderr


# Sizes: 2 GiB over HTTP/1.1 (measured ~7 s down, ~15 s up on the 2-core test machine). Over h2c the
# debug build moves only ~50 MB/s each way (measured: 512 MiB in ~10 s; curl/Herz HTTP/2 framing, 16 KiB
# DATA frames), so 2 GiB would take ~40–45 s per direction and break the file's ~3 min budget;
# h2c uses 512 MiB, which is still 8x the RSS bound and exercises the same flow-control path.
H1_SIZE = 2 * GiB
H2_SIZE = 512 * MiB


@pytest.mark.parametrize("proto,size", [("--http1.1", H1_SIZE), ("--http2-prior-knowledge", H2_SIZE)],
                         ids=["http1-2GiB", "h2c-512MiB"])
def test_large_download_keeps_rss_flat(procs, proto, size):
    up, k = stream_kernel(procs)
    time.sleep(0.3)
    with RSSSampler(k.proc.pid) as s:
        code, out, err = curl_download(f"{k.url}/bytes/{size}", proto, timeout=150)
    s.report(f"download {size} {proto}")
    assert code == 0, err
    assert out == f"200 {size}"
    assert s.growth < RSS_BOUND, s.report("download")
    assert_healthy(k)


@pytest.mark.parametrize("proto,size", [("--http1.1", H1_SIZE), ("--http2-prior-knowledge", H2_SIZE)],
                         ids=["http1-2GiB", "h2c-512MiB"])
def test_large_upload_keeps_rss_flat(procs, proto, size):
    up, k = stream_kernel(procs)
    # HTTP/1.1: `-T -` streams chunked. HTTP/2: a declared content-length (the streamed, length-less
    # variant is covered by test_h2_streamed_upload_without_content_length below).
    extra = [proto] if proto == "--http1.1" else [proto, "-H", f"'content-length: {size}'"]
    time.sleep(0.3)
    with RSSSampler(k.proc.pid) as s:
        code, out, err = curl_upload(f"{k.url}/sink", size, *extra, timeout=150)
    s.report(f"upload {size} {proto}")
    assert code == 0, err
    assert json.loads(out) == {"bytes": size}
    assert s.growth < RSS_BOUND, s.report("upload")
    assert_healthy(k)


@pytest.mark.parametrize("path", ["/sink", "/echo"])
def test_h2_streamed_upload_without_content_length(procs, path):
    up, k = stream_kernel(procs)
    size = 8 * MiB
    code, out, err = curl_upload(f"{k.url}{path}", size, "--http2-prior-knowledge", "-o", "/tmp/herz-h2-upload-out",
                                 "-w", "'%{http_code} %{size_download}'", timeout=30)
    assert k.alive()
    assert code == 0, err
    if path == "/sink":
        assert out.startswith("200"), out
        with open("/tmp/herz-h2-upload-out") as f:
            assert json.load(f) == {"bytes": size}
    else:
        assert out == f"200 {size}", out


# ---------------------------------------------------------------------------------------------
# slow readers: backpressure reaches the upstream


SLOW_SIZE = 256 * MiB
SLOW_PHASE = 5.0  # seconds of slow reading; without backpressure Herz would buffer ~all 256 MiB in <1 s


def test_slow_http1_reader_keeps_rss_flat(procs):
    up, k = stream_kernel(procs)
    sock = socket.create_connection(("127.0.0.1", k.port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.sendall(f"GET /bytes/{SLOW_SIZE} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    received = 0
    head = b""
    with RSSSampler(k.proc.pid) as s:
        deadline = time.time() + SLOW_PHASE
        while time.time() < deadline:
            chunk = sock.recv(64 * 1024)
            assert chunk, "connection closed during slow phase"
            received += len(chunk)
            time.sleep(0.05)
        slow_received = received
        slow_growth = s.growth
        # Then read the rest at full speed: the transfer must complete intact.
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            received += len(chunk)
    sock.close()
    s.report("slow HTTP/1.1 reader")
    print(f"slow phase read {slow_received / MiB:.1f} MiB, growth then {slow_growth / MiB:.1f} MiB")
    assert slow_received < 64 * MiB  # really slow
    assert s.growth < RSS_BOUND, s.report("slow reader")
    # head + exactly SLOW_SIZE body bytes (content-length framing, connection: close)
    assert received > SLOW_SIZE and received - SLOW_SIZE < 1024
    assert_healthy(k)


def test_slow_h2_reader_keeps_rss_flat(procs):
    import h2.config
    import h2.connection
    import h2.events

    up, k = stream_kernel(procs)
    sock = socket.create_connection(("127.0.0.1", k.port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.increment_flow_control_window(16 * MiB)
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [(":method", "GET"), (":path", f"/bytes/{SLOW_SIZE}"), (":scheme", "http"),
                            (":authority", "x")], end_stream=True)
    sock.sendall(conn.data_to_send())
    received, status, ended = 0, None, False

    def pump(bufsize):
        nonlocal received, status, ended
        chunk = sock.recv(bufsize)
        assert chunk, "connection closed"
        for ev in conn.receive_data(chunk):
            if isinstance(ev, h2.events.ResponseReceived):
                status = dict(ev.headers)[b":status"]
            elif isinstance(ev, h2.events.DataReceived):
                received += len(ev.data)
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                ended = True
            elif isinstance(ev, h2.events.StreamReset):
                raise AssertionError(f"stream reset: {ev}")
        out = conn.data_to_send()
        if out:
            sock.sendall(out)

    with RSSSampler(k.proc.pid) as s:
        deadline = time.time() + SLOW_PHASE
        while time.time() < deadline:
            pump(64 * 1024)
            time.sleep(0.05)
        slow_received = received
    # Draining the other ~250 MiB through python-h2 would take ~40 s; cancel the stream instead (the
    # full-speed completion of a large h2c download is covered by test_large_download_keeps_rss_flat).
    conn.reset_stream(sid, error_code=8)
    sock.sendall(conn.data_to_send())
    sock.close()
    s.report("slow h2 reader")
    print(f"slow phase read {slow_received / MiB:.1f} MiB")
    assert status == b"200"
    assert 0 < slow_received < 64 * MiB
    assert s.growth < RSS_BOUND, s.report("slow h2 reader")
    assert_healthy(k)


def h2_download(port, path):
    """Downloads `path` over h2c with python-h2 (acknowledging data as it is consumed)."""
    import h2.config
    import h2.connection
    import h2.events

    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [(":method", "GET"), (":path", path), (":scheme", "http"), (":authority", "x")],
                      end_stream=True)
    sock.sendall(conn.data_to_send())
    received, ended = 0, False
    try:
        while not ended:
            chunk = sock.recv(65536)
            if not chunk:
                break
            for ev in conn.receive_data(chunk):
                if isinstance(ev, h2.events.DataReceived):
                    received += len(ev.data)
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset)):
                    ended = True
            sock.sendall(conn.data_to_send())
    finally:
        sock.close()
    return received


def test_upstream_connection_reusable_after_backpressured_h2_download(procs):
    # The race hits the first download of a fresh kernel about 2 times in 3 on the test machine (later
    # downloads on the same kernel rarely); 8 fresh kernels make the failure near certain.
    for i in range(8):
        up, k = stream_kernel(procs)
        assert h2_download(k.port, f"/bytes/{16 * MiB}") == 16 * MiB
        code, out, err = h.curl("--http1.1", f"{k.url}/small", timeout=3)
        assert code == 0 and len(out) == 13, f"request after download {i}: {err.strip()}"


# ---------------------------------------------------------------------------------------------
# upstream reset mid-response




def test_upstream_reset_mid_response_http1(procs):
    up, k = stream_kernel(procs)
    for _ in range(3):
        p = subprocess.run(["curl", "-sS", "--http1.1", "--max-time", "5", "-o", "/dev/null",
                            "-w", "%{http_code} %{size_download}", f"{k.url}/reset"],
                           capture_output=True, text=True, timeout=20)
        # 18 = partial file: the body is shorter than the promised 100000 bytes. Anything but a
        # complete-looking response is acceptable, and curl must not exit 0.
        assert p.returncode != 0, (p.stdout, p.stderr)
        # (28 = curl's own --max-time: Herz neither completed nor aborted the response.)
        assert p.returncode in (18, 56, 52), (p.returncode, p.stderr)
        status, size = p.stdout.split()
        assert int(size) < 100000
        assert_healthy(k)


def test_upstream_reset_mid_response_h2(procs):
    up, k = stream_kernel(procs)
    client = h.H2Client(k.port, timeout=5)
    try:
        r = client.wait(client.send("/reset", authority="x"))
    except socket.timeout:
        client.close()
        pytest.fail("no RST_STREAM or END_STREAM within 5 s")
    headers, body, reset, ended = r.headers, r.body, r.reset, r.ended
    # A second stream on the same connection still works (only the stream was reset).
    second = client.wait(client.send("/small", authority="x"))
    client.close()
    print(f"h2 /reset: headers={headers} body={len(body)} reset={reset} ended={ended}")
    if ended:
        # Ending cleanly is acceptable only if the body visibly falls short of content-length.
        assert headers and int(headers.get("content-length", "0")) > len(body), (headers, len(body))
    else:
        assert reset is not None, "neither END_STREAM nor RST_STREAM"
    assert len(body) < 100000
    assert second.ended and len(second.body) == 13
    assert_healthy(k)


# ---------------------------------------------------------------------------------------------
# HTTP/2 flood protections (raw frames built with hyperframe/hpack, the python-h2 stack)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame_bytes(frame):
    return frame.serialize()


def client_preface():
    from hyperframe.frame import SettingsFrame
    return PREFACE + SettingsFrame(0, settings={SettingsFrame.INITIAL_WINDOW_SIZE: 1 << 20}).serialize()


def request_block(path="/small"):
    import hpack
    return hpack.Encoder().encode([(":method", "GET"), (":path", path), (":scheme", "http"), (":authority", "x")])


def send_flood(port, payload, rcvbuf=None, chunk=64 * 1024, timeout=15, read_for=4):
    """Sends `payload` (reading nothing meanwhile) and then reads until the peer closes.

    Returns (sent_all, frames_received, closed): whether the whole payload went out before the
    peer closed/reset, the frames the peer sent, and whether the peer closed the connection."""
    from hyperframe.frame import Frame

    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    sock.connect(("127.0.0.1", port))
    sent_all = True
    try:
        for i in range(0, len(payload), chunk):
            sock.sendall(payload[i:i + chunk])
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        sent_all = False
    data, closed = b"", False
    sock.settimeout(read_for)
    deadline = time.time() + read_for
    try:
        while time.time() < deadline:
            c = sock.recv(1 << 20)
            if not c:
                closed = True
                break
            data += c
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        pass
    sock.close()
    frames = []
    pos = 0
    while pos + 9 <= len(data):
        try:
            f, length = Frame.parse_frame_header(memoryview(data[pos:pos + 9]))
        except Exception:
            break
        if pos + 9 + length > len(data):
            break
        f.parse_body(memoryview(data[pos + 9:pos + 9 + length]))
        frames.append(f)
        pos += 9 + length
    return sent_all, frames, closed


def goaways(frames):
    from hyperframe.frame import GoAwayFrame
    return [f for f in frames if isinstance(f, GoAwayFrame)]




def test_h2_rapid_reset_closes_connection(procs):
    from hyperframe.frame import HeadersFrame, RstStreamFrame

    up, k = stream_kernel(procs)
    n = 10_000
    block = request_block()  # the same literal block every time (fresh encoder: no dynamic refs)
    parts = [client_preface()]
    for i in range(n):
        sid = 2 * i + 1
        parts.append(HeadersFrame(sid, data=block, flags=["END_HEADERS", "END_STREAM"]).serialize())
        parts.append(RstStreamFrame(sid, error_code=8).serialize())  # CANCEL
    with RSSSampler(k.proc.pid) as s:
        sent_all, frames, closed = send_flood(k.port, b"".join(parts))
    s.report("rapid reset")
    ga = goaways(frames)
    print(f"rapid reset: sent_all={sent_all} closed={closed} goaway={[(g.last_stream_id, g.error_code) for g in ga]}")
    assert ga, "a GOAWAY explains the close"
    # Stopped well before all 10,000 streams were processed.
    assert ga[0].last_stream_id < (2 * n - 1) // 2, ga[0].last_stream_id
    assert ga[0].error_code == 11  # ENHANCE_YOUR_CALM
    # The upstream saw only a bounded number of those requests.
    code, out, err = h.curl(f"http://{up.address}/admin/stats")
    print("upstream stats", out)
    assert json.loads(out)["requests"] < 1000
    assert s.growth < RSS_BOUND
    assert_healthy(k)
    assert len(ga) == 1, f"{len(ga)} GOAWAYs: the connection was kept and further frames were still processed"
    assert closed, "connection must be closed after the GOAWAY"


@pytest.mark.parametrize("kind", ["ping", "settings"])
def test_h2_control_frame_flood_closes_connection(procs, kind):
    from hyperframe.frame import PingFrame, SettingsFrame

    up, k = stream_kernel(procs)
    n = 100_000
    if kind == "ping":
        one = b"".join(PingFrame(0, opaque_data=i.to_bytes(8, "big")).serialize() for i in range(256))
    else:
        one = SettingsFrame(0, settings={SettingsFrame.MAX_CONCURRENT_STREAMS: 100}).serialize() * 256
    payload = client_preface() + one * (n // 256)
    with RSSSampler(k.proc.pid) as s:
        # A small receive buffer: the ACKs back up instead of vanishing into the client's kernel.
        sent_all, frames, closed = send_flood(k.port, payload, rcvbuf=4096)
    s.report(f"{kind} flood")
    ga = goaways(frames)
    acks = sum(1 for f in frames if type(f).__name__ in ("PingFrame", "SettingsFrame") and "ACK" in f.flags)
    print(f"{kind} flood: sent_all={sent_all} closed={closed} acks={acks} goaway={[(g.last_stream_id, g.error_code) for g in ga]}")
    assert acks < n // 2, "the flood was answered instead of stopped"
    assert ga and ga[0].error_code == 11  # ENHANCE_YOUR_CALM
    assert s.growth < RSS_BOUND
    assert_healthy(k)
    assert len(ga) == 1, f"{len(ga)} GOAWAYs: the connection was kept and further frames were still processed"
    assert closed, "connection must be closed after the GOAWAY"


def test_h2_continuation_flood_closes_connection(procs):
    from hyperframe.frame import ContinuationFrame, HeadersFrame

    up, k = stream_kernel(procs)
    block = request_block()
    parts = [client_preface(), HeadersFrame(1, data=block, flags=["END_STREAM"]).serialize()]  # no END_HEADERS
    import hpack
    filler = hpack.Encoder().encode([("x-filler", "a" * 1000)])
    parts += [ContinuationFrame(1, data=filler).serialize()] * 20_000  # ~20 MB, never END_HEADERS
    with RSSSampler(k.proc.pid) as s:
        sent_all, frames, closed = send_flood(k.port, b"".join(parts))
    s.report("continuation flood")
    ga = goaways(frames)
    print(f"continuation flood: sent_all={sent_all} closed={closed} goaway={[(g.last_stream_id, g.error_code) for g in ga]}")
    assert ga, "no GOAWAY"
    assert s.growth < RSS_BOUND
    assert_healthy(k)
    assert len(ga) == 1, f"{len(ga)} GOAWAYs: the connection was kept and further frames were still processed"
    assert closed, "connection must be closed after the GOAWAY"
    assert not sent_all, "Herz read all ~20 MB of CONTINUATION frames before closing"


# ---------------------------------------------------------------------------------------------
# concurrency


def h2load(*args, timeout=120):
    p = subprocess.run(["h2load", *args], capture_output=True, text=True, timeout=timeout)
    return p.stdout + p.stderr


def test_200_concurrent_streams_on_one_h2c_connection(procs):
    up, k = stream_kernel(procs)
    out = h2load("-n", "2000", "-c", "1", "-m", "200", f"{k.url}/small")
    assert "2000 succeeded, 0 failed, 0 errored" in out, out
    assert_healthy(k)


def test_256_concurrent_http1_connections(procs):
    up, k = stream_kernel(procs)
    out = h2load("--h1", "-n", "5000", "-c", "256", f"{k.url}/small")
    assert "5000 succeeded, 0 failed, 0 errored" in out, out
    assert_healthy(k)


# ---------------------------------------------------------------------------------------------
# early responses: Herz answers before the request body is complete


EARLY_SIZE = 50 * MiB


def early_kernel(procs, status):
    up = procs.upstream("up")
    return up, procs.kernel(NO_ROUTE_CONFIG if status == 404 else LIMIT_CONFIG, [up])


def raw_early_response(port, host, size=EARLY_SIZE):
    """Sends a POST head and streams `size` bytes of body in a thread while reading the response.

    Returns (response bytes, body bytes the client managed to send, how the connection ended)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"POST /sink HTTP/1.1\r\nHost: {host}\r\nContent-Length: {size}\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n".encode())
    sent = [0]

    def writer():
        buf = b"\0" * (256 * 1024)
        try:
            while sent[0] < size:
                n = sock.send(buf[:min(len(buf), size - sent[0])])
                sent[0] += n
        except OSError:
            pass

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    data, ending = b"", "timeout"
    try:
        while True:
            c = sock.recv(65536)
            if not c:
                ending = "fin"
                break
            data += c
    except ConnectionResetError:
        ending = "reset"
    except socket.timeout:
        pass
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    t.join(timeout=10)
    sock.close()
    return data, sent[0], ending


@pytest.mark.parametrize("host,status", [("nowhere.example", 404), ("api.example.com", 413)],
                         ids=["no-route-404", "buffer-limit-413"])
def test_early_response_to_large_upload_http1(procs, tmp_path, host, status):
    up, k = early_kernel(procs, status)
    data, sent, ending = raw_early_response(k.port, host)
    print(f"early {status}: {len(data)} response bytes, client sent {sent} of {EARLY_SIZE}, ended by {ending}")
    head, _, body = data.partition(b"\r\n\r\n")
    head = head.decode("latin-1")
    assert head.startswith(f"HTTP/1.1 {status}"), data[:300]
    assert "connection: close" in head.lower()
    length = int(next(l.split(":", 1)[1] for l in head.split("\r\n") if l.lower().startswith("content-length:")))
    assert len(body) == length, "the early response itself must be complete"
    # Herz must not have swallowed the whole 50 MiB before answering and closing.
    assert sent < EARLY_SIZE, "the whole body was read although the answer was known"
    # Closed (FIN, or RST because the client was still sending), not left hanging.
    assert ending in ("fin", "reset")
    # The same with curl, which sees the response and stops sending.
    f = tmp_path / "body.bin"
    with open(f, "wb") as out:
        out.truncate(EARLY_SIZE)
    p = subprocess.run(["curl", "-sS", "--http1.1", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}",
                        "-H", f"Host: {host}", "--data-binary", f"@{f}", f"{k.url}/sink"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stdout == str(status), (p.returncode, p.stdout, p.stderr)
    assert k.alive()
    assert h.curl_status("-H", "Host: api.example.com", f"{k.url}/small") == 200


@pytest.mark.parametrize("host,status", [("nowhere.example", 404), ("api.example.com", 413)],
                         ids=["no-route-404", "buffer-limit-413"])
def test_early_response_to_large_upload_h2(procs, host, status):
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions

    up, k = early_kernel(procs, status)
    sock = socket.create_connection(("127.0.0.1", k.port), timeout=5)
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "POST"), (":path", "/sink"), (":scheme", "http"), (":authority", host),
                          ("content-length", str(EARLY_SIZE))])
    sent, headers, body, ended, reset = 0, None, b"", False, None
    sock.setblocking(False)
    deadline = time.time() + 5
    while time.time() < deadline and not ended and reset is None:
        # Send body as flow control allows, while reading what Herz answers.
        try:
            n = min(conn.local_flow_control_window(1), conn.max_outbound_frame_size, EARLY_SIZE - sent)
            if n > 0:
                conn.send_data(1, b"\0" * n)
                sent += n
        except h2.exceptions.StreamClosedError:
            pass
        out = conn.data_to_send()
        try:
            if out:
                sock.sendall(out)
            chunk = sock.recv(65536)
        except BlockingIOError:
            time.sleep(0.002)
            continue
        if not chunk:
            break
        for ev in conn.receive_data(chunk):
            if isinstance(ev, h2.events.ResponseReceived):
                headers = dict((a.decode(), b.decode()) for a, b in ev.headers)
            elif isinstance(ev, h2.events.DataReceived):
                body += ev.data
            elif isinstance(ev, h2.events.StreamEnded):
                ended = True
            elif isinstance(ev, h2.events.StreamReset):
                reset = ev
    sock.close()
    print(f"h2 early {status}: headers={headers} body={len(body)} ended={ended} reset={reset} sent={sent}")
    assert headers and headers[":status"] == str(status), headers
    assert sent < EARLY_SIZE
    assert k.alive()
    code, out, err = h.curl("--http2-prior-knowledge", "-H", "Host: api.example.com", f"{k.url}/small")
    assert code == 0 and len(out) == 13, err
    # The complete response: body of content-length bytes, then END_STREAM (a RST_STREAM NO_ERROR may follow).
    assert ended, f"no END_STREAM; stream reset instead: {reset}"
    assert len(body) == int(headers["content-length"])
