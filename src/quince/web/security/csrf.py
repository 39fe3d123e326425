"""CSRF protection of the forms people post (the enrollment sign-in pages and the console): a random
cookie and, in each form, an HMAC of it.

A forged cross-site POST carries neither a cookie it can read nor a form token it can compute;
a cookie planted from a sibling domain fails too, because only Quince can MAC it. Each face has its
own cookie (the sign-in pages' in `web/device_management/csrf.py`, the console's in
`web/console/cookies.py`) with a purpose of its own, so a token made for one never passes for the other.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from quince.web.security.signing import mac, same

FIELD = "csrf_token"
_COOKIE_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class CsrfPair:
    cookie: str
    """Set (again) on the response; never shown in a page or logged."""
    token: str
    """Goes into the form as the hidden `csrf_token` field."""


@dataclass(frozen=True)
class CsrfCookie:
    """One face's CSRF cookie: its name, path, MAC purpose and lifetime."""

    name: str
    path: str
    purpose: str
    max_age: int

    def _cookie(self, request: Request) -> str | None:
        value = request.cookies.get(self.name)
        return value if value and _COOKIE_SHAPE.fullmatch(value) else None

    def pair_for(self, request: Request, key: bytes) -> CsrfPair:
        """The browser's current cookie (or a new one) and the form token that goes with it."""
        cookie = self._cookie(request) or secrets.token_urlsafe(32)
        return CsrfPair(cookie, mac(key, self.purpose, cookie))

    def is_valid(self, request: Request, key: bytes, submitted: object) -> bool:
        """True when the POST carries our cookie and the form token made from it."""
        cookie = self._cookie(request)
        if cookie is None or not isinstance(submitted, str) or not submitted:
            return False
        return same(submitted, mac(key, self.purpose, cookie))

    def binding(self, request: Request) -> str:
        """A digest of the browser's cookie, so a signed state only works in the browser it was made for."""
        cookie = self._cookie(request) or ""
        return hashlib.sha256(cookie.encode()).hexdigest()[:32]

    def set_cookie(self, response: Response, pair: CsrfPair, *, secure: bool) -> None:
        response.set_cookie(self.name, pair.cookie, max_age=self.max_age, path=self.path,
                            httponly=True, samesite="strict", secure=secure)

