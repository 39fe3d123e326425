"""Benchmarks of the enrollment decision and the admin searches, in process, on a seeded SQLite
database. Sizes: QUINCE_BENCH_USERS (default 20000), QUINCE_BENCH_OGS (default 300)."""

from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from rich.table import Table
from sqlalchemy import insert

from quince.domain.enrollment_policy import EnrollingUser, GroupMapping, decide_enrollment_og
from quince.services.access import passwords
from quince.services.directory import og_settings, org_groups, user_groups, users
from quince.services.directory.org_tree import load_overrides, load_tree
from quince.services.enrollment import preview as enrollment_preview
from quince.services.scope import operator_scope
from quince.store import migrate
from quince.store.database import make_engine, make_sessionmaker
from quince.store.models import EnrollmentUserRow, UserGroupMemberRow
from quince.store.paging import PageRequest

N_USERS = int(os.environ.get("QUINCE_BENCH_USERS", "20000"))
N_OGS = int(os.environ.get("QUINCE_BENCH_OGS", "300"))


def timed(samples: list[float]) -> tuple[str, str, str]:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if len(ordered) > 1 else ordered[0]
    return (f"{statistics.median(ordered) * 1000:.3f}", f"{p95 * 1000:.3f}", str(len(ordered)))


async def measure(fn: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - start)
    return out


async def run() -> Table:
    """Seed a database, time the operations, and return the table."""
    rng = random.Random(7)
    passwords.configure(time_cost=1, memory_cost=1024)
    workdir = Path(tempfile.mkdtemp(prefix="quince-bench-"))
    engine = make_engine(f"sqlite+aiosqlite:///{workdir / 'bench.db'}")
    await migrate.upgrade(engine)
    make = make_sessionmaker(engine)
    async with make() as s:
        await org_groups.ensure_root(s)
        scope = await operator_scope(s)
        customer = await org_groups.create(s, scope, scope.og_id, name="Bench", group_id="bench",
                                           og_type="Customer")
        await og_settings.override(s, scope, customer.id, "user_enrollment_enabled", True)
        og_ids = [customer.id]
        for i in range(N_OGS):
            og = await org_groups.create(s, scope, rng.choice(og_ids), name=f"OG {i}", group_id=f"og-{i}")
            og_ids.append(og.id)
        await s.execute(insert(EnrollmentUserRow), [
            {"username": f"user{i}", "username_key": f"user{i}", "email": f"user{i}@bench.example",
             "managed_apple_id": f"user{i}@bench.example", "first_name": "", "last_name": "",
             "active": True, "og_id": rng.choice(og_ids)}
            for i in range(N_USERS)
        ])
        groups = [await user_groups.create(s, scope, name=f"Group {g}", og_id=customer.id)
                  for g in range(20)]
        for g in groups:
            await user_groups.add_mapping(s, scope, g.id, rng.choice(og_ids), rng.randint(1, 5))
        await s.execute(insert(UserGroupMemberRow), [
            {"user_group_id": g.id, "user_id": uid}
            for g in groups for uid in rng.sample(range(1, N_USERS + 1), N_USERS // 10)
        ])
        await s.commit()

    rows: list[tuple[str, ...]] = []
    async with make() as s:
        scope = await operator_scope(s)
        tree, overrides = await load_tree(s), await load_overrides(s)
        mappings = [GroupMapping(i, f"Group {i}", rng.choice(og_ids), rng.randint(1, 5)) for i in range(5)]
        user = EnrollingUser(1, "user1", True, rng.choice(og_ids))

        async def pure() -> None:
            decide_enrollment_og(user, mappings, None, tree, overrides)

        rows.append(("enrollment decision (pure, 5 mappings)", *timed(await measure(pure, 2000))))

        async def preview() -> None:
            await enrollment_preview.preview(s, scope, f"user{rng.randrange(N_USERS)}", None)

        rows.append(("enrollment preview (load + decide)", *timed(await measure(preview, 200))))

        async def search() -> None:
            await users.search(s, scope, PageRequest(rng.randrange(20), 500), email="bench")

        rows.append(("user search, page of 500", *timed(await measure(search, 50))))

        async def og_search() -> None:
            await org_groups.search(s, scope, PageRequest(0, 500), name="OG 1")

        rows.append(("OG search by name", *timed(await measure(og_search, 200))))
    await engine.dispose()
    shutil.rmtree(workdir, ignore_errors=True)

    title = f"Enrollment policy and searches (in process, SQLite, {N_USERS} users, {N_OGS + 2} OGs)"
    table = Table(title=title)
    for col in ("operation", "median ms", "p95 ms", "runs"):
        table.add_column(col, justify="left" if col == "operation" else "right")
    for row in rows:
        table.add_row(*row)
    return table
