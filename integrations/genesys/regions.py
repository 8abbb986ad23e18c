"""The Genesys Cloud regions (docs/genesys-api.md §2, from the SDK's ``PureCloudRegionHosts``).

A region is named by its API host without ``api.`` (``mypurecloud.ie``); the SDK enum name
(``eu_west_1``) and a full host or URL are accepted too, so a value pasted from the SDK docs or
the browser's address bar works. The login host is the API host with ``api.`` → ``login.``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import UnknownRegionError

# SDK enum name → region domain (API host without "api.").
REGION_DOMAINS: dict[str, str] = {
    "us_east_1": "mypurecloud.com",
    "us_east_2": "use2.us-gov-pure.cloud",
    "us_west_2": "usw2.pure.cloud",
    "ca_central_1": "cac1.pure.cloud",
    "sa_east_1": "sae1.pure.cloud",
    "mx_central_1": "mxc1.pure.cloud",
    "eu_west_1": "mypurecloud.ie",
    "eu_west_2": "euw2.pure.cloud",
    "eu_central_1": "mypurecloud.de",
    "eu_central_2": "euc2.pure.cloud",
    "me_central_1": "mec1.pure.cloud",
    "ap_south_1": "aps1.pure.cloud",
    "ap_southeast_1": "apse1.pure.cloud",
    "ap_southeast_2": "mypurecloud.com.au",
    "ap_northeast_1": "mypurecloud.jp",
    "ap_northeast_2": "apne2.pure.cloud",
    "ap_northeast_3": "apne3.pure.cloud",
}
_BY_DOMAIN = {domain: name for name, domain in REGION_DOMAINS.items()}


@dataclass(frozen=True)
class Region:
    """One Genesys Cloud region and its two hosts."""

    name: str  # SDK enum name, e.g. "eu_west_1"
    domain: str  # e.g. "mypurecloud.ie"

    @property
    def api_url(self) -> str:
        """Base URL of the Platform API."""
        return f"https://api.{self.domain}"

    @property
    def login_url(self) -> str:
        """Base URL of the OAuth server."""
        return f"https://login.{self.domain}"


def resolve_region(region: str) -> Region:
    """The region for a domain (``usw2.pure.cloud``), an SDK name (``us_west_2``) or a host/URL.

    Raises ``UnknownRegionError`` for anything else, listing the known domains.
    """
    if not isinstance(region, str) or not region.strip():
        raise UnknownRegionError("A Genesys Cloud region is required, e.g. 'mypurecloud.com'.")
    value = region.strip().lower().rstrip("/")
    for prefix in ("https://", "http://"):
        value = value.removeprefix(prefix)
    for prefix in ("api.", "login."):
        value = value.removeprefix(prefix)
    if value in _BY_DOMAIN:
        return Region(_BY_DOMAIN[value], value)
    name = value.replace("-", "_")
    if name in REGION_DOMAINS:
        return Region(name, REGION_DOMAINS[name])
    known = ", ".join(sorted(_BY_DOMAIN))
    raise UnknownRegionError(f"Unknown Genesys Cloud region {region.strip()[:80]!r}; known regions: {known}.")


ALL_REGIONS: tuple[Region, ...] = tuple(Region(name, domain) for name, domain in REGION_DOMAINS.items())
