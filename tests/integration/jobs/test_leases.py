"""Leases, heartbeats and crash recovery: a worker holds its jobs under a short lease that it renews
while it works. A worker that dies stops renewing, so its jobs are run by another worker within one
lease; a live worker keeps its jobs however long they take; and a worker that lost a lease records
nothing over the worker that took the job over. Time is an injected clock, never a long sleep."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.config import Settings
from quince.services import jobs
from quince.store.database import make_sessionmaker
from quince.store.models import JobRow
from quince.web.workers import BackgroundWork
from tests.integration.jobs.test_runner import KIND, T0, Clock, enqueue, rename_root, root_name, stored

FAST_HEARTBEAT = timedelta(milliseconds=20)  # real time between renewals; leases follow the clock


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait (at most about 3 s of real time) until `check` holds: the heartbeat is its own task."""
    for _ in range(300):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


@contextlib.asynccontextmanager
async def running(work: Coroutine[Any, Any, int]) -> AsyncIterator[asyncio.Task[int]]:
    """A worker's run as a task, cancelled on the way out if the test did not see it finish."""
    task = asyncio.create_task(work)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def leases(engine: AsyncEngine, job_ids: list[int]) -> list[object]:
    rows = [await stored(engine, job_id) for job_id in job_ids]
    return [jobs.aware(r.locked_until) if r.locked_until else None for r in rows]


async def test_a_job_whose_worker_died_mid_run_is_run_by_another_worker_within_half_a_minute(
    engine: AsyncEngine,
) -> None:
    job_id = await enqueue(engine)
    maker = make_sessionmaker(engine)
    runs: list[str | None] = []
    started = asyncio.Event()

    async def hangs(db: AsyncSession, job: JobRow) -> jobs.Outcome:
        runs.append(job.locked_by)
        started.set()
        await asyncio.Event().wait()  # until the process dies
        return None

    doomed = jobs.JobRunner(maker, {KIND: hangs}, "doomed", clock=Clock(T0))  # the default lease
    async with running(doomed.run_once()):
        await asyncio.wait_for(started.wait(), 5)
    # ... and the process dies: no more renewals, nothing recorded
    job = await stored(engine, job_id)
    assert (job.status, job.locked_by) == ("running", "doomed")

    async def finishes(db: AsyncSession, job: JobRow) -> jobs.Outcome:
        runs.append(job.locked_by)
        return None

    survivor = jobs.JobRunner(maker, {KIND: finishes}, "survivor", clock=Clock(T0 + timedelta(seconds=5)))
    assert await survivor.run_once() == 0  # the dead worker's lease still counts, for a moment
    survivor.clock = Clock(T0 + timedelta(seconds=31))
    assert await survivor.run_once() == 1
    assert runs == ["doomed", "survivor"]
    job = await stored(engine, job_id)
    assert (job.status, job.attempts, job.locked_by) == ("done", 2, None)


async def test_a_long_running_job_keeps_its_lease_and_no_other_worker_runs_it_meanwhile(
    engine: AsyncEngine,
) -> None:
    """The heartbeat renews every job of the worker's batch, the running one and the ones waiting
    their turn, for as long as the worker lives."""
    job_ids = [await enqueue(engine, {"n": 1}), await enqueue(engine, {"n": 2})]
    maker = make_sessionmaker(engine)
    clock = Clock(T0)
    ran: list[tuple[object, str | None]] = []
    started, finish = asyncio.Event(), asyncio.Event()

    async def first_one_is_slow(db: AsyncSession, job: JobRow) -> jobs.Outcome:
        ran.append((job.payload["n"], job.locked_by))
        if job.payload["n"] == 1:
            started.set()
            await finish.wait()
        return None

    owner = jobs.JobRunner(maker, {KIND: first_one_is_slow}, "owner", heartbeat=FAST_HEARTBEAT, clock=clock)
    other = jobs.JobRunner(maker, {KIND: first_one_is_slow}, "other", clock=clock)
    async with running(owner.run_once()) as task:
        await asyncio.wait_for(started.wait(), 5)
        for _ in range(4):  # two minutes go by, four times the lease
            clock.now += timedelta(seconds=25)
            renewed = clock.now + jobs.DEFAULT_LEASE

            async def both_renewed(renewed: object = renewed) -> bool:
                return await leases(engine, job_ids) == [renewed, renewed]

            await eventually(both_renewed)
            assert await other.run_once() == 0
        finish.set()
        assert await asyncio.wait_for(task, 5) == 2
    assert ran == [(1, "owner"), (2, "owner")]
    for job_id in job_ids:
        job = await stored(engine, job_id)
        assert (job.status, job.attempts) == ("done", 1)


