"""/API/mdm/devices: device records as Workspace ONE's v1 API shows them, and their commands."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Path, Query

from quince.domain import users as user_rules
from quince.domain.og_settings import Ownership
from quince.services.devices import records as devices
from quince.services.devices.records import APPLE_PLATFORM, Related, SearchBy
from quince.services.scope import Scope
from quince.store.models import CommandRow, DeviceMessageRow, DeviceRow
from quince.web.api import errors
from quince.web.api.deps import Caller, IdPath, OgFilter, Paging, SortOrder, sort_descending
from quince.web.api.device_schemas import (
    Command,
    CommandHistory,
    Device,
    DeviceMessage,
    DeviceMessages,
    DeviceReference,
    DeviceSearch,
    ExtendedProperties,
    ExtendedProperty,
)
from quince.web.api.fields import AnyCase, DateTime, Text
from quince.web.api.schemas import IdValue, Reference, wire_time
from quince.web.deps import Db

router = APIRouter(prefix="/API/mdm/devices", tags=["Devices"], responses=errors.RESPONSES)

# Enrollment IDs and UDIDs fit the devices.udid column.
UDID_MAX_LENGTH = 128
OwnershipLetter = Literal["C", "E", "S", "Undefined"]


def _time(value: datetime | None) -> str | None:
    return wire_time(value) if value is not None else None


def present_one(row: DeviceRow, related: Related) -> Device:
    og = related.ogs[row.og_id]
    user = related.users.get(row.enrollment_user_id) if row.enrollment_user_id is not None else None
    successor = (
        related.successors.get(row.superseded_by_device_id)
        if row.superseded_by_device_id is not None else None
    )
    return Device(
        id=IdValue(value=row.id), uuid=row.uuid, udid=row.udid or "",
        # Rule 3: a user-enrolled device never reports hardware identifiers, so none are stored.
        serial_number="", mac_address="", imei="",
        device_friendly_name=devices.friendly_name(row, user.username if user else None),
        device_reported_name=row.device_name or "",
        location_group_id=Reference(id=IdValue(value=og.id), name=og.name, uuid=og.uuid),
        location_group_name=og.name,
        user_id=Reference(id=IdValue(value=user.id), name=user.username, uuid=user.uuid)
        if user else None,
        user_name=user.username if user else "",
        user_email_address=user.email if user else "",
        ownership=cast(OwnershipLetter, devices.effective_ownership(row)),
        platform=APPLE_PLATFORM,
        model=row.product_name or row.model or "",
        model_name=devices.model_name(row),
        operating_system=row.os_version or "",
        os_build_version=row.build_version or "",
        last_seen=_time(row.last_seen_at),
        enrollment_status=row.enrollment_status,
        last_enrolled_on=_time(row.enrolled_at),
        # User Enrollment is never supervised.
        is_supervised=False,
        is_user_enrolled=row.is_user_enrolled,
        license_type_eligibility=devices.effective_license_type(row),
        enrollment_user_uuid=user.uuid if user else None,
        is_abandoned_placeholder=row.superseded_by_device_id is not None,
        superseded_by=DeviceReference(id=IdValue(value=successor.id), uuid=successor.uuid)
        if successor else None,
    )


async def present(db: Db, scope: Scope, rows: Sequence[DeviceRow]) -> list[Device]:
    """Rows as the API's Device, with their OG, user and successor loaded once for the page."""
    related = await devices.related(db, scope, rows)
    return [present_one(row, related) for row in rows]


SearchByQuery = Annotated[Annotated[str, AnyCase([s.value for s in SearchBy], "searchby")], Query(
    description="Udid (a user-enrolled device's Enrollment ID), DeviceId, or Workspace ONE's "
    "Macaddress, Serialnumber, ImeiNumber, EasId (never stored for user-enrolled devices: 404)."
)]
AlternateIdQuery = Annotated[Text, Query(min_length=1, max_length=UDID_MAX_LENGTH,
                                         description="The device's value of `searchby`.")]


@router.get("", response_model=Device)
async def find_device(db: Db, caller: Caller, searchby: SearchByQuery, id: AlternateIdQuery) -> Device:
    """One device by an alternate identifier; `Udid` matches exactly, case included. With
    `DeviceId`, an id that is not a device id finds no device (404)."""
    row = await devices.find_by(db, caller, searchby, id)
    return (await present(db, caller, [row]))[0]


