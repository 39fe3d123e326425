"""Durable background jobs (APNs pushes, later Apps and Books calls).

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

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeAlias

from sqlalchemy import and_, delete, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quince.domain.errors import Conflict, NotFound, OutOfScope
from quince.services.paging import Page, PageRequest, paginate
from quince.services.scope import Scope, operator_scope
from quince.store.models import JobRow

log = logging.getLogger("quince.jobs")

WAITING, RUNNING, DONE, FAILED = "waiting", "running", "done", "failed"
STATUSES = (WAITING, RUNNING, DONE, FAILED)
JobStatus = Literal["waiting", "running", "done", "failed"]

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
Handler: TypeAlias = Callable[[AsyncSession, JobRow], Awaitable[Outcome]]


async def enqueue(
    db: AsyncSession,
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
        waiting = await db.scalar(
            select(JobRow)
            .where(JobRow.kind == kind, JobRow.dedupe_key == dedupe_key, JobRow.status == WAITING)
            .order_by(JobRow.id)
            .limit(1)
            # PostgreSQL: hold the job until our transaction commits, so no worker runs it before the
            # change that asked for it is visible; and if a worker claims it first, it is no longer
            # waiting when we get the row, and a new job is made.
            .with_for_update()
        )
        if waiting is not None:
            # A fresh job waiting for a later time runs sooner if asked; one backing off after a
            # failure keeps its backoff (APNs asked us to wait).
            if waiting.attempts == 0 and aware(waiting.run_after) > due:
                waiting.run_after = due
            return None
        new_id = await db.scalar(_insert_waiting(db, values))
        if new_id is not None:
            return await db.get(JobRow, new_id)
    raise RuntimeError(f"could not enqueue {kind} job {dedupe_key!r}: it kept being claimed")


_DEDUPE_ROUNDS = 5


def _insert_waiting(db: AsyncSession, values: dict[str, Any]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id against the waiting-job unique index."""
    insert = postgresql_insert if db.bind.dialect.name == "postgresql" else sqlite_insert
    return (insert(JobRow).values(**values)
            # The predicate must be a literal: PostgreSQL infers the partial index from it when the
            # statement is prepared, and a bound parameter only matches while plans are custom.
            .on_conflict_do_nothing(index_elements=["kind", "dedupe_key"],
                                    index_where=text(f"status = '{WAITING}'"))
            .returning(JobRow.id))


def _claimable(kinds: Iterable[str], now: datetime) -> Any:
    return and_(
        JobRow.kind.in_(list(kinds)),
        or_(
            and_(JobRow.status == WAITING, JobRow.run_after <= now),
            # A worker that died mid-job: its lease ran out, the job is anyone's again.
            and_(JobRow.status == RUNNING, JobRow.locked_until < now),
        ),
    )


