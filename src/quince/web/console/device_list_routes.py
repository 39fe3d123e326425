"""The device list (filters, sort, paging, jump to page) and the bulk removal of abandoned
placeholders, reviewed first and then confirmed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from quince.domain.devices import EnrollmentStatus
from quince.domain.errors import InvalidInput, ReadOnly
from quince.services.devices import bulk
from quince.services.devices import cleanup as device_cleanup
from quince.services.devices import records as devices
from quince.services.devices.cleanup import RemovalChanged
from quince.store.errors import IntegrityError
from quince.store.models import DeviceRow
from quince.store.paging import Page, PageRequest
from quince.web.console.context import (
    Changer,
    Console,
    ConsoleRoute,
    SignedIn,
    load_console,
    log,
    parse_page,
    posted,
    query,
    read_only,
    redirect,
    render,
    text,
)
from quince.web.console.device_views import OWNERSHIPS, BulkNotice, bulk_notice, list_item
from quince.web.deps import Db

router = APIRouter(route_class=ConsoleRoute)

PAGE_SIZE = 50
PAGE_SIZES = (25, 50, 100, 200)
STATUSES = tuple(status.value for status in EnrollmentStatus)
SORTS = (("id", "ID"), ("devicereportedname", "Name"), ("udid", "UDID / Enrollment ID"),
         ("enrollmentstatus", "Status"), ("model", "Model"), ("operatingsystem", "OS version"),
         ("lastseen", "Last seen"))
LAST_SEEN = tuple((choice.value, choice.label) for choice in devices.LastSeen)
# The list's filters, carried by sort links, the pager and the jump-to-page form.
LIST_PARAMS = ("og", "status", "ownership", "user", "ue", "abandoned", "seen", "q", "sort", "dir", "size")


def list_filters(request: Request, console: Console) -> dict[str, str]:
    """The list's filters from the query (what links carry on), `og` set to the console's OG."""
    q = request.query_params
    params = {name: q.get(name, "").strip()[:128] for name in LIST_PARAMS}
    params["og"] = str(console.og.id)
    return params


def criteria(params: dict[str, str]) -> devices.Criteria:
    """What the list's filters ask of the device search (InvalidInput for a bad "Last seen")."""
    return devices.Criteria(
        text=params["q"] or None, user=params["user"] or None, ownership=params["ownership"] or None,
        enrollment_status=params["status"] or None,
        user_enrolled={"yes": True, "no": False}.get(params["ue"]),
        abandoned={"yes": True, "no": False}.get(params["abandoned"]),
        last_seen=devices.LastSeen.parse(params["seen"]) if params["seen"] else None,
    )


def page_size(params: dict[str, str]) -> int:
    """The page size chosen (one of PAGE_SIZES), else PAGE_SIZE."""
    return int(params["size"]) if params["size"] in {str(n) for n in PAGE_SIZES} else PAGE_SIZE


# --- the device list ----------------------------------------------------------------------------


@router.get("/devices")
async def device_list(request: Request, db: Db, console: SignedIn) -> Response:
    removed = request.query_params.get("removed", "")
    notice = None
    if removed.isascii() and removed.isdigit() and len(removed) < 10:
        count = int(removed)
        notice = f"Removed {count} abandoned placeholder{'' if count == 1 else 's'}."
    done = await bulk_notice(request, db, console)
    return await _list_page(request, db, console, notice=notice, done=done)


def _jump_target(raw: str | None) -> int | None:
    """The 1-based page a person typed into "Jump to page"; None when they typed none; 0 when it
    is not a page number at all."""
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 7 else 0


