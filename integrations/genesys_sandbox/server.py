"""``SandboxServer``: the sandbox on two sockets (stdlib ``ThreadingHTTPServer``, HTTP/1.1 keep-alive).

Genesys Cloud has two hosts per region, ``api.<region>`` and ``login.<region>``; the sandbox
listens on two ports the same way, so a client that sends its token request (and its client
secret) to the API host, or its API calls to the login host, fails here as it would there.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .app import SandboxApp
from .auth import DEMO_CLIENT_SECRET
from .config import OrgSpec, SandboxConfig
from .web import REASONS


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a requests.Session expects
    server_version = "GenesysSandbox/1.0"
    timeout = 120  # idle keep-alive connections are closed after this
    app: SandboxApp  # set on the subclass made per listener
    host_kind: str  # "api" or "login": which Genesys host this listener plays

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
        response = self.app.handle(self.command, self.path, headers, body, host=self.host_kind)
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
    """The Genesys sandbox: ``start()`` in background threads or ``serve_forever()``.

    Two listeners share one application: ``url`` is the API host (``/api/v2/*`` and the
    ``/__sandbox`` control endpoint), ``login_url`` the login host (``/oauth/token`` and
    ``/oauth/authorize`` only). Each refuses the other's paths with a 404. ``login_port``
    defaults to ``port + 1`` (8766 for the demo); port 0 picks a free port.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 8765, *, login_port: int | None = None, seed: int = 1,
                 speed: float = 1.0, live: bool = True, config: SandboxConfig | None = None,
                 org: OrgSpec | None = None, client_secret: str = DEMO_CLIENT_SECRET) -> None:
        self.app = SandboxApp(seed=seed, speed=speed, live=live, config=config, org=org, client_secret=client_secret)
        self.host = host
        self.httpd = self._listen(host, port, "api")
        if login_port is None:
            login_port = port + 1 if port else 0
        try:
            self.login_httpd = self._listen(host, login_port, "login")
        except OSError:
            self.httpd.server_close()  # a half-started sandbox would hold the API port
            raise
        self.port = self.httpd.server_address[1]
        self.login_port = self.login_httpd.server_address[1]
        self._threads: list[threading.Thread] = []

    def _listen(self, host: str, port: int, host_kind: str) -> _Server:
        handler = type(f"Sandbox{host_kind.title()}Handler", (_Handler,), {"app": self.app, "host_kind": host_kind})
        return _Server((host, port), handler)

    @property
    def url(self) -> str:
        """The API host, ``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    @property
    def login_url(self) -> str:
        """The login host, ``http://host:login_port`` (``POST {login_url}/oauth/token``)."""
        return f"http://{self.host}:{self.login_port}"

    @property
    def config(self) -> SandboxConfig:
        """The live knobs (same object the control endpoint changes)."""
        return self.app.config

    def _serve_in_thread(self, httpd: _Server, name: str) -> None:
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def start(self) -> SandboxServer:
        """Serve both hosts in daemon threads; returns self."""
        self.app.start()
        self._serve_in_thread(self.httpd, "sandbox-http")
        self._serve_in_thread(self.login_httpd, "sandbox-login-http")
        return self

    def serve_forever(self) -> None:
        """Serve the API host in this thread (the login host in another) until interrupted."""
        self.app.start()
        self._serve_in_thread(self.login_httpd, "sandbox-login-http")
        try:
            self.httpd.serve_forever()
        finally:
            self.login_httpd.shutdown()
            self.app.stop()
            self.close()

    def stop(self) -> None:
        """Stop serving and the background threads."""
        self.httpd.shutdown()
        self.login_httpd.shutdown()
        self.close()
        self.app.stop()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def close(self) -> None:
        """Release both sockets (for a server that was built but never started)."""
        self.httpd.server_close()
        self.login_httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