async def claim(
    db: AsyncSession,
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
    candidates = (
        select(JobRow.id).where(_claimable(kinds, now)).order_by(JobRow.run_after, JobRow.id).limit(limit)
    )
    if db.get_bind().dialect.name == "postgresql":
        # Lock the chosen rows, skipping rows other workers are claiming, then update them. (Not one
        # UPDATE ... WHERE id IN (SELECT ... SKIP LOCKED LIMIT n): PostgreSQL may run that subquery
        # more than once and so claim more than n rows.)
        ids = list(await db.scalars(candidates.with_for_update(skip_locked=True)))
        if not ids:
            return []
        chosen: Any = JobRow.id.in_(ids)
    else:
        if (await db.scalar(candidates)) is None:
            # Nothing due: SQLite would take its database-wide write lock for an UPDATE that
            # changes nothing, on every poll of every worker.
            return []
        # One statement: it holds SQLite's write lock from choosing to updating, and checks the
        # condition again, so a job another session claimed in between no longer matches.
        chosen = and_(JobRow.id.in_(candidates.scalar_subquery()), _claimable(kinds, now))
    stmt = (
        update(JobRow)
        .where(chosen)
        .values(status=RUNNING, locked_by=worker_id, locked_until=now + lease,
                attempts=JobRow.attempts + 1)
        .returning(JobRow)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    jobs = list((await db.scalars(stmt)).all())
    return sorted(jobs, key=lambda j: (aware(j.run_after), j.id))


async def renew(
    db: AsyncSession, worker_id: str, job_ids: Iterable[int], lease: timedelta = DEFAULT_LEASE,
    *, now: datetime | None = None,
) -> set[int]:
    """Extend `worker_id`'s leases on these jobs to now + `lease`, only where it still holds them
    (running, locked by it); returns those ids. Commit right after, like a claim."""
    ids = list(job_ids)
    if not ids:
        return set()
    now = now or utcnow()
    stmt = (
        update(JobRow)
        .where(JobRow.id.in_(ids), JobRow.locked_by == worker_id, JobRow.status == RUNNING)
        .values(locked_until=now + lease)
        .returning(JobRow.id)
        .execution_options(synchronize_session=False)
    )
    return set(await db.scalars(stmt))


async def hold(db: AsyncSession, job_id: int, worker_id: str) -> bool:
    """In the transaction that is about to record a job's outcome: lock the job if `worker_id` still
    holds its lease, and say whether it does. False: another worker took the job over (or it is
    finished), so this worker must record nothing."""
    # A write that changes nothing, so the check and the lock are one statement: the row lock on
    # PostgreSQL, the database's write lock on SQLite, both kept until the caller commits.
    stmt = (
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.locked_by == worker_id, JobRow.status == RUNNING)
        .values(locked_by=worker_id)
        .returning(JobRow.id)
        .execution_options(synchronize_session=False)
    )
    return (await db.scalar(stmt)) is not None


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 3] + "..."


def _release(job: JobRow) -> None:
    job.locked_by = None
    job.locked_until = None


async def complete(db: AsyncSession, job: JobRow, *, now: datetime | None = None) -> None:
    """The job is done (in the caller's transaction, with the handler's changes)."""
    job.status = DONE
    job.finished_at = now or utcnow()
    _release(job)
    await db.flush()


async def fail(db: AsyncSession, job: JobRow, error: str, *, now: datetime | None = None) -> None:
    """Give up on the job, loudly: status failed, the error kept, an ERROR in the log."""
    job.status = FAILED
    job.last_error = _clip(error)
    job.finished_at = now or utcnow()
    _release(job)
    await db.flush()
    log.error(
        "job %s (%s) gave up after %d attempt(s): %s", job.id, job.kind, job.attempts, error,
        extra={"job_id": job.id, "job_kind": job.kind, "attempts": job.attempts, "outcome": "failed"},
    )


