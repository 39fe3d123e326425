"""Account-driven enrollment before the profile: discovery, refusal, challenge, callback, identifier."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quince.apple import discovery
from quince.apple.errors import InvalidAccessToken, InvalidServiceURL, InvalidUserIdentifier

BASE_URL = "https://mdm.example.com/DeviceServices/enroll"
SIGN_IN_URL = "https://mdm.example.com/DeviceManagement/Enrollment/account"
B64TOKEN = st.from_regex(r"\A[A-Za-z0-9\-._~+/]{1,200}={0,3}\Z")


# --- service discovery -----------------------------------------------------------------------


def test_discovery_answer_names_exactly_one_user_enrollment_server() -> None:
    body = json.loads(discovery.service_discovery_json(BASE_URL))
    assert body == {"Servers": [{"Version": "mdm-byod", "BaseURL": BASE_URL}]}


def test_discovery_answer_as_dict_matches_json() -> None:
    assert discovery.service_discovery_response(BASE_URL) == json.loads(
        discovery.service_discovery_json(BASE_URL)
    )


def test_discovery_answer_for_device_enrollment_says_mdm_adde() -> None:
    body = discovery.service_discovery_response(BASE_URL, version=discovery.ServerVersion.DEVICE_ENROLLMENT)
    assert body["Servers"][0]["Version"] == "mdm-adde"


def test_discovery_refuses_a_base_url_that_is_not_https() -> None:
    with pytest.raises(InvalidServiceURL, match="https"):
        discovery.service_discovery_response("http://mdm.example.com/enroll")


def test_discovery_allows_http_only_when_asked_for_tests_and_demos() -> None:
    body = discovery.service_discovery_response("http://127.0.0.1:8000/enroll", allow_insecure=True)
    assert body["Servers"][0]["BaseURL"] == "http://127.0.0.1:8000/enroll"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "/relative/path",
        "https://",
        "ftp://mdm.example.com/",
        "https://user:pw@mdm.example.com/",
        "https://mdm.example.com/#frag",
        'https://mdm.example.com/"x',
        "https://mdm.example.com:99999/",
    ],
)
def test_discovery_refuses_unusable_base_urls(url: str) -> None:
    with pytest.raises(InvalidServiceURL):
        discovery.service_discovery_response(url)


# --- com.apple.well-known.failed -------------------------------------------------------------


def test_well_known_failed_body_has_apples_code() -> None:
    assert discovery.well_known_failed_body() == {"code": "com.apple.well-known.failed"}


def test_well_known_failed_body_carries_log_description_and_user_message() -> None:
    body = json.loads(
        discovery.well_known_failed_json(description="domain not served", message="Ask your IT department.")
    )
    assert body == {
        "code": "com.apple.well-known.failed",
        "description": "domain not served",
        "message": "Ask your IT department.",
    }


# --- Bearer challenge ------------------------------------------------------------------------


def test_challenge_is_bearer_apple_as_web_with_comma_separated_parameters() -> None:
    assert discovery.bearer_challenge(SIGN_IN_URL) == f'Bearer method="apple-as-web", url="{SIGN_IN_URL}"'


def test_challenge_url_must_not_carry_a_query_the_device_would_mangle() -> None:
    with pytest.raises(InvalidServiceURL, match="query"):
        discovery.bearer_challenge(SIGN_IN_URL + "?session=1")


def test_challenge_url_must_be_https_unless_insecure_is_allowed() -> None:
    with pytest.raises(InvalidServiceURL):
        discovery.bearer_challenge("http://localhost:8000/sign-in")
    assert discovery.bearer_challenge("http://localhost:8000/sign-in", allow_insecure=True).startswith(
        "Bearer "
    )


def test_challenge_url_with_a_quote_is_refused() -> None:
    with pytest.raises(InvalidServiceURL):
        discovery.bearer_challenge('https://mdm.example.com/a", method="x')


# --- callback URL and bearer tokens ----------------------------------------------------------


def test_callback_url_has_apples_scheme_and_host() -> None:
    assert (
        discovery.authentication_callback_url("abc123")
        == "apple-remotemanagement-user-login://authentication-results?access-token=abc123"
    )


def test_callback_url_encodes_plus_slash_and_equals_so_the_token_survives() -> None:
    token = "a+b/c=="
    url = discovery.authentication_callback_url(token)
    assert url.endswith("access-token=a%2Bb%2Fc%3D%3D")
    assert discovery.access_token_from_callback_url(url) == token


@given(B64TOKEN)
def test_any_bearer_token_round_trips_through_the_callback_url(token: str) -> None:
    url = discovery.authentication_callback_url(token)
    assert discovery.access_token_from_callback_url(url) == token
    assert discovery.bearer_token(f"Bearer {token}") == token


@pytest.mark.parametrize("token", ["", "has space", "naïve", "a\nb", 'quote"', "=leading", "x" * 5000])
def test_tokens_that_cannot_come_back_as_bearer_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidAccessToken):
        discovery.authentication_callback_url(token)


@pytest.mark.parametrize(
    "url",
    [
        "https://authentication-results?access-token=x",
        "apple-remotemanagement-user-login://elsewhere?access-token=x",
        "apple-remotemanagement-user-login://authentication-results",
        "apple-remotemanagement-user-login://authentication-results?access-token=a&access-token=b",
    ],
)
def test_callback_urls_not_from_quince_are_refused(url: str) -> None:
    with pytest.raises(InvalidServiceURL):
        discovery.access_token_from_callback_url(url)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER  a+b/c=", "a+b/c="),
        (None, None),
        ("", None),
        ("Basic dXNlcjpwdw==", None),
        ("Bearer", None),
        ("Bearer a b", None),
        ("Bearer a\u00e9", None),
    ],
)
def test_bearer_token_is_read_from_the_authorization_header(header: str | None, token: str | None) -> None:
    assert discovery.bearer_token(header) == token


# --- user-identifier -------------------------------------------------------------------------


def test_user_identifier_splits_at_the_last_at_sign() -> None:
    parsed = discovery.parse_user_identifier('"odd@name"@Example.COM')
    assert parsed.local_part == '"odd@name"'
    assert parsed.domain == "example.com"


def test_user_identifier_keeps_the_local_part_and_lowercases_the_domain() -> None:
    parsed = discovery.parse_user_identifier("  Alice.Smith@Corp.Example.com ")
    assert parsed == discovery.UserIdentifier("Alice.Smith", "corp.example.com")
    assert str(parsed) == "Alice.Smith@corp.example.com"


def test_user_identifier_with_an_international_domain_is_normalised_to_ascii() -> None:
    assert discovery.parse_user_identifier("jo@Bücher.example").domain == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    "value",
    [
        "alice",
        "@example.com",
        "alice@",
        "al ice@example.com",
        "alice@example",
        "alice@exa_mple.com",
        "alice@-example.com",
        "alice@example..com",
        "alice@1.2.3.4",
        "a\x00@example.com",
        "x" * 65 + "@example.com",
        "alice@" + "a" * 64 + ".com",
        "alice@" + ("a" * 60 + ".") * 5 + "com",
    ],
)
def test_user_identifiers_that_are_not_name_at_domain_are_refused(value: str) -> None:
    with pytest.raises(InvalidUserIdentifier) as caught:
        discovery.parse_user_identifier(value)
    assert caught.value.field == "user-identifier"


_LABEL = st.from_regex(r"\A[a-zA-Z0-9]([a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?\Z")


@given(
    st.text(alphabet=string.ascii_letters + string.digits + "._%+-'@", min_size=1, max_size=64),
    st.lists(_LABEL, min_size=1, max_size=4),
    st.from_regex(r"\A[a-zA-Z]{2,10}\Z"),
)
def test_any_valid_identifier_parses_to_its_parts(local: str, labels: list[str], tld: str) -> None:
    domain = ".".join([*labels, tld])
    parsed = discovery.parse_user_identifier(f"{local}@{domain}")
    assert parsed.local_part == local
    assert parsed.domain == domain.lower()


@given(st.text(max_size=300))
def test_any_text_either_parses_or_raises_the_typed_error(value: str) -> None:
    try:
        parsed = discovery.parse_user_identifier(value)
    except InvalidUserIdentifier:
        return
    assert "@" in str(parsed)
    assert parsed.domain == parsed.domain.lower()
