"""The console's two cookies: the signed session (admin id + expiry) and the CSRF cookie.

Both reuse the sign-in pages' HMAC helpers with purposes of their own, so a value made for one
never passes for another. The session also carries a digest of the admin's password hash: changing
the password signs every browser out.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from quince.web.device_management.signing import mac, same, sign, verify

PATH = "/console"
SESSION_COOKIE = "quince_console"
SESSION_PURPOSE = "console-session"
SESSION_TTL_SECONDS = 8 * 60 * 60
CSRF_COOKIE = "quince_console_csrf"
CSRF_PURPOSE = "console-csrf"
CSRF_FIELD = "csrf_token"
_CSRF_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class SessionClaim:
    admin_id: int
    password_tag: str


def password_tag(key: bytes, password_hash: str) -> str:
    return mac(key, "console-password", password_hash)[:22]


def session_value(key: bytes, admin_id: int, password_hash: str) -> str:
    return sign(key, SESSION_PURPOSE, {"a": admin_id, "p": password_tag(key, password_hash)},
                SESSION_TTL_SECONDS)


def read_session(request: Request, key: bytes) -> SessionClaim | None:
    value = request.cookies.get(SESSION_COOKIE)
    payload = verify(key, SESSION_PURPOSE, value) if value else None
    if payload is None or not isinstance(payload.get("a"), int) or not isinstance(payload.get("p"), str):
        return None
    return SessionClaim(payload["a"], payload["p"])


def set_session(response: Response, value: str, *, secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, value, max_age=SESSION_TTL_SECONDS, path=PATH,
                        httponly=True, samesite="strict", secure=secure)


def clear_session(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path=PATH, httponly=True, samesite="strict", secure=secure)


def csrf_cookie(request: Request) -> str | None:
    value = request.cookies.get(CSRF_COOKIE)
    return value if value and _CSRF_SHAPE.fullmatch(value) else None


def csrf_pair(request: Request, key: bytes) -> tuple[str, str]:
    """(cookie, form token): the browser's current CSRF cookie, or a new one, and its token."""
    cookie = csrf_cookie(request) or secrets.token_urlsafe(32)
    return cookie, mac(key, CSRF_PURPOSE, cookie)


def csrf_ok(request: Request, key: bytes, submitted: object) -> bool:
    cookie = csrf_cookie(request)
    if cookie is None or not isinstance(submitted, str) or not submitted:
        return False
    return same(submitted, mac(key, CSRF_PURPOSE, cookie))


def set_csrf(response: Response, cookie: str, *, secure: bool) -> None:
    response.set_cookie(CSRF_COOKIE, cookie, max_age=SESSION_TTL_SECONDS, path=PATH,
                        httponly=True, samesite="strict", secure=secure)
