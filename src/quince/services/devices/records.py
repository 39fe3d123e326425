"""Device records as administrators read them: lookup, search, and what each record links to.

Reads only; nothing here commits. A device outside the caller's organization groups does not exist
for them (NotFound), and searches never return one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypedDict, Unpack

from quince.domain.devices import license_type_eligibility, ownership_for
from quince.domain.errors import InvalidInput, NotFound
from quince.domain.og_settings import Ownership
from quince.domain.users import username_key
from quince.services.directory import org_groups
from quince.services.scope import Scope
from quince.store import commands as stored_commands
from quince.store import device_messages, device_search
from quince.store.database import Db
from quince.store.device_search import DeviceFilter
from quince.store.models import (
    CommandRow,
    DeviceMessageRow,
    DeviceRow,
    EnrollmentUserRow,
    OrgGroupRow,
)
from quince.store.paging import Page, PageRequest, paginate

# Every device Quince manages is an iPhone or iPad: Workspace ONE's platform name for them.
APPLE_PLATFORM = "Apple"

# Workspace ONE's enrollment statuses (its device-count model). Quince sets only three of them, but
# scripts filter on any, and a filter that can never match is an empty answer, not an error.
WS1_ENROLLMENT_STATUSES = (
    "Discovered", "Registered", "EnrollmentInProgress", "Enrolled", "EnterpriseWipePending",
    "DeviceWipePending", "Retired", "Unenrolled", "AppCatalogOnly", "BlackListed", "PendingAgent",
    "UnenrolledByFeedbackService",
)

ORDER_BY: tuple[str, ...] = device_search.ORDERS
"""The `orderby` keys a search takes (any case)."""


class LastSeen(StrEnum):
    """The console's "Last seen" filter: a window back from now, seen longer ago, or never."""

    LAST_DAY = "24h"
    LAST_WEEK = "7d"
    LAST_MONTH = "30d"
    NOT_LAST_MONTH = "over-30d"
    """Seen, but not in the last 30 days (a device never seen is `NEVER`)."""
    NEVER = "never"

    @property
    def label(self) -> str:
        return _LAST_SEEN_LABELS[self]

    @classmethod
    def parse(cls, raw: str) -> LastSeen:
        for member in cls:
            if raw.strip().casefold() == member.value:
                return member
        allowed = ", ".join(f"{m.value} ({m.label})" for m in cls)
        raise InvalidInput("lastseen", f"Last seen must be one of {allowed}, not {raw!r}.")


_LAST_SEEN_LABELS = {
    LastSeen.LAST_DAY: "In the last 24 hours",
    LastSeen.LAST_WEEK: "In the last 7 days",
    LastSeen.LAST_MONTH: "In the last 30 days",
    LastSeen.NOT_LAST_MONTH: "Not in the last 30 days",
    LastSeen.NEVER: "Never",
}
_LAST_SEEN_WINDOWS = {
    LastSeen.LAST_DAY: timedelta(hours=24),
    LastSeen.LAST_WEEK: timedelta(days=7),
    LastSeen.LAST_MONTH: timedelta(days=30),
    LastSeen.NOT_LAST_MONTH: timedelta(days=30),
}


def _with_last_seen(filters: DeviceFilter, choice: LastSeen, now: datetime | None) -> DeviceFilter:
    """The console's "Last seen" choice added to the filters, counted back from `now`."""
    if choice is LastSeen.NEVER:
        return replace(filters, never_seen=True)
    since = (now or datetime.now(UTC)) - _LAST_SEEN_WINDOWS[choice]
    if choice is LastSeen.NOT_LAST_MONTH:
        return replace(filters, not_seen_since=since)
    return replace(filters, recently_seen_since=since)


class SearchBy(StrEnum):
    """Workspace ONE's `searchby` values for `GET /devices?searchby=…&id=…`."""

    UDID = "Udid"
    DEVICE_ID = "DeviceId"
    MAC_ADDRESS = "Macaddress"
    SERIAL_NUMBER = "Serialnumber"
    IMEI_NUMBER = "ImeiNumber"
    EAS_ID = "EasId"

    @classmethod
    def parse(cls, raw: str) -> SearchBy:
        for member in cls:
            if raw.strip().casefold() == member.value.casefold():
                return member
        raise InvalidInput(
            "searchby", f"searchby must be one of {', '.join(m.value for m in cls)}, not {raw!r}."
        )


# Rule 3: a user-enrolled device reports none of these, so Quince never stores them.
_HARDWARE_IDS = {SearchBy.MAC_ADDRESS, SearchBy.SERIAL_NUMBER, SearchBy.IMEI_NUMBER, SearchBy.EAS_ID}


