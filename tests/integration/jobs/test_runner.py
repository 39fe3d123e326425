"""The job runner: each job in its own transaction with its handler's changes; what handlers say
(done, retry, fail) is recorded; a handler that raises changes nothing but the job's retry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.services import jobs
from quince.store.database import make_sessionmaker
from quince.store.models import JobRow, OrgGroupRow

KIND = "test.work"
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def enqueue(engine: AsyncEngine, payload: dict[str, object] | None = None, **kwargs: object) -> int:
    async with make_sessionmaker(engine)() as db:
        job = await jobs.enqueue(db, KIND, payload or {}, now=T0, **kwargs)  # type: ignore[arg-type]
        await db.commit()
        assert job is not None
        return job.id


async def stored(engine: AsyncEngine, job_id: int) -> JobRow:
    async with make_sessionmaker(engine)() as db:
        job = await db.get(JobRow, job_id)
        assert job is not None
        return job


async def root_name(engine: AsyncEngine) -> str:
    async with make_sessionmaker(engine)() as db:
        return str(await db.scalar(select(OrgGroupRow.name).where(OrgGroupRow.parent_id.is_(None))))


async def rename_root(db: AsyncSession, name: str) -> None:
    root = await db.scalar(select(OrgGroupRow).where(OrgGroupRow.parent_id.is_(None)))
    assert root is not None
    root.name = name


async def test_a_handler_that_returns_nothing_completes_its_job_with_its_changes(engine: AsyncEngine) -> None:
    job_id = await enqueue(engine)

    async def handler(db: AsyncSession, job: JobRow) -> jobs.Outcome:
        await rename_root(db, "Renamed by job")
        return None

    runner = jobs.JobRunner(make_sessionmaker(engine), {KIND: handler}, "w", clock=Clock())
    assert await runner.run_once() == 1
    assert (await stored(engine, job_id)).status == "done"
    assert await root_name(engine) == "Renamed by job"
    assert await runner.run_once() == 0


async def test_a_handler_asking_to_retry_keeps_its_changes_and_waits(engine: AsyncEngine) -> None:
    job_id = await enqueue(engine)

    async def handler(db: AsyncSession, job: JobRow) -> jobs.Outcome:
        await rename_root(db, "Progress saved")
        return jobs.Retry("429 TooManyRequests", delay=30)

    clock = Clock()
    runner = jobs.JobRunner(make_sessionmaker(engine), {KIND: handler}, "w", clock=clock)
    await runner.run_once()
    job = await stored(engine, job_id)
    assert (job.status, job.attempts, job.last_error) == ("waiting", 1, "429 TooManyRequests")
    assert jobs.aware(job.run_after) == T0 + timedelta(seconds=30)
    assert await root_name(engine) == "Progress saved"
    assert await runner.run_once() == 0
    clock.now = T0 + timedelta(seconds=30)
    assert await runner.run_once() == 1


async def test_a_handler_that_fails_gives_up_at_once(engine: AsyncEngine) -> None:
    job_id = await enqueue(engine)

    async def handler(db: AsyncSession, job: JobRow) -> jobs.Outcome:
        return jobs.Fail("400 TopicDisallowed")

    await jobs.JobRunner(make_sessionmaker(engine), {KIND: handler}, "w", clock=Clock()).run_once()
    job = await stored(engine, job_id)
    assert (job.status, job.last_error) == ("failed", "400 TopicDisallowed")


async def test_a_handler_that_raises_changes_nothing_and_is_retried(engine: AsyncEngine) -> None:
    job_id = await enqueue(engine)
    before = await root_name(engine)

    async def handler(db: AsyncSession, job: JobRow) -> jobs.Outcome:
        await rename_root(db, "Half done")
        await db.flush()
        raise RuntimeError("the network went away")

    await jobs.JobRunner(make_sessionmaker(engine), {KIND: handler}, "w", clock=Clock()).run_once()
    job = await stored(engine, job_id)
    assert (job.status, job.attempts) == ("waiting", 1)
    assert job.last_error == "RuntimeError: the network went away"
    assert await root_name(engine) == before


async def test_a_worker_whose_lease_was_taken_over_leaves_the_job_alone(engine: AsyncEngine) -> None:
    job_id = await enqueue(engine)
    maker = make_sessionmaker(engine)
    async with maker() as db:
        await jobs.claim(db, "slow-worker", [KIND], lease=timedelta(seconds=1), now=T0)
        await db.commit()
    ran: list[str] = []

    async def handler(db: AsyncSession, job: JobRow) -> jobs.Outcome:
        ran.append(str(job.locked_by))
        return None

    survivor = jobs.JobRunner(maker, {KIND: handler}, "survivor", clock=Clock(T0 + timedelta(seconds=2)))
    assert await survivor.run_once() == 1
    assert ran == ["survivor"]
    slow = jobs.JobRunner(maker, {KIND: handler}, "slow-worker", clock=Clock(T0 + timedelta(seconds=3)))
    await slow._run(job_id)  # the slow worker finally gets round to it
    assert ran == ["survivor"]
    assert (await stored(engine, job_id)).status == "done"


async def test_a_job_whose_last_attempt_crashed_its_worker_fails(engine: AsyncEngine) -> None:
    job_id = await enqueue(engine, max_attempts=1)
    maker = make_sessionmaker(engine)
    async with maker() as db:
        await jobs.claim(db, "crashed", [KIND], lease=timedelta(seconds=1), now=T0)
        await db.commit()

    async def handler(db: AsyncSession, job: JobRow) -> jobs.Outcome:
        raise AssertionError("must not run a job past its last attempt")

    await jobs.JobRunner(maker, {KIND: handler}, "w", clock=Clock(T0 + timedelta(minutes=1))).run_once()
    job = await stored(engine, job_id)
    assert (job.status, job.attempts) == ("failed", 2)
    assert "stopped before finishing" in (job.last_error or "")


async def test_run_forever_works_until_stopped(engine: AsyncEngine) -> None:
    ran = asyncio.Event()

    async def handler(db: AsyncSession, job: JobRow) -> jobs.Outcome:
        ran.set()
        return None

    runner = jobs.JobRunner(make_sessionmaker(engine), {KIND: handler}, "w", poll_interval=0.05)
    task = asyncio.create_task(runner.run_forever())
    await asyncio.sleep(0.1)
    async with make_sessionmaker(engine)() as db:
        await jobs.enqueue(db, KIND, {})
        await db.commit()
    await asyncio.wait_for(ran.wait(), 5)
    runner.stop()
    await asyncio.wait_for(task, 5)