async def test_a_worker_whose_lease_was_taken_over_mid_run_records_nothing_over_the_new_owner(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture,
) -> None:
    job_id = await enqueue(engine)
    maker = make_sessionmaker(engine)
    started, finish = asyncio.Event(), asyncio.Event()

    async def late(db: AsyncSession, job: JobRow) -> jobs.Outcome:
        started.set()
        await finish.wait()
        await rename_root(db, "Changed by the worker that lost its lease")
        return jobs.Fail("gave up, too late")

    async def prompt(db: AsyncSession, job: JobRow) -> jobs.Outcome:
        await rename_root(db, "Changed by the new owner")
        return None

    with caplog.at_level(logging.WARNING, logger="quince.jobs"):
        slow = jobs.JobRunner(maker, {KIND: late}, "slow", heartbeat=FAST_HEARTBEAT, clock=Clock(T0))
        async with running(slow.run_once()) as task:
            await asyncio.wait_for(started.wait(), 5)
            # The slow worker's renewals stopped reaching the database for longer than its lease
            # (here: the new owner's clock is past it), so another worker takes the job over.
            new_owner = jobs.JobRunner(maker, {KIND: prompt}, "new-owner",
                                       clock=Clock(T0 + timedelta(minutes=1)))

            async def taken_over() -> bool:
                # On PostgreSQL a claim skips the row while a renewal holds it: try again.
                return await new_owner.run_once() == 1

            await eventually(taken_over)

            async def noticed() -> bool:
                return "slow lost its lease" in caplog.text

            await eventually(noticed)  # the slow worker's next renewal finds the lease gone
            finish.set()
            await asyncio.wait_for(task, 5)

    job = await stored(engine, job_id)
    assert (job.status, job.attempts, job.last_error) == ("done", 2, None)
    assert await root_name(engine) == "Changed by the new owner"
    assert "this run's outcome and changes are dropped" in caplog.text


async def test_renewing_extends_only_the_leases_a_worker_still_holds(
    session: AsyncSession, engine: AsyncEngine,
) -> None:
    lease = timedelta(seconds=30)
    await jobs.enqueue(session, KIND, {}, now=T0)
    await session.commit()
    [job] = await jobs.claim(session, "first", [KIND], lease=lease, now=T0)
    await session.commit()

    assert await jobs.renew(session, "first", [job.id], lease, now=T0 + timedelta(seconds=20)) == {job.id}
    await session.commit()
    assert await leases(engine, [job.id]) == [T0 + timedelta(seconds=50)]
    assert await jobs.claim(session, "second", [KIND], lease=lease, now=T0 + timedelta(seconds=45)) == []

    [taken] = await jobs.claim(session, "second", [KIND], lease=lease, now=T0 + timedelta(seconds=51))
    await session.commit()
    assert taken.id == job.id
    assert await jobs.renew(session, "first", [job.id], lease, now=T0 + timedelta(seconds=52)) == set()
    await session.commit()
    stays = await stored(engine, job.id)
    assert (stays.locked_by, jobs.aware(stays.locked_until)) == ("second", T0 + timedelta(seconds=81))


async def test_a_heartbeat_must_be_shorter_than_the_lease(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="heartbeat"):
        jobs.JobRunner(make_sessionmaker(engine), {}, "w", lease=timedelta(seconds=10),
                       heartbeat=timedelta(seconds=10))


async def test_two_server_processes_never_share_a_worker_id_even_with_the_same_host_and_pid(
    engine: AsyncEngine, live_settings: Settings,
) -> None:
    """A restarted container is pid 1 on the same host name again: a worker id that only named
    host and pid would let the new process renew and record over the old one's leases."""
    settings = live_settings.model_copy(update={"workers": 2})
    before, after = (BackgroundWork(settings, make_sessionmaker(engine)) for _ in range(2))
    ids = [{r.worker_id for r in work.workers.runners} for work in (before, after)]
    assert len(ids[0]) == len(ids[1]) == 2
    assert not ids[0] & ids[1]
