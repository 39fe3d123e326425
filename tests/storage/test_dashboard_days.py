"""The dashboard's enrollments per day group devices by the UTC calendar day they enrolled on:
`to_char(timezone('UTC', enrolled_at))` on PostgreSQL, the first ten characters of the stored
text on SQLite (services/dashboard.py). The day must not move with the session's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.devices import dashboard
from quince.services.scope import Scope
from quince.store.models import DeviceRow

TODAY = date(2030, 3, 31)
TICK = timedelta(microseconds=1)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


async def test_enrollments_count_on_their_utc_day_at_its_edges_whatever_the_session_time_zone(
    session: AsyncSession, scope: Scope, dialect: str
) -> None:
    yesterday, first = TODAY - timedelta(days=1), TODAY - timedelta(days=6)
    enrolled = [
        _midnight(TODAY) - TICK,                      # yesterday's last moment
        _midnight(TODAY),                             # today's first
        _midnight(TODAY + timedelta(days=1)) - TICK,  # today's last
        _midnight(TODAY + timedelta(days=1)),         # tomorrow: outside the chart
        _midnight(first),                             # the chart's first day
        _midnight(first) - TICK,                      # before it: outside
    ]
    session.add_all(DeviceRow(og_id=scope.og_id, enrollment_status="Enrolled", ownership="E", enrolled_at=at)
                    for at in enrolled)
    await session.commit()
    if dialect == "postgresql":
        # UTC+14: every moment above falls on the next calendar day there.
        await session.execute(text("SET TIME ZONE 'Pacific/Kiritimati'"))

    days = await dashboard.enrollments_per_day(session, scope, days=7, today=TODAY)

    assert [d.day for d in days] == [first + timedelta(days=n) for n in range(7)]
    assert {d.day: d.enrollments for d in days if d.enrollments} == {first: 1, yesterday: 1, TODAY: 2}
