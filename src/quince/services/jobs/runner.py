"""Running jobs: the runner that claims due jobs and runs each with its handler, and the runners
of one server process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from quince.domain.jobs import JobStatus
from quince.services.jobs.queue import (
    DEFAULT_LEASE,
    Handler,
    apply,
    claim,
    fail,
    hold,
    prune,
    renew,
    retry,
    utcnow,
)
from quince.store.database import Db, Sessions
from quince.store.models import JobRow

log = logging.getLogger("quince.jobs")



@dataclass(frozen=True)
class Housekeeping:
    """A clean-up the runners do with the hourly job pruning (expired sessions, old attempts)."""

    what: str
    run: Callable[[Db, datetime], Awaitable[int]]
    """Deletes what has expired at the given time; returns how many rows."""


class JobRunner:
    """Claims due jobs and runs each with its handler, in its own transaction, renewing the leases
    of the jobs it holds (every `heartbeat`, a third of the lease by default) until each is done."""

    def __init__(
        self,
        sessionmaker: Sessions,
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

    async def _hold(self, db: Db, job_id: int) -> bool:
        """Lock the job for recording an outcome if this runner still holds it; it leaves `_held`
        either way (it is about to be finished, or it is no longer ours)."""
        held = await hold(db, job_id, self.worker_id)
        self._held.discard(job_id)
        return held

    async def _run(self, job_id: int) -> None:
        async with self.sessionmaker() as db:
            job = await db.get(JobRow, job_id, populate_existing=True)
            if job is None or job.status != JobStatus.RUNNING or job.locked_by != self.worker_id:
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
