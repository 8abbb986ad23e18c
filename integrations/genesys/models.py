"""Frozen results of the token, organisation and routing endpoints.

Each class has a ``from_api`` that reads the API's camelCase JSON (docs/genesys-api.md §1, §3):
unknown fields are ignored, optional ones may be missing, ids and times are checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import _parse as p


@dataclass(frozen=True)
class TokenInfo:
    """``GET /api/v2/tokens/me``: whose token this is and what it may do."""

    organization_id: str
    organization_name: str
    scopes: tuple[str, ...]
    home_organization_id: str | None = None
    oauth_client_id: str | None = None
    oauth_client_name: str | None = None

    @classmethod
    def from_api(cls, data: Any) -> TokenInfo:
        data = p.as_mapping(data, "token info")
        org = p.as_mapping(data.get("organization"), "token info organization")
        home = data.get("homeOrganization") if isinstance(data.get("homeOrganization"), Mapping) else {}
        oauth = data.get("OAuthClient") if isinstance(data.get("OAuthClient"), Mapping) else {}
        return cls(
            organization_id=p.req_str(org, "id", "token info organization"),
            organization_name=p.opt_str(org, "name") or "",
            scopes=p.str_tuple(data, "authorizedScope"),
            home_organization_id=p.opt_str(home, "id"),
            oauth_client_id=p.opt_str(oauth, "id"),
            oauth_client_name=p.opt_str(oauth, "name"),
        )


@dataclass(frozen=True)
class Organization:
    """``GET /api/v2/organizations/me``."""

    id: str
    name: str
    domain: str | None = None
    state: str | None = None

    @classmethod
    def from_api(cls, data: Any) -> Organization:
        data = p.as_mapping(data, "organization")
        return cls(p.req_str(data, "id", "organization"), p.opt_str(data, "name") or "", p.opt_str(data, "domain"), p.opt_str(data, "state"))


@dataclass(frozen=True)
class DivisionRef:
    """A reference to a division: its id and, when the API sends it, its name."""

    id: str
    name: str | None = None

    @classmethod
    def from_api(cls, data: Any) -> DivisionRef | None:
        if not isinstance(data, Mapping) or not isinstance(data.get("id"), str) or not data["id"]:
            return None
        return cls(data["id"], p.opt_str(data, "name"))


@dataclass(frozen=True)
class WrapupCode:
    """A wrap-up code. Only ``id`` and ``name`` are certain; a queue's list may carry nothing else."""

    id: str
    name: str
    division: DivisionRef | None = None
    description: str | None = None
    date_created: datetime | None = None
    date_modified: datetime | None = None
    created_by: str | None = None
    modified_by: str | None = None

    @classmethod
    def from_api(cls, data: Any) -> WrapupCode:
        data = p.as_mapping(data, "wrap-up code")
        what = f"wrap-up code {data.get('id')!r}"
        created_by, modified_by = data.get("createdBy"), data.get("modifiedBy")
        return cls(
            id=p.req_str(data, "id", "wrap-up code"),
            name=p.opt_str(data, "name") or "",
            division=DivisionRef.from_api(data.get("division")),
            description=p.opt_str(data, "description"),
            date_created=p.opt_time(data, "dateCreated", what),
            date_modified=p.opt_time(data, "dateModified", what),
            # createdBy is a user id string in the reference; tolerate a {"id"} object too.
            created_by=created_by.get("id") if isinstance(created_by, Mapping) else p.opt_str(data, "createdBy"),
            modified_by=modified_by.get("id") if isinstance(modified_by, Mapping) else p.opt_str(data, "modifiedBy"),
        )


@dataclass(frozen=True)
class WrapupCodeDivisionView:
    """A simplified code from ``divisionviews``; may be a deleted code (``state`` when sent)."""

    id: str
    name: str
    division: DivisionRef | None = None
    state: str | None = None

    @classmethod
    def from_api(cls, data: Any) -> WrapupCodeDivisionView:
        data = p.as_mapping(data, "wrap-up code division view")
        return cls(
            p.req_str(data, "id", "wrap-up code division view"),
            p.opt_str(data, "name") or "",
            DivisionRef.from_api(data.get("division")),
            p.opt_str(data, "state"),
        )


@dataclass(frozen=True)
class AcwSettings:
    """A queue's after-call-work settings: ``wrapup_prompt`` is the queue enum (``MANDATORY_TIMEOUT``…)."""

    wrapup_prompt: str | None = None
    timeout_ms: int | None = None


@dataclass(frozen=True)
class Queue:
    """A routing queue; its wrap-up codes are the portal's "code group"."""

    id: str
    name: str
    division: DivisionRef | None = None
    description: str | None = None
    member_count: int | None = None
    user_member_count: int | None = None
    joined_member_count: int | None = None
    acw_settings: AcwSettings | None = None
    date_created: datetime | None = None
    date_modified: datetime | None = None

    @classmethod
    def from_api(cls, data: Any) -> Queue:
        data = p.as_mapping(data, "queue")
        what = f"queue {data.get('id')!r}"
        acw = data.get("acwSettings")
        return cls(
            id=p.req_str(data, "id", "queue"),
            name=p.opt_str(data, "name") or "",
            division=DivisionRef.from_api(data.get("division")),
            description=p.opt_str(data, "description"),
            member_count=p.opt_int(data, "memberCount"),
            user_member_count=p.opt_int(data, "userMemberCount"),
            joined_member_count=p.opt_int(data, "joinedMemberCount"),
            acw_settings=AcwSettings(p.opt_str(acw, "wrapupPrompt"), p.opt_int(acw, "timeoutMs")) if isinstance(acw, Mapping) else None,
            date_created=p.opt_time(data, "dateCreated", what),
            date_modified=p.opt_time(data, "dateModified", what),
        )
