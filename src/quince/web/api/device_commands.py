"""Commands for devices: Apple's form (`{"RequestType": …}`, 201 with the queued command) and
Workspace ONE's (`?command=<Name>`, by device id, by an alternate id, or in bulk; 202 without a
body). services/mdm/ws1_commands.py says what each Workspace ONE name queues."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from quince.domain.errors import InvalidInContext, QuinceError
from quince.services.devices import records as devices
from quince.services.mdm import commands, ws1_commands
from quince.web.api import errors
from quince.web.api.deps import Caller, IdPath
from quince.web.api.device_schemas import (
    BulkFault,
    BulkFaults,
    BulkResponse,
    BulkValues,
    CommandRequest,
    QueuedCommand,
    Ws1CommandBody,
    Ws1CommandName,
)
from quince.web.api.devices import AlternateIdQuery, SearchByQuery, queued_fields
from quince.web.api.schemas import ApiError
from quince.web.deps import Db

router = APIRouter(prefix="/API/mdm/devices", tags=["Devices"], responses=errors.RESPONSES)

CommandQuery = Annotated[Ws1CommandName, Query(description=(
    "A Workspace ONE command name, any case: " + ", ".join(ws1_commands.COMMAND_NAMES) + "."))]
_ACCEPTED: dict[int | str, dict[str, Any]] = {202: {
    "description": "Queued; the device is woken by a push. No body, as Workspace ONE answers."}}
_REFUSALS: dict[int | str, dict[str, Any]] = {
    409: {"model": ApiError, "description": "The device is not enrolled."},
    422: {"model": ApiError, "description": (
        "The command is not allowed on a user-enrolled device (errorCode 1030, naming Apple's rule), "
        "its keys do not fit its RequestType (errorCode 1031), or the request names no command or "
        "two different ones (errorCode 1012); the message says which.")},
}


def _ws1_name(query: str | None, body: CommandRequest | Ws1CommandBody | None) -> str | None:
    """The Workspace ONE command the request names, or None for Apple's RequestType form."""
    if isinstance(body, CommandRequest):
        if query is not None:
            raise InvalidInContext("command", "Give either ?command=<Name> or a body with a RequestType, "
                                              "not both.")
        return None
    said = body.command if body is not None else None
    if query is not None and said is not None and query != said:
        raise InvalidInContext("command", f"?command={query} and the body's command {said} differ.")
    name = query or said
    if name is None:
        raise InvalidInContext("command", (
            "Name the command: ?command=<Name> (" + ", ".join(ws1_commands.COMMAND_NAMES)
            + ") or a JSON body {\"RequestType\": …} with Apple's command keys."))
    return name


@router.post(
    "/{device_id:int}/commands", response_model=QueuedCommand, status_code=201,
    responses={**_ACCEPTED, **_REFUSALS},
)
async def queue_command(
    device_id: IdPath,
    db: Db,
    caller: Caller,
    command: CommandQuery | None = None,
    body: Annotated[CommandRequest | Ws1CommandBody | None, Body()] = None,
) -> QueuedCommand | Response:
    """Queue an MDM command, in either form:

    - Apple's: `{"RequestType": "DeviceInformation", "Queries": [...]}`, the other keys being the
      command's own; answered 201 with the queued command.
    - Workspace ONE's: `?command=SyncDevice` with no body, or the body `{"command": "SyncDevice"}`;
      answered 202 without a body. EnterpriseWipe removes management (the enrollment profile).

    A command User Enrollment forbids (EraseDevice, DeviceWipe, ClearPasscode, …) on a
    user-enrolled device is refused with 422 and nothing is queued."""
    caller.require_write()
    name = _ws1_name(command, body)
    if name is not None:
        await ws1_commands.send(db, caller, device_id, name, actor=caller.actor)
        await db.commit()
        return Response(status_code=202)
    assert isinstance(body, CommandRequest)
    device = await devices.get(db, caller, device_id)  # a missing device is 404 like elsewhere
    row = await commands.queue(
        db, caller, device.id, body.request_type.value, body.command_keys, queued_by=caller.actor
    )
    await db.commit()
    return QueuedCommand(**queued_fields(row))


@router.post("/commands", status_code=202, response_class=Response, responses={**_ACCEPTED, **_REFUSALS})
async def queue_command_by_alternate_id(
    db: Db, caller: Caller, command: CommandQuery, searchby: SearchByQuery, id: AlternateIdQuery,
) -> Response:
    """Workspace ONE's command for the device `searchby` and `id` name (as in
    `GET /API/mdm/devices?searchby=&id=`). 202 without a body."""
    caller.require_write()
    device = await devices.find_by(db, caller, searchby, id)
    await ws1_commands.send(db, caller, device.id, command, actor=caller.actor)
    await db.commit()
    return Response(status_code=202)


def _fault(value: str, error: QuinceError) -> BulkFault:
    return BulkFault(item_value=value, error_code=errors.classify(error)[1], message=error.message)


@router.post("/commands/bulk", response_model=BulkResponse)
async def queue_command_in_bulk(
    db: Db, caller: Caller, command: CommandQuery, searchby: SearchByQuery, body: BulkValues,
) -> BulkResponse:
    """Workspace ONE's command for each device of `{"BulkValues": {"Value": [...]}}`, named as
    `searchby` says. Each device that cannot take it (not found, not enrolled, a command User
    Enrollment forbids) is a fault with the errorCode its own request would answer; the others
    are queued."""
    caller.require_write()
    outcome = await ws1_commands.send_to_each(db, caller, command, searchby, body.bulk_values.value,
                                              actor=caller.actor)
    await db.commit()
    return BulkResponse(
        total_items=outcome.total, accepted_items=outcome.accepted, failed_items=len(outcome.faults),
        faults=BulkFaults(fault=[_fault(f.value, f.error) for f in outcome.faults]),
    )
