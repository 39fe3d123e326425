"""What every console route shares: the signed-in admin and the chosen OG, forms with their CSRF
check, and refusals turned into pages (the one place per face where errors become HTML).

A route says what it needs as parameters, and FastAPI's dependencies give it or raise a typed error:
`db: Db` (one session per request), `console: SignedIn` (the signed-in admin and the chosen OG) or
`console: Changer` (the same, refusing a read-only admin), `form: Form` or
`form: Annotated[FormData, Depends(posted(max_fields=...))]` (the posted form, its CSRF token
checked). `open_with` loads the object an id in the URL names. What they raise (`SignInNeeded`,
`PageNotFound`, `ReadOnlyAdmin`, `ExpiredForm`, a refusal, a lost race) becomes a page in one
place, `error_page`, which `ConsoleRoute` (every console router's route class) calls.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from python_multipart.exceptions import MultipartParseError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from quince import logs
from quince.domain.errors import (
    ConcurrentChange,
    Conflict,
    NotFound,
    OutOfScope,
    QuinceError,
    ReadOnly,
)
from quince.services import warnings
from quince.services.access import admin_sessions
from quince.services.directory import org_groups
from quince.services.scope import Scope
from quince.store.concurrency import lost_race
from quince.store.errors import DATABASE_ERRORS
from quince.store.models import AdminRow, OrgGroupRow
from quince.web import deps
from quince.web.console import accounts, cookies, pages
from quince.web.deps import Db
from quince.web.routing import AnsweringRoute
from quince.web.security import signing

MAX_ID = 2_147_483_647
T = TypeVar("T")
FORM_PART_BYTES = 8 * 1024


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
    """Every OG the admin may choose, with its depth below the admin's OG."""

    @property
    def read_only(self) -> bool:
        return not self.scope.can_write

    @property
    def actor(self) -> str:
        """Who did it, as recorded on queued commands and in logs."""
        return f"console:{self.admin.username}"


class ConsoleError(Exception):
    """Why a console route cannot answer as asked; `error_page` renders it."""


class SignInNeeded(ConsoleError):
    """No admin is signed in in this browser: the answer is the sign-in page."""


class PageNotFound(ConsoleError):
    """Nothing at this address in the OGs the admin manages (404)."""

    def __init__(self, console: Console | None = None) -> None:
        super().__init__("not found")
        self.console = console


class ReadOnlyAdmin(ConsoleError):
    """A read-only admin asked for a change (403, nothing changed)."""

    def __init__(self, console: Console) -> None:
        super().__init__("read-only")
        self.console = console


class ExpiredForm(ConsoleError):
    """A form without its CSRF token, or one that cannot be read (403 "This page has expired")."""


settings_of = deps.settings  # the shared request plumbing (quince.web.deps)
address = deps.client_address
key = signing.request_key  # shared with the enrollment sign-in pages


def log(request: Request, name: str, outcome: str, *, warn: bool = False, **fields: Any) -> None:
    """One DeviceManagement log event for this request (never pass a secret as a field)."""
    logs.event(logs.DEVICE_MANAGEMENT, name, outcome, level=logging.WARNING if warn else logging.INFO,
               request_id=pages.request_id(request), **fields)


def parse_id(raw: str | None) -> int | None:
    """A database id from a URL or a form, or None for anything else."""
    if raw is None or not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        return None
    return int(raw)


