"""The console's dashboard: device counts per organization group and enrollments per day.

Reads only. Each figure is one grouped query over the devices of the scope's subtree, whatever
the number of OGs or devices (no query per OG); the per-child totals are rolled up from the
per-OG groups using the OGs' materialized paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from quince.services.directory import org_groups
from quince.services.scope import Scope
from quince.store import dashboard_figures, device_search
from quince.store.database import Db
from quince.store.models import OrgGroupRow

CHART_DAYS = 30


@dataclass(frozen=True)
class DeviceCounts:
    enrolled: int = 0
    in_progress: int = 0
    """Placeholders still waiting for their device (EnrollmentInProgress, not superseded)."""
    abandoned: int = 0
    """Placeholders the user left: they signed in again, so a newer record superseded this one."""

    def __add__(self, other: DeviceCounts) -> DeviceCounts:
        return DeviceCounts(self.enrolled + other.enrolled, self.in_progress + other.in_progress,
                            self.abandoned + other.abandoned)


@dataclass(frozen=True)
class OGCounts:
    og: OrgGroupRow
    counts: DeviceCounts
    subtree: bool
    """True for a child OG (its whole subtree); False for the chosen OG's own devices only."""


@dataclass(frozen=True)
class CountsByOG:
    own: OGCounts
    children: list[OGCounts]
    total: DeviceCounts


@dataclass(frozen=True)
class DayCount:
    day: date
    enrollments: int


async def device_counts(db: Db, scope: Scope) -> CountsByOG:
    """Enrolled, in-progress and abandoned devices of the scope's OG itself and of each of its
    direct children (with their subtrees), and the total of all of them."""
    top = await org_groups.get(db, scope, scope.og_id)
    children = await device_search.child_ogs(db, top.id)
    own = DeviceCounts()
    below: dict[str, DeviceCounts] = {}
    for path, enrolled, waiting, abandoned in await dashboard_figures.counts_per_og(db, top.path):
        counts = DeviceCounts(enrolled, waiting, abandoned)
        if path == top.path:
            own = counts
        else:
            # "/1/4/9/12/" below "/1/4/": the child is the first segment after the prefix.
            child = path[len(top.path):].split("/", 1)[0]
            below[child] = below.get(child, DeviceCounts()) + counts
    rows = [OGCounts(child, below.get(str(child.id), DeviceCounts()), True) for child in children]
    total = sum((row.counts for row in rows), own)
    return CountsByOG(OGCounts(top, own, False), rows, total)


async def enrollments_per_day(
    db: Db, scope: Scope, *, days: int = CHART_DAYS, today: date | None = None
) -> list[DayCount]:
    """Devices of the scope's subtree that completed enrollment on each of the last `days` days
    (UTC, oldest first, today last), days without any included."""
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time(), UTC)
    end = datetime.combine(today + timedelta(days=1), time(), UTC)
    found = await dashboard_figures.enrollments_by_day(db, scope.path, start, end)
    return [DayCount(d, found.get(d.isoformat(), 0)) for d in (first + timedelta(n) for n in range(days))]


def busiest(days: Sequence[DayCount]) -> DayCount | None:
    """The day with the most enrollments (the latest of equals), or None when there were none."""
    best = max(days, key=lambda d: (d.enrollments, d.day), default=None)
    return best if best is not None and best.enrollments > 0 else None
