"""The jobs table as a queue: one waiting job per (kind, dedupe key), kept so by a partial unique
index that INSERT ... ON CONFLICT DO NOTHING names, and claims that never hand one job to two
workers (FOR UPDATE SKIP LOCKED on PostgreSQL, SQLite's single writer)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.services import jobs
from quince.store.database import make_sessionmaker
from quince.store.models import JobRow

KIND = "test.work"
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


async def count_jobs(engine: AsyncEngine) -> int:
    async with make_sessionmaker(engine)() as db:
        return int(await db.scalar(select(func.count()).select_from(JobRow)) or 0)


def _job(status: str, dedupe_key: str | None, kind: str = KIND) -> JobRow:
    return JobRow(kind=kind, dedupe_key=dedupe_key, payload={}, status=status, attempts=0,
                  max_attempts=1, run_after=T0, created_at=T0)


async def test_the_waiting_index_refuses_a_second_waiting_job_of_one_kind_and_key(
    session: AsyncSession,
) -> None:
    session.add(_job("waiting", "device:1"))
    await session.flush()
    session.add(_job("waiting", "device:1"))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_the_waiting_index_ignores_jobs_that_are_not_waiting_and_jobs_without_a_key(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    # Partial on status = 'waiting'; NULL keys are distinct in a unique index on both databases.
    session.add_all([
        _job("waiting", "device:1"), _job("running", "device:1"), _job("done", "device:1"),
        _job("failed", "device:1"), _job("waiting", "device:1", kind="test.other"),
        _job("waiting", None), _job("waiting", None),
    ])
    await session.commit()
    assert await count_jobs(engine) == 7


async def test_two_transactions_enqueuing_the_same_key_at_once_leave_one_waiting_job(
    engine: AsyncEngine
) -> None:
    # Neither can see the other's uncommitted job when it looks; the unique index over waiting
    # jobs turns the second insert into "absorbed" instead of a duplicate push.
    sessions = make_sessionmaker(engine)
    async with sessions() as first, sessions() as second:
        made = await jobs.enqueue(first, KIND, {"device_id": 7}, dedupe_key="device:7")
        racing = asyncio.create_task(jobs.enqueue(second, KIND, {"device_id": 7}, dedupe_key="device:7"))
        await asyncio.sleep(0.2)  # the second is now waiting on the first (locks)
        await first.commit()
        absorbed = await asyncio.wait_for(racing, timeout=30)
        await second.commit()
    assert made is not None and absorbed is None
    assert await count_jobs(engine) == 1


async def test_enqueueing_with_a_key_keeps_working_after_many_runs_of_the_statement(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    # PostgreSQL plans a prepared statement generically after five runs: the insert must still
    # find the partial unique index then (its predicate is a literal, not a parameter).
    for n in range(12):
        assert await jobs.enqueue(session, KIND, {"device_id": n}, dedupe_key=f"device:{n}") is not None
        assert await jobs.enqueue(session, KIND, {"device_id": n}, dedupe_key=f"device:{n}") is None
    await session.commit()
    assert await count_jobs(engine) == 12


async def test_two_workers_never_claim_the_same_job(engine: AsyncEngine, dialect: str) -> None:
    """On PostgreSQL the first claim stays uncommitted while the second runs: FOR UPDATE SKIP
    LOCKED makes the second skip those rows. SQLite serializes writers: the claims run in turn."""
    maker = make_sessionmaker(engine)
    async with maker() as db:
        for n in range(10):
            await jobs.enqueue(db, KIND, {"n": n}, now=T0)
        await db.commit()
    async with maker() as first, maker() as second:
        mine = await jobs.claim(first, "w1", [KIND], limit=4, now=T0)
        if dialect == "postgresql":
            theirs = await jobs.claim(second, "w2", [KIND], limit=10, now=T0)
            await first.commit()
        else:
            await first.commit()
            theirs = await jobs.claim(second, "w2", [KIND], limit=10, now=T0)
        await second.commit()
    assert len(mine) == 4 and len(theirs) == 6
    assert not {j.id for j in mine} & {j.id for j in theirs}
    async with maker() as db:
        owners = dict((await db.execute(select(JobRow.id, JobRow.locked_by))).tuples().all())
    assert sorted(str(owner) for owner in owners.values()) == ["w1"] * 4 + ["w2"] * 6
