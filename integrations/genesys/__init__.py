"""Typed client for the Genesys Cloud CX Platform API v2: the only code that speaks HTTP to Genesys.

No Django here: the portal builds its one client in ``wrapup_portal.core.genesys``.
"""

from __future__ import annotations

from .analytics import (
    WRAP_UP_TIMEOUT,
    AnalyticsConversation,
    AnalyticsParticipant,
    AnalyticsSegment,
    AnalyticsSession,
    AnalyticsWrapupCode,
    ConversationDetailsPage,
    SystemWrapupCode,
    WrapupCodeId,
    parse_wrapup_code,
)
from .auth import AccessToken, TokenCache
from .client import GenesysClient
from .errors import (
    BadClientCredentialsError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    GenesysAuthError,
    GenesysConfigurationError,
    GenesysConnectionError,
    GenesysError,
    InvalidArgumentError,
    InvalidResponseError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    UnknownRegionError,
    error_from_response,
)
from .conversations import Communication, Conversation, Participant, Wrapup
from .models import AcwSettings, DivisionRef, Organization, Queue, TokenInfo, WrapupCode, WrapupCodeDivisionView
from .pacing import InProcessPacer, Pacer, PacingPolicy, PacingState, RateLimitSnapshot, StatePacer
from .query import ConversationQuery
from .regions import ALL_REGIONS, Region, resolve_region
from .transport import ClientStats, RetryPolicy

__all__ = [
    "ALL_REGIONS", "WRAP_UP_TIMEOUT", "AccessToken", "AcwSettings", "AnalyticsConversation", "AnalyticsParticipant",
    "AnalyticsSegment", "AnalyticsSession", "AnalyticsWrapupCode", "BadClientCredentialsError", "BadRequestError",
    "ClientStats", "Communication", "ConflictError", "Conversation", "ConversationDetailsPage", "ConversationQuery",
    "DivisionRef", "ForbiddenError", "GenesysAuthError", "GenesysClient", "GenesysConfigurationError",
    "GenesysConnectionError", "GenesysError", "InProcessPacer", "InvalidArgumentError", "InvalidResponseError",
    "NotFoundError", "Organization", "OutcomeUnknownError", "Pacer", "PacingPolicy", "PacingState", "Participant",
    "Queue", "RateLimitSnapshot", "RateLimitedError", "Region", "RetryPolicy", "ServerError", "StatePacer",
    "SystemWrapupCode", "TokenCache", "TokenInfo", "UnknownRegionError", "Wrapup", "WrapupCode", "WrapupCodeDivisionView",
    "WrapupCodeId", "error_from_response", "parse_wrapup_code", "resolve_region",
]  # fmt: skip

