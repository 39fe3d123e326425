"""Apps: the catalog visible at the chosen OG, adding a public or in-house app, an app's page with
its licences, assignments and devices (assigning and unassigning), and the Apps and Books users."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from quince.domain.app_eligibility import (
    APP_NAME_MAX_LENGTH,
    BUNDLE_ID_MAX_LENGTH,
    MANIFEST_URL_MAX_LENGTH,
    AppKind,
    parse_kind,
)
from quince.domain.app_statuses import DeviceAppStatus, VppUserStatus, parse_device_app_status
from quince.domain.errors import Conflict, InvalidInput, NotFound, QuinceError
from quince.services.apps import catalog as apps
from quince.services.apps import delivery as app_delivery
from quince.services.apps import overview as app_overview
from quince.services.apps import vpp_sync
from quince.services.apps.catalog import NewApp
from quince.services.apps.overview import CatalogEntry
from quince.services.apps.vpp_tokens import token_info
from quince.store.models import OrgGroupRow
from quince.store.paging import PageRequest
from quince.web.console.context import (
    Changer,
    Console,
    ConsoleRoute,
    PageNotFound,
    SignedIn,
    list_params,
    load_console,
    log,
    not_found,
    open_with,
    parse_id,
    parse_page,
    posted,
    query,
    redirect,
    render,
    text,
)
from quince.web.deps import Db

router = APIRouter(route_class=ConsoleRoute)

PAGE_SIZE = 50
KINDS = (("public", "Public App Store"), ("in_house", "In-house"),
         ("purchased", "Purchased (Apps and Books)"))
ADDABLE = (("public", "Public App Store app"), ("in_house", "In-house app"))
MODES = (("automatic", "Automatic: install now and when devices enroll"),
         ("on_demand", "On demand: install only when asked"))
STATUS_LABELS = {
    DeviceAppStatus.NOT_SUPPORTED: "Not supported",
    DeviceAppStatus.WAITING_FOR_VPP_USER: "Waiting for Apps and Books user",
    DeviceAppStatus.WAITING_FOR_LICENSE: "Waiting for licence",
    DeviceAppStatus.INSTALL_QUEUED: "Install queued", DeviceAppStatus.INSTALLED: "Installed",
    DeviceAppStatus.FAILED: "Failed", DeviceAppStatus.REMOVED: "Removed",
}
ADAM_ID_MAX_LENGTH = 32


def _kind_label(kind: str) -> str:
    return dict(KINDS).get(kind, kind)


# --- the catalog ----------------------------------------------------------------------------------


@router.get("/apps")
async def app_list(request: Request, db: Db, console: SignedIn) -> Response:
    q = request.query_params
    params = list_params(request, console, "kind", "q")
    page_number = parse_page(q.get("page"))
    error: str | None = None
    kind: AppKind | None = None
    try:
        kind = parse_kind(params["kind"]) if params["kind"] else None
    except InvalidInput as exc:
        error = exc.message
    found = await app_overview.catalog(db, console.scope, console.og, PageRequest(page_number, PAGE_SIZE),
                                       kind=kind, text=params["q"] or None)
    return render(
        request, console, "apps.html", status=400 if error else 200, title="Apps", nav="apps",
        entries=found.items, total=found.total, page=page_number,
        pages=max(1, -(-found.total // PAGE_SIZE)), params=params, kinds=KINDS, error=error,
        kind_label=_kind_label, query=lambda **changes: query(params, **changes),
        token=await token_info(db, console.scope, console.og.id),
        last_synced=await vpp_sync.last_synced(db, console.og.id),
        notice=SYNC_NOTICES.get(q.get("done", "")),
    )


SYNC_NOTICES = {
    "sync-queued": "A sync of the purchased apps was queued: it runs in the background in a moment. "
                   "Reload this page to see the new licence counts.",
    "sync-waiting": "A sync of the purchased apps was already waiting to run: it runs in a moment.",
}


@router.post("/apps/sync")
async def sync_purchased(request: Request, form: Annotated[FormData, Depends(posted(max_fields=2))], db: Db,
                         console: Changer) -> Response:
    queued = await vpp_sync.queue_sync(db, console.here, console.og.id)
    await db.commit()
    log(request, "console.apps", "sync_queued" if queued else "sync_waiting", admin=console.admin.username,
        og=console.og.group_id)
    return redirect("/console/apps", console, done="sync-queued" if queued else "sync-waiting")


# --- adding a public or in-house app ------------------------------------------------------------


@dataclass(frozen=True)
class AppForm:
    kind: str = "public"
    name: str = ""
    bundle_id: str = ""
    adam_id: str = ""
    manifest_url: str = ""
    catalog_og: str = ""


def _app_form(request: Request, console: Console, values: AppForm, *, status: int = 200,
              error: str | None = None) -> Response:
    return render(
        request, console, "app_form.html", status=status, title="Add an app", nav="apps", values=values,
        addable=ADDABLE, catalog_ogs=_subtree(console), error=error,
        limits={"name": APP_NAME_MAX_LENGTH, "bundle_id": BUNDLE_ID_MAX_LENGTH,
                "adam_id": ADAM_ID_MAX_LENGTH, "manifest_url": MANIFEST_URL_MAX_LENGTH},
    )


def _subtree(console: Console) -> list[tuple[OrgGroupRow, int]]:
    """The chosen OG and the OGs below it, with their depth below the chosen OG."""
    base = next((level for row, level in console.ogs if row.id == console.og.id), 0)
    return [(row, level - base) for row, level in console.ogs if row.path.startswith(console.og.path)]


@router.get("/apps/new")
async def new_app(request: Request, db: Db, console: Changer) -> Response:
    return _app_form(request, console, AppForm(catalog_og=str(console.og.id)))


@router.post("/apps")
async def create_app(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=8))],
    db: Db,
    console: Changer,
) -> Response:
    values = AppForm(
        kind=text(form, "kind", 16), name=text(form, "name", APP_NAME_MAX_LENGTH + 1),
        bundle_id=text(form, "bundle_id", BUNDLE_ID_MAX_LENGTH + 1),
        adam_id=text(form, "adam_id", ADAM_ID_MAX_LENGTH + 1),
        manifest_url=text(form, "manifest_url", MANIFEST_URL_MAX_LENGTH + 1),
        catalog_og=text(form, "catalog_og", 16),
    )
    catalog_id = parse_id(values.catalog_og)
    if catalog_id is None or not any(row.id == catalog_id for row, _ in _subtree(console)):
        log(request, "console.apps", "refused", warn=True, admin=console.admin.username,
            reason="catalog OG out of reach")
        return not_found(request, console)
    try:
        if values.kind not in dict(ADDABLE):
            raise InvalidInput("Kind", "Choose a public App Store app or an in-house app; purchased "
                               "apps arrive with `quince vpp sync`.")
        kind = AppKind(values.kind)
        row = await apps.create(db, console.scope, NewApp(
            kind, catalog_id, values.name, values.bundle_id,
            adam_id=(values.adam_id or None) if kind is AppKind.PUBLIC else None,
            manifest_url=(values.manifest_url or None) if kind is AppKind.IN_HOUSE else None,
        ))
    except (InvalidInput, Conflict) as exc:
        log(request, "console.apps", "refused", warn=True, admin=console.admin.username,
            reason=exc.message)
        await db.rollback()  # nothing half-written stays; it also expires every loaded row
        console = await load_console(request, db)
        return _app_form(request, console, values, status=409 if isinstance(exc, Conflict) else 400,
                         error=exc.message)
    await db.commit()
    log(request, "console.apps", "created", admin=console.admin.username, app=row.bundle_id,
        app_id=row.id, kind=row.kind, og=catalog_id)
    return redirect(f"/console/apps/{row.id}", console, done="created")


# --- Apps and Books users -----------------------------------------------------------------------


@router.get("/apps/vpp-users")
async def vpp_user_list(request: Request, db: Db, console: SignedIn) -> Response:
    q = request.query_params
    params = list_params(request, console, "status", "q")
    page_number = parse_page(q.get("page"))
    status = params["status"] if params["status"] in tuple(VppUserStatus) else ""
    found = await app_overview.vpp_users(db, console.scope, console.og,
                                         PageRequest(page_number, PAGE_SIZE), status=status or None,
                                         text=params["q"] or None)
    return render(
        request, console, "vpp_users.html", title="Apps and Books users", nav="apps", lines=found.items,
        total=found.total, page=page_number, pages=max(1, -(-found.total // PAGE_SIZE)), params=params,
        statuses=tuple(VppUserStatus), query=lambda **changes: query(params, **changes),
    )


# --- an app ---------------------------------------------------------------------------------------


async def _console_and_app(
    console: Console, db: Db, app_ref: str, *, change: bool = False
) -> tuple[Console, CatalogEntry]:
    """The signed-in console and an app that reaches its chosen OG; else PageNotFound."""
    return console, await open_with(console, app_ref, lambda console, app_id: app_overview.get_visible(
        db, console.scope, console.og, app_id), change=change)


@dataclass(frozen=True)
class AssignForm:
    target: str = ""
    mode: str = "automatic"


def _can_unassign(console: Console, view: apps.AssignmentView, og_paths: dict[int, str]) -> bool:
    """An OG target must lie in the chosen OG's subtree; a user group in the admin's scope."""
    if view.target_name is None:
        return False
    if view.row.target_kind == "og":
        return og_paths.get(view.row.target_id, "\x00").startswith(console.og.path)
    return True


async def _app_page(
    request: Request, db: Db, console: Console, entry: CatalogEntry, *, status: int = 200,
    error: str | None = None, notice: str | None = None, values: AssignForm | None = None,
) -> Response:
    q = request.query_params
    app = entry.app
    views = await apps.assignments_of(db, console.scope, app.id)
    og_paths = {row.id: row.path for row, _ in console.ogs}
    statuses = await app_overview.assignment_statuses(db, console.here, app, entry.catalog,
                                                      [v.row for v in views])
    device_status = q.get("status", "").strip()[:32]
    device_status = device_status if parse_device_app_status(device_status) else ""
    page_number = parse_page(q.get("page"))
    lines = await app_overview.devices_with(db, console.here, app.id, PageRequest(page_number, PAGE_SIZE),
                                            status=device_status or None)
    targets = None if console.read_only else await app_overview.targets(
        db, console.scope, console.ogs, console.og, app, entry.catalog)
    params = {"og": str(console.og.id), "status": device_status}
    return render(
        request, console, "app.html", status=status, title=app.name, nav="apps", entry=entry, app=app,
        kind_label=_kind_label(app.kind), views=views, statuses=statuses,
        unassignable={v.row.id for v in views if _can_unassign(console, v, og_paths)},
        counts=await app_overview.status_counts(db, console.here, app.id), lines=lines.items,
        device_total=lines.total, page=page_number, pages=max(1, -(-lines.total // PAGE_SIZE)),
        device_status=device_status, status_labels=STATUS_LABELS, targets=targets, modes=MODES,
        values=values or AssignForm(), error=error, notice=notice,
        query=lambda **changes: query(params, **changes),
    )


def _notice(request: Request, views_names: dict[int, str | None], app_name: str) -> str | None:
    q = request.query_params
    done = q.get("done", "")
    if done == "created":
        return f"{app_name} was added to the catalog."
    if done == "unassigned":
        return ("The assignment was removed. Devices that already have the app keep it; no new "
                "installs are started for that target.")
    if done == "assigned":
        assignment = parse_id(q.get("assignment"))
        target = views_names.get(assignment) if assignment else None
        sentence = f"{app_name} was assigned to {target or 'the target'}."
        if q.get("mode") == "on_demand":
            return f"{sentence} On demand: nothing is installed until someone asks for it."
        started, refused, busy = (parse_page(q.get(name)) for name in ("started", "unsupported", "busy"))
        parts = [f"delivery started on {started} enrolled device{'' if started == 1 else 's'}"]
        if refused:
            parts.append(f"{refused} device{' is' if refused == 1 else 's are'} not supported "
                         "(see the reason below)")
        if busy:
            parts.append(f"{busy} already had it or {'was' if busy == 1 else 'were'} getting it")
        return f"{sentence} {'; '.join(parts).capitalize()}."
    return None


@router.get("/apps/{app_ref}")
async def app_detail(request: Request, db: Db, console: SignedIn, app_ref: str) -> Response:
    console, entry = await _console_and_app(console, db, app_ref)
    views = await apps.assignments_of(db, console.scope, entry.app.id)
    notice = _notice(request, {v.row.id: v.target_name for v in views}, entry.app.name)
    return await _app_page(request, db, console, entry, notice=notice)


def _parse_target(raw: str) -> tuple[str, int] | None:
    kind, _, ref = raw.partition(":")
    target_id = parse_id(ref)
    if kind not in apps.TARGET_KINDS or target_id is None:
        return None
    return kind, target_id


async def _refuse(request: Request, db: Db, console: Console, entry: CatalogEntry, status: int,
                  message: str, values: AssignForm) -> Response:
    app_id = entry.app.id
    log(request, "console.apps", "refused", warn=True, admin=console.admin.username, app=entry.app.bundle_id,
        app_id=app_id, reason=message)
    await db.rollback()  # nothing half-written stays; it also expires every loaded row
    console, entry = await _console_and_app(await load_console(request, db), db, str(app_id))
    return await _app_page(request, db, console, entry, status=status, error=message, values=values)


@router.post("/apps/{app_ref}/assignments")
async def assign(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=4))],
    db: Db,
    console: SignedIn,
    app_ref: str,
) -> Response:
    console, entry = await _console_and_app(console, db, app_ref, change=True)
    values = AssignForm(target=text(form, "target", 32), mode=text(form, "mode", 16) or "automatic")
    target = _parse_target(values.target)
    if target is None:
        return await _refuse(request, db, console, entry, 400,
                             "Choose an organization group or a user group to assign the app to.", values)
    kind, target_id = target
    if kind == "og" and not any(row.id == target_id for row, _ in _subtree(console)):
        log(request, "console.apps", "refused", warn=True, admin=console.admin.username,
            reason="target OG out of reach")
        return not_found(request, console)
    try:
        row = await apps.assign(db, console.scope, entry.app.id, kind, target_id, values.mode)
        started = await app_delivery.deliver_assignment(db, console.scope, entry.app, row)
    except NotFound:
        log(request, "console.apps", "refused", warn=True, admin=console.admin.username,
            reason="target out of reach")
        await db.rollback()  # it expires every loaded row: load the console again for the page
        raise PageNotFound(await load_console(request, db)) from None
    except (InvalidInput, Conflict) as exc:
        return await _refuse(request, db, console, entry, 409 if isinstance(exc, Conflict) else 400,
                             exc.message, values)
    except QuinceError as exc:
        return await _refuse(request, db, console, entry, 409, exc.message, values)
    await db.commit()
    log(request, "console.apps", "assigned", admin=console.admin.username, app=entry.app.bundle_id,
        app_id=entry.app.id, target_kind=kind, target_id=target_id, mode=row.mode,
        started=started.started, not_supported=started.not_supported)
    return redirect(f"/console/apps/{entry.app.id}", console, done="assigned", assignment=row.id,
                    mode=row.mode, started=started.started, unsupported=started.not_supported,
                    busy=started.under_way)


@router.post("/apps/{app_ref}/assignments/{assignment_ref}/delete")
async def unassign(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=2))],
    db: Db,
    console: SignedIn,
    app_ref: str,
    assignment_ref: str,
) -> Response:
    console, entry = await _console_and_app(console, db, app_ref, change=True)
    assignment_id = parse_id(assignment_ref)
    views = await apps.assignments_of(db, console.scope, entry.app.id)
    view = next((v for v in views if v.row.id == assignment_id), None)
    og_paths = {row.id: row.path for row, _ in console.ogs}
    if view is None or not _can_unassign(console, view, og_paths):
        log(request, "console.apps", "refused", warn=True, admin=console.admin.username,
            reason="assignment out of reach")
        return not_found(request, console)
    await apps.unassign(db, console.scope, entry.app.id, view.row.id)
    await db.commit()
    log(request, "console.apps", "unassigned", admin=console.admin.username, app=entry.app.bundle_id,
        app_id=entry.app.id, target_kind=view.row.target_kind, target_id=view.row.target_id)
    return redirect(f"/console/apps/{entry.app.id}", console, done="unassigned")