def parse_page(raw: str | None) -> int:
    """A 0-based page number from the query; anything odd is the first page."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) < 7:
        return int(raw)
    return 0


def list_params(request: Request, console: Console, *names: str, max_chars: int = 128) -> dict[str, str]:
    """A list page's filters from its query, stripped and cut at `max_chars`, with `og` set to the
    OG the page is about (what the pager and filter links carry on)."""
    q = request.query_params
    return {"og": str(console.og.id), **{name: q.get(name, "").strip()[:max_chars] for name in names}}


def text(form: FormData, name: str, max_chars: int = 1024) -> str:
    """A form field as stripped text, cut at `max_chars` (a file or a missing field is '')."""
    value = form.get(name, "")
    return value.strip()[:max_chars] if isinstance(value, str) else ""


def query(params: dict[str, str], **changes: str | int | None) -> str:
    """The query string of `params` with `changes` applied; empty values are left out."""
    merged: dict[str, str] = {**params, **{k: str(v) for k, v in changes.items() if v is not None}}
    return urlencode({k: v for k, v in merged.items() if v != ""})


def safe_next(raw: str | None) -> str:
    """Where to go after signing in: a console path only, never another site."""
    if raw and raw.startswith("/console/") and "//" not in raw and "\\" not in raw and raw.isprintable():
        return raw
    return "/console/"


def to_sign_in(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/console/sign-in?{urlencode({'next': target})}", status_code=303)


def redirect(path: str, console: Console, **params: str | int) -> Response:
    """A 303 to a console page at the console's OG (after a POST that changed something)."""
    target = f"{path}?{urlencode({'og': console.og.id, **params})}"
    return pages.with_page_headers(RedirectResponse(target, status_code=303))


async def load_console(request: Request, db: Db) -> Console:
    """The signed-in admin and the chosen OG; SignInNeeded or NotFound (an OG out of reach)."""
    token = cookies.read_session(request, key(request))
    admin = await admin_sessions.admin_of(db, token) if token else None
    if admin is None:
        raise SignInNeeded
    scope = await accounts.scope_of(db, admin)
    raw = request.query_params.get("og")
    og_id = scope.og_id if raw is None or raw == "" else parse_id(raw)
    if og_id is None:
        raise NotFound("Organization group", raw)
    og = await org_groups.get(db, scope, og_id)
    here = replace(scope, og_id=og.id, path=og.path)
    return Console(admin, scope, og, here, await org_groups.subtree(db, scope, scope.og_id))


async def signed_in(request: Request, db: Db) -> Console:
    """The dependency behind `SignedIn`: the console for this request (SignInNeeded, or NotFound
    for an OG out of reach)."""
    return await load_console(request, db)


SignedIn = Annotated[Console, Depends(signed_in)]


def may_change(console: Console) -> Console:
    """`console`, when its admin may change things; else ReadOnlyAdmin."""
    if console.read_only:
        raise ReadOnlyAdmin(console)
    return console


async def for_change(console: SignedIn) -> Console:
    """The dependency behind `Changer`: as `SignedIn`, refusing a read-only admin (403)."""
    return may_change(console)


Changer = Annotated[Console, Depends(for_change)]


async def open_with(
    console: Console, ref: str, load: Callable[[Console, int], Awaitable[T]], *, change: bool = False,
) -> T:
    """The object `ref` (an id from the URL) names, loaded by `load` (which raises NotFound when
    the object is missing or out of the console's reach); else PageNotFound. With `change`, a
    read-only admin gets ReadOnlyAdmin (after the 404 check)."""
    object_id = parse_id(ref)
    try:
        if object_id is None:
            raise NotFound("Object", ref)
        found = await load(console, object_id)
    except NotFound:
        raise PageNotFound(console) from None
    if change:
        may_change(console)
    return found


async def read_form(request: Request, *, max_fields: int = 16, max_files: int = 0,
                    max_part_bytes: int = FORM_PART_BYTES) -> FormData:
    """The posted form when its CSRF token is good; else ExpiredForm.
    The body as a whole is already size-limited by the app's body limit."""
    try:
        form = await request.form(max_files=max_files, max_fields=max_fields, max_part_size=max_part_bytes)
    except (HTTPException, MultiPartException, MultipartParseError, ValueError):
        raise ExpiredForm from None
    if not cookies.CSRF.is_valid(request, key(request), form.get(cookies.CSRF_FIELD)):
        log(request, "console.form", "csrf_rejected", warn=True, path=request.url.path)
        raise ExpiredForm
    return form