@router.get("/search", response_model=DeviceSearch, responses=errors.UNPROCESSABLE)
async def search_devices(
    db: Db,
    caller: Caller,
    paging: Paging,
    og: OgFilter,
    user: Annotated[Text | None, Query(max_length=user_rules.USERNAME_MAX_LENGTH,
                                       description="A username, any case.")] = None,
    ownership: Annotated[Annotated[str, AnyCase([o.value for o in Ownership], "ownership")] | None,
                         Query()] = None,
    enrollmentstatus: Annotated[
        Annotated[str, AnyCase(devices.WS1_ENROLLMENT_STATUSES, "enrollmentstatus")] | None, Query()
    ] = None,
    platform: Annotated[Text | None, Query(max_length=32, description=(
        "Apple matches every device; any other platform none."))] = None,
    model: Annotated[Text | None, Query(max_length=64)] = None,
    lastseen: Annotated[DateTime | None, Query(description="Seen at or after this time (UTC "
                                                            "unless it names a zone).")] = None,
    seensince: Annotated[DateTime | None, Query(description="Workspace ONE's other name for "
                                                             "lastseen.")] = None,
    seenbefore: Annotated[DateTime | None, Query(description="Last seen before this time.")] = None,
    isuserenrolled: bool | None = None,
    allrecords: Annotated[Annotated[str, AnyCase(("false",), "allrecords")] | None, Query(description=(
        "Workspace ONE's switch for one answer without paging: only false (Quince always pages: "
        "use page and pagesize)."))] = None,
    orderby: Annotated[Annotated[str, AnyCase(devices.ORDER_BY, "orderby")], Query()] = "id",
    sortorder: SortOrder = None,
) -> DeviceSearch:
    """Devices in your organization groups, abandoned placeholders included. `lgid` (or
    `locationgroupid`, `organizationgroupid`, `organizationgroupuuid`) takes the OG with its
    children; `user` is a username; `model` matches part of the model."""
    # Both given: both must hold, so the later one decides.
    given = [devices.as_utc(t) for t in (lastseen, seensince) if t is not None]
    since = max(given) if given else None
    page = await devices.search(
        db, caller, paging, user=user, og_id=og, ownership=ownership,
        enrollment_status=enrollmentstatus, platform=platform, model=model,
        last_seen_since=since, seen_before=seenbefore, user_enrolled=isuserenrolled,
        order_by=orderby, descending=sort_descending(sortorder),
    )
    return DeviceSearch(
        devices=await present(db, caller, page.items), page=page.page,
        page_size=page.page_size, total=page.total,
    )


@router.get("/udid/{udid}", response_model=Device)
async def get_device_by_udid(
    udid: Annotated[Text, Path(min_length=1, max_length=UDID_MAX_LENGTH)], db: Db, caller: Caller
) -> Device:
    """Workspace ONE's `GET /devices/udid/{udid}`: the UDID, or a user-enrolled device's
    Enrollment ID."""
    row = await devices.find_by(db, caller, devices.SearchBy.UDID.value, udid)
    return (await present(db, caller, [row]))[0]


@router.get("/{device_id:int}", response_model=Device)
async def get_device(device_id: IdPath, db: Db, caller: Caller) -> Device:
    return (await present(db, caller, [await devices.get(db, caller, device_id)]))[0]


@router.get("/{device_id:int}/extendedproperties", response_model=ExtendedProperties)
async def get_extended_properties(device_id: IdPath, db: Db, caller: Caller) -> ExtendedProperties:
    """`IsUserEnrolled` ("true"/"false") and `LicenseTypeEligibility` ("2" for user-enrolled
    devices); values are strings, as Workspace ONE stores extended properties."""
    row = await devices.get(db, caller, device_id)
    return ExtendedProperties(extended_properties=[
        ExtendedProperty(name=name, value=value) for name, value in devices.extended_properties(row)
    ])


def queued_fields(row: CommandRow) -> dict[str, Any]:
    return {
        "command_uuid": row.uuid, "request_type": row.request_type, "status": row.status,
        "queued_at": wire_time(row.queued_at),
    }


@router.get("/{device_id:int}/commands", response_model=CommandHistory)
async def command_history(device_id: IdPath, db: Db, caller: Caller, paging: Paging) -> CommandHistory:
    """The device's commands, newest first, with what became of each."""
    page = await devices.command_history(db, caller, device_id, paging)
    return CommandHistory(
        commands=[
            Command(
                **queued_fields(row), sent_at=_time(row.sent_at), completed_at=_time(row.completed_at),
                error_chain=row.error_chain, queued_by=row.queued_by,
            )
            for row in page.items
        ],
        page=page.page, page_size=page.page_size, total=page.total,
    )


def _message(row: DeviceMessageRow) -> DeviceMessage:
    raw = row.raw
    if raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        try:
            return DeviceMessage(
                channel=row.channel, message_type=row.message_type, command_uuid=row.command_uuid,
                received_at=wire_time(row.received_at), plist=raw.decode("utf-8"),
                plist_encoding="xml",
            )
        except (UnicodeDecodeError, ValueError):
            pass  # not valid UTF-8, or holds NUL: shown as base64 like a binary plist
    return DeviceMessage(
        channel=row.channel, message_type=row.message_type, command_uuid=row.command_uuid,
        received_at=wire_time(row.received_at), plist=base64.b64encode(raw).decode("ascii"),
        plist_encoding="base64",
    )


@router.get("/{device_id:int}/messages", response_model=DeviceMessages)
async def device_messages(device_id: IdPath, db: Db, caller: Caller, paging: Paging) -> DeviceMessages:
    """The raw check-in and connect messages the device sent, newest first (for support)."""
    page = await devices.messages(db, caller, device_id, paging)
    return DeviceMessages(
        messages=[_message(row) for row in page.items],
        page=page.page, page_size=page.page_size, total=page.total,
    )