async def retry(
    db: AsyncSession,
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
    _release(job)
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


async def apply(db: AsyncSession, job: JobRow, outcome: Outcome, *, now: datetime | None = None) -> None:
    """Record what a handler said about its job."""
    if outcome is None:
        await complete(db, job, now=now)
    elif isinstance(outcome, Fail):
        await fail(db, job, outcome.reason, now=now)
    else:
        await retry(db, job, outcome.reason, outcome.delay, counts=outcome.counts,
                    alarming=outcome.alarming, now=now)


async def prune(db: AsyncSession, *, now: datetime | None = None,
                keep_done: timedelta = KEEP_DONE, keep_failed: timedelta = KEEP_FAILED) -> int:
    """Delete finished jobs past their keeping time; returns how many."""
    now = now or utcnow()
    result = await db.execute(
        delete(JobRow).where(or_(
            and_(JobRow.status == DONE, JobRow.finished_at < now - keep_done),
            and_(JobRow.status == FAILED, JobRow.finished_at < now - keep_failed),
        )).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- Looking at jobs (CLI, REST API) -----------------------------------------------------------


async def require_install_scope(db: AsyncSession, caller: Scope) -> None:
    """Jobs span every organization group: only administrators of the whole install see them."""
    root = await operator_scope(db)
    if caller.og_id != root.og_id:
        raise OutOfScope(
            "Background jobs concern the whole install: only administrators of the Global "
            "organization group can see them."
        )


async def search(
    db: AsyncSession,
    caller: Scope,
    paging: PageRequest,
    *,
    status: str | None = None,
    kind: str | None = None,
) -> Page[JobRow]:
    """Jobs, newest first, optionally of one status and kind."""
    await require_install_scope(db, caller)
    stmt = select(JobRow)
    if status is not None:
        stmt = stmt.where(JobRow.status == status)
    if kind is not None:
        stmt = stmt.where(JobRow.kind == kind)
    page: Page[JobRow] = await paginate(db, stmt.order_by(JobRow.id.desc()), paging)
    return page


async def requeue(db: AsyncSession, caller: Scope, job_id: int, *, now: datetime | None = None) -> JobRow:
    """Give a failed job a fresh set of attempts, to run now (after fixing what made it fail)."""
    await require_install_scope(db, caller)
    job = await db.get(JobRow, job_id)
    if job is None:
        raise NotFound("Job", job_id)
    if job.status != FAILED:
        raise Conflict(f"Job {job_id} is {job.status}; only a failed job can be run again.")
    job.status = WAITING
    job.attempts = 0
    job.run_after = now or utcnow()
    job.finished_at = None
    _release(job)
    await db.flush()
    return job


# --- Running jobs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Housekeeping:
    """A clean-up the runners do with the hourly job pruning (expired sessions, old attempts)."""

    what: str
    run: Callable[[AsyncSession, datetime], Awaitable[int]]
    """Deletes what has expired at the given time; returns how many rows."""


class JobRunner:
    """Claims due jobs and runs each with its handler, in its own transaction, renewing the leases
    of the jobs it holds (every `heartbeat`, a third of the lease by default) until each is done."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: Mapping[str, Handler],
        worker_id: str,
        poll_interval: float = 1.0,
        *,
        batch: int = 10,
        lease: timedelta = DEFAULT_LEASE,
        heartbeat: timedelta | None = None,
        clock: Callable[[], datetime] = utcnow,
        housekeeping: Sequence[Housekeeping] = (),
    ) -> None:
        self.sessionmaker = sessionmaker
        self.housekeeping = tuple(housekeeping)
        self.handlers = dict(handlers)
        self.worker_id = worker_id
        self.poll_interval = poll_interval
        self.batch = batch
        self.lease = lease
        self.heartbeat = heartbeat if heartbeat is not None else lease / 3
        if not timedelta(0) < self.heartbeat < lease:
            raise ValueError(f"the heartbeat ({self.heartbeat}) must be shorter than the lease ({lease})")
        self.clock = clock
        self._stopping = asyncio.Event()
        self._last_prune: datetime | None = None
        self._held: set[int] = set()
        """The jobs this runner has claimed and not yet finished: the ones its heartbeat renews."""

    async def run_once(self) -> int:
        """Claim one batch of due jobs and run them; returns how many ran."""
        async with self.sessionmaker() as db:
            claimed = await claim(db, self.worker_id, self.handlers, self.batch, self.lease,
                                  now=self.clock())
            await db.commit()
        if not claimed:
            return 0
        self._held = {job.id for job in claimed}
        stop_beating = asyncio.Event()
        beat = asyncio.create_task(self._keep_leases(stop_beating), name=f"jobs:{self.worker_id}:heartbeat")
        try:
            for job in claimed:
                await self._run(job.id)
        except BaseException:
            beat.cancel()  # dying or cancelled: stop renewing at once; the leases run out
            raise
        finally:
            stop_beating.set()
            await asyncio.wait([beat])
            self._held = set()
        return len(claimed)

    async def _keep_leases(self, stop: asyncio.Event) -> None:
        """The heartbeat: renew the held jobs' leases until `stop`. Database trouble is logged and
        tried again at the next beat; a lease found lost is dropped (`_run` records nothing then)."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.heartbeat.total_seconds())
            if stop.is_set():
                return
            asking = set(self._held)
            if not asking:
                continue
            try:
                async with self.sessionmaker() as db:
                    kept = await renew(db, self.worker_id, asking, self.lease, now=self.clock())
                    await db.commit()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("job worker %s could not renew the leases of its jobs; trying again",
                            self.worker_id, exc_info=True)
                continue
            # Not renewed and no longer in `_held`: `_run` finished it meanwhile (a job leaves
            # `_held` just before its outcome commits). Still in `_held`: someone else has it.
            for job_id in sorted((asking - kept) & self._held):
                self._held.discard(job_id)
                log.warning("job %s: worker %s lost its lease (its renewals came too late) and another "
                            "worker took the job over", job_id, self.worker_id,
                            extra={"job_id": job_id, "outcome": "lease_lost"})

    async def _hold(self, db: AsyncSession, job_id: int) -> bool:
        """Lock the job for recording an outcome if this runner still holds it; it leaves `_held`
        either way (it is about to be finished, or it is no longer ours)."""
        held = await hold(db, job_id, self.worker_id)
        self._held.discard(job_id)
        return held

    async def _run(self, job_id: int) -> None:
        async with self.sessionmaker() as db:
            job = await db.get(JobRow, job_id, populate_existing=True)
            if job is None or job.status != RUNNING or job.locked_by != self.worker_id:
                self._held.discard(job_id)
                return  # our lease ran out and another worker took it over
            if job.attempts > job.max_attempts:
                # The worker that made the last attempt died during it.
                if await self._hold(db, job_id):
                    await fail(db, job, f"{job.last_error or 'no error recorded'} (the worker running "
                                        "the last attempt stopped before finishing it)", now=self.clock())
                    await db.commit()
                return
            kind = job.kind
            try:
                outcome = await self.handlers[kind](db, job)
                if not await self._hold(db, job_id):
                    await db.rollback()
                    log.warning(
                        "job %s (%s): another worker took it over while worker %s ran it; this run's "
                        "outcome and changes are dropped", job_id, kind, self.worker_id,
                        extra={"job_id": job_id, "job_kind": kind, "outcome": "lease_lost"},
                    )
                    return
                await apply(db, job, outcome, now=self.clock())
                await db.commit()
                return
            except asyncio.CancelledError:
                raise  # shutting down: the lease runs out and another worker retries the job
            except Exception as exc:
                log.exception("job %s (%s) raised", job_id, kind, extra={"job_id": job_id, "job_kind": kind})
                error = f"{type(exc).__name__}: {exc}"
                await db.rollback()
        await self._record_crash(job_id, error)

    async def _record_crash(self, job_id: int, error: str) -> None:
        """The handler raised and its changes were rolled back: retry the job, in a fresh transaction."""
        async with self.sessionmaker() as db:
            if await self._hold(db, job_id):
                job = await db.get(JobRow, job_id, populate_existing=True)
                assert job is not None
                await retry(db, job, error, now=self.clock())
                await db.commit()

    async def _prune(self) -> None:
        now = self.clock()
        if self._last_prune is not None and now - self._last_prune < timedelta(hours=1):
            return
        self._last_prune = now
        async with self.sessionmaker() as db:
            removed = await prune(db, now=now)
            await db.commit()
        if removed:
            log.info("pruned %d finished job(s)", removed)
        for chore in self.housekeeping:
            async with self.sessionmaker() as db:
                removed = await chore.run(db, now)
                await db.commit()
            if removed:
                log.info("housekeeping: removed %d %s", removed, chore.what)

    async def run_forever(self) -> None:
        """Run jobs until `stop()`; database trouble is logged and waited out, never fatal."""
        while not self._stopping.is_set():
            ran = 0
            try:
                ran = await self.run_once()
                await self._prune()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job worker %s could not claim jobs; trying again", self.worker_id)
            if ran == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.poll_interval)

    def stop(self) -> None:
        self._stopping.set()


class Workers:
    """The job runners of one server process, started and stopped with the app."""

    def __init__(self, runners: list[JobRunner]) -> None:
        self.runners = runners
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(r.run_forever(), name=f"jobs:{r.worker_id}") for r in self.runners]

    async def stop(self, grace: float = 10.0) -> None:
        """Let running jobs finish (up to `grace` seconds), then cancel what is left."""
        for runner in self.runners:
            runner.stop()
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
