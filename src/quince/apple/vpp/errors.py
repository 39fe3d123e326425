"""Apple's Apps and Books error numbers in Quince's words, `VppError`, and reading an error answer.

Which errors go away by themselves (retry later), which mean the sToken is unusable, and how long
to wait when Apple does not say.
"""

from __future__ import annotations

import json
from typing import Any

from quince.domain.errors import QuinceError

# Apple's error numbers, in Quince's words (Apple: "Interpreting error codes", "Handling error
# responses", and the errorCodes list of /service/config). These reach a device's app status.
ERROR_TEXTS: dict[int, str] = {
    9600: "A required argument is missing from the request.",
    9601: "Apple requires a login: the request carried no usable sToken.",
    9602: "Apple rejected an argument of the request as invalid.",
    9603: "Apple's Apps and Books service had an internal error; the request will be retried.",
    9604: "Apple found no result for the request.",
    9609: "Apple cannot find the registered VPP user (it may not have been created yet, or was retired).",
    9610: "Apple cannot find the licence.",
    9616: "The licence is already assigned.",
    9618: "The VPP user has already been retired.",
    9619: "The licence is not associated.",
    9620: "The VPP user has already been deleted.",
    9621: "The Apps and Books token (sToken) has expired: download a new one from Apple Business "
          "Manager and install it with `quince vpp set-token`.",
    9622: "Apple rejected the authentication token.",
    9624: "The licence was refunded and is no longer valid.",
    9625: "Apple has revoked the Apps and Books token (sToken), usually because a newer one was "
          "downloaded: install the current token with `quince vpp set-token`.",
    9626: "The licence is already assigned to a different user.",
    9628: "The app does not allow device-based assignment.",
    9630: "Too many recent 'already assigned' errors for this user and app; wait before trying again.",
    9631: "Too many recent 'already assigned' errors for this user and app; wait before trying again.",
    9632: "Too many recent identical licence requests: Apple asks to wait several minutes before "
          "sending the same request again.",
    9633: "Apple could not recover the data of a batch token.",
    9634: "This Apps and Books service has been removed by Apple.",
    9635: "The Managed Apple Account cannot be found or belongs to another organization than the "
          "Apps and Books token's.",
    9636: "Apple cannot find the registered VPP user.",
    9637: "The Apps and Books token is not allowed to perform this operation.",
    9638: "The content manager account behind the token has no Managed Apple Account organization.",
    9641: "The Apple Account is already associated with another VPP user.",
    9642: "The Apple Account cannot be used yet: its owner must first accept Apple's terms.",
    9643: "The licence is locked by a pending transfer; try again later.",
    9644: "Apple's Apps and Books service is in maintenance; try again later.",
    9645: "This location is managed by Apple's cloud MDM: only reads are allowed.",
    9646: "Too many requests for this organization: Apple asks to back off and retry.",
    9650: "The page index is out of range.",
    9700: "Too many assets in one request.",
    9701: "Too many clientUserIds in one request.",
    9702: "Too many serial numbers in one request.",
    9703: "The request names an asset twice.",
    9704: "The request names a clientUserId twice.",
    9705: "The request names a serial number twice.",
    9706: "The app's licences are not revocable.",
    9707: "The app cannot be assigned to devices.",
    9708: "Apple does not know this event id.",
    9709: "Not enough licences are available for this app.",
    9714: "Too many users in one request.",
    9715: "The request names a user twice.",
    9716: "A VPP user with this clientUserId already exists.",
    9717: "The request holds an invalid email address.",
    9718: "The request names no asset.",
    9719: "The request names neither users nor devices.",
    9720: "The request names no user.",
    9721: "The version id is not valid.",
    9722: "The Authorization header is not of the form 'Bearer <sToken>'.",
    9726: "Apple does not accept this HTTP method here.",
    9727: "Apple does not accept this Content-Type here.",
}

# Errors that go away by themselves: try again later (Apple's advice for each).
RETRYABLE_CODES = frozenset({9603, 9632, 9643, 9644, 9646})
# When Apple gives no Retry-After for these, wait this long rather than the usual backoff.
DEFAULT_WAIT = {9632: 300.0, 9644: 600.0}
# The token is unusable until an administrator installs another.
TOKEN_CODES = frozenset({9601, 9621, 9622, 9625, 9722})


def error_text(code: int | None, message: str | None = None) -> str:
    """A readable sentence for Apple's error number (Apple's own message for unknown numbers)."""
    if code is not None and code in ERROR_TEXTS:
        return ERROR_TEXTS[code]
    if message:
        return message if code is None else f"{message} (Apple error {code})"
    return f"Apple error {code}" if code is not None else "Apple's Apps and Books service failed."


class VppError(QuinceError):
    """Apple's Apps and Books service refused or failed a request."""

    def __init__(
        self,
        code: int | None,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after
        """Seconds to wait before trying again, when Apple said (Retry-After) or Quince knows."""
        self.status = status
        """The HTTP status, None when Apple could not be reached."""

    @property
    def token_problem(self) -> bool:
        """The sToken is expired, revoked or refused: nothing works until a new one is installed."""
        return self.code in TOKEN_CODES or self.status == 401

    def __repr__(self) -> str:
        return (f"VppError(code={self.code}, status={self.status}, retryable={self.retryable}, "
                f"retry_after={self.retry_after}, message={self.message!r})")


def error_from_answer(status: int, body: bytes, retry_after: float | None) -> VppError:
    """The VppError for an unsuccessful answer (or a 2xx answer that carries an errorNumber).

    `retry_after` is what the answer's Retry-After header asked for, in seconds, if anything.
    """
    data: Any = None
    try:
        data = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        data = None
    code = data.get("errorNumber") if isinstance(data, dict) else None
    code = code if isinstance(code, int) else None
    apple_message = data.get("errorMessage") if isinstance(data, dict) else None
    retryable = status == 429 or status >= 500 or code in RETRYABLE_CODES
    if retryable and retry_after is None and code in DEFAULT_WAIT:
        retry_after = DEFAULT_WAIT[code]
    if code is None and not isinstance(apple_message, str):
        message = f"Apple's Apps and Books service answered HTTP {status}."
        if status == 429:
            message = "Apple's Apps and Books service is rate limiting Quince (HTTP 429)."
        elif status >= 500:
            message = f"Apple's Apps and Books service is unavailable (HTTP {status})."
    else:
        message = error_text(code, apple_message if isinstance(apple_message, str) else None)
    return VppError(code, message, retryable=retryable, retry_after=retry_after, status=status)