class DeviceNotFound(NotFound):
    """Workspace ONE's own words for a device that is missing or outside the caller's subtree."""

    def __init__(self, ref: object, hint: str = "") -> None:
        super().__init__("Device", ref)
        self.message = "Device not found for this request." + (f" {hint}" if hint else "")


@dataclass(frozen=True)
class Related:
    """What a page of device records points at, loaded in one query each (no query per row)."""

    ogs: dict[int, OrgGroupRow]
    users: dict[int, EnrollmentUserRow]
    successors: dict[int, DeviceRow]
    """Superseding records by id, only those inside the caller's scope."""


async def get(db: Db, scope: Scope, device_id: int) -> DeviceRow:
    """The device with this id; DeviceNotFound when missing or outside the scope."""
    row = await device_search.device_in_subtree(db, scope.path, device_id)
    if row is None:
        raise DeviceNotFound(device_id)
    return row


async def resolve_ref(db: Db, scope: Scope, ref: str) -> DeviceRow:
    """A device named by numeric id, or by Udid (a user-enrolled device's Enrollment ID): what
    people type at the CLI."""
    if ref.isdigit():
        try:
            return await get(db, scope, int(ref))
        except DeviceNotFound:
            pass
    return await find_by(db, scope, "Udid", ref)


async def find_by(db: Db, scope: Scope, searchby: str, value: str) -> DeviceRow:
    """Workspace ONE's alternate-id lookup. `Udid` is matched exactly (case matters) against the
    stored UDID, which for a user-enrolled device is its Enrollment ID; when several records carry
    it, the newest wins."""
    kind = SearchBy.parse(searchby)
    if "\x00" in value:
        raise InvalidInput("id", "id must not contain NUL characters.")
    if kind is SearchBy.DEVICE_ID:
        text = value.strip()
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 2_147_483_647:
            # No device has that id: as for any other id that names none (the value is a string
            # for every searchby, so the API's document cannot say more).
            raise DeviceNotFound(value)
        return await get(db, scope, int(text))
    if kind in _HARDWARE_IDS:
        raise DeviceNotFound(value, hint=(
            f"Quince does not store {kind.value} for user-enrolled devices, which never report "
            "it; look the device up with searchby=Udid and its Enrollment ID."
        ))
    row = await device_search.newest_with_udid(db, scope.path, value)
    if row is None:
        raise DeviceNotFound(value)
    return row


def _parse_ownership(raw: str) -> Ownership:
    for member in Ownership:
        if raw.strip().casefold() == member.value.casefold():
            return member
    allowed = ", ".join(m.value for m in Ownership)
    raise InvalidInput("ownership", f"ownership must be one of {allowed}, not {raw!r}.")


def _parse_status(raw: str) -> str:
    for status in WS1_ENROLLMENT_STATUSES:
        if raw.strip().casefold() == status.casefold():
            return status
    raise InvalidInput(
        "enrollmentstatus",
        f"enrollmentstatus must be one of {', '.join(WS1_ENROLLMENT_STATUSES)}, not {raw!r}.",
    )


def as_utc(value: datetime) -> datetime:
    """A time from a request in UTC; one without a zone is UTC already (Workspace ONE's format).

    A valid time whose UTC reading falls outside years 1-9999 (0001-01-01T00:00:00+05:00) is the
    earliest or latest time there is: as a bound of a search it keeps its meaning."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return (datetime.min if value.year == 1 else datetime.max).replace(tzinfo=UTC)


class Criteria(TypedDict, total=False):
    """What a device search keeps (see `search`)."""

    user: str | None
    og_id: int | None
    ownership: str | None
    enrollment_status: str | None
    platform: str | None
    model: str | None
    last_seen_since: datetime | None
    seen_before: datetime | None
    user_enrolled: bool | None
    last_seen: LastSeen | None
    now: datetime | None
    abandoned: bool | None
    text: str | None


async def filters(db: Db, scope: Scope, **criteria: Unpack[Criteria]) -> DeviceFilter:
    """The store's filters for these criteria (each parsed; InvalidInput names a bad one)."""
    c = criteria
    og_id, user, ownership = c.get("og_id"), c.get("user"), c.get("ownership")
    status = c.get("enrollment_status")
    platform, since, before = c.get("platform"), c.get("last_seen_since"), c.get("seen_before")
    path = scope.path if og_id is None else (await org_groups.get(db, scope, og_id)).path
    found = DeviceFilter(
        path,
        user_key=username_key(user) if user is not None else None,
        ownership=_parse_ownership(ownership) if ownership is not None else None,
        enrollment_status=_parse_status(status) if status is not None else None,
        # Every device Quince manages is an Apple one.
        nothing=platform is not None and platform.strip().casefold() != APPLE_PLATFORM.casefold(),
        model=c.get("model") or None,
        seen_since=as_utc(since) if since is not None else None,
        seen_before=as_utc(before) if before is not None else None,
        user_enrolled=c.get("user_enrolled"),
        abandoned=c.get("abandoned"),
        text=c.get("text") or None,
    )
    last_seen = c.get("last_seen")
    if last_seen is not None:
        found = _with_last_seen(found, last_seen, c.get("now"))
    return found


