"""The console's routes: sign-in and sign-out, the OG selector, the device list and detail.

Every page but sign-in needs a signed-in admin (else a redirect to sign-in); every POST needs the
CSRF token; the admin sees their OG's subtree, narrowed to the OG chosen with `?og=`, exactly as
the REST API scopes them. Refusals become pages here, in `_problem`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from python_multipart.exceptions import MultipartParseError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from quince import logs
from quince.config import Settings
from quince.domain.errors import InvalidInput, NotFound, QuinceError, ReadOnly
from quince.services import commands, devices, org_groups
from quince.services.paging import PageRequest
from quince.services.scope import Scope
from quince.store.models import AdminRow, DeviceRow, EnrollmentSessionRow, EnrollmentUserRow, OrgGroupRow
from quince.web.console import accounts, cookies, pages
from quince.web.device_management import signing

router = APIRouter(prefix="/console", include_in_schema=False)

PAGE_SIZE = 50
USERNAME_MAX = 128
PASSWORD_MAX = 256
MAX_ID = 2_147_483_647
# The commands a user-enrolled device accepts too, offered on every device's page.
QUEUEABLE = (
    "DeviceInformation", "ProfileList", "CertificateList", "SecurityInfo",
    "InstalledApplicationList", "ManagedApplicationList",
)
STATUSES = ("Enrolled", "EnrollmentInProgress", "Unenrolled")
OWNERSHIPS = (("C", "Corporate - Dedicated"), ("E", "Employee Owned"), ("S", "Corporate - Shared"),
              ("Undefined", "Undefined"))
SORTS = (("id", "ID"), ("devicereportedname", "Name"), ("udid", "UDID / Enrollment ID"),
         ("enrollmentstatus", "Status"), ("model", "Model"), ("lastseen", "Last seen"))


@dataclass(frozen=True)
class Console:
    """Who is signed in and where they are working."""

    admin: AdminRow
    scope: Scope
    """The admin's whole subtree."""
    og: OrgGroupRow
    """The OG chosen in the selector."""
    here: Scope
    """The chosen OG's subtree, with the admin's rights."""
    ogs: list[tuple[OrgGroupRow, int]]


class SignInNeeded(Exception):
    pass


# --- helpers ----------------------------------------------------------------------------------


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _key(request: Request) -> bytes:
    # Shared with the enrollment sign-in pages: one key file, loaded once per app.
    key: bytes | None = getattr(request.app.state, "signin_key", None)
    if key is None:
        key = signing.load_secret_key(_settings(request).var_dir)
        request.app.state.signin_key = key
    return key


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _log(request: Request, name: str, outcome: str, *, warn: bool = False, **fields: Any) -> None:
    logs.event(logs.DEVICE_MANAGEMENT, name, outcome, level=logging.WARNING if warn else logging.INFO,
               request_id=pages.request_id(request), **fields)


async def _read_form(request: Request) -> FormData | None:
    try:
        return await request.form(max_files=0, max_fields=8, max_part_size=8 * 1024)
    except (HTTPException, MultiPartException, MultipartParseError, ValueError):
        return None


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _parse_id(raw: str | None) -> int | None:
    if raw is None or not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        return None
    return int(raw)


def _safe_next(raw: str | None) -> str:
    """Where to go after signing in: a console path only, never another site."""
    if raw and raw.startswith("/console/") and "//" not in raw and "\\" not in raw and raw.isprintable():
        return raw
    return "/console/"


