"""The console's two cookies: the signed session (admin id + expiry) and the CSRF cookie (`CSRF`).

Both reuse the sign-in pages' HMAC helpers with purposes of their own, so a value made for one
never passes for another. The session also carries a digest of the admin's password hash: changing
the password signs every browser out.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from quince.web.device_management.csrf import FIELD, CsrfCookie
from quince.web.device_management.signing import mac, sign, verify

PATH = "/console"
SESSION_COOKIE = "quince_console"
SESSION_PURPOSE = "console-session"
SESSION_TTL_SECONDS = 8 * 60 * 60
# The console's own CSRF cookie: the sign-in pages' mechanism, with a name, path and purpose of its own.
CSRF = CsrfCookie("quince_console_csrf", PATH, "console-csrf", SESSION_TTL_SECONDS)
CSRF_FIELD = FIELD


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
