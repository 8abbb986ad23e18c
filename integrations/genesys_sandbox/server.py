"""``SandboxServer``: the sandbox on a socket (stdlib ``ThreadingHTTPServer``, HTTP/1.1 keep-alive)."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .app import SandboxApp
from .config import OrgSpec, SandboxConfig
from .web import REASONS


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a requests.Session expects
    server_version = "GenesysSandbox/1.0"
    timeout = 120  # idle keep-alive connections are closed after this
    app: SandboxApp  # set on the subclass made per server

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in one write, and without Nagle's delay: otherwise every
        # keep-alive answer waits ~40 ms for a delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._dispatch()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = self.app.handle(self.command, self.path, headers, body)
        if response is None:
            # A dropped connection: no status line at all, the socket just closes.
            self.close_connection = True
            return
        payload = response.payload()
        self.send_response(response.status, REASONS.get(response.status))
        if payload or response.body is not None:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self._headers_buffer.append(b"\r\n" + payload)  # type: ignore[attr-defined]
        self.flush_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the request log lives in Telemetry


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class SandboxServer:
    """The Genesys sandbox: ``start()`` in a background thread or ``serve_forever()``.

    ``url`` serves both as the API URL and the login URL (``POST {url}/oauth/token``).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 8765, *, seed: int = 1, speed: float = 1.0,
                 live: bool = True, config: SandboxConfig | None = None, org: OrgSpec | None = None) -> None:
        self.app = SandboxApp(seed=seed, speed=speed, live=live, config=config, org=org)
        handler = type("SandboxHandler", (_Handler,), {"app": self.app})
        self.httpd = _Server((host, port), handler)
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    @property
    def config(self) -> SandboxConfig:
        """The live knobs (same object the control endpoint changes)."""
        return self.app.config

    def start(self) -> SandboxServer:
        """Serve in a daemon thread; returns self."""
        self.app.start()
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="sandbox-http", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self.app.start()
        try:
            self.httpd.serve_forever()
        finally:
            self.app.stop()
            self.httpd.server_close()

    def stop(self) -> None:
        """Stop serving and the background threads."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.app.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
