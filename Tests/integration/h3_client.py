"""A small HTTP/3 client for the integration tests, on aioquic's QUIC and H3Connection (an
implementation independent of Herz's ngtcp2/nghttp3): many concurrent requests on one
connection, streamed bodies, resets and the connection's close reason are all visible."""
import asyncio
import ssl

from aioquic.asyncio.client import connect
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ConnectionTerminated, StreamReset


class H3Response:
    def __init__(self):
        self.status = None
        self.headers = {}
        self.body = bytearray()
        self.reset_code = None
        self.done = asyncio.get_event_loop().create_future()

    def finish(self):
        if not self.done.done():
            self.done.set_result(self)


class H3ClientProtocol(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.http = H3Connection(self._quic)
        self.responses = {}
        self.terminated = None

    def quic_event_received(self, event):
        if isinstance(event, StreamReset) and event.stream_id in self.responses:
            response = self.responses[event.stream_id]
            response.reset_code = event.error_code
            response.finish()
        if isinstance(event, ConnectionTerminated):
            self.terminated = event
            for response in self.responses.values():
                response.finish()
        for h3_event in self.http.handle_event(event):
            response = self.responses.get(getattr(h3_event, "stream_id", None))
            if response is None:
                continue
            if isinstance(h3_event, HeadersReceived):
                if response.status is None:
                    fields = {k.decode(): v.decode() for k, v in h3_event.headers}
                    response.status = int(fields.pop(":status"))
                    response.headers = fields
            elif isinstance(h3_event, DataReceived):
                response.body += h3_event.data
            if getattr(h3_event, "stream_ended", False):
                response.finish()

    def start(self, method, path, body=b"", headers=(), authority="localhost"):
        """Sends a request; returns its H3Response (await `.done`)."""
        stream_id = self._quic.get_next_available_stream_id()
        fields = [(b":method", method.encode()), (b":scheme", b"https"), (b":authority", authority.encode()),
                  (b":path", path.encode())] + [(k.encode(), v.encode()) for k, v in headers]
        if body:
            fields.append((b"content-length", str(len(body)).encode()))
        self.http.send_headers(stream_id, fields, end_stream=not body)
        if body:
            self.http.send_data(stream_id, body, end_stream=True)
        response = H3Response()
        self.responses[stream_id] = response
        self.transmit()
        return response

    async def request(self, method, path, body=b"", headers=(), timeout=30):
        return await asyncio.wait_for(self.start(method, path, body, headers).done, timeout)


def configuration(cafile=None, idle_timeout=30.0):
    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, idle_timeout=idle_timeout,
                               server_name="localhost")
    if cafile:
        config.load_verify_locations(cafile)
    else:
        config.verify_mode = ssl.CERT_NONE
    return config


def h3_connect(port, cafile=None, idle_timeout=30.0, host="127.0.0.1", local_port=0, token=b"", token_handler=None,
               session_ticket=None, session_ticket_handler=None, wait_connected=True):
    """`async with h3_connect(port, cafile) as client:` — an H3ClientProtocol after the handshake
    (or at once with `wait_connected=False`: requests then go in 0-RTT when `session_ticket` allows).
    `token`: a NEW_TOKEN token to send in the Initial; `token_handler` receives the server's;
    `session_ticket`: a TLS ticket to resume with; `session_ticket_handler` receives the server's."""
    config = configuration(cafile, idle_timeout)
    config.token = token
    config.session_ticket = session_ticket
    return connect(host, port, configuration=config, create_protocol=H3ClientProtocol, local_port=local_port,
                   token_handler=token_handler, session_ticket_handler=session_ticket_handler,
                   wait_connected=wait_connected)
