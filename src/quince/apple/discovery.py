"""Account-driven enrollment, the parts before the profile (reference §5, steps 1-6).

Service discovery answer, the `com.apple.well-known.failed` refusal, the Bearer challenge that sends
the device to Quince's sign-in pages, the callback URL that hands the access token back, and the
`user-identifier` the person typed in Settings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs, quote, urlsplit

from quince.apple.errors import InvalidAccessToken, InvalidServiceURL, InvalidUserIdentifier
from quince.apple.urls import check_service_url

WELL_KNOWN_PATH = "/.well-known/com.apple.remotemanagement"
DISCOVERY_CONTENT_TYPE = "application/json"
WELL_KNOWN_FAILED_CODE = "com.apple.well-known.failed"
AUTHENTICATION_METHOD = "apple-as-web"
CALLBACK_SCHEME = "apple-remotemanagement-user-login"
CALLBACK_HOST = "authentication-results"
MAX_ACCESS_TOKEN_LENGTH = 4096

# RFC 6750 b64token: the device sends the token back as `Authorization: Bearer <token>`, so a token
# outside this syntax could not make the round trip.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class ServerVersion(StrEnum):
    """`Version` of the discovery answer: user enrollment or account-driven device enrollment."""

    USER_ENROLLMENT = "mdm-byod"
    DEVICE_ENROLLMENT = "mdm-adde"


def service_discovery_response(
    base_url: str,
    *,
    version: ServerVersion = ServerVersion.USER_ENROLLMENT,
    allow_insecure: bool = False,
) -> dict[str, list[dict[str, str]]]:
    """The well-known document: exactly one server, whose BaseURL the device POSTs MachineInfo to."""
    check_service_url(base_url, "BaseURL", allow_insecure=allow_insecure)
    return {"Servers": [{"Version": str(version), "BaseURL": base_url}]}


def service_discovery_json(
    base_url: str,
    *,
    version: ServerVersion = ServerVersion.USER_ENROLLMENT,
    allow_insecure: bool = False,
) -> bytes:
    """`service_discovery_response` as the JSON body (Content-Type `DISCOVERY_CONTENT_TYPE`)."""
    body = service_discovery_response(base_url, version=version, allow_insecure=allow_insecure)
    return json.dumps(body, separators=(",", ":")).encode()


def well_known_failed_body(description: str | None = None, message: str | None = None) -> dict[str, str]:
    """The 403 body refusing discovery (DM `mdm/errors/well-known.failed.yaml`).

    `description` is for the device's logs only; `message` is shown to the person.
    """
    body = {"code": WELL_KNOWN_FAILED_CODE}
    if description is not None:
        body["description"] = description
    if message is not None:
        body["message"] = message
    return body


def well_known_failed_json(description: str | None = None, message: str | None = None) -> bytes:
    """`well_known_failed_body` as a JSON body (Content-Type `application/json`)."""
    return json.dumps(well_known_failed_body(description, message), separators=(",", ":")).encode()


def bearer_challenge(url: str, *, allow_insecure: bool = False) -> str:
    """The `WWW-Authenticate` value of the 401 that opens Quince's sign-in pages on the device.

    Parameters are comma-separated as in Apple's example. The device appends `?user-identifier=…`
    to `url`, so a query string of our own is refused rather than silently mangled.
    """
    check_service_url(url, "challenge url", allow_insecure=allow_insecure, allow_query=False)
    return f'Bearer method="{AUTHENTICATION_METHOD}", url="{url}"'


def check_access_token(access_token: str) -> str:
    """Return the token if it can go through the callback URL and back as a Bearer token."""
    if not isinstance(access_token, str) or not access_token:
        raise InvalidAccessToken("it must be a non-empty string")
    if len(access_token) > MAX_ACCESS_TOKEN_LENGTH:
        raise InvalidAccessToken(f"it must be at most {MAX_ACCESS_TOKEN_LENGTH} characters")
    if not _B64TOKEN.fullmatch(access_token):
        raise InvalidAccessToken("it must use only the characters of an RFC 6750 bearer token")
    return access_token


def authentication_callback_url(access_token: str) -> str:
    """Where the sign-in pages send the device (with a 308) once the person has signed in."""
    token = quote(check_access_token(access_token), safe="")
    return f"{CALLBACK_SCHEME}://{CALLBACK_HOST}?access-token={token}"


def access_token_from_callback_url(url: str) -> str:
    """The access token carried by a callback URL (what the device, or the simulator, reads)."""
    field = "callback URL"
    try:
        parts = urlsplit(url)
    except (ValueError, TypeError) as exc:
        raise InvalidServiceURL(field, str(url), f"it does not parse ({exc})") from None
    if parts.scheme != CALLBACK_SCHEME or parts.netloc != CALLBACK_HOST:
        raise InvalidServiceURL(field, url, f"it must start with {CALLBACK_SCHEME}://{CALLBACK_HOST}")
    values = parse_qs(parts.query, keep_blank_values=True).get("access-token", [])
    if len(values) != 1:
        raise InvalidServiceURL(field, url, "it must carry exactly one access-token")
    return check_access_token(values[0])


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None if there is no usable one."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_ACCESS_TOKEN_LENGTH:
        return None
    return token if _B64TOKEN.fullmatch(token) else None


# --- user-identifier -------------------------------------------------------------------------

LOCAL_PART_MAX_LENGTH = 64
DOMAIN_MAX_LENGTH = 253
_LOCAL_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f]")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True)
class UserIdentifier:
    """`name@domain` as typed in Settings; `domain` is lowercase ASCII (IDNA for non-ASCII names)."""

    local_part: str
    domain: str

    def __str__(self) -> str:
        return f"{self.local_part}@{self.domain}"


def parse_user_identifier(value: str) -> UserIdentifier:
    """Split at the last `@` as the device does, check both halves, lowercase the domain."""
    if not isinstance(value, str):
        raise InvalidUserIdentifier(repr(value), "it must be text")
    text = value.strip()
    local, at, domain = text.rpartition("@")
    if not at:
        raise InvalidUserIdentifier(value, "it must have the form name@domain")
    if not local:
        raise InvalidUserIdentifier(value, "the part before the @ is empty")
    if len(local) > LOCAL_PART_MAX_LENGTH:
        raise InvalidUserIdentifier(
            value, f"the part before the @ must be at most {LOCAL_PART_MAX_LENGTH} characters"
        )
    if _LOCAL_FORBIDDEN.search(local):
        raise InvalidUserIdentifier(value, "it must not contain spaces or control characters")
    return UserIdentifier(local, _normalise_domain(value, domain))


def _normalise_domain(value: str, domain: str) -> str:
    if not domain:
        raise InvalidUserIdentifier(value, "the domain after the @ is empty")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidUserIdentifier(value, f"{domain!r} is not a valid domain name") from None
    if len(ascii_domain) > DOMAIN_MAX_LENGTH:
        raise InvalidUserIdentifier(value, f"the domain must be at most {DOMAIN_MAX_LENGTH} characters")
    labels = ascii_domain.split(".")
    if len(labels) < 2:
        raise InvalidUserIdentifier(value, f"the domain {domain!r} must contain a dot")
    if not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidUserIdentifier(value, f"{domain!r} is not a valid domain name")
    if labels[-1].isdigit():
        raise InvalidUserIdentifier(value, "the domain must be a name, not an IP address")
    return ascii_domain
