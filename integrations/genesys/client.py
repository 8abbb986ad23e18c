"""``GenesysClient``: one method per endpoint the portal needs; paged endpoints are generators."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests

from . import _parse as p
from .analytics import AnalyticsConversation, ConversationDetailsPage
from .auth import TokenCache
from .errors import GenesysConfigurationError, InvalidArgumentError
from .conversations import Conversation, Wrapup
from .models import Organization, Queue, TokenInfo, WrapupCode, WrapupCodeDivisionView
from .pacing import Pacer
from .query import MAX_PAGE_SIZE, ConversationQuery
from .regions import resolve_region
from .transport import ClientStats, RetryPolicy, Transport, default_clock, default_rng

T = TypeVar("T")
MAX_DETAILS_IDS = 100  # conversations per batched details read (the real limit is UNVERIFIED)
INCLUDE_STATES = ("Active", "Deleted", "ActiveAndDeleted")
DEFAULT_TIMEOUT = 10.0


def _page_size(value: int) -> int:
    """Validate a page size and cap it at the portal's maximum (the API's own cap is unverified)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"page_size must be a positive integer, got {value!r}.")
    return min(value, MAX_PAGE_SIZE)


def _name(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise InvalidArgumentError("name must be a non-empty text of at most 200 characters.")
    return value.strip()


def _refuse_shared_host(api_url: str, login_url: str) -> None:
    """Genesys's login host is never its API host: the token request carries the client secret,
    so a login URL that names the API host would hand the secret to the wrong server."""
    api, login = urlsplit(str(api_url or "")), urlsplit(str(login_url or ""))
    if api.netloc and (api.scheme.lower(), api.netloc.lower()) == (login.scheme.lower(), login.netloc.lower()):
        raise GenesysConfigurationError(
            f"login_url and api_url are the same host ({api.netloc[:80]}): the token request must go to the "
            "login host (e.g. https://login.mypurecloud.com for https://api.mypurecloud.com), never the API host."
        )


class GenesysClient:
    """A typed client for the Genesys Cloud Platform API v2 (client-credentials grant).

    Thread-safe: one instance per process, shared by every thread, shares one token and paces
    all of them under the quota.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        api_url: str,
        login_url: str,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
        pacer: Pacer | None = None,
        retry: RetryPolicy | None = None,
        token_cache: TokenCache | None = None,
        clock: Callable[[], float] = default_clock,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = default_rng,
    ) -> None:
        _refuse_shared_host(api_url, login_url)
        self._http = Transport(
            client_id=client_id, client_secret=client_secret, api_url=api_url, login_url=login_url,
            timeout=timeout, session=session, pacer=pacer, retry=retry, token_cache=token_cache,
            clock=clock, sleep=sleep, rng=rng,
        )  # fmt: skip

    @classmethod
    def for_region(cls, region: str, client_id: str, client_secret: str, **kwargs: Any) -> GenesysClient:
        """A client for a region such as ``mypurecloud.ie`` or ``usw2.pure.cloud`` (``UnknownRegionError`` otherwise)."""
        found = resolve_region(region)
        return cls(client_id=client_id, client_secret=client_secret, api_url=found.api_url, login_url=found.login_url, **kwargs)

    def with_retry(self, retry: RetryPolicy) -> GenesysClient:
        """The same client (token, pacing, session, stats shared) with another retry policy.

        E.g. a health check that should fail fast: ``client.with_retry(RetryPolicy(max_attempts=1))``.
        """
        clone = copy.copy(self)
        clone._http = copy.copy(self._http)
        clone._http.retry = retry
        return clone

    def __repr__(self) -> str:
        return f"GenesysClient(api_url={self._http.api_url!r})"

    @property
    def api_url(self) -> str:
        return self._http.api_url

    @property
    def stats(self) -> ClientStats:
        """Requests, retries, 429s, re-authentications and token requests so far."""
        return self._http.stats

    @property
    def pacer(self) -> Pacer:
        return self._http.pacer

    # --- plumbing --------------------------------------------------------------------------
    def _get(self, path: str, params: Mapping[str, Any] | None = None, *, allow_empty: bool = False) -> Any:
        return self._http.parse_json(self._http.request("GET", path, params=params), allow_empty=allow_empty)

    def _next_path(self, next_uri: Any) -> str | None:
        """A ``nextUri`` we may follow: relative, or absolute on our own API host (never send the token elsewhere)."""
        if not isinstance(next_uri, str) or not next_uri:
            return None
        parts = urlsplit(next_uri)
        if parts.netloc and parts.netloc != urlsplit(self._http.api_url).netloc:
            return None
        if not parts.path.startswith("/api/v2/"):
            return None
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def _iter_entities(self, path: str, params: dict[str, Any], parse: Callable[[Any], T]) -> Iterator[T]:
        """Walk an ``entities`` listing; stop on an empty page, no ``nextUri``, or ``pageNumber >= pageCount``."""
        request_path, request_params = path, dict(params, pageNumber=1)
        seen: set[str] = set()
        while True:
            page = p.as_mapping(self._get(request_path, request_params), f"page of {path}")
            entities = p.obj_list(page, "entities")
            for entity in entities:
                yield parse(entity)
            number, count = p.opt_int(page, "pageNumber"), p.opt_int(page, "pageCount")
            next_path = self._next_path(page.get("nextUri"))
            if not entities or page.get("nextUri") in (None, "") or (number and count is not None and number >= count):
                return
            if next_path is None or next_path in seen:
                # A nextUri we will not follow (foreign host, loop): ask for the next page ourselves.
                request_params = dict(params, pageNumber=(number or request_params.get("pageNumber", 1)) + 1)
                request_path = path
                if request_params["pageNumber"] > 10_000:
                    return
            else:
                seen.add(next_path)
                request_path, request_params = next_path, {}

    # --- organisation and token ------------------------------------------------------------
    def token_info(self) -> TokenInfo:
        """Who this token belongs to and its scopes (``GET /api/v2/tokens/me``; never ``users/me``)."""
        return TokenInfo.from_api(self._get("/api/v2/tokens/me"))

    def organization(self) -> Organization:
        """The organisation (``GET /api/v2/organizations/me``)."""
        return Organization.from_api(self._get("/api/v2/organizations/me"))

    # --- routing ---------------------------------------------------------------------------
    def iter_wrapup_codes(self, name: str | None = None, page_size: int = MAX_PAGE_SIZE) -> Iterator[WrapupCode]:
        """Every wrap-up code of the organisation (optionally those matching ``name``)."""
        params: dict[str, Any] = {"pageSize": _page_size(page_size)}
        if (name := _name(name)) is not None:
            params["name"] = name
        return self._iter_entities("/api/v2/routing/wrapupcodes", params, WrapupCode.from_api)

    def get_wrapup_code(self, code_id: str) -> WrapupCode:
        """One wrap-up code (``NotFoundError`` when deleted: use the division views for those)."""
        code_id = p.check_id(code_id, "wrap-up code id")
        return WrapupCode.from_api(self._get(f"/api/v2/routing/wrapupcodes/{code_id}"))

    def iter_wrapup_code_division_views(
        self, include_state: str = "ActiveAndDeleted", page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[WrapupCodeDivisionView]:
        """Simplified codes, deleted ones included by default: names old codes seen in analytics."""
        if include_state not in INCLUDE_STATES:
            raise InvalidArgumentError(f"include_state must be one of {', '.join(INCLUDE_STATES)}.")
        params = {"pageSize": _page_size(page_size), "includeState": include_state}
        return self._iter_entities("/api/v2/routing/wrapupcodes/divisionviews", params, WrapupCodeDivisionView.from_api)

    def iter_queues(self, name: str | None = None, page_size: int = MAX_PAGE_SIZE) -> Iterator[Queue]:
        """Every queue (optionally those matching ``name``, ``*`` wildcards allowed)."""
        params: dict[str, Any] = {"pageSize": _page_size(page_size)}
        if (name := _name(name)) is not None:
            params["name"] = name
        return self._iter_entities("/api/v2/routing/queues", params, Queue.from_api)

    def get_queue(self, queue_id: str) -> Queue:
        """One queue, with its ACW settings."""
        queue_id = p.check_id(queue_id, "queue id")
        return Queue.from_api(self._get(f"/api/v2/routing/queues/{queue_id}"))

    def iter_queue_wrapup_codes(self, queue_id: str, page_size: int = MAX_PAGE_SIZE) -> Iterator[WrapupCode]:
        """The codes a queue offers (the portal's code group); only ``id`` and ``name`` are certain."""
        queue_id = p.check_id(queue_id, "queue id")
        params = {"pageSize": _page_size(page_size)}
        return self._iter_entities(f"/api/v2/routing/queues/{queue_id}/wrapupcodes", params, WrapupCode.from_api)

    # --- conversations ---------------------------------------------------------------------
    def get_conversation(self, conversation_id: str) -> Conversation:
        """A conversation with its participants, their ACW state and wrap-up."""
        conversation_id = p.check_id(conversation_id, "conversation id")
        return Conversation.from_api(self._get(f"/api/v2/conversations/{conversation_id}"))

    def get_participant_wrapup(self, conversation_id: str, participant_id: str) -> Wrapup | None:
        """The participant's saved (non-provisional) wrap-up, None when there is none yet."""
        path = self._participant_path(conversation_id, participant_id)
        return Wrapup.from_api(self._get(f"{path}/wrapup", {"provisional": "false"}, allow_empty=True))

    def get_participant_wrapup_codes(self, conversation_id: str, participant_id: str) -> tuple[WrapupCode, ...]:
        """The codes this participant may be given; write only one of these."""
        path = self._participant_path(conversation_id, participant_id)
        data = self._get(f"{path}/wrapupcodes", allow_empty=True)
        # The SDK models this as a bare list; accept an entity listing as well.
        items = data if isinstance(data, list) else p.obj_list(p.as_mapping(data or {}, "wrap-up codes"), "entities")
        return tuple(WrapupCode.from_api(item) for item in items)

    def set_participant_wrapup(self, conversation_id: str, participant_id: str, *, code_id: str, notes: str | None = None) -> None:
        """Write a wrap-up: ``PATCH`` with only ``{"wrapup": {...}}`` (any other property acts on the call).

        Sent again only when Genesys certainly did not apply it: after the wait a 429 asks for,
        once with a new token after a 401, or when the connection failed before it was sent.
        A 5xx raises ``ServerError`` and a timeout or dropped connection after the PATCH was sent
        ``OutcomeUnknownError``: either may have been applied, so read the participant back first.
        """
        path = self._participant_path(conversation_id, participant_id)
        wrapup: dict[str, Any] = {"code": p.check_id(code_id, "wrap-up code id")}
        if notes is not None:
            if not isinstance(notes, str) or len(notes) > 2000:
                raise InvalidArgumentError("notes must be a text of at most 2000 characters.")
            wrapup["notes"] = notes
        self._http.request("PATCH", path, body={"wrapup": wrapup})  # not idempotent: see Transport._may_resend

    @staticmethod
    def _participant_path(conversation_id: str, participant_id: str) -> str:
        cid = p.check_id(conversation_id, "conversation id")
        pid = p.check_id(participant_id, "participant id")
        return f"/api/v2/conversations/{cid}/participants/{pid}"

    # --- analytics -------------------------------------------------------------------------
    def query_conversation_details(self, query: ConversationQuery | Mapping[str, Any]) -> ConversationDetailsPage:
        """One page of ``POST /api/v2/analytics/conversations/details/query`` (a read: retried)."""
        body = query.to_dict() if isinstance(query, ConversationQuery) else self._query_dict(query)
        paging = body.get("paging") or {}
        # A query: sending it twice changes nothing, so it is re-sent like a GET.
        resp = self._http.request("POST", "/api/v2/analytics/conversations/details/query", body=body, idempotent=True)
        data = self._http.parse_json(resp, allow_empty=True) or {}
        return ConversationDetailsPage.from_api(
            data, page_number=int(paging.get("pageNumber") or 1), page_size=int(paging.get("pageSize") or 25)
        )

    def iter_conversation_details(self, query: ConversationQuery | Mapping[str, Any]) -> Iterator[AnalyticsConversation]:
        """Every conversation of a query, page after page, each once (pages may repeat rows)."""
        if isinstance(query, ConversationQuery):
            make_page: Callable[[int], ConversationQuery | dict[str, Any]] = query.page
            number = query.page_number
        else:
            base = self._query_dict(query)
            paging = base.setdefault("paging", {})
            paging["pageSize"] = _page_size(int(paging.get("pageSize") or MAX_PAGE_SIZE))
            number = int(paging.get("pageNumber") or 1)

            def make_page(n: int) -> dict[str, Any]:
                body = copy.deepcopy(base)
                body["paging"]["pageNumber"] = n
                return body

        seen: set[str] = set()
        while True:
            page = self.query_conversation_details(make_page(number))
            for conversation in page.conversations:
                if conversation.conversation_id not in seen:
                    seen.add(conversation.conversation_id)
                    yield conversation
            # totalHits is approximate: a short (or empty) page is the only reliable end.
            if len(page.conversations) < page.page_size:
                return
            number += 1

    def get_conversation_details(self, conversation_id: str) -> AnalyticsConversation:
        """One conversation as analytics sees it (segments, wrap-up codes incl. ``ININ-*``)."""
        conversation_id = p.check_id(conversation_id, "conversation id")
        return AnalyticsConversation.from_api(self._get(f"/api/v2/analytics/conversations/{conversation_id}/details"))

    def get_conversations_details(self, conversation_ids: Sequence[str]) -> tuple[AnalyticsConversation, ...]:
        """Up to 100 conversations in one call (``GET …/analytics/conversations/details?id=a,b``).

        Ids Genesys does not know are left out of the answer, not reported as errors.
        """
        ids = list(dict.fromkeys(p.check_id(cid, "conversation id") for cid in conversation_ids))
        if not 1 <= len(ids) <= MAX_DETAILS_IDS:
            raise InvalidArgumentError(f"Ask for 1 to {MAX_DETAILS_IDS} conversations at a time, not {len(ids)}.")
        data = self._get("/api/v2/analytics/conversations/details", {"id": ",".join(ids)}, allow_empty=True) or {}
        return tuple(AnalyticsConversation.from_api(c) for c in p.obj_list(p.as_mapping(data, "details"), "conversations"))

    @staticmethod
    def _query_dict(query: Any) -> dict[str, Any]:
        if not isinstance(query, Mapping) or not query.get("interval"):
            raise InvalidArgumentError("A conversation details query needs an 'interval' (or use ConversationQuery).")
        return copy.deepcopy(dict(query))
