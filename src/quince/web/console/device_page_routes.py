"""A device's page (its record, the enrollment decision, commands with their results, apps and
raw messages) and queueing a command a user-enrolled device accepts too."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from quince.domain.devices import still_managed
from quince.domain.errors import InvalidInput, QuinceError
from quince.services.apps import catalog as apps
from quince.services.devices import records as devices
from quince.services.enrollment import decision as enrollment_decision
from quince.services.enrollment import device_decision
from quince.services.enrollment import preview as enrollment_preview
from quince.services.mdm import commands, enterprise_wipe
from quince.store.models import AppRow, DeviceAppRow, DeviceRow, EnrollmentSessionRow, EnrollmentUserRow
from quince.store.paging import Page, PageRequest
from quince.web.console.context import (
    Console,
    ConsoleRoute,
    SignedIn,
    log,
    open_with,
    parse_id,
    posted,
    redirect,
    render,
    text,
)
from quince.web.console.device_views import (
    RAW_LIMIT,
    MessageView,
    RawPlist,
    command_view,
    list_item,
    raw_plist,
)
from quince.web.deps import Db

router = APIRouter(route_class=ConsoleRoute)

# Commands, apps and raw messages on a device's page: the latest ones, with a note when cut.
DETAIL_LIMIT = 50
# The commands a user-enrolled device accepts too, offered on every device's page.
QUEUEABLE = (
    "DeviceInformation", "ProfileList", "CertificateList", "SecurityInfo",
    "InstalledApplicationList", "ManagedApplicationList",
)
APP_KINDS = {"purchased": "Apps and Books", "public": "Public", "in_house": "In-house"}
LICENCES = {"user": "User-based", "device": "Device-based"}
CHANNELS = {"checkin": "Check-in", "connect": "Command answer"}


async def _trace_as_seen(db: Db, console: Console, decision: EnrollmentSessionRow | None,
                         user: EnrollmentUserRow | None) -> list[str]:
    """The stored decision trace with the organization groups and user groups of other tenants
    replaced, as the enrollment preview shows it (a matching mapping may point anywhere)."""
    if decision is None:
        return []
    groups = {m.user_group_id: m.user_group_name
              for m in await enrollment_decision.mappings_for(db, user.id)} if user else {}
    seen = await enrollment_preview.visibility(db, console.scope, groups)
    redact = seen.redactor("\n".join(decision.decision_trace), keep=[repr(user.username)] if user else [])
    return [redact(line) for line in decision.decision_trace]


async def _device_page(request: Request, db: Db, console: Console, device: DeviceRow, *,
                       status: int = 200, error: str | None = None, notice: str | None = None) -> Response:
    related = await devices.related(db, console.scope, [device])
    item = list_item(device, related)
    user: EnrollmentUserRow | None = related.users.get(device.enrollment_user_id) \
        if device.enrollment_user_id is not None else None
    decision = await device_decision.for_device(db, device.id)
    trace = await _trace_as_seen(db, console, decision, user)
    latest = PageRequest(0, DETAIL_LIMIT)
    history = await devices.command_history(db, console.scope, device.id, latest)
    device_apps: Page[tuple[DeviceAppRow, AppRow]] = await apps.device_apps(
        db, console.scope, device.id, latest)
    messages = await devices.messages(db, console.scope, device.id, latest)
    wipe = await enterprise_wipe.pending_wipe(db, console.scope, device.id)
    return render(
        request, console, "device.html", status=status, title=f"Device {device.id}", nav="devices",
        item=item, device=device, user=user, properties=devices.extended_properties(device),
        decision=decision, trace=trace, history=history,
        command_views=[command_view(c) for c in history.items],
        device_apps=device_apps, app_kinds=APP_KINDS, licences=LICENCES, messages=messages,
        message_views=[MessageView(m, CHANNELS.get(m.channel, m.channel), raw_plist(m.raw) or
                                   RawPlist("", 0, False, False, True)) for m in messages.items],
        detail_limit=DETAIL_LIMIT, raw_limit=RAW_LIMIT, queueable=QUEUEABLE, error=error, notice=notice,
        wipe=wipe, deletable=not still_managed(device.enrollment_status),
    )


async def console_and_device(
    console: Console, db: Db, device_ref: str, *, change: bool = False
) -> tuple[Console, DeviceRow]:
    """The signed-in console and a device of its chosen OG; else PageNotFound."""
    return console, await open_with(console, device_ref,
                           lambda console, device_id: devices.get(db, console.here, device_id), change=change)


@router.get("/devices/{device_ref}")
async def device_detail(request: Request, db: Db, console: SignedIn, device_ref: str) -> Response:
    console, device = await console_and_device(console, db, device_ref)
    queued = parse_id(request.query_params.get("queued"))
    notice = f"Command {queued} was queued." if queued else None
    if request.query_params.get("done") == "wipe":
        notice = "Enterprise Wipe queued: management is removed when the device next connects."
    return await _device_page(request, db, console, device, notice=notice)


@router.post("/devices/{device_ref}/commands")
async def queue_command(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=4))],
    db: Db,
    console: SignedIn,
    device_ref: str,
) -> Response:
    console, device = await console_and_device(console, db, device_ref, change=True)
    request_type = text(form, "request_type", 64)
    try:
        if not request_type:
            raise InvalidInput("request_type", "Choose a command to queue.")
        row = await commands.queue(db, console.scope, device.id, request_type, {},
                                   queued_by=console.actor)
    # queue() refuses before it adds anything, so there is nothing to roll back here.
    except QuinceError as exc:
        log(request, "console.command", "refused", warn=True, admin=console.admin.username,
            device=device.uuid, request_type=request_type)
        return await _device_page(request, db, console, device, status=409, error=exc.message)
    await db.commit()
    log(request, "console.command", "queued", admin=console.admin.username, device=device.uuid,
        request_type=row.request_type)
    return redirect(f"/console/devices/{device.id}", console, queued=row.id)