async def _list_page(
    request: Request, db: Db, console: Console, *, status: int = 200,
    notice: str | None = None, done: BulkNotice | None = None,
    cleanup_days: str = str(device_cleanup.DEFAULT_DAYS), cleanup_error: str | None = None,
) -> Response:
    """The device list for the request's query, with the removal form as given."""
    q = request.query_params
    params = list_filters(request, console)
    size = page_size(params)
    sort = params["sort"] if params["sort"] in dict(SORTS) else "id"
    descending = params["dir"] == "desc"
    page_number = parse_page(q.get("page"))
    jump_raw = q.get("goto", "")[:16]
    jump = _jump_target(jump_raw)
    if jump is not None:
        page_number = max(jump - 1, 0)
    error: str | None = None
    jump_error: str | None = None
    rows: list[DeviceRow] = []
    total = 0
    try:
        asked = criteria(params)

        async def search(number: int) -> Page[DeviceRow]:
            return await devices.search(db, console.here, PageRequest(number, size), order_by=sort,
                                        descending=descending, **asked)

        found = await search(page_number)
        pages = max(1, -(-found.total // size))
        if jump is not None and not 1 <= jump <= pages:
            jump_error = (f"There is no page {jump_raw.strip()!r}: enter a page number from 1 to "
                          f"{pages}.")
            page_number = 0 if jump == 0 else pages - 1
            found = await search(page_number)
        rows, total = list(found.items), found.total
    except InvalidInput as exc:
        error = exc.message
    pages = max(1, -(-total // size))
    related = await devices.related(db, console.scope, rows)
    items = [list_item(row, related) for row in rows]
    bad = error is not None or jump_error is not None
    return render(
        request, console, "devices.html", status=400 if bad and status == 200 else status,
        title="Devices", nav="devices", items=items, total=total, page=page_number, pages=pages,
        params=params, sort_headers=_sort_headers(params, sort, descending), statuses=STATUSES,
        ownerships=OWNERSHIPS, last_seen=LAST_SEEN, error=error, notice=notice, done=done,
        page_sizes=PAGE_SIZES, page_size=size, max_selection=bulk.MAX_SELECTION,
        bulk_actions=list(bulk.BulkAction),
        jump_error=jump_error, jump_value=jump_raw.strip() if jump_error else str(page_number + 1),
        carried=[(name, value) for name, value in params.items() if value],
        cleanup_days=cleanup_days, cleanup_error=cleanup_error, min_days=device_cleanup.MIN_DAYS,
        max_days=device_cleanup.MAX_DAYS, query=lambda **changes: query(params, **changes),
    )


def _sort_headers(params: dict[str, str], sort: str, descending: bool) -> list[dict[str, str | None]]:
    """The sortable columns' headers: each links to the list sorted by it (the sorted column's
    link turns the order round) and the sorted one says which way it is sorted."""
    headers: list[dict[str, str | None]] = []
    for key, label in SORTS:
        active = sort == key
        order = "asc" if active and descending else "desc" if active else "asc"
        headers.append({
            "label": label, "href": f"/console/devices?{query(params, sort=key, dir=order, page=None)}",
            "sort": ("descending" if descending else "ascending") if active else None,
        })
    return headers


# --- removing abandoned placeholders ----------------------------------------------------------


@router.get("/devices/abandoned/preview")
async def abandoned_preview_address(request: Request, db: Db, console: SignedIn) -> Response:
    """The preview is a POST; typed into the address bar it leads back to the list."""
    return redirect("/console/devices", console)


@router.post("/devices/abandoned/preview")
async def abandoned_preview(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=4))],
    db: Db,
    console: Changer,
) -> Response:
    raw_days = text(form, "days", 16)
    try:
        days = device_cleanup.parse_days(raw_days)
    except InvalidInput as exc:
        log(request, "console.devices", "abandoned_refused", warn=True, admin=console.admin.username,
            og=console.og.id, reason="bad_days")
        return await _list_page(request, db, console, status=400, cleanup_days=raw_days,
                                cleanup_error=exc.message)
    preview = await device_cleanup.preview(db, console.here, days)
    return await _preview_page(request, db, console, preview)


async def _preview_page(request: Request, db: Db, console: Console,
                        preview: device_cleanup.Preview, *, status: int = 200,
                        error: str | None = None) -> Response:
    related = await devices.related(db, console.scope, preview.sample)
    return render(
        request, console, "device_abandoned.html", status=status, title="Remove abandoned placeholders",
        nav="devices", preview=preview, sample=[list_item(row, related) for row in preview.sample],
        error=error,
    )


@router.post("/devices/abandoned/remove")
async def abandoned_remove(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=4))],
    db: Db,
    console: Changer,
) -> Response:
    raw_days, raw_count = text(form, "days", 16), text(form, "count", 16)
    try:
        days = device_cleanup.parse_days(raw_days)
        if not raw_count.isascii() or not raw_count.isdigit() or len(raw_count) > 9:
            raise InvalidInput("count", "The confirmation does not say how many placeholders to "
                                        "remove: review the removal again.")
    except InvalidInput as exc:
        log(request, "console.devices", "abandoned_refused", warn=True, admin=console.admin.username,
            og=console.og.id, reason="bad_input")
        return await _list_page(request, db, console, status=400, cleanup_days=raw_days,
                                cleanup_error=exc.message)
    expected = int(raw_count)
    try:
        removed = await device_cleanup.remove(db, console.here, days, expected=expected)
    except ReadOnly:
        return read_only(request, console)
    except (RemovalChanged, IntegrityError) as exc:
        # Nothing is kept of a refused removal. A rollback expires what the session loaded,
        # the signed-in admin included: load the console again for the page.
        await db.rollback()
        console = await load_console(request, db)
        if isinstance(exc, RemovalChanged):
            log(request, "console.devices", "abandoned_changed", warn=True,
                admin=console.admin.username, og=console.og.id, days=days, confirmed=exc.confirmed,
                now=exc.now)
            message = exc.message
        else:  # something new refers to one of them (a table this removal does not know)
            log(request, "console.devices", "abandoned_refused", warn=True,
                admin=console.admin.username, og=console.og.id, days=days, reason="integrity")
            message = "Nothing was removed: other records still refer to some of these placeholders."
        preview = await device_cleanup.preview(db, console.here, days)
        return await _preview_page(request, db, console, preview, status=409, error=message)
    await db.commit()
    held = removed.holdings
    log(request, "console.devices", "abandoned_removed", admin=console.admin.username,
        og=console.og.id, days=days, removed=removed.count, sessions=held.sessions,
        certificates=held.certificates, commands=held.commands, messages=held.messages,
        apps=held.apps)
    return redirect("/console/devices", console, removed=removed.count)


# --- a device's page -------------------------------------------------------------------------
