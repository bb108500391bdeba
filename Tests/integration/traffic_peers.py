"""Independent peers for the mirroring tests: a recording HTTP server (optionally slow or failing)
and a TCP server that accepts and never reads, plus a Prometheus text reader."""
import http.server
import re
import socket
import threading
import time

import herz_harness as h


class RecordingServer:
    """An HTTP/1.1 server on a free port that records every request (host, path, body) and answers
    with `status` after `delay` seconds."""

    def __init__(self, status=200, delay=0.0):
        self.status, self.delay = status, delay
        self.requests = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self):
                length = int(self.headers.get("content-length") or 0)
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    body = b""
                    while True:
                        size = int(self.rfile.readline().strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        body += self.rfile.read(size)
                        self.rfile.readline()
                else:
                    body = self.rfile.read(length) if length else b""
                with outer.lock:
                    outer.requests.append({"host": self.headers.get("host"), "path": self.path,
                                           "method": self.command, "body": body})
                if outer.delay:
                    time.sleep(outer.delay)
                payload = b"mirror answer\n"
                self.send_response(outer.status)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def count(self):
        with self.lock:
            return len(self.requests)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class BlackHole:
    """Accepts TCP connections and never reads from them (a mirror slower than any client)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def metric(kernel, name, **labels):
    """Sum of the samples of `name` whose labels include `labels` (0 when absent)."""
    code, text, _ = kernel.admin_get("/metrics")
    assert code == 200
    total = 0.0
    for line in text.splitlines():
        m = re.match(r"^(\w+)(\{[^}]*\})?\s+([0-9.eE+-]+)$", line)
        if not m or m.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(m.group(3))
    return total
