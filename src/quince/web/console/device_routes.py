"""The device list and a device's page, where a UE-allowed command can be queued."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.errors import InvalidInput, NotFound, QuinceError, ReadOnly
from quince.services import commands, devices
from quince.services.paging import PageRequest
from quince.store.models import DeviceRow, EnrollmentSessionRow, EnrollmentUserRow
from quince.web.console.context import (
    Console,
    log,
    not_found,
    open_console,
    parse_id,
    parse_page,
    problem,
    query,
    read_form,
    redirect,
    render,
    text,
)

router = APIRouter()

PAGE_SIZE = 50
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


@router.get("/devices")
async def device_list(request: Request) -> Response:
    q = request.query_params
    params = {name: q.get(name, "").strip()[:128] for name in
              ("og", "status", "ownership", "user", "ue", "q", "sort", "dir")}
    page_number = parse_page(q.get("page"))
    async with request.app.state.sessionmaker() as db:
        console = await open_console(request, db)
        if isinstance(console, Response):
            return console
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
        return render(
            request, console, "devices.html", status=400 if error else 200, title="Devices",
            nav="devices", items=items, total=total, page=page_number,
            pages=max(1, -(-total // PAGE_SIZE)), params=params, sort=sort, descending=descending,
            sorts=SORTS, statuses=STATUSES, ownerships=OWNERSHIPS, error=error,
            query=lambda **changes: query(params, **changes),
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
    return render(
        request, console, "device.html", status=status, title=f"Device {device.id}", nav="devices",
        item=item, device=device, user=user, properties=devices.extended_properties(device),
        decision=decision, history=history, queueable=QUEUEABLE, error=error, notice=notice,
    )


async def _console_and_device(
    request: Request, db: AsyncSession, device_ref: str
) -> tuple[Console, DeviceRow] | Response:
    """The signed-in console and a device of its chosen OG; else the sign-in redirect or a 404."""
    console = await open_console(request, db)
    if isinstance(console, Response):
        return console
    device_id = parse_id(device_ref)
    try:
        if device_id is None:
            raise NotFound("Device", device_ref)
        return console, await devices.get(db, console.here, device_id)
    except NotFound:
        return not_found(request, console)


@router.get("/devices/{device_ref}")
async def device_detail(request: Request, device_ref: str) -> Response:
    async with request.app.state.sessionmaker() as db:
        found = await _console_and_device(request, db, device_ref)
        if isinstance(found, Response):
            return found
        console, device = found
        queued = parse_id(request.query_params.get("queued"))
        notice = f"Command {queued} was queued." if queued else None
        return await _device_page(request, db, console, device, notice=notice)


@router.post("/devices/{device_ref}/commands")
async def queue_command(request: Request, device_ref: str) -> Response:
    form = await read_form(request, max_fields=4)
    if isinstance(form, Response):
        return form
    async with request.app.state.sessionmaker() as db:
        found = await _console_and_device(request, db, device_ref)
        if isinstance(found, Response):
            return found
        console, device = found
        request_type = text(form, "request_type", 64)
        try:
            if not request_type:
                raise InvalidInput("request_type", "Choose a command to queue.")
            row = await commands.queue(db, console.scope, device.id, request_type, {},
                                       queued_by=console.actor)
        # queue() refuses before it adds anything, so there is nothing to roll back here.
        except ReadOnly as exc:
            log(request, "console.command", "read_only", warn=True, admin=console.admin.username)
            return problem(request, 403, "Not allowed", exc.message, console)
        except QuinceError as exc:
            log(request, "console.command", "refused", warn=True, admin=console.admin.username,
                device=device.uuid, request_type=request_type)
            return await _device_page(request, db, console, device, status=409, error=exc.message)
        await db.commit()
        log(request, "console.command", "queued", admin=console.admin.username, device=device.uuid,
            request_type=row.request_type)
        return redirect(f"/console/devices/{device.id}", console, queued=row.id)
