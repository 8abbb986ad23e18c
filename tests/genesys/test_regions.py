"""All 17 regions of the reference, and a clear error for anything else."""

from __future__ import annotations

import pytest

from integrations.genesys import ALL_REGIONS, GenesysClient, GenesysConfigurationError, UnknownRegionError, resolve_region

# docs/genesys-api.md §2, verbatim.
REFERENCE = {
    "us_east_1": "mypurecloud.com", "us_east_2": "use2.us-gov-pure.cloud", "us_west_2": "usw2.pure.cloud",
    "ca_central_1": "cac1.pure.cloud", "sa_east_1": "sae1.pure.cloud", "mx_central_1": "mxc1.pure.cloud",
    "eu_west_1": "mypurecloud.ie", "eu_west_2": "euw2.pure.cloud", "eu_central_1": "mypurecloud.de",
    "eu_central_2": "euc2.pure.cloud", "me_central_1": "mec1.pure.cloud", "ap_south_1": "aps1.pure.cloud",
    "ap_southeast_1": "apse1.pure.cloud", "ap_southeast_2": "mypurecloud.com.au", "ap_northeast_1": "mypurecloud.jp",
    "ap_northeast_2": "apne2.pure.cloud", "ap_northeast_3": "apne3.pure.cloud",
}  # fmt: skip


def test_the_table_is_the_reference() -> None:
    assert {r.name: r.domain for r in ALL_REGIONS} == REFERENCE


@pytest.mark.parametrize(("name", "domain"), sorted(REFERENCE.items()))
def test_for_region_builds_api_and_login_urls(name: str, domain: str) -> None:
    client = GenesysClient.for_region(domain, "id", "secret")
    assert client.api_url == f"https://api.{domain}"
    assert client._http.login_url == f"https://login.{domain}"
    assert resolve_region(name).domain == domain


@pytest.mark.parametrize("value", ["https://api.mypurecloud.ie/", "api.mypurecloud.ie", " MyPureCloud.IE ", "eu-west-1"])
def test_pasted_forms_are_accepted(value: str) -> None:
    assert resolve_region(value).domain == "mypurecloud.ie"


@pytest.mark.parametrize("value", ["mygen.com", "us-east-1.mygen.com", "", "   ", "pure.cloud", "mypurecloud.co.uk"])
def test_unknown_region_is_a_typed_error(value: str) -> None:
    with pytest.raises(UnknownRegionError) as caught:
        GenesysClient.for_region(value, "id", "secret")
    assert isinstance(caught.value, ValueError)
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(("api_url", "login_url"), [
    ("https://api.mypurecloud.ie", "https://api.mypurecloud.ie"),
    ("https://api.mypurecloud.ie", "https://API.mypurecloud.ie/"),
    ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
])  # fmt: skip
def test_a_login_url_on_the_api_host_is_refused(api_url: str, login_url: str) -> None:
    # The token request carries the client secret: it must never go to the API host.
    with pytest.raises(GenesysConfigurationError, match="same host") as caught:
        GenesysClient(client_id="id", client_secret="very-secret", api_url=api_url, login_url=login_url)
    assert "very-secret" not in str(caught.value)
    GenesysClient(client_id="id", client_secret="s", api_url="http://127.0.0.1:8765", login_url="http://127.0.0.1:8766")
