"""CSRF protection of the sign-in forms: a random cookie and, in each form, an HMAC of it.

A forged cross-site POST carries neither a cookie it can read nor a form token it can compute;
a cookie planted from a sibling domain fails too, because only Quince can MAC it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from quince.web.device_management.signing import mac, same

COOKIE = "quince_signin"
COOKIE_PATH = "/DeviceManagement/"
COOKIE_MAX_AGE = 2 * 60 * 60
FIELD = "csrf_token"
_PURPOSE = "signin-csrf"
_COOKIE_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class CsrfPair:
    cookie: str
    """Set (again) on the response; never shown in a page or logged."""
    token: str
    """Goes into the form as the hidden `csrf_token` field."""


def _cookie(request: Request) -> str | None:
    value = request.cookies.get(COOKIE)
    return value if value and _COOKIE_SHAPE.fullmatch(value) else None


def pair_for(request: Request, key: bytes) -> CsrfPair:
    """The browser's current cookie (or a new one) and the form token that goes with it."""
    cookie = _cookie(request) or secrets.token_urlsafe(32)
    return CsrfPair(cookie, mac(key, _PURPOSE, cookie))


def is_valid(request: Request, key: bytes, submitted: object) -> bool:
    """True when the POST carries our cookie and the form token made from it."""
    cookie = _cookie(request)
    if cookie is None or not isinstance(submitted, str) or not submitted:
        return False
    return same(submitted, mac(key, _PURPOSE, cookie))


def binding(request: Request) -> str:
    """A digest of the browser's cookie, so a signed state only works in the browser it was made for."""
    cookie = _cookie(request) or ""
    return hashlib.sha256(cookie.encode()).hexdigest()[:32]


def set_cookie(response: Response, pair: CsrfPair, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE, pair.cookie, max_age=COOKIE_MAX_AGE, path=COOKIE_PATH,
        httponly=True, samesite="strict", secure=secure,
    )
