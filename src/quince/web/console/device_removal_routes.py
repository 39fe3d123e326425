"""Removing one device from management from its page: the Enterprise Wipe of an enrolled device
and deleting an unmanaged record (Unenrolled, or a placeholder), each confirmed on a page naming
the device and its user first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from quince.domain.devices import EnrollmentStatus, still_managed
from quince.services.devices import deletion
from quince.services.devices import records as devices
from quince.services.mdm import enterprise_wipe
from quince.store.models import DeviceRow
from quince.web.console.context import (
    Console,
    ConsoleRoute,
    PageNotFound,
    SignedIn,
    log,
    posted,
    redirect,
    render,
)
from quince.web.console.device_page_routes import console_and_device
from quince.web.console.device_views import list_item
from quince.web.deps import Db

router = APIRouter(route_class=ConsoleRoute)
ACTIONS = ("wipe", "delete")
Confirmed = Annotated[FormData, Depends(posted(max_fields=2))]


async def _confirmation(request: Request, db: Db, console: Console, device: DeviceRow,
                        action: str) -> Response:
    related = await devices.related(db, console.scope, [device])
    user = related.users.get(device.enrollment_user_id) if device.enrollment_user_id is not None else None
    return render(request, console, "device_removal.html", title=f"Device {device.id}: confirm",
                  nav="devices", action=action, device=device, item=list_item(device, related), user=user,
                  allowed=_allowed(action, device))


def _allowed(action: str, device: DeviceRow) -> bool:
    if action == "wipe":
        return device.enrollment_status == EnrollmentStatus.ENROLLED
    return not still_managed(device.enrollment_status)


@router.get("/devices/{device_ref}/{action}")
async def confirmation(request: Request, db: Db, console: SignedIn, device_ref: str, action: str) -> Response:
    """The page confirming an Enterprise Wipe (`wipe`) or the deletion of the record (`delete`)."""
    if action not in ACTIONS:
        raise PageNotFound(console)
    console, device = await console_and_device(console, db, device_ref, change=True)
    return await _confirmation(request, db, console, device, action)


@router.post("/devices/{device_ref}/wipe")
async def wipe(request: Request, form: Confirmed, db: Db, console: SignedIn, device_ref: str) -> Response:
    console, device = await console_and_device(console, db, device_ref, change=True)
    wiped = await enterprise_wipe.enterprise_wipe(db, console.here, device.id, actor=console.actor)
    await db.commit()
    log(request, "console.device", "enterprise_wipe", admin=console.admin.username, device=device.uuid,
        command=wiped.command_uuid)
    return redirect(f"/console/devices/{device.id}", console, done="wipe")


@router.post("/devices/{device_ref}/delete")
async def delete(request: Request, form: Confirmed, db: Db, console: SignedIn, device_ref: str) -> Response:
    console, device = await console_and_device(console, db, device_ref, change=True)
    uuid = device.uuid
    await deletion.delete_record(db, console.here, device.id)
    await db.commit()
    log(request, "console.device", "deleted", admin=console.admin.username, device=uuid)
    return redirect("/console/devices", console, done="delete", count=1)
