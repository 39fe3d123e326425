"""Queries for removing abandoned placeholders (services/devices/cleanup.py holds the use case).

Each function runs its statements in the caller's transaction and commits nothing. Ids go to the
database in chunks well below SQLite's and asyncpg's limits on bound parameters. Bulk UPDATEs and
DELETEs do not keep the session's copies of the rows in step: `forget_loaded` expires them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Delete, Select, Update, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

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
from quince.store.placeholders import never_completed

_CHUNK = 500


@dataclass(frozen=True)
class Holdings:
    """What hangs off a set of placeholders and goes with them."""

    sessions: int
    certificates: int
    commands: int
    messages: int
    apps: int


NOTHING_HELD = Holdings(0, 0, 0, 0, 0)


def abandoned_condition(cutoff: datetime) -> ColumnElement[bool]:
    """Superseded before `cutoff` and never completed. `superseded_at` is set with the
    supersession; a record without it (none is written so) counts from its creation."""
    return and_(
        DeviceRow.superseded_by_device_id.is_not(None),
        never_completed(),
        or_(
            DeviceRow.superseded_at < cutoff,
            and_(DeviceRow.superseded_at.is_(None), DeviceRow.created_at < cutoff),
        ),
    )


def _abandoned(path: str, cutoff: datetime) -> Select[tuple[DeviceRow]]:
    return (
        select(DeviceRow)
        .join(OrgGroupRow, OrgGroupRow.id == DeviceRow.og_id)
        .where(OrgGroupRow.path.startswith(path, autoescape=True), abandoned_condition(cutoff))
    )


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for at in range(0, len(ids), _CHUNK):
        yield list(ids[at:at + _CHUNK])


async def _count(db: AsyncSession, stmt: Select[tuple[int]]) -> int:
    return int(await db.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


async def _run(db: AsyncSession, statement: Update | Delete) -> int:
    """A bulk UPDATE or DELETE; the number of rows it touched."""
    result = await db.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def count_abandoned(db: AsyncSession, path: str, cutoff: datetime) -> int:
    """Abandoned placeholders superseded before `cutoff` in the subtree at `path`."""
    return await _count(db, _abandoned(path, cutoff).with_only_columns(DeviceRow.id))


async def oldest_abandoned(db: AsyncSession, path: str, cutoff: datetime, limit: int) -> list[DeviceRow]:
    """The first `limit` of them, superseded (or created) longest ago first."""
    return list(await db.scalars(
        _abandoned(path, cutoff)
        .order_by(func.coalesce(DeviceRow.superseded_at, DeviceRow.created_at), DeviceRow.id)
        .limit(limit)
    ))


async def holdings_of_abandoned(db: AsyncSession, path: str, cutoff: datetime) -> Holdings:
    """What they hold: sessions, the sessions' certificates, commands, messages and app statuses."""
    ids = _abandoned(path, cutoff).with_only_columns(DeviceRow.id)
    sessions = select(EnrollmentSessionRow.id).where(EnrollmentSessionRow.device_id.in_(ids))
    return Holdings(
        sessions=await _count(db, sessions),
        certificates=await _count(db, select(DeviceCertificateRow.id).where(
            DeviceCertificateRow.session_id.in_(sessions))),
        commands=await _count(db, select(CommandRow.id).where(CommandRow.device_id.in_(ids))),
        messages=await _count(db, select(DeviceMessageRow.id).where(DeviceMessageRow.device_id.in_(ids))),
        apps=await _count(db, select(DeviceAppRow.id).where(DeviceAppRow.device_id.in_(ids))),
    )


async def lock_abandoned(db: AsyncSession, path: str, cutoff: datetime) -> dict[int, int | None]:
    """The abandoned placeholders' ids, each with the record that superseded it, locked until the
    caller's transaction ends on PostgreSQL (SQLite reads this before its write transaction starts:
    every write below checks the condition again)."""
    locked = _abandoned(path, cutoff).with_only_columns(
        DeviceRow.id, DeviceRow.superseded_by_device_id
    ).order_by(DeviceRow.id).with_for_update(of=DeviceRow)
    return {row.id: row.superseded_by_device_id for row in (await db.execute(locked)).all()}


async def unbind_certificates_if_abandoned(db: AsyncSession, ids: Sequence[int], cutoff: datetime) -> int:
    """Unbind these devices from their certificates where they are still abandoned; how many were.
    devices -> certificates -> sessions -> devices is a cycle: this breaks it before deleting."""
    still = abandoned_condition(cutoff)
    unbound = 0
    for chunk in _chunks(ids):
        unbound += await _run(db, update(DeviceRow).where(DeviceRow.id.in_(chunk), still)
                              .values(certificate_id=None))
    return unbound


