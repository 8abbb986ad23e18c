"""The sandbox application: state, knobs, and the request pipeline every answer goes through.

Pipeline for Genesys paths: route → right host? (404 on the other host's listener) → drop? →
latency → bearer token (401) → per-token quota (429) → injected 5xx → handler. Every answer
carries ``ININ-Correlation-Id`` and the ``inin-ratelimit-*`` headers; control paths skip auth,
quota and faults.
"""

from __future__ import annotations

import copy
import random
import threading
import time
import traceback
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import api_conversations, api_platform, api_routing, api_routing_admin, control, oauth
from .auth import DEMO_CLIENT_SECRET, RateLimiter, Token, TokenStore, basic_credentials
from .clock import Clock, iso
from .config import OrgSpec, SandboxConfig
from .orggen import build_org
from .simulator import Simulator
from .store import Store
from .telemetry import Telemetry
from .traffic import TrafficFactory, generate_history
from .web import ApiError, Request, Response, Router
from .webhook import WebhookSender

INJECTED = (500, 502, 503)


class SandboxApp:
    """Everything but the socket: see ``server.SandboxServer`` for that."""

    def __init__(self, *, seed: int = 1, speed: float = 1.0, live: bool = True,
                 config: SandboxConfig | None = None, org: OrgSpec | None = None,
                 client_secret: str = DEMO_CLIENT_SECRET) -> None:
        self.seed, self.speed, self.live = seed, speed, live
        self.org_spec = org or OrgSpec()
        self._initial = copy.deepcopy(config or SandboxConfig())
        self._initial.validate()
        self.config = copy.deepcopy(self._initial)
        self.clock = Clock(live=live)
        self.tokens = TokenStore(client_secret)
        self.limiter = RateLimiter()
        self.telemetry = Telemetry()
        self.webhook = WebhookSender(self)
        self.rng = random.Random(f"faults:{seed}")
        self.rng_lock = threading.Lock()
        self.router = Router()
        for module in (oauth, api_routing, api_routing_admin, api_conversations, api_platform, control):
            module.register(self.router)
        self._build_state()

    def _build_state(self) -> None:
        now = self.clock.now()
        org = build_org(self.org_spec, self.seed, now)
        store = Store(org)
        factory = TrafficFactory(org, random.Random(f"traffic:{self.seed}"))
        generate_history(store, factory, self.org_spec, now)
        # The knob is read at each sweep, so a change through /__sandbox/config applies at once.
        simulator = Simulator(store, factory, self.clock, speed=self.speed, live=self.live,
                              retention=lambda: self.config.history_hours * 3600.0)
        if self.live:
            simulator.warm_up()  # before events are wired: the warm-up is not news
        store.emit = self.webhook.submit
        store.on_evict = lambda convs: self.telemetry.forget_conversations({conv.id for conv in convs})
        self.store, self.factory, self.simulator = store, factory, simulator

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the simulator (live mode) and the webhook sender."""
        self.webhook.start()
        self.simulator.start()

    def stop(self) -> None:
        """Stop background threads."""
        self.simulator.stop()
        self.webhook.stop()

    def reset(self, *, state: bool = False) -> None:
        """Back to the start knobs; clear log, counters, quotas and events; optionally rebuild the org."""
        self.config = copy.deepcopy(self._initial)
        self.telemetry.clear()
        self.limiter.clear()
        self.webhook.clear()
        if state:
            running = self.simulator.running
            self.simulator.stop()
            self._build_state()
            if running:
                self.simulator.start()

    # -- requests -----------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes, *,
               host: str | None = None) -> Response | None:
        """Answer one request; ``None`` means: close the connection without answering.

        ``host`` is the listener it came in on: ``"login"`` serves ``/oauth/*`` only, ``"api"``
        everything else; ``None`` (in-process callers) serves all paths.
        """
        started = time.monotonic()
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        req = Request(method, path, parse_qs(parts.query, keep_blank_values=True), headers, body,
                      str(uuid.uuid4()))
        handler, params, kind = self.router.match(method, path)
        req.params = params
        if host is not None and (kind == "oauth") != (host == "login"):
            # The other host's path: Genesys's hosts do not serve each other's paths, so a
            # client that mixes them up (a client secret sent to the API host) fails here.
            self.telemetry.bump("requests")
            response = self._error(req, ApiError(404))
            response.headers["ININ-Correlation-Id"] = req.correlation_id
            self._log(req, response.status, started)
            return response
        if kind == "control":
            response = self._run(handler, req)
            response.headers["ININ-Correlation-Id"] = req.correlation_id
            return response
        self.telemetry.bump("requests")
        cfg = self.config
        if cfg.drop_rate and self._chance(cfg.drop_rate):
            self.telemetry.bump("dropped")
            self._log(req, 0, started)
            return None
        if cfg.latency_ms:
            time.sleep(cfg.latency_ms / 1000.0)
        response = self._guarded(handler, req, kind)
        if kind == "api" and cfg.lost_answer_rate and self._chance(cfg.lost_answer_rate):
            # Handled (a write is applied) but the answer never arrives: the client's outcome is unknown.
            self.telemetry.bump("answers_lost")
            self._log(req, 0, started)
            return None
        response.headers["ININ-Correlation-Id"] = req.correlation_id
        self._log(req, response.status, started)
        return response

    def _guarded(self, handler: Any, req: Request, kind: str) -> Response:
        cfg = self.config
        now = self.clock.wall()
        if kind == "api":
            token = req.token = self._authenticate(req, now)
            bucket = f"token:{token.id}" if token else "anonymous"
        else:
            token = None
            client_id = basic_credentials(req.headers.get("authorization"))[0]
            bucket = f"client:{client_id or 'anonymous'}"
        count, reset, over = self.limiter.hit(bucket, now, cfg.rate_limit, cfg.rate_window_seconds,
                                              count=token is not None or kind != "api")
        limits = {"inin-ratelimit-count": str(count), "inin-ratelimit-allowed": str(cfg.rate_limit),
                  "inin-ratelimit-reset": str(reset)}
        if kind == "api" and token is None:
            response = self._error(req, self._auth_error(req, now))
        elif over:
            self.telemetry.bump("rate_limited")
            response = self._error(req, ApiError(429, f"Rate limit exceeded the maximum. Retry the request in [{reset}] seconds",
                                                 limit={"key": "client.credentials.token.rate.per.minute",
                                                        "namespace": "platform.api", "value": cfg.rate_limit}))
            response.headers["Retry-After"] = str(reset)
        elif kind == "api" and cfg.error_rate and self._chance(cfg.error_rate):
            self.telemetry.bump("injected_errors")
            with self.rng_lock:
                status = self.rng.choice(INJECTED)
            response = self._error(req, ApiError(status))
        else:
            response = self._run(handler, req)
        response.headers.update(limits)
        return response

    def _authenticate(self, req: Request, now: float) -> Token | None:
        header = req.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return None
        token = self.tokens.lookup(header[7:].strip())
        return token if token is not None and token.expires > now else None

    def _auth_error(self, req: Request, now: float) -> ApiError:
        header = req.headers.get("authorization", "")
        if not header.lower().startswith("bearer ") or not header[7:].strip():
            return ApiError(401)  # authentication.required, the spec's text
        return ApiError(401, "Invalid login credentials.", code="bad.credentials")

    def _run(self, handler: Any, req: Request) -> Response:
        if handler is None:
            return self._error(req, ApiError(404))
        try:
            return handler(self, req)
        except ApiError as err:
            return self._error(req, err)
        except Exception:  # a sandbox bug must still answer like Genesys would
            traceback.print_exc()
            return self._error(req, ApiError(500))

    @staticmethod
    def _error(req: Request, err: ApiError) -> Response:
        return Response(err.status, err.body(req.correlation_id))

    def _chance(self, rate: float) -> bool:
        with self.rng_lock:
            return self.rng.random() < rate

    def _log(self, req: Request, status: int, started: float) -> None:
        target = req.path + ("?" + "&".join(f"{k}={v}" for k, vs in req.query.items() for v in vs) if req.query else "")
        self.telemetry.record({
            "time": iso(self.clock.wall()), "method": req.method, "path": target, "status": status,
            "token": req.token.id if req.token else None, "correlationId": req.correlation_id,
            "durationMs": round((time.monotonic() - started) * 1000, 2),
        })
