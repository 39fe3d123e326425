"""Durable jobs on the real database (SQLite, and PostgreSQL with QUINCE_TEST_DATABASE_URL):
written in the caller's transaction, coalesced, claimed under a lease, retried, given up loudly.
What the queue asks of each database (the waiting-job index, concurrent claims) is pinned in
tests/storage/test_jobs_queue.py."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.domain.errors import Conflict, OutOfScope
from quince.services import jobs
from quince.services.directory import org_groups
from quince.services.scope import Scope
from quince.store.database import make_sessionmaker
from quince.store.models import JobRow
from quince.store.paging import PageRequest

KIND = "test.work"
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


async def count_jobs(engine: AsyncEngine) -> int:
    async with make_sessionmaker(engine)() as db:
        return int(await db.scalar(select(func.count()).select_from(JobRow)) or 0)


async def reload(engine: AsyncEngine, job_id: int) -> JobRow:
    async with make_sessionmaker(engine)() as db:
        job = await db.get(JobRow, job_id)
        assert job is not None
        return job


async def test_a_job_enqueued_in_a_transaction_that_rolls_back_does_not_exist(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    job = await jobs.enqueue(session, KIND, {"n": 1})
    assert job is not None and job.id is not None
    await session.rollback()
    assert await count_jobs(engine) == 0


async def test_a_job_enqueued_in_a_committed_transaction_waits_to_run(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    job = await jobs.enqueue(session, KIND, {"n": 1}, max_attempts=3, now=T0)
    await session.commit()
    assert job is not None
    stored = await reload(engine, job.id)
    assert (stored.status, stored.attempts, stored.max_attempts) == ("waiting", 0, 3)
    assert stored.payload == {"n": 1}
    assert jobs.aware(stored.run_after) == T0


async def test_jobs_with_the_same_key_coalesce_while_one_is_waiting(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    first = await jobs.enqueue(session, KIND, {"device_id": 7}, dedupe_key="device:7")
    again = await jobs.enqueue(session, KIND, {"device_id": 7}, dedupe_key="device:7")
    other_key = await jobs.enqueue(session, KIND, {"device_id": 8}, dedupe_key="device:8")
    other_kind = await jobs.enqueue(session, "test.other", {"device_id": 7}, dedupe_key="device:7")
    no_key = await jobs.enqueue(session, KIND, {"device_id": 7})
    await session.commit()
    assert first is not None and again is None
    assert other_key is not None and other_kind is not None and no_key is not None
    assert await count_jobs(engine) == 4


async def test_a_running_job_does_not_absorb_a_new_request(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    """The push in flight may have left before the new command was queued: push again."""
    await jobs.enqueue(session, KIND, {}, dedupe_key="device:1", now=T0)
    await session.commit()
    [claimed] = await jobs.claim(session, "w1", [KIND], now=T0)
    await session.commit()
    assert await jobs.enqueue(session, KIND, {}, dedupe_key="device:1", now=T0) is not None
    await session.commit()
    assert claimed.status == "running"
    assert await count_jobs(engine) == 2


async def test_coalescing_brings_a_later_job_forward_but_keeps_a_backoff(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    later = await jobs.enqueue(session, KIND, {}, dedupe_key="a", run_after=T0 + timedelta(hours=1), now=T0)
    assert await jobs.enqueue(session, KIND, {}, dedupe_key="a", now=T0) is None
    await session.commit()
    assert later is not None
    assert jobs.aware((await reload(engine, later.id)).run_after) == T0

    backing_off = await jobs.enqueue(session, KIND, {}, dedupe_key="b", now=T0)
    await session.commit()
    assert backing_off is not None
    await jobs.claim(session, "w1", [KIND], now=T0)
    await jobs.retry(session, backing_off, "429 TooManyRequests", delay=600, now=T0)
    await session.commit()
    assert await jobs.enqueue(session, KIND, {}, dedupe_key="b", now=T0) is None
    await session.commit()
    assert jobs.aware((await reload(engine, backing_off.id)).run_after) == T0 + timedelta(seconds=600)


async def test_claim_takes_due_jobs_of_its_kinds_and_counts_an_attempt(session: AsyncSession) -> None:
    due = await jobs.enqueue(session, KIND, {"n": "due"}, now=T0)
    await jobs.enqueue(session, KIND, {"n": "later"}, run_after=T0 + timedelta(minutes=1), now=T0)
    await jobs.enqueue(session, "test.other", {"n": "other kind"}, now=T0)
    await session.commit()

    claimed = await jobs.claim(session, "worker-1", [KIND], limit=10, lease=timedelta(minutes=2), now=T0)
    await session.commit()

    assert [j.payload for j in claimed] == [{"n": "due"}]
    job = claimed[0]
    assert due is not None and job.id == due.id
    assert (job.status, job.attempts, job.locked_by) == ("running", 1, "worker-1")
    assert job.locked_until is not None and jobs.aware(job.locked_until) == T0 + timedelta(minutes=2)
    assert await jobs.claim(session, "worker-2", [KIND], now=T0) == []


async def test_claim_respects_the_limit_and_runs_oldest_first(session: AsyncSession) -> None:
    for n in range(5):
        await jobs.enqueue(session, KIND, {"n": n}, run_after=T0 - timedelta(seconds=10 - n), now=T0)
    await session.commit()
    first = await jobs.claim(session, "w", [KIND], limit=2, now=T0)
    rest = await jobs.claim(session, "w", [KIND], limit=10, now=T0)
    await session.commit()
    assert [j.payload["n"] for j in first] == [0, 1]
    assert [j.payload["n"] for j in rest] == [2, 3, 4]


async def test_complete_marks_the_job_done(session: AsyncSession, engine: AsyncEngine) -> None:
    await jobs.enqueue(session, KIND, {}, now=T0)
    await session.commit()
    [job] = await jobs.claim(session, "w", [KIND], now=T0)
    await jobs.complete(session, job, now=T0 + timedelta(seconds=1))
    await session.commit()
    stored = await reload(engine, job.id)
    assert (stored.status, stored.locked_by, stored.locked_until) == ("done", None, None)
    assert stored.finished_at is not None
    assert await jobs.claim(session, "w", [KIND], now=T0 + timedelta(days=1)) == []


async def test_retry_waits_the_backoff_then_the_job_runs_again(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    await jobs.enqueue(session, KIND, {}, now=T0)
    await session.commit()
    [job] = await jobs.claim(session, "w", [KIND], now=T0)
    await jobs.retry(session, job, "500 InternalServerError", now=T0)
    await session.commit()

    stored = await reload(engine, job.id)
    assert (stored.status, stored.attempts, stored.last_error) == ("waiting", 1, "500 InternalServerError")
    wait = (jobs.aware(stored.run_after) - T0).total_seconds()
    assert 5 <= wait <= 10
    assert await jobs.claim(session, "w", [KIND], now=T0 + timedelta(seconds=4)) == []
    [again] = await jobs.claim(session, "w", [KIND], now=T0 + timedelta(seconds=wait))
    assert again.attempts == 2


async def test_retry_honours_the_delay_it_is_given(session: AsyncSession, engine: AsyncEngine) -> None:
    await jobs.enqueue(session, KIND, {}, now=T0)
    await session.commit()
    [job] = await jobs.claim(session, "w", [KIND], now=T0)
    await jobs.retry(session, job, "429 TooManyRequests", delay=120, now=T0)
    await session.commit()
    assert jobs.aware((await reload(engine, job.id)).run_after) == T0 + timedelta(seconds=120)


async def test_an_attempt_that_does_not_count_leaves_the_attempts_alone(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    await jobs.enqueue(session, KIND, {}, max_attempts=1, now=T0)
    await session.commit()
    for minute in range(3):
        [job] = await jobs.claim(session, "w", [KIND], now=T0 + timedelta(minutes=minute * 10))
        await jobs.retry(session, job, "no certificate yet", delay=60, counts=False,
                         now=T0 + timedelta(minutes=minute * 10))
        await session.commit()
    stored = await reload(engine, job.id)
    assert (stored.status, stored.attempts) == ("waiting", 0)


async def test_after_max_attempts_the_job_gives_up_loudly(
    session: AsyncSession, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    await jobs.enqueue(session, KIND, {}, max_attempts=3, now=T0)
    await session.commit()
    now = T0
    with caplog.at_level(logging.WARNING, logger="quince.jobs"):
        for attempt in range(1, 4):
            [job] = await jobs.claim(session, "w", [KIND], now=now)
            assert job.attempts == attempt
            await jobs.retry(session, job, f"503 ServiceUnavailable (attempt {attempt})", now=now)
            await session.commit()
            now += timedelta(hours=1)

    stored = await reload(engine, job.id)
    assert (stored.status, stored.attempts) == ("failed", 3)
    assert stored.last_error == "503 ServiceUnavailable (attempt 3)"
    assert stored.finished_at is not None
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "gave up after 3 attempt(s)" in errors[0].getMessage()
    assert f"job {job.id} ({KIND})" in errors[0].getMessage()
    assert await jobs.claim(session, "w", [KIND], now=now + timedelta(days=1)) == []


async def test_fail_gives_up_at_once(session: AsyncSession, engine: AsyncEngine) -> None:
    await jobs.enqueue(session, KIND, {}, now=T0)
    await session.commit()
    [job] = await jobs.claim(session, "w", [KIND], now=T0)
    await jobs.fail(session, job, "400 TopicDisallowed", now=T0)
    await session.commit()
    stored = await reload(engine, job.id)
    assert (stored.status, stored.attempts, stored.last_error) == ("failed", 1, "400 TopicDisallowed")


async def test_a_job_whose_worker_died_is_claimed_again_when_its_lease_runs_out(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    await jobs.enqueue(session, KIND, {"n": 1}, now=T0)
    await session.commit()
    lease = timedelta(minutes=5)
    [job] = await jobs.claim(session, "crashed-worker", [KIND], lease=lease, now=T0)
    await session.commit()  # ... and the worker dies without completing it

    assert await jobs.claim(session, "survivor", [KIND], lease=lease, now=T0 + timedelta(minutes=4)) == []
    expired = T0 + lease + timedelta(seconds=1)
    [again] = await jobs.claim(session, "survivor", [KIND], lease=lease, now=expired)
    await session.commit()
    assert again.id == job.id
    assert (again.locked_by, again.attempts, again.status) == ("survivor", 2, "running")


async def test_many_concurrent_workers_run_every_job_exactly_once(engine: AsyncEngine) -> None:
    maker = make_sessionmaker(engine)
    async with maker() as db:
        for n in range(40):
            await jobs.enqueue(db, KIND, {"n": n})
        await db.commit()
    ran: list[int] = []

    async def handler(_db: AsyncSession, job: JobRow) -> jobs.Outcome:
        ran.append(int(str(job.payload["n"])))
        await asyncio.sleep(0)  # let the other workers in
        return None

    runners = [jobs.JobRunner(maker, {KIND: handler}, worker_id=f"w{i}", batch=3) for i in range(4)]

    async def drain(runner: jobs.JobRunner) -> None:
        while await runner.run_once():
            pass

    await asyncio.gather(*(drain(r) for r in runners))
    assert sorted(ran) == list(range(40))
    async with maker() as db:
        statuses = (await db.scalars(select(JobRow.status))).all()
    assert set(statuses) == {"done"}


async def test_prune_removes_old_finished_jobs_only(session: AsyncSession, engine: AsyncEngine) -> None:
    for n in range(3):
        await jobs.enqueue(session, KIND, {"n": n}, now=T0)
    await session.commit()
    done, failed, waiting = await jobs.claim(session, "w", [KIND], now=T0)
    await jobs.complete(session, done, now=T0)
    await jobs.fail(session, failed, "gave up", now=T0)
    await jobs.retry(session, waiting, "later", now=T0)
    await session.commit()
    assert await jobs.prune(session, now=T0 + timedelta(days=8)) == 1
    assert await jobs.prune(session, now=T0 + timedelta(days=31)) == 1
    await session.commit()
    assert [j.id for j in (await session.scalars(select(JobRow))).all()] == [waiting.id]


async def test_only_administrators_of_the_whole_install_see_jobs(session: AsyncSession, scope: Scope) -> None:
    await jobs.enqueue(session, KIND, {})
    child = await org_groups.create(session, scope, scope.og_id, name="Acme", group_id="acme",
                                    og_type="Customer")
    await session.commit()
    page = await jobs.search(session, scope, PageRequest())
    assert page.total == 1
    below = Scope(og_id=child.id, path=child.path, can_write=True, actor="acme admin")
    with pytest.raises(OutOfScope):
        await jobs.search(session, below, PageRequest())


async def test_a_failed_job_can_be_run_again_with_fresh_attempts(
    session: AsyncSession, scope: Scope, engine: AsyncEngine
) -> None:
    await jobs.enqueue(session, KIND, {}, max_attempts=1, now=T0)
    await session.commit()
    [job] = await jobs.claim(session, "w", [KIND], now=T0)
    await jobs.retry(session, job, "boom", now=T0)
    await session.commit()
    assert (await reload(engine, job.id)).status == "failed"
    await jobs.requeue(session, scope, job.id, now=T0 + timedelta(hours=1))
    await session.commit()
    stored = await reload(engine, job.id)
    assert (stored.status, stored.attempts, stored.finished_at) == ("waiting", 0, None)
    with pytest.raises(Conflict):
        await jobs.requeue(session, scope, job.id)
