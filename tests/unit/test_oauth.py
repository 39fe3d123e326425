"""RFC 6749's client-credentials token request (§4.4, §2.3.1, §5.2), as domain/oauth.py reads it."""

from __future__ import annotations

import base64

import pytest

from quince.domain.oauth import (
    ClientCredentials,
    InvalidClient,
    OAuthError,
    TokenRefused,
    client_credentials_request,
)

GRANT = {"grant_type": ["client_credentials"]}


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_a_form_with_grant_type_id_and_secret_names_the_client() -> None:
    form = {**GRANT, "client_id": ["abc"], "client_secret": ["s3cret"]}
    assert client_credentials_request(form, None) == ClientCredentials("abc", "s3cret")


def test_http_basic_names_the_client_with_each_part_form_decoded() -> None:
    assert client_credentials_request(GRANT, _basic("a%3Ab", "x+y%25")) == ClientCredentials("a:b", "x y%")


def test_form_fields_win_over_an_authorization_header_the_script_sends_anyway() -> None:
    form = {**GRANT, "client_id": ["abc"], "client_secret": ["s3cret"]}
    assert client_credentials_request(form, _basic("admin", "pw")).client_id == "abc"


@pytest.mark.parametrize(("form", "error"), [
    ({}, OAuthError.INVALID_REQUEST),
    ({"grant_type": [""]}, OAuthError.INVALID_REQUEST),
    ({"grant_type": ["password"]}, OAuthError.UNSUPPORTED_GRANT_TYPE),
    ({"grant_type": ["client_credentials", "client_credentials"]}, OAuthError.INVALID_REQUEST),
    ({**GRANT, "scope": ["all"]}, OAuthError.INVALID_SCOPE),
])
def test_requests_that_are_not_client_credentials_requests_are_refused_before_any_client(
    form: dict[str, list[str]], error: OAuthError
) -> None:
    with pytest.raises(TokenRefused) as refused:
        client_credentials_request({**form, "client_id": ["abc"], "client_secret": ["s"]}, None)
    assert refused.value.error is error and refused.value.status == 400


@pytest.mark.parametrize(("form", "authorization"), [
    (GRANT, None),
    ({**GRANT, "client_id": ["abc"]}, None),
    ({**GRANT, "client_secret": ["s"]}, _basic("abc", "s")),
    ({**GRANT, "client_id": ["a" * 65], "client_secret": ["s"]}, None),
    ({**GRANT, "client_id": ["abc"], "client_secret": ["s\x00"]}, None),
    (GRANT, "Basic !!!"),
    (GRANT, "Basic " + base64.b64encode(b"no-colon").decode()),
])
def test_a_request_without_usable_client_credentials_is_invalid_client_401(
    form: dict[str, list[str]], authorization: str | None
) -> None:
    with pytest.raises(InvalidClient) as refused:
        client_credentials_request(form, authorization)
    assert refused.value.status == 401 and refused.value.message == InvalidClient.DESCRIPTION


def test_credentials_never_show_their_secret() -> None:
    assert "s3cret" not in repr(ClientCredentials("abc", "s3cret"))


def test_parameters_quince_does_not_read_are_ignored_even_repeated() -> None:
    form = {**GRANT, "client_id": ["abc"], "client_secret": ["s"], "audience": ["a", "b"]}
    assert client_credentials_request(form, None).client_id == "abc"
