"""OAuth 2.0 client credentials (RFC 6749 §4.4): what a token request must hold, pure.

Workspace ONE scripts fetch a token by POSTing `grant_type=client_credentials`, `client_id` and
`client_secret` as a form; RFC 6749 §2.3.1 also lets a client send the id and secret as HTTP
Basic. `client_credentials_request` reads either, and refuses what the RFC refuses with the error
codes of §5.2 (`TokenRefused`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote_plus

from quince.domain.errors import QuinceError

GRANT_TYPE = "client_credentials"
CLIENT_ID_MAX = 64
CLIENT_SECRET_MAX = 256
PARAMETERS = ("grant_type", "client_id", "client_secret", "scope")
"""The parameters Quince reads; any other is ignored (RFC 6749 §3.2), even repeated."""


class OAuthError(StrEnum):
    """RFC 6749 §5.2's error codes, as Quince answers them."""

    INVALID_REQUEST = "invalid_request"
    INVALID_CLIENT = "invalid_client"
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
    INVALID_SCOPE = "invalid_scope"


class TokenRefused(QuinceError):
    """A token request refused: `error` and the description go to the client; `reason` (which may
    name the client) only to the log. A secret is never part of either."""

    def __init__(self, error: OAuthError, description: str, reason: str | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.reason = reason or description
        self.retry_after = retry_after
        """Seconds to wait (the sign-in back-off runs): the answer is 429 with Retry-After."""

    @property
    def status(self) -> int:
        """RFC 6749 §5.2: 401 for a client that failed to authenticate, else 400; 429 while the
        back-off runs."""
        if self.retry_after is not None:
            return 429
        return 401 if self.error is OAuthError.INVALID_CLIENT else 400


class InvalidClient(TokenRefused):
    """Client authentication failed: one description for every cause (unknown client, wrong
    secret, revoked), so it never says which; the log has `reason`."""

    DESCRIPTION = "The client_id and client_secret are not valid."

    def __init__(self, reason: str) -> None:
        super().__init__(OAuthError.INVALID_CLIENT, self.DESCRIPTION, reason)


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str

    def __repr__(self) -> str:  # never the secret, whoever prints it
        return f"ClientCredentials(client_id={self.client_id!r})"


def basic_client_credentials(header: str | None) -> ClientCredentials | None:
    """A client's id and secret sent as HTTP Basic (RFC 6749 §2.3.1: each form-urlencoded first),
    None without a Basic header; InvalidClient when the header is not valid Basic."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("the Authorization header is not valid HTTP Basic") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClient("the Authorization header is not valid HTTP Basic")
    return ClientCredentials(unquote_plus(client_id), unquote_plus(secret))


def client_credentials_request(
    form: Mapping[str, Sequence[str]], authorization: str | None
) -> ClientCredentials:
    """The client a client-credentials token request authenticates as, by RFC 6749 §4.4 and §2.3:
    each parameter at most once, `grant_type=client_credentials`, no `scope` (a client's OG and
    role decide what its token reaches), and the client's id and secret in the form or else as
    HTTP Basic. A form that names the client wins over an Authorization header (a script may send
    a Basic header of its own beside the form); parameters Quince does not know are ignored."""
    for name, values in form.items():
        if name in PARAMETERS and len(values) > 1:
            raise TokenRefused(OAuthError.INVALID_REQUEST, f"The parameter {name} is given more than once.")
    field = {name: values[0] for name, values in form.items() if values}
    grant_type = field.get("grant_type", "")
    if not grant_type:
        raise TokenRefused(OAuthError.INVALID_REQUEST, "The grant_type parameter is missing.")
    if grant_type != GRANT_TYPE:
        raise TokenRefused(OAuthError.UNSUPPORTED_GRANT_TYPE,
                           f"Quince issues tokens for grant_type={GRANT_TYPE} only.")
    if field.get("scope"):
        raise TokenRefused(OAuthError.INVALID_SCOPE, "Leave scope out: a client's organization group "
                           "and role decide what its token reaches.")
    if "client_id" in field or "client_secret" in field:
        credentials = ClientCredentials(field.get("client_id", ""), field.get("client_secret", ""))
    else:
        credentials = basic_client_credentials(authorization) or ClientCredentials("", "")
    if not credentials.client_id or not credentials.client_secret:
        raise InvalidClient("no client_id and client_secret (form or HTTP Basic)")
    if (len(credentials.client_id) > CLIENT_ID_MAX or len(credentials.client_secret) > CLIENT_SECRET_MAX
            or "\x00" in credentials.client_id + credentials.client_secret):
        raise InvalidClient("the client_id or client_secret is too long or holds NUL")
    return credentials
