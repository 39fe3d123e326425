"""The console's two cookies: the session (a server-side session's token, signed) and the CSRF
cookie (`CSRF`).

Both use the shared HMAC helpers (`quince.web.security`) with purposes of their own, so a value made for one
never passes for another. The signature turns away made-up cookies without a database query; the
session itself lives on the server (quince.services.access.admin_sessions), which can end it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from quince.web.paths import CONSOLE_PATH
from quince.web.security.csrf import FIELD, CsrfCookie
from quince.web.security.signing import sign, verify

PATH = CONSOLE_PATH
SESSION_COOKIE = "quince_console"
SESSION_PURPOSE = "console-session"
SESSION_TTL_SECONDS = 8 * 60 * 60
# The console's own CSRF cookie: the shared mechanism, with a name, path and purpose of its own.
CSRF = CsrfCookie("quince_console_csrf", PATH, "console-csrf", SESSION_TTL_SECONDS)
CSRF_FIELD = FIELD


def session_value(key: bytes, token: str) -> str:
    return sign(key, SESSION_PURPOSE, {"t": token}, SESSION_TTL_SECONDS)


def read_session(request: Request, key: bytes) -> str | None:
    """The session token this request's cookie carries, when the cookie is genuine."""
    value = request.cookies.get(SESSION_COOKIE)
    payload = verify(key, SESSION_PURPOSE, value) if value else None
    token = payload.get("t") if payload is not None else None
    return token if isinstance(token, str) else None


def set_session(response: Response, value: str, *, secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, value, max_age=SESSION_TTL_SECONDS, path=PATH,
                        httponly=True, samesite="strict", secure=secure)


def clear_session(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path=PATH, httponly=True, samesite="strict", secure=secure)
