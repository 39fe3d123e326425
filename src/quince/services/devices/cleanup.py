"""Removing abandoned placeholders (DESIGN.md rule 2) in bulk, after an administrator confirmed it.

A placeholder is *abandoned* when its user signed in again and a newer record superseded it while
it was still EnrollmentInProgress, and its device never completed enrollment since. Those records
stay in the device list on purpose; an administrator may remove the ones superseded more than N
days ago, in one OG's subtree. A record that ever completed is never removed here, even one that
completes while the removal runs: every statement that decides what goes checks the condition
again. Removal takes what hangs off each record with it, in the caller's transaction (nothing here
commits), so a failure leaves everything as it was:

- its enrollment session (`enrollment_sessions.device_id`, RESTRICT), the session's secrets
  (CASCADE) and any identity certificate SCEP issued for it (`device_certificates.session_id`,
  RESTRICT): without its row that certificate is unknown to Quince and refused at check-in;
- its commands, raw messages and app statuses (all ON DELETE CASCADE; deleted explicitly, so the
  outcome does not depend on the database enforcing it);
- older placeholders it had itself superseded are re-pointed at its own successor, so they stay
  marked as abandoned (the foreign key would only set them to NULL, making them look current).

Queued push jobs name a device by id only and skip a device that no longer exists.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Delete, Select, Update, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.errors import Conflict, InvalidInput
from quince.services.enrollment import placeholders
from quince.services.scope import Scope
from quince.store.models import (
    CommandRow,
    DeviceAppRow,
    DeviceCertificateRow,
    DeviceMessageRow,
    DeviceRow,
    EnrollmentSecretRow,
    EnrollmentSessionRow,
    OrgGroupRow,
)

MIN_DAYS = 1
MAX_DAYS = 3650
DEFAULT_DAYS = 30
SAMPLE_SIZE = 20
# Ids go to the database in chunks well below SQLite's and asyncpg's limits on bound parameters.
_CHUNK = 500


@dataclass(frozen=True)
class Holdings:
    """What hangs off a set of placeholders and goes with them."""

    sessions: int
    certificates: int
    commands: int
    messages: int
    apps: int


@dataclass(frozen=True)
class Preview:
    """The placeholders a removal would take: how many, a sample (oldest first), what they hold."""

    days: int
    cutoff: datetime
    count: int
    sample: list[DeviceRow]
    holdings: Holdings


@dataclass(frozen=True)
class Removed:
    count: int
    holdings: Holdings


class RemovalChanged(Conflict):
    """The placeholders matching the condition are no longer the ones the administrator confirmed."""

    def __init__(self, confirmed: int, now: int) -> None:
        super().__init__(
            f"The number of abandoned placeholders changed since you reviewed it (was {confirmed}, "
            f"now {now}): nothing was removed. Check the new list and confirm again."
        )
        self.confirmed = confirmed
        self.now = now


def parse_days(raw: str) -> int:
    """The "older than N days" a person typed: a whole number from MIN_DAYS to MAX_DAYS."""
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 5 or not MIN_DAYS <= int(text) <= MAX_DAYS:
        raise InvalidInput(
            "days", f"Enter the age as a whole number of days from {MIN_DAYS} to {MAX_DAYS}, not {raw!r}."
        )
    return int(text)


def cutoff_for(days: int, now: datetime | None = None) -> datetime:
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise InvalidInput("days", f"The age must be from {MIN_DAYS} to {MAX_DAYS} days.")
    return (now or datetime.now(UTC)) - timedelta(days=days)


def abandoned_condition(cutoff: datetime) -> ColumnElement[bool]:
    """Superseded before `cutoff` and never completed. `superseded_at` is set with the
    supersession; a record without it (none is written so) counts from its creation."""
    return and_(
        DeviceRow.superseded_by_device_id.is_not(None),
        placeholders.never_completed(),
        or_(
            DeviceRow.superseded_at < cutoff,
            and_(DeviceRow.superseded_at.is_(None), DeviceRow.created_at < cutoff),
        ),
    )


def _abandoned(scope: Scope, cutoff: datetime) -> Select[tuple[DeviceRow]]:
    return (
        select(DeviceRow)
        .join(OrgGroupRow, OrgGroupRow.id == DeviceRow.og_id)
        .where(OrgGroupRow.path.startswith(scope.path, autoescape=True), abandoned_condition(cutoff))
    )


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for at in range(0, len(ids), _CHUNK):
        yield list(ids[at:at + _CHUNK])


async def _count(db: AsyncSession, stmt: Select[tuple[int]]) -> int:
    return int(await db.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


async def _holdings(db: AsyncSession, ids: Select[tuple[int]]) -> Holdings:
    sessions = select(EnrollmentSessionRow.id).where(EnrollmentSessionRow.device_id.in_(ids))
    return Holdings(
        sessions=await _count(db, sessions),
        certificates=await _count(db, select(DeviceCertificateRow.id).where(
            DeviceCertificateRow.session_id.in_(sessions))),
        commands=await _count(db, select(CommandRow.id).where(CommandRow.device_id.in_(ids))),
        messages=await _count(db, select(DeviceMessageRow.id).where(DeviceMessageRow.device_id.in_(ids))),
        apps=await _count(db, select(DeviceAppRow.id).where(DeviceAppRow.device_id.in_(ids))),
    )


async def preview(db: AsyncSession, scope: Scope, days: int, *, now: datetime | None = None,
                  sample_size: int = SAMPLE_SIZE) -> Preview:
    """What `remove` would take now from the scope's subtree (reads only)."""
    cutoff = cutoff_for(days, now)
    matching = _abandoned(scope, cutoff)
    ids = matching.with_only_columns(DeviceRow.id)
    count = await _count(db, ids)
    sample = list(await db.scalars(
        matching.order_by(func.coalesce(DeviceRow.superseded_at, DeviceRow.created_at), DeviceRow.id)
        .limit(sample_size)
    )) if count else []
    holdings = await _holdings(db, ids) if count else Holdings(0, 0, 0, 0, 0)
    return Preview(days, cutoff, count, sample, holdings)


