"""Changing device records: deleting one, moving one to another organization group
(Workspace ONE's `DELETE /devices/{id}` and `changeorganizationgroup`, by id or alternate id)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from quince.services.devices import deletion, moves
from quince.services.devices import records as devices
from quince.web.api import errors
from quince.web.api.deps import Caller, IdPath
from quince.web.api.devices import AlternateIdQuery, SearchByQuery
from quince.web.api.schemas import MAX_ID, ApiError
from quince.web.deps import Db

router = APIRouter(prefix="/API/mdm/devices", tags=["Devices"], responses=errors.RESPONSES)

_STILL_MANAGED: dict[int | str, dict[str, Any]] = {409: {"model": ApiError, "description": (
    "The device is still managed (Enrolled or EnterpriseWipePending): send it an Enterprise Wipe "
    "first and delete the record once it is Unenrolled.")}}
_MOVE_REFUSED: dict[int | str, dict[str, Any]] = {422: {"model": ApiError, "description": (
    "The request follows this document, but the device is user-enrolled and User Enrollment is not "
    "enabled at the target organization group.")}}
OgIdQuery = Annotated[int, Query(ge=1, le=MAX_ID,
                                 description="The organization group to move the device to.")]


@router.delete("/{device_id:int}", status_code=204, response_class=Response, responses=_STILL_MANAGED)
async def delete_device(device_id: IdPath, db: Db, caller: Caller) -> Response:
    """Delete a device record that no device is managed through any more: a placeholder, or an
    Unenrolled device, with its enrollment sessions, certificates, commands and messages. 204."""
    await deletion.delete_record(db, caller, device_id)
    await db.commit()
    return Response(status_code=204)


@router.delete("", status_code=204, response_class=Response, responses=_STILL_MANAGED)
async def delete_device_by_alternate_id(
    db: Db, caller: Caller, searchby: SearchByQuery, id: AlternateIdQuery,
) -> Response:
    """The same, for the device `searchby` and `id` name."""
    caller.require_write()
    device = await devices.find_by(db, caller, searchby, id)
    await deletion.delete_record(db, caller, device.id)
    await db.commit()
    return Response(status_code=204)


@router.put(
    "/{device_id:int}/commands/changeorganizationgroup/{ogid:int}", status_code=204,
    response_class=Response, responses=_MOVE_REFUSED,
)
async def change_organization_group(
    device_id: IdPath, ogid: Annotated[int, Path(ge=1, le=MAX_ID)], db: Db, caller: Caller,
) -> Response:
    """Move the device to organization group `ogid` (both in your organization groups). The
    automatic apps reaching it there go out; a user-enrolled device moves only where User
    Enrollment is enabled (422). 204."""
    await moves.change_og(db, caller, device_id, ogid)
    await db.commit()
    return Response(status_code=204)


@router.post(
    "/commands/changeorganizationgroup", status_code=204, response_class=Response,
    responses=_MOVE_REFUSED,
)
async def change_organization_group_by_alternate_id(
    db: Db, caller: Caller, searchby: SearchByQuery, id: AlternateIdQuery, ogid: OgIdQuery,
) -> Response:
    """The same, for the device `searchby` and `id` name."""
    caller.require_write()
    device = await devices.find_by(db, caller, searchby, id)
    await moves.change_og(db, caller, device.id, ogid)
    await db.commit()
    return Response(status_code=204)
