"""Device records as administrators read them: lookup, search, and what each record links to.

Reads only; nothing here commits. A device outside the caller's organization groups does not exist
for them (NotFound), and searches never return one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, Select, false, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from quince.domain.devices import license_type_eligibility, ownership_for
from quince.domain.errors import InvalidInput, NotFound
from quince.domain.og_settings import Ownership
from quince.domain.users import username_key
from quince.services import org_groups
from quince.services.paging import Page, PageRequest, paginate
from quince.services.scope import Scope
from quince.store.models import (
    CommandRow,
    DeviceMessageRow,
    DeviceRow,
    EnrollmentUserRow,
    OrgGroupRow,
)

# Every device Quince manages is an iPhone or iPad: Workspace ONE's platform name for them.
APPLE_PLATFORM = "Apple"

# Workspace ONE's enrollment statuses (its device-count model). Quince sets only three of them, but
# scripts filter on any, and a filter that can never match is an empty answer, not an error.
WS1_ENROLLMENT_STATUSES = (
    "Discovered", "Registered", "EnrollmentInProgress", "Enrolled", "EnterpriseWipePending",
    "DeviceWipePending", "Retired", "Unenrolled", "AppCatalogOnly", "BlackListed", "PendingAgent",
    "UnenrolledByFeedbackService",
)

_ORDER_COLUMNS = {
    "id": DeviceRow.id,
    "deviceid": DeviceRow.id,
    "udid": DeviceRow.udid,
    "lastseen": DeviceRow.last_seen_at,
    "lastenrolledon": DeviceRow.enrolled_at,
    "enrollmentstatus": DeviceRow.enrollment_status,
    "model": DeviceRow.product_name,
    "operatingsystem": DeviceRow.os_version,
    "devicereportedname": DeviceRow.device_name,
}
ORDER_BY: tuple[str, ...] = tuple(_ORDER_COLUMNS)
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


def last_seen_condition(choice: LastSeen, now: datetime | None = None, *,
                        sqlite: bool = False) -> ColumnElement[bool]:
    """The filter as one condition on `devices.last_seen_at` (indexed)."""
    if choice is LastSeen.NEVER:
        return DeviceRow.last_seen_at.is_(None)
    since = (now or datetime.now(UTC)) - _LAST_SEEN_WINDOWS[choice]
    if choice is LastSeen.NOT_LAST_MONTH:
        return DeviceRow.last_seen_at < since  # NULL (never seen) does not match
    if sqlite:
        # "Seen lately" matches most of an active fleet. SQLite (never ANALYZEd) still takes
        # ix_devices_last_seen_at for it and then reads the rows one by one: at 100,000 devices
        # the count took 240-270 ms, where scanning the table takes 30-45 ms (the page itself
        # stops after 50 rows either way). SQLite's documented unary "+" keeps it off the index;
        # PostgreSQL chooses by its statistics (and has no unary + for timestamps).
        scanned = UnaryExpression(DeviceRow.last_seen_at.expression, operator=custom_op("+"),
                                  type_=DeviceRow.last_seen_at.type)
        return scanned >= since
    return DeviceRow.last_seen_at >= since


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


def _scoped(stmt: Select[tuple[DeviceRow]], path: str) -> Select[tuple[DeviceRow]]:
    """Devices whose OG lies at or below the OG with this materialized path."""
    return stmt.join(OrgGroupRow, OrgGroupRow.id == DeviceRow.og_id).where(
        OrgGroupRow.path.startswith(path, autoescape=True)
    )


async def get(db: AsyncSession, scope: Scope, device_id: int) -> DeviceRow:
    """The device with this id; DeviceNotFound when missing or outside the scope."""
    row = await db.scalar(_scoped(select(DeviceRow), scope.path).where(DeviceRow.id == device_id))
    if row is None:
        raise DeviceNotFound(device_id)
    return row


async def find_by(db: AsyncSession, scope: Scope, searchby: str, value: str) -> DeviceRow:
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
    row = await db.scalar(
        _scoped(select(DeviceRow), scope.path)
        .where(DeviceRow.udid == value)
        .order_by(DeviceRow.id.desc())
        .limit(1)
    )
    if row is None:
        raise DeviceNotFound(value)
    return row


def _parse_ownership(raw: str) -> str:
    for member in Ownership:
        if raw.strip().casefold() == member.value.casefold():
            return member.value
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


async def search(
    db: AsyncSession,
    scope: Scope,
    page: PageRequest,
    *,
    user: str | None = None,
    og_id: int | None = None,
    ownership: str | None = None,
    enrollment_status: str | None = None,
    platform: str | None = None,
    model: str | None = None,
    last_seen_since: datetime | None = None,
    seen_before: datetime | None = None,
    user_enrolled: bool | None = None,
    order_by: str = "id",
    descending: bool = False,
    last_seen: LastSeen | None = None,
    now: datetime | None = None,
    abandoned: bool | None = None,
) -> Page[DeviceRow]:
    """Devices in scope, abandoned placeholders included. `og_id` takes the OG with its children;
    `user` is a username (any case); `model` matches part of the model; times are UTC;
    `last_seen` is the console's window, counted back from `now` (default: the current time);
    `abandoned` True keeps only records another enrollment superseded, False leaves them out."""
    column = _ORDER_COLUMNS.get(order_by.strip().lower())
    if column is None:
        raise InvalidInput("orderby", f"orderby must be one of {', '.join(_ORDER_COLUMNS)}.")
    path = scope.path if og_id is None else (await org_groups.get(db, scope, og_id)).path
    stmt = _scoped(select(DeviceRow), path)
    conditions: list[ColumnElement[bool]] = []
    if user is not None:
        conditions.append(DeviceRow.enrollment_user_id == (
            select(EnrollmentUserRow.id)
            .where(EnrollmentUserRow.username_key == username_key(user))
            .scalar_subquery()
        ))
    if ownership is not None:
        letter = _parse_ownership(ownership)
        # Rule 4: a user-enrolled device is Employee Owned, whatever its row was created with.
        if letter == Ownership.EMPLOYEE_OWNED.value:
            conditions.append(DeviceRow.is_user_enrolled.is_(True) | (DeviceRow.ownership == letter))
        else:
            conditions.append(DeviceRow.is_user_enrolled.is_(False) & (DeviceRow.ownership == letter))
    if enrollment_status is not None:
        conditions.append(DeviceRow.enrollment_status == _parse_status(enrollment_status))
    if platform is not None and platform.strip().casefold() != APPLE_PLATFORM.casefold():
        conditions.append(false())  # every device Quince manages is an Apple one
    if model:
        conditions.append(
            DeviceRow.product_name.icontains(model, autoescape=True)
            | DeviceRow.model_name.icontains(model, autoescape=True)
            | DeviceRow.model.icontains(model, autoescape=True)
        )
    if last_seen_since is not None:
        conditions.append(DeviceRow.last_seen_at >= as_utc(last_seen_since))
    if seen_before is not None:
        conditions.append(DeviceRow.last_seen_at < as_utc(seen_before))
    if user_enrolled is not None:
        conditions.append(DeviceRow.is_user_enrolled.is_(user_enrolled))
    if abandoned is not None:
        superseded = DeviceRow.superseded_by_device_id.is_not(None)
        conditions.append(superseded if abandoned else ~superseded)
    if last_seen is not None:
        conditions.append(last_seen_condition(last_seen, now, sqlite=db.get_bind().dialect.name == "sqlite"))
    order = column.desc() if descending else column.asc()
    stmt = stmt.where(*conditions).order_by(order.nulls_last(), DeviceRow.id)
    if db.get_bind().dialect.name == "postgresql":
        # asyncpg prepares statements, and after five runs PostgreSQL may switch to a generic plan,
        # which cannot see the OG path prefix: it guesses the subtree holds ~2 OGs, so it joins
        # OG by OG and sorts every device. At 100,000 devices that made a deep page 150-400 ms
        # (a sort spilled to disk) where the plan for the actual prefix takes 30 ms
        # (docs/performance.md, "Device list at 100,000 devices"). Whether the prefix is the
        # root or a leaf changes the best plan, so this search is planned for its parameters
        # every time (a fraction of a millisecond); SET LOCAL ends with the transaction.
        await db.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    return await paginate(db, stmt, page)


async def related(db: AsyncSession, scope: Scope, rows: Sequence[DeviceRow]) -> Related:
    """The OGs, enrollment users and (in-scope) superseding records of these devices."""
    og_ids = {r.og_id for r in rows}
    user_ids = {r.enrollment_user_id for r in rows if r.enrollment_user_id is not None}
    successor_ids = {r.superseded_by_device_id for r in rows if r.superseded_by_device_id is not None}
    ogs = {og.id: og for og in await db.scalars(select(OrgGroupRow).where(OrgGroupRow.id.in_(og_ids)))}
    people = {
        u.id: u
        for u in await db.scalars(select(EnrollmentUserRow).where(EnrollmentUserRow.id.in_(user_ids)))
    }
    successors = {
        d.id: d
        for d in await db.scalars(
            _scoped(select(DeviceRow), scope.path).where(DeviceRow.id.in_(successor_ids))
        )
    } if successor_ids else {}
    return Related(ogs, people, successors)


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
    db: AsyncSession, scope: Scope, device_id: int, page: PageRequest
) -> Page[CommandRow]:
    """The device's commands, newest first."""
    device = await get(db, scope, device_id)
    stmt = select(CommandRow).where(CommandRow.device_id == device.id).order_by(CommandRow.id.desc())
    return await paginate(db, stmt, page)


async def messages(
    db: AsyncSession, scope: Scope, device_id: int, page: PageRequest
) -> Page[DeviceMessageRow]:
    """The raw check-in and connect messages the device sent, newest first."""
    device = await get(db, scope, device_id)
    stmt = (
        select(DeviceMessageRow)
        .where(DeviceMessageRow.device_id == device.id)
        .order_by(DeviceMessageRow.received_at.desc(), DeviceMessageRow.id.desc())
    )
    return await paginate(db, stmt, page)