async def remove(db: AsyncSession, scope: Scope, days: int, *, expected: int,
                 now: datetime | None = None) -> Removed:
    """Remove the abandoned placeholders superseded more than `days` ago in the scope's subtree,
    with what they hold, when there are exactly `expected` of them (what the administrator
    confirmed); else RemovalChanged and nothing is touched. Does not commit."""
    scope.require_write()
    cutoff = cutoff_for(days, now)
    # The rows are locked on PostgreSQL, so a device that completes its enrollment meanwhile waits
    # for this transaction (or, if it completed first, is no longer selected). SQLite reads this
    # before its write transaction starts: the first write below checks the condition again.
    locked = _abandoned(scope, cutoff).with_only_columns(
        DeviceRow.id, DeviceRow.superseded_by_device_id
    ).order_by(DeviceRow.id).with_for_update(of=DeviceRow)
    successor = {row.id: row.superseded_by_device_id for row in (await db.execute(locked)).all()}
    if len(successor) != expected:
        raise RemovalChanged(expected, len(successor))
    if not successor:
        return Removed(0, Holdings(0, 0, 0, 0, 0))
    ids = sorted(successor)
    still = abandoned_condition(cutoff)
    claimed = 0
    for chunk in _chunks(ids):
        # devices -> certificates -> sessions -> devices is a cycle: unbind before deleting. Being
        # the first write, this also takes SQLite's write lock, after which nothing else changes.
        claimed += await _run(db, update(DeviceRow).where(DeviceRow.id.in_(chunk), still)
                              .values(certificate_id=None))
    if claimed != len(ids):  # one completed its enrollment meanwhile: the caller rolls back
        raise RemovalChanged(expected, claimed)
    session_ids: list[int] = []
    certificate_ids: list[int] = []
    for chunk in _chunks(ids):
        session_ids += await db.scalars(
            select(EnrollmentSessionRow.id).where(EnrollmentSessionRow.device_id.in_(chunk)))
    for chunk in _chunks(session_ids):
        certificate_ids += await db.scalars(
            select(DeviceCertificateRow.id).where(DeviceCertificateRow.session_id.in_(chunk)))
    commands = messages = apps = 0
    for chunk in _chunks(ids):
        commands += await _run(db, delete(CommandRow).where(CommandRow.device_id.in_(chunk)))
        messages += await _run(db, delete(DeviceMessageRow).where(DeviceMessageRow.device_id.in_(chunk)))
        apps += await _run(db, delete(DeviceAppRow).where(DeviceAppRow.device_id.in_(chunk)))
    for chunk in _chunks(certificate_ids):
        await _run(db, update(DeviceRow).where(DeviceRow.certificate_id.in_(chunk))
                   .values(certificate_id=None))
        await _run(db, delete(DeviceCertificateRow).where(DeviceCertificateRow.id.in_(chunk)))
    for chunk in _chunks(session_ids):
        await _run(db, delete(EnrollmentSecretRow).where(EnrollmentSecretRow.session_id.in_(chunk)))
        await _run(db, delete(EnrollmentSessionRow).where(EnrollmentSessionRow.id.in_(chunk)))
    await _repoint_predecessors(db, successor)
    removed = 0
    for chunk in _chunks(ids):
        removed += await _run(db, delete(DeviceRow).where(DeviceRow.id.in_(chunk), still))
    if removed != len(ids):  # the rows were locked or written: only a bug gets here; the caller rolls back
        raise RemovalChanged(expected, removed)
    _expire_copies(db)
    return Removed(removed, Holdings(len(session_ids), len(certificate_ids), commands, messages, apps))


async def _repoint_predecessors(db: AsyncSession, successor: dict[int, int | None]) -> None:
    """Records that point at a removed placeholder (and stay) point at its first remaining successor."""
    def remaining(device_id: int) -> int | None:
        seen: set[int] = set()
        current: int | None = device_id
        while current is not None and current in successor and current not in seen:
            seen.add(current)
            current = successor[current]
        return None if current in successor else current

    for chunk in _chunks(sorted(successor)):
        rows = (await db.execute(
            select(DeviceRow.id, DeviceRow.superseded_by_device_id)
            .where(DeviceRow.superseded_by_device_id.in_(chunk))
        )).all()
        for device_id, points_at in rows:
            if device_id in successor or points_at is None:
                continue
            await _run(db, update(DeviceRow).where(DeviceRow.id == device_id)
                       .values(superseded_by_device_id=remaining(points_at)))


_TOUCHED = (DeviceRow, CommandRow, DeviceMessageRow, DeviceAppRow, DeviceCertificateRow, EnrollmentSecretRow,
            EnrollmentSessionRow)


def _expire_copies(db: AsyncSession) -> None:
    """Rows of the tables `remove` changed that the session had loaded are read again if used."""
    for instance in list(db.sync_session.identity_map.values()):
        if isinstance(instance, _TOUCHED):
            db.expire(instance)


async def _run(db: AsyncSession, statement: Update | Delete) -> int:
    """A bulk UPDATE or DELETE; the number of rows it touched. The session's copies of those rows
    are not kept in step (`remove` expires them at the end)."""
    result = await db.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
