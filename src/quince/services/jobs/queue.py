"""The job queue's protocol: enqueue, claim, renew, hold, and record an outcome.

A job is written by `enqueue` in the same transaction as the change that causes it, so it exists
exactly when that change does. Workers `claim` jobs under a short lease (`FOR UPDATE SKIP LOCKED`
on PostgreSQL, a single conditional UPDATE on SQLite, which serializes writers) and `renew` it
while they work, so a live worker keeps its jobs however long they take, and the jobs of a worker
that died are claimed again within one lease. An outcome is recorded only by the worker still
holding the lease (`hold`). Every handler is idempotent: a job may run more than once, never less.
After `max_attempts` a job fails and says so at ERROR level.

Lifecycle: waiting -> running -> done | waiting (retry, after a backoff) | failed.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

from quince.domain.jobs import JobStatus
from quince.store import jobs as stored
from quince.store.database import Db
from quince.store.models import JobRow

log = logging.getLogger("quince.jobs")

WAITING, RUNNING, DONE, FAILED = JobStatus.WAITING, JobStatus.RUNNING, JobStatus.DONE, JobStatus.FAILED
STATUSES = tuple(JobStatus)

BACKOFF_BASE = 5.0  # seconds before the first retry (at least)
BACKOFF_CAP = 15 * 60.0  # never wait longer than this between attempts, unless told to
# Short, and renewed every third of it while the worker lives: a crashed worker's jobs wait at most
# this long, while a job that legitimately runs for minutes is never taken from a live worker.
DEFAULT_LEASE = timedelta(seconds=30)
MAX_ERROR_LENGTH = 2000
KEEP_DONE = timedelta(days=7)
KEEP_FAILED = timedelta(days=30)


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """SQLite hands datetimes back without a zone; Quince always writes UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def backoff(attempt: int, *, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP,
            rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, ...): doubling from `base`,
    at most `cap`, with jitter over the upper half so jobs that failed together spread out."""
    ceiling = min(cap, base * 2.0 ** min(max(attempt, 1), 64))
    return (rng or random).uniform(ceiling / 2, ceiling)


# What a handler tells the runner. None: the job is done.
@dataclass(frozen=True)
class Retry:
    """Try again later: after `delay` seconds, else after the backoff for this attempt."""

    reason: str
    delay: float | None = None
    counts: bool = True
    """False: this attempt does not count toward max_attempts (waiting for configuration)."""
    alarming: bool = False
    """Log at ERROR, not WARNING: something an operator must fix (an expired certificate...)."""


@dataclass(frozen=True)
class Fail:
    """Give up now: retrying cannot help."""

    reason: str


Outcome: TypeAlias = Retry | Fail | None
Handler: TypeAlias = Callable[[Db, JobRow], Awaitable[Outcome]]


async def enqueue(
    db: Db,
    kind: str,
    payload: Mapping[str, Any],
    *,
    dedupe_key: str | None = None,
    run_after: datetime | None = None,
    max_attempts: int = 10,
    now: datetime | None = None,
) -> JobRow | None:
    """Add a job in the caller's transaction. With `dedupe_key`, a job of the same kind and key
    still waiting absorbs this one (returns None): ten commands queued for one device, one push."""
    now = now or utcnow()
    due = run_after or now
    values = {"kind": kind, "payload": dict(payload), "dedupe_key": dedupe_key, "status": WAITING,
              "attempts": 0, "max_attempts": max_attempts, "run_after": due, "created_at": now}
    if dedupe_key is None:
        job = JobRow(**values)
        db.add(job)
        await db.flush()
        return job
    # The partial unique index on (kind, dedupe_key) of waiting jobs makes the insert a no-op when
    # another transaction has just added the same waiting job, even one not yet committed
    # (PostgreSQL waits for it); then the loop finds and locks that job instead.
    for _ in range(_DEDUPE_ROUNDS):
        waiting = await stored.waiting_to_absorb(db, kind, dedupe_key)
        if waiting is not None:
            # A fresh job waiting for a later time runs sooner if asked; one backing off after a
            # failure keeps its backoff (APNs asked us to wait).
            if waiting.attempts == 0 and aware(waiting.run_after) > due:
                waiting.run_after = due
            return None
        new_id = await stored.insert_waiting(db, values)
        if new_id is not None:
            return await db.get(JobRow, new_id)
    raise RuntimeError(f"could not enqueue {kind} job {dedupe_key!r}: it kept being claimed")


_DEDUPE_ROUNDS = 5


async def claim(
    db: Db,
    worker_id: str,
    kinds: Iterable[str],
    limit: int = 10,
    lease: timedelta = DEFAULT_LEASE,
    *,
    now: datetime | None = None,
) -> list[JobRow]:
    """Take up to `limit` due jobs of these kinds for `worker_id` until now + `lease`, counting an
    attempt for each. Commit right after: the claim is its own short transaction."""
    now = now or utcnow()
    kinds = list(kinds)
    if not kinds or limit < 1:
        return []
    jobs = await stored.claim_due(db, worker_id, kinds, limit, now, now + lease)
    return sorted(jobs, key=lambda j: (aware(j.run_after), j.id))


async def renew(
    db: Db, worker_id: str, job_ids: Iterable[int], lease: timedelta = DEFAULT_LEASE,
    *, now: datetime | None = None,
) -> set[int]:
    """Extend `worker_id`'s leases on these jobs to now + `lease`, only where it still holds them
    (running, locked by it); returns those ids. Commit right after, like a claim."""
    ids = list(job_ids)
    if not ids:
        return set()
    return await stored.extend_leases(db, worker_id, ids, (now or utcnow()) + lease)


async def hold(db: Db, job_id: int, worker_id: str) -> bool:
    """In the transaction that is about to record a job's outcome: lock the job if `worker_id` still
    holds its lease, and say whether it does. False: another worker took the job over (or it is
    finished), so this worker must record nothing."""
    return await stored.lock_if_held(db, job_id, worker_id)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 3] + "..."


def release(job: JobRow) -> None:
    """No worker holds the job any more (written at the caller's flush)."""
    job.locked_by = None
    job.locked_until = None


async def complete(db: Db, job: JobRow, *, now: datetime | None = None) -> None:
    """The job is done (in the caller's transaction, with the handler's changes)."""
    job.status = DONE
    job.finished_at = now or utcnow()
    release(job)
    await db.flush()


async def fail(db: Db, job: JobRow, error: str, *, now: datetime | None = None) -> None:
    """Give up on the job, loudly: status failed, the error kept, an ERROR in the log."""
    job.status = FAILED
    job.last_error = _clip(error)
    job.finished_at = now or utcnow()
    release(job)
    await db.flush()
    log.error(
        "job %s (%s) gave up after %d attempt(s): %s", job.id, job.kind, job.attempts, error,
        extra={"job_id": job.id, "job_kind": job.kind, "attempts": job.attempts, "outcome": "failed"},
    )


async def retry(
    db: Db,
    job: JobRow,
    error: str,
    delay: float | None = None,
    *,
    counts: bool = True,
    alarming: bool = False,
    now: datetime | None = None,
) -> None:
    """Run the job again after `delay` seconds (default: the backoff for its attempts); a job that
    has used all its attempts fails instead."""
    now = now or utcnow()
    if not counts:
        job.attempts = max(0, job.attempts - 1)
    elif job.attempts >= job.max_attempts:
        await fail(db, job, error, now=now)
        return
    wait = backoff(job.attempts) if delay is None else max(0.0, delay)
    job.status = WAITING
    job.last_error = _clip(error)
    job.run_after = now + timedelta(seconds=wait)
    release(job)
    await db.flush()
    extra = {"job_id": job.id, "job_kind": job.kind, "attempts": job.attempts, "outcome": "retry"}
    if not counts and not alarming:
        # Waiting on purpose (polling Apple, waiting for configuration) is not a failure.
        log.info("job %s (%s) waits %.0f s: %s", job.id, job.kind, wait, error, extra=extra)
        return
    log.log(
        logging.ERROR if alarming else logging.WARNING,
        "job %s (%s) attempt %d of %d failed, retrying in %.0f s: %s",
        job.id, job.kind, job.attempts, job.max_attempts, wait, error, extra=extra,
    )


async def apply(db: Db, job: JobRow, outcome: Outcome, *, now: datetime | None = None) -> None:
    """Record what a handler said about its job."""
    if outcome is None:
        await complete(db, job, now=now)
    elif isinstance(outcome, Fail):
        await fail(db, job, outcome.reason, now=now)
    else:
        await retry(db, job, outcome.reason, outcome.delay, counts=outcome.counts,
                    alarming=outcome.alarming, now=now)


async def prune(db: Db, *, now: datetime | None = None,
                keep_done: timedelta = KEEP_DONE, keep_failed: timedelta = KEEP_FAILED) -> int:
    """Delete finished jobs past their keeping time; returns how many."""
    now = now or utcnow()
    return await stored.delete_finished(db, done_before=now - keep_done, failed_before=now - keep_failed)