async def _ids_where(
    db: AsyncSession, wanted: InstrumentedAttribute[int], key: InstrumentedAttribute[int],
    values: Sequence[int],
) -> list[int]:
    """`wanted` of the rows whose `key` is one of `values`."""
    found: list[int] = []
    for chunk in _chunks(values):
        found += await db.scalars(select(wanted).where(key.in_(chunk)))
    return found


async def session_ids_of(db: AsyncSession, device_ids: Sequence[int]) -> list[int]:
    return await _ids_where(db, EnrollmentSessionRow.id, EnrollmentSessionRow.device_id, device_ids)


async def certificate_ids_of(db: AsyncSession, session_ids: Sequence[int]) -> list[int]:
    return await _ids_where(db, DeviceCertificateRow.id, DeviceCertificateRow.session_id, session_ids)


async def delete_device_rows(db: AsyncSession, device_ids: Sequence[int]) -> tuple[int, int, int]:
    """Delete the commands, raw messages and app statuses of these devices; how many of each."""
    commands = messages = apps = 0
    for chunk in _chunks(device_ids):
        commands += await _run(db, delete(CommandRow).where(CommandRow.device_id.in_(chunk)))
        messages += await _run(db, delete(DeviceMessageRow).where(DeviceMessageRow.device_id.in_(chunk)))
        apps += await _run(db, delete(DeviceAppRow).where(DeviceAppRow.device_id.in_(chunk)))
    return commands, messages, apps


async def delete_certificates(db: AsyncSession, certificate_ids: Sequence[int]) -> None:
    """Delete these identity certificates, unbinding any device still bound to one."""
    for chunk in _chunks(certificate_ids):
        await _run(db, update(DeviceRow).where(DeviceRow.certificate_id.in_(chunk))
                   .values(certificate_id=None))
        await _run(db, delete(DeviceCertificateRow).where(DeviceCertificateRow.id.in_(chunk)))


async def delete_sessions(db: AsyncSession, session_ids: Sequence[int]) -> None:
    """Delete these enrollment sessions with their secrets."""
    for chunk in _chunks(session_ids):
        await _run(db, delete(EnrollmentSecretRow).where(EnrollmentSecretRow.session_id.in_(chunk)))
        await _run(db, delete(EnrollmentSessionRow).where(EnrollmentSessionRow.id.in_(chunk)))


async def superseded_by(db: AsyncSession, device_ids: Sequence[int]) -> list[tuple[int, int | None]]:
    """(id, superseded_by_device_id) of the records superseded by any of these devices."""
    found: list[tuple[int, int | None]] = []
    for chunk in _chunks(device_ids):
        found += (await db.execute(
            select(DeviceRow.id, DeviceRow.superseded_by_device_id)
            .where(DeviceRow.superseded_by_device_id.in_(chunk))
        )).tuples()
    return found


async def point_superseded(db: AsyncSession, device_id: int, successor_id: int | None) -> None:
    """Record `successor_id` as the record that superseded this one."""
    await _run(db, update(DeviceRow).where(DeviceRow.id == device_id)
               .values(superseded_by_device_id=successor_id))


async def delete_devices_if_abandoned(db: AsyncSession, ids: Sequence[int], cutoff: datetime) -> int:
    """Delete these device records where they are still abandoned; how many were."""
    still = abandoned_condition(cutoff)
    removed = 0
    for chunk in _chunks(ids):
        removed += await _run(db, delete(DeviceRow).where(DeviceRow.id.in_(chunk), still))
    return removed


_TOUCHED = (DeviceRow, CommandRow, DeviceMessageRow, DeviceAppRow, DeviceCertificateRow, EnrollmentSecretRow,
            EnrollmentSessionRow)


def forget_loaded(db: AsyncSession) -> None:
    """Rows of the tables these bulk statements change that the session had loaded are read again
    if used."""
    for instance in list(db.sync_session.identity_map.values()):
        if isinstance(instance, _TOUCHED):
            db.expire(instance)


async def delete_device_unless(db: AsyncSession, device_id: int, statuses: Sequence[str]) -> int:
    """Delete this device record unless its status is one of `statuses` (checked in the DELETE
    itself, so a device that enrolled meanwhile stays); 1 when it was deleted, else 0."""
    return await _run(db, delete(DeviceRow).where(
        DeviceRow.id == device_id, DeviceRow.enrollment_status.not_in(list(statuses))))
