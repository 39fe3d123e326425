"""Signing in and out of the console, and its static files (stylesheets and the vendored htmx)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from quince.domain.users import typed_name_digest
from quince.services.access import admin_sessions, admins
from quince.services.access.admins import AuthenticationFailed
from quince.services.access.sign_in_throttle import Throttled
from quince.web.console import accounts, cookies, pages
from quince.web.console.context import (
    ConsoleRoute,
    address,
    key,
    log,
    posted,
    problem,
    safe_next,
    settings_of,
    text,
)
from quince.web.deps import Db

router = APIRouter(route_class=ConsoleRoute)

USERNAME_MAX = 128
PASSWORD_MAX = 256
STATIC_HEADERS = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}


@router.get("/static/console.css")
async def stylesheet() -> Response:
    return Response(pages.stylesheet(), media_type="text/css", headers=STATIC_HEADERS)


@router.get(pages.HTMX_URL.removeprefix("/console"))
async def htmx() -> Response:
    return Response(pages.HTMX.read_bytes(), media_type="text/javascript", headers=STATIC_HEADERS)


@router.get("/static/devices.js")
async def device_list_script() -> Response:
    """The device list's "Select all on this page" (the page works without it)."""
    return Response((pages.STATIC / "devices.js").read_bytes(), media_type="text/javascript",
                    headers=STATIC_HEADERS)


@router.get("/static/favicon.svg")
async def favicon() -> Response:
    return Response((pages.STATIC / "favicon.svg").read_bytes(), media_type="image/svg+xml",
                    headers=STATIC_HEADERS)


def _sign_in_page(request: Request, *, status: int = 200, username: str = "", error: str | None = None,
                  next_url: str = "/console/") -> Response:
    return pages.render(request, key(request), "signin.html", status=status, title="Sign in",
                        username=username, error=error, next_url=next_url)


@router.get("/sign-in")
async def sign_in_form(request: Request) -> Response:
    return _sign_in_page(request, next_url=safe_next(request.query_params.get("next")))


@router.post("/sign-in")
async def sign_in(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=8))],
    db: Db,
) -> Response:
    # Not text(): a password keeps its spaces, and an over-long one is refused, not cut.
    raw_user, password = form.get("username", ""), form.get("password", "")
    username = raw_user.strip() if isinstance(raw_user, str) else ""
    password = password if isinstance(password, str) else ""
    next_url = safe_next(text(form, "next", 2048))
    if not username or not password or len(username) > USERNAME_MAX or len(password) > PASSWORD_MAX \
            or "\x00" in username + password:
        return _sign_in_page(request, status=400, username=username[:USERNAME_MAX], next_url=next_url,
                             error="Enter your username and password.")
    settings = settings_of(request)
    try:
        admin = await admins.authenticate_admin(db, username, password, address=address(request),
                                                throttle=request.app.state.throttle)
    except Throttled as exc:
        log(request, "console.signin", "throttled", warn=True, typed=typed_name_digest(username))
        return problem(request, 429, "Sign-in paused", exc.message, Retry_After=str(exc.seconds))
    except AuthenticationFailed as exc:
        await db.commit()  # the failure counts towards the back-off
        log(request, "console.signin", "wrong_credentials", warn=True, reason=exc.reason)
        return _sign_in_page(request, status=401, username=username, next_url=next_url,
                             error=accounts.WRONG_CREDENTIALS)
    token = await admin_sessions.start(db, admin, timedelta(seconds=cookies.SESSION_TTL_SECONDS))
    await db.commit()
    log(request, "console.signin", "signed_in", admin=admin.username)
    response = RedirectResponse(next_url, status_code=303)
    cookies.set_session(response, cookies.session_value(key(request), token),
                        secure=pages.secure_cookies(settings))
    return pages.with_page_headers(response)


@router.post("/sign-out")
async def sign_out(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=4))],
    db: Db,
) -> Response:
    """Ends every session of the signed-in admin on the server, then clears this browser's cookie."""
    token = cookies.read_session(request, key(request))
    if token:
        admin = await admin_sessions.end(db, token)
        await db.commit()
        if admin is not None:
            log(request, "console.signout", "signed_out", admin=admin.username)
    response = RedirectResponse("/console/sign-in", status_code=303)
    cookies.clear_session(response, secure=pages.secure_cookies(settings_of(request)))
    return pages.with_page_headers(response)
