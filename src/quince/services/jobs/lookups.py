"""Looking at jobs for the CLI and the REST API: the list, and running a failed job again."""

from __future__ import annotations

from datetime import datetime

from quince.domain.errors import Conflict, NotFound, OutOfScope
from quince.domain.jobs import JobStatus
from quince.services.jobs.queue import release, utcnow
from quince.services.scope import Scope, operator_scope
from quince.store import jobs as stored
from quince.store.database import Db
from quince.store.models import JobRow
from quince.store.paging import Page, PageRequest, paginate


async def require_install_scope(db: Db, caller: Scope) -> None:
    """Jobs span every organization group: only administrators of the whole install see them."""
    root = await operator_scope(db)
    if caller.og_id != root.og_id:
        raise OutOfScope(
            "Background jobs concern the whole install: only administrators of the Global "
            "organization group can see them."
        )


async def search(
    db: Db,
    caller: Scope,
    paging: PageRequest,
    *,
    status: str | None = None,
    kind: str | None = None,
) -> Page[JobRow]:
    """Jobs, newest first, optionally of one status and kind."""
    await require_install_scope(db, caller)
    page: Page[JobRow] = await paginate(db, stored.newest_first(status=status, kind=kind), paging)
    return page


async def requeue(db: Db, caller: Scope, job_id: int, *, now: datetime | None = None) -> JobRow:
    """Give a failed job a fresh set of attempts, to run now (after fixing what made it fail)."""
    await require_install_scope(db, caller)
    job = await db.get(JobRow, job_id)
    if job is None:
        raise NotFound("Job", job_id)
    if job.status != JobStatus.FAILED:
        raise Conflict(f"Job {job_id} is {job.status}; only a failed job can be run again.")
    job.status = JobStatus.WAITING
    job.attempts = 0
    job.run_after = now or utcnow()
    job.finished_at = None
    release(job)
    await db.flush()
    return job