async def search(
    db: Db, scope: Scope, page: PageRequest, *, order_by: str = "id", descending: bool = False,
    **criteria: Unpack[Criteria],
) -> Page[DeviceRow]:
    """Devices in scope, abandoned placeholders included. `og_id` takes the OG with its children;
    `user` is a username (any case); `model` matches part of the model; times are UTC;
    `last_seen` is the console's window, counted back from `now` (default: the current time);
    `abandoned` True keeps only records another enrollment superseded, False leaves them out;
    `text` matches part of the device name, Udid (Enrollment ID), username or email, any case."""
    order = order_by.strip().lower()
    if order not in device_search.ORDERS:
        raise InvalidInput("orderby", f"orderby must be one of {', '.join(device_search.ORDERS)}.")
    stmt = device_search.devices_matching(db, await filters(db, scope, **criteria), order,
                                          descending=descending)
    await device_search.plan_for_parameters(db)
    return await paginate(db, stmt, page)


async def each_batch(db: Db, found: DeviceFilter, *, size: int, cap: int) -> AsyncIterator[list[DeviceRow]]:
    """The devices `filters` found, by id, `size` at a time, `cap` at most (an export)."""
    after, left = 0, cap
    await device_search.plan_for_parameters(db)
    while left > 0:
        rows = list(await db.scalars(device_search.devices_after(db, found, after, min(size, left))))
        if not rows:
            return
        yield rows
        after, left = rows[-1].id, left - len(rows)


async def related(db: Db, scope: Scope, rows: Sequence[DeviceRow]) -> Related:
    """The OGs, enrollment users and (in-scope) superseding records of these devices."""
    user_ids = [r.enrollment_user_id for r in rows if r.enrollment_user_id is not None]
    successor_ids = [r.superseded_by_device_id for r in rows if r.superseded_by_device_id is not None]
    return Related(
        await device_search.ogs_by_id(db, (r.og_id for r in rows)),
        await device_search.users_by_id(db, user_ids),
        await device_search.devices_in_subtree_by_id(db, scope.path, successor_ids),
    )


def effective_ownership(device: DeviceRow) -> str:
    """Rule 4, applied on the way out too: a user-enrolled device is always `E`."""
    return ownership_for(device.is_user_enrolled, device.ownership)


def effective_license_type(device: DeviceRow) -> int:
    """Rule 6: a user-enrolled device is always eligible for user-based licences (2) only."""
    if device.is_user_enrolled:
        return license_type_eligibility(True)
    return device.license_type_eligibility


def extended_properties(device: DeviceRow) -> list[tuple[str, str]]:
    """Rule 9: the device's extended properties, as strings (as Workspace ONE stores them)."""
    return [
        ("IsUserEnrolled", "true" if device.is_user_enrolled else "false"),
        ("LicenseTypeEligibility", str(effective_license_type(device))),
    ]


def model_name(device: DeviceRow) -> str:
    """The model family ("iPhone", "iPad"): as reported, else read from the product name."""
    if device.model_name:
        return device.model_name
    product = device.product_name or ""
    return product.split(",", 1)[0].rstrip("0123456789")


_OS_NAMES = {"iPhone": "iOS", "iPad": "iPadOS", "iPod": "iOS", "Mac": "macOS"}


def friendly_name(device: DeviceRow, username: str | None) -> str:
    """What the device list shows: "<user> <model> <OS> <version>", e.g. "bob iPhone iOS 18.1"."""
    family = model_name(device)
    os_name = next((name for prefix, name in _OS_NAMES.items() if family.startswith(prefix)), "")
    os_part = f"{os_name} {device.os_version}".strip() if device.os_version else ""
    parts = [username or "", family or "Apple device", os_part]
    return " ".join(p for p in parts if p)


async def command_history(
    db: Db, scope: Scope, device_id: int, page: PageRequest
) -> Page[CommandRow]:
    """The device's commands, newest first."""
    device = await get(db, scope, device_id)
    return await paginate(db, stored_commands.newest_first(device.id), page)


async def messages(
    db: Db, scope: Scope, device_id: int, page: PageRequest
) -> Page[DeviceMessageRow]:
    """The raw check-in and connect messages the device sent, newest first."""
    device = await get(db, scope, device_id)
    return await paginate(db, device_messages.newest_first(device.id), page)

