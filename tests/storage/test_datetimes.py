"""Times in DateTime(timezone=True) columns. PostgreSQL stores an instant and hands back aware UTC
times; SQLite stores the text of the wall-clock time and hands back naive ones, so Quince writes
and compares UTC only (`devices.as_utc` turns a request's times into UTC) and reads SQLite's naive
times as UTC (`jobs.aware` and its siblings)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.scope import Scope
from quince.store.models import DeviceRow

NOON = datetime(2030, 6, 1, 12, 0, 0, 250_000, tzinfo=UTC)
PARIS_SUMMER = timezone(timedelta(hours=2))


async def _device(session: AsyncSession, scope: Scope, last_seen_at: datetime | None) -> DeviceRow:
    row = DeviceRow(og_id=scope.og_id, enrollment_status="Enrolled", ownership="E",
                    last_seen_at=last_seen_at)
    session.add(row)
    await session.flush()
    return row


async def _stored(session: AsyncSession, device_id: int) -> datetime | None:
    """The column as the database hands it back (not the value the session still holds)."""
    session.expire_all()
    return await session.scalar(select(DeviceRow.last_seen_at).where(DeviceRow.id == device_id))


async def test_a_utc_time_reads_back_as_the_same_instant_aware_on_postgresql_and_naive_on_sqlite(
    session: AsyncSession, scope: Scope, dialect: str
) -> None:
    device_id = (await _device(session, scope, NOON)).id
    await session.commit()
    stored = await _stored(session, device_id)
    assert stored is not None
    if dialect == "sqlite":
        assert stored.tzinfo is None and stored.replace(tzinfo=UTC) == NOON
    else:
        assert stored.utcoffset() == timedelta(0) and stored == NOON


async def test_a_time_with_another_offset_keeps_its_instant_on_postgresql_only(
    session: AsyncSession, scope: Scope, dialect: str
) -> None:
    two_pm_in_paris = NOON.astimezone(PARIS_SUMMER)  # the same instant as NOON
    device_id = (await _device(session, scope, two_pm_in_paris)).id
    await session.commit()
    stored = await _stored(session, device_id)
    assert stored is not None
    if dialect == "sqlite":  # the offset is dropped: read as UTC, the time is two hours late
        assert stored == two_pm_in_paris.replace(tzinfo=None)
        assert stored.replace(tzinfo=UTC) - NOON == timedelta(hours=2)
    else:
        assert stored == NOON


async def test_utc_times_compare_as_instants_to_the_microsecond(session: AsyncSession, scope: Scope) -> None:
    # SQLite compares the stored text with the bound parameter's text: both are written in one
    # fixed format (microseconds always included), so text order is time order.
    tick = timedelta(microseconds=1)
    early = await _device(session, scope, NOON - tick)
    on_time = await _device(session, scope, NOON)
    late = await _device(session, scope, NOON + tick)
    whole_second = await _device(session, scope, NOON.replace(microsecond=0))
    await session.commit()

    async def seen(condition: ColumnElement[bool]) -> set[int]:
        return set(await session.scalars(select(DeviceRow.id).where(condition)))

    assert await seen(DeviceRow.last_seen_at >= NOON) == {on_time.id, late.id}
    assert await seen(DeviceRow.last_seen_at < NOON) == {early.id, whole_second.id}
    assert await seen(DeviceRow.last_seen_at == NOON) == {on_time.id}
    assert await seen(DeviceRow.last_seen_at <= NOON.replace(microsecond=0)) == {whole_second.id}