def posted(*, max_fields: int = 16, max_files: int = 0,
           max_part_bytes: int = FORM_PART_BYTES) -> Callable[[Request], Awaitable[FormData]]:
    """A dependency giving the posted form with these limits, its CSRF token checked (`read_form`).
    Declare it before the console, so a form without its token is refused first."""

    async def form(request: Request) -> FormData:
        return await read_form(request, max_fields=max_fields, max_files=max_files,
                               max_part_bytes=max_part_bytes)

    return form


Form = Annotated[FormData, Depends(posted())]


def chrome(console: Console | None) -> dict[str, Any]:
    """What base.html needs for the masthead: the admin, their rights, the OG and the selector."""
    if console is None:
        return {}
    return {"admin": console.admin, "read_only": console.read_only, "og": console.og, "ogs": console.ogs}


def render(request: Request, console: Console | None, template: str, *, status: int = 200,
           **context: Any) -> Response:
    """A console page with the masthead filled in for `console`, and `push_warning` (no usable
    push certificate: commands wait unseen) for the pages that show it."""
    context.setdefault("push_warning", warnings.push_warning(settings_of(request)) if console else None)
    return pages.render(request, key(request), template, status=status, **context, **chrome(console))


def problem(request: Request, status: int, heading: str, message: str, console: Console | None = None,
            **headers: str) -> Response:
    response = render(request, console, "message.html", status=status, title=heading, heading=heading,
                      message=message)
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


def not_found(request: Request, console: Console | None = None) -> Response:
    return problem(request, 404, "Not found",
                   "There is nothing at this address in the organization groups you manage.", console)


def read_only(request: Request, console: Console) -> Response:
    """The answer to a change a read-only admin asked for (the page offers them no such button)."""
    log(request, "console.change", "read_only", warn=True, admin=console.admin.username,
        path=request.url.path)
    return problem(request, 403, "Not allowed",
                   f"{console.admin.username} has read-only access: nothing was changed.", console)


def concurrent_change(request: Request, exc: Exception) -> Response:
    """The answer to a change that lost a race with another request (its transaction rolled back)."""
    log(request, "console.change", "concurrent_change", warn=True, path=request.url.path,
        error=type(exc).__name__)
    return problem(request, 409, "Changed at the same moment", ConcurrentChange().message)


def refused(request: Request, exc: QuinceError) -> Response:
    """A refusal no form on the page shows (say, the object another request removed meanwhile)."""
    if isinstance(exc, NotFound):
        return not_found(request)
    status = 403 if isinstance(exc, ReadOnly | OutOfScope) else 409 if isinstance(exc, Conflict) else 400
    log(request, "console.change", "refused", warn=True, path=request.url.path, reason=exc.message)
    return problem(request, status, "Not changed", exc.message)


RENDERED_ERRORS: tuple[type[Exception], ...] = (ConsoleError, QuinceError, *DATABASE_ERRORS)


class ConsoleRoute(AnsweringRoute):
    """Every console route: what escapes a route or its dependencies becomes a page (`error_page`),
    never JSON or a server error."""

    answered = RENDERED_ERRORS

    @staticmethod
    def answer(request: Request, exc: Exception) -> Response:
        return error_page(request, exc)


def error_page(request: Request, exc: Exception) -> Response:
    """The console's one error renderer: the sign-in redirect, 404, read-only 403, expired form,
    a refusal the route did not show (`refused`), and a write that lost a race with another request
    (store.concurrency.lost_race: the 409 of `concurrent_change`). Anything else is raised again."""
    match exc:
        case SignInNeeded():
            return to_sign_in(request)
        case PageNotFound():
            return not_found(request, exc.console)
        case ReadOnlyAdmin():
            return read_only(request, exc.console)
        case ExpiredForm():
            return expired(request)
        case QuinceError():
            return refused(request, exc)
    if isinstance(exc, DATABASE_ERRORS) and lost_race(exc):
        return concurrent_change(request, exc)
    raise exc


def expired(request: Request) -> Response:
    return problem(request, 403, "This page has expired",
                   "For your security, a form works only in the browser that opened it and for a "
                   "limited time. Nothing was changed. Go back, reload the page and try again.")
