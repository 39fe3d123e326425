"""The device list's "last seen" filters and order on devices.last_seen_at. On SQLite the "seen
lately" windows compare `+last_seen_at` (kept off the index on purpose, services/devices.py) where
PostgreSQL compares the column; both must pick the same devices, edges included. A time with any
offset is turned into UTC before it meets the column (see test_datetimes.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.devices import records as devices
from quince.services.devices.records import LastSeen
from quince.services.scope import Scope
from quince.store.models import DeviceRow
from quince.store.paging import PageRequest

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)
SEEN = {  # device name -> when it was last seen
    "just now": NOW,
    "a day ago": NOW - timedelta(days=1),
    "a day and a tick ago": NOW - timedelta(days=1) - TICK,
    "a month ago": NOW - timedelta(days=30),
    "a month and a tick ago": NOW - timedelta(days=30) - TICK,
    "never": None,
}


@pytest.fixture
async def fleet(session: AsyncSession, scope: Scope) -> None:
    session.add_all(DeviceRow(og_id=scope.og_id, enrollment_status="Enrolled", ownership="E",
                              device_name=name, last_seen_at=seen) for name, seen in SEEN.items())
    await session.commit()


async def _names(session: AsyncSession, scope: Scope, **filters: object) -> list[str]:
    page = await devices.search(session, scope, PageRequest(), now=NOW, **filters)  # type: ignore[arg-type]
    return [str(d.device_name) for d in page.items]


@pytest.mark.parametrize(("choice", "expected"), [
    (LastSeen.LAST_DAY, {"just now", "a day ago"}),
    (LastSeen.LAST_MONTH, {"just now", "a day ago", "a day and a tick ago", "a month ago"}),
    (LastSeen.NOT_LAST_MONTH, {"a month and a tick ago"}),
    (LastSeen.NEVER, {"never"}),
])
@pytest.mark.usefixtures("fleet")
async def test_a_last_seen_window_counts_back_from_now_with_its_edge_included(
    session: AsyncSession, scope: Scope, choice: LastSeen, expected: set[str]
) -> None:
    assert set(await _names(session, scope, last_seen=choice)) == expected


@pytest.mark.usefixtures("fleet")
async def test_seen_since_and_before_take_a_time_with_any_offset_as_its_instant(
    session: AsyncSession, scope: Scope
) -> None:
    a_day_ago = (NOW - timedelta(days=1)).astimezone(timezone(timedelta(hours=-4)))  # in New York
    assert set(await _names(session, scope, last_seen_since=a_day_ago)) == {"just now", "a day ago"}
    assert "a day ago" not in await _names(session, scope, seen_before=a_day_ago)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.usefixtures("fleet")
async def test_devices_never_seen_sort_last_in_either_direction(
    session: AsyncSession, scope: Scope, descending: bool
) -> None:
    # Left to themselves, PostgreSQL sorts NULL above every time and SQLite below.
    names = await _names(session, scope, order_by="lastseen", descending=descending)
    assert names[-1] == "never"
    seen = [SEEN[name] for name in names[:-1]]
    assert seen == sorted(seen, reverse=descending)  # type: ignore[type-var]