def _to_sign_in(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/console/sign-in?{urlencode({'next': target})}", status_code=303)


async def _console(request: Request, db: AsyncSession) -> Console:
    """The signed-in admin and the chosen OG; SignInNeeded or NotFound (an OG out of reach)."""
    key = _key(request)
    claim = cookies.read_session(request, key)
    admin = await db.get(AdminRow, claim.admin_id) if claim else None
    if (claim is None or admin is None or not admin.active
            or not signing.same(claim.password_tag, cookies.password_tag(key, admin.password_hash))):
        raise SignInNeeded
    scope = await accounts.scope_of(db, admin)
    raw = request.query_params.get("og")
    og_id = scope.og_id if raw is None or raw == "" else _parse_id(raw)
    if og_id is None:
        raise NotFound("Organization group", raw)
    og = await org_groups.get(db, scope, og_id)
    here = replace(scope, og_id=og.id, path=og.path)
    return Console(admin, scope, og, here, await org_groups.subtree(db, scope, scope.og_id))


def _problem(request: Request, status: int, heading: str, message: str, console: Console | None = None,
             **headers: str) -> Response:
    response = pages.render(request, _key(request), "message.html", status=status, title=heading,
                            heading=heading, message=message, **_chrome(console))
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


def _not_found(request: Request, console: Console | None = None) -> Response:
    return _problem(request, 404, "Not found",
                    "There is nothing at this address in the organization groups you manage.", console)


def _chrome(console: Console | None) -> dict[str, Any]:
    if console is None:
        return {}
    return {"admin": console.admin, "read_only": not console.scope.can_write, "og": console.og,
            "ogs": console.ogs}


def _query(params: dict[str, str], **changes: str | int | None) -> str:
    merged: dict[str, str] = {**params, **{k: str(v) for k, v in changes.items() if v is not None}}
    return urlencode({k: v for k, v in merged.items() if v != ""})


# --- assets, sign-in and sign-out -------------------------------------------------------------


@router.get("/static/console.css")
async def stylesheet() -> Response:
    return Response(
        pages.STYLESHEET.read_bytes(), media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def _sign_in_page(request: Request, *, status: int = 200, username: str = "", error: str | None = None,
                  next_url: str = "/console/") -> Response:
    return pages.render(request, _key(request), "signin.html", status=status, title="Sign in",
                        username=username, error=error, next_url=next_url)


@router.get("/sign-in")
async def sign_in_form(request: Request) -> Response:
    return _sign_in_page(request, next_url=_safe_next(request.query_params.get("next")))


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await _read_form(request)
    if form is None or not cookies.csrf_ok(request, _key(request), form.get(cookies.CSRF_FIELD)):
        _log(request, "console.signin", "csrf_rejected", warn=True)
        return _expired(request)
    username, password = _text(form, "username").strip(), _text(form, "password")
    next_url = _safe_next(_text(form, "next"))
    if not username or not password or len(username) > USERNAME_MAX or len(password) > PASSWORD_MAX \
            or "\x00" in username + password:
        return _sign_in_page(request, status=400, username=username[:USERNAME_MAX], next_url=next_url,
                             error="Enter your username and password.")
    settings = _settings(request)
    lock = accounts.LockOut(settings.sign_in_max_failures_per_user,
                            timedelta(minutes=settings.sign_in_window_minutes))
    async with request.app.state.sessionmaker() as db:
        try:
            admin = await accounts.authenticate(db, username, password, _address(request), lock)
        except accounts.AdminLockedOut as exc:
            _log(request, "console.signin", "locked_out", warn=True, admin=username)
            return _problem(request, 429, "Account locked", exc.message,
                            Retry_After=str(exc.minutes * 60))
        except accounts.WrongAdminCredentials as exc:
            await db.commit()  # the failure counts towards the lock-out
            _log(request, "console.signin", "wrong_credentials", warn=True, admin=username)
            return _sign_in_page(request, status=401, username=username, next_url=next_url,
                                 error=exc.message)
        await db.commit()
        _log(request, "console.signin", "signed_in", admin=admin.username)
        response = RedirectResponse(next_url, status_code=303)
        cookies.set_session(response, cookies.session_value(_key(request), admin.id, admin.password_hash),
                            secure=pages.secure_cookies(settings))
        return pages.with_page_headers(response)


def _expired(request: Request) -> Response:
    return _problem(request, 403, "This page has expired",
                    "For your security, a form works only in the browser that opened it and for a "
                    "limited time. Nothing was changed. Go back, reload the page and try again.")


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    form = await _read_form(request)
    if form is None or not cookies.csrf_ok(request, _key(request), form.get(cookies.CSRF_FIELD)):
        return _expired(request)
    response = RedirectResponse("/console/sign-in", status_code=303)
    cookies.clear_session(response, secure=pages.secure_cookies(_settings(request)))
    return pages.with_page_headers(response)


# --- pages ------------------------------------------------------------------------------------


@router.get("/")
async def home(request: Request) -> Response:
    async with request.app.state.sessionmaker() as db:
        try:
            console = await _console(request, db)
        except SignInNeeded:
            return _to_sign_in(request)
        except NotFound:
            return _not_found(request)
        counts = (await org_groups.counts(db, [console.og.id])).get(console.og.id)
        total = (await devices.search(db, console.here, PageRequest(0, 1))).total
        return pages.render(request, _key(request), "home.html", title="Home", nav="home",
                            device_total=total, counts=counts, **_chrome(console))


@router.get("/devices")
async def device_list(request: Request) -> Response:
    q = request.query_params
    params = {name: q.get(name, "").strip()[:128] for name in
              ("og", "status", "ownership", "user", "ue", "q", "sort", "dir")}
    page_raw = q.get("page", "0")
    page_number = int(page_raw) if page_raw.isascii() and page_raw.isdigit() and len(page_raw) < 7 else 0
    async with request.app.state.sessionmaker() as db:
        try:
            console = await _console(request, db)
        except SignInNeeded:
            return _to_sign_in(request)
        except NotFound:
            return _not_found(request)
        params["og"] = str(console.og.id)
        sort = params["sort"] if params["sort"] in dict(SORTS) else "id"
        descending = params["dir"] == "desc"
        error: str | None = None
        rows: list[DeviceRow] = []
        total = 0
        try:
            if params["q"]:
                try:
                    rows = [await devices.find_by(db, console.here, "Udid", params["q"])]
                except NotFound:
                    rows = []
                total = len(rows)
            else:
                found = await devices.search(
                    db, console.here, PageRequest(page_number, PAGE_SIZE),
                    user=params["user"] or None, ownership=params["ownership"] or None,
                    enrollment_status=params["status"] or None,
                    user_enrolled={"yes": True, "no": False}.get(params["ue"]),
                    order_by=sort, descending=descending,
                )
                rows, total = list(found.items), found.total
        except InvalidInput as exc:
            error = exc.message
        related = await devices.related(db, console.scope, rows)
        items = [_list_item(row, related) for row in rows]
        return pages.render(
            request, _key(request), "devices.html", status=400 if error else 200, title="Devices",
            nav="devices", items=items, total=total, page=page_number,
            pages=max(1, -(-total // PAGE_SIZE)), params=params, sort=sort, descending=descending,
            sorts=SORTS, statuses=STATUSES, ownerships=OWNERSHIPS, error=error,
            query=lambda **changes: _query(params, **changes), **_chrome(console),
        )


@dataclass(frozen=True)
class ListItem:
    device: DeviceRow
    name: str
    user: str
    og: str
    ownership: str
    successor: DeviceRow | None


def _list_item(row: DeviceRow, related: devices.Related) -> ListItem:
    user = related.users.get(row.enrollment_user_id) if row.enrollment_user_id is not None else None
    og = related.ogs.get(row.og_id)
    successor = (related.successors.get(row.superseded_by_device_id)
                 if row.superseded_by_device_id is not None else None)
    return ListItem(row, devices.friendly_name(row, user.username if user else None),
                    user.username if user else "", og.name if og else "",
                    dict(OWNERSHIPS).get(devices.effective_ownership(row), devices.effective_ownership(row)),
                    successor)


async def _device_page(request: Request, db: AsyncSession, console: Console, device: DeviceRow, *,
                       status: int = 200, error: str | None = None, notice: str | None = None) -> Response:
    related = await devices.related(db, console.scope, [device])
    item = _list_item(device, related)
    user: EnrollmentUserRow | None = related.users.get(device.enrollment_user_id) \
        if device.enrollment_user_id is not None else None
    decision = await db.scalar(
        select(EnrollmentSessionRow).where(EnrollmentSessionRow.device_id == device.id)
    )
    history = await devices.command_history(db, console.scope, device.id, PageRequest(0, PAGE_SIZE))
    return pages.render(
        request, _key(request), "device.html", status=status, title=f"Device {device.id}", nav="devices",
        item=item, device=device, user=user, properties=devices.extended_properties(device),
        decision=decision, history=history, queueable=QUEUEABLE, error=error, notice=notice,
        **_chrome(console),
    )


async def _console_and_device(
    request: Request, db: AsyncSession, device_ref: str
) -> tuple[Console, DeviceRow] | Response:
    """The signed-in console and a device of its chosen OG; else the sign-in redirect or a 404."""
    try:
        console = await _console(request, db)
        device_id = _parse_id(device_ref)
        if device_id is None:
            raise NotFound("Device", device_ref)
        return console, await devices.get(db, console.here, device_id)
    except SignInNeeded:
        return _to_sign_in(request)
    except NotFound:
        return _not_found(request)


@router.get("/devices/{device_ref}")
async def device_detail(request: Request, device_ref: str) -> Response:
    async with request.app.state.sessionmaker() as db:
        found = await _console_and_device(request, db, device_ref)
        if isinstance(found, Response):
            return found
        console, device = found
        queued = _parse_id(request.query_params.get("queued"))
        notice = f"Command {queued} was queued." if queued else None
        return await _device_page(request, db, console, device, notice=notice)


@router.post("/devices/{device_ref}/commands")
async def queue_command(request: Request, device_ref: str) -> Response:
    form = await _read_form(request)
    if form is None or not cookies.csrf_ok(request, _key(request), form.get(cookies.CSRF_FIELD)):
        return _expired(request)
    async with request.app.state.sessionmaker() as db:
        found = await _console_and_device(request, db, device_ref)
        if isinstance(found, Response):
            return found
        console, device = found
        request_type = _text(form, "request_type").strip()[:64]
        try:
            if not request_type:
                raise InvalidInput("request_type", "Choose a command to queue.")
            row = await commands.queue(db, console.scope, device.id, request_type, {},
                                       queued_by=f"console:{console.admin.username}")
        # queue() refuses before it adds anything, so there is nothing to roll back here.
        except ReadOnly as exc:
            _log(request, "console.command", "read_only", warn=True, admin=console.admin.username)
            return _problem(request, 403, "Not allowed", exc.message, console)
        except QuinceError as exc:
            _log(request, "console.command", "refused", warn=True, admin=console.admin.username,
                 device=device.uuid, request_type=request_type)
            return await _device_page(request, db, console, device, status=409, error=exc.message)
        await db.commit()
        _log(request, "console.command", "queued", admin=console.admin.username, device=device.uuid,
             request_type=row.request_type)
        target = f"/console/devices/{device.id}?{urlencode({'og': console.og.id, 'queued': row.id})}"
        return pages.with_page_headers(RedirectResponse(target, status_code=303))

