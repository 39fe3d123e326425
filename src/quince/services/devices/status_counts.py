"""Counts of devices by status: install-wide for monitoring (the operator's view, not scoped),
and an OG subtree's device counts as Workspace ONE's `devicecountinfo` gives them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from quince.domain.devices import ownership_for
from quince.services.devices.records import APPLE_PLATFORM
from quince.services.directory import org_groups
from quince.services.scope import Scope
from quince.store import dashboard_figures
from quince.store import jobs as stored_jobs
from quince.store.database import Db


async def devices_by_status(db: Db) -> dict[str, int]:
    return await dashboard_figures.devices_by_status(db)


async def jobs_by_kind_and_status(db: Db) -> dict[tuple[str, str], int]:
    return await stored_jobs.counts_by_kind_and_status(db)


@dataclass(frozen=True)
class CountInfo:
    """The devices of an OG and its children: in all, by enrollment status, by ownership (rule 4:
    a user-enrolled device counts as Employee Owned) and by platform."""

    total: int
    by_status: dict[str, int]
    by_ownership: dict[str, int]
    by_platform: dict[str, int]


async def count_info(db: Db, scope: Scope, og_id: int | None = None) -> CountInfo:
    """The device counts of the OG `og_id` with its children (default: the caller's subtree);
    an OG outside the scope is NotFound. Every record counts, placeholders included."""
    path = scope.path if og_id is None else (await org_groups.get(db, scope, og_id)).path
    statuses: Counter[str] = Counter()
    ownerships: Counter[str] = Counter()
    groups = await dashboard_figures.devices_by_status_and_ownership(db, path)
    for status, ownership, user_enrolled, count in groups:
        statuses[status] += count
        ownerships[ownership_for(user_enrolled, ownership)] += count
    total = sum(statuses.values())
    return CountInfo(total, dict(statuses), dict(ownerships), {APPLE_PLATFORM: total})
