"""Queries on the `jobs` table: the claim protocol's statements and the job list.

Each function runs (or builds) one statement in the caller's transaction and commits nothing; the
lease and lifecycle rules around them are in services/jobs. Dialects differ only in how a batch
is claimed (`FOR UPDATE SKIP LOCKED` on PostgreSQL, one conditional UPDATE on SQLite).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.jobs import JobStatus
from quince.store.concurrency import insert, is_postgresql
from quince.store.models import JobRow


async def waiting_to_absorb(db: AsyncSession, kind: str, dedupe_key: str) -> JobRow | None:
    """The oldest job of this kind and key still waiting, locked until the caller's transaction
    ends (PostgreSQL): no worker runs it before the change that asked for it is visible, and if a
    worker claims it first it is no longer waiting when we get the row."""
    job: JobRow | None = await db.scalar(
        select(JobRow)
        .where(JobRow.kind == kind, JobRow.dedupe_key == dedupe_key, JobRow.status == JobStatus.WAITING)
        .order_by(JobRow.id)
        .limit(1)
        .with_for_update()
    )
    return job


async def insert_waiting(db: AsyncSession, values: dict[str, Any]) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id against the waiting-job unique index on
    (kind, dedupe_key): the new job's id, or None when another transaction's job is waiting."""
    stmt = (insert(db, JobRow).values(**values)
            # The predicate must be a literal: PostgreSQL infers the partial index from it when the
            # statement is prepared, and a bound parameter only matches while plans are custom.
            .on_conflict_do_nothing(index_elements=["kind", "dedupe_key"],
                                    index_where=text(f"status = '{JobStatus.WAITING.value}'"))
            .returning(JobRow.id))
    new_id: int | None = await db.scalar(stmt)
    return new_id


def _claimable(kinds: list[str], now: datetime) -> ColumnElement[bool]:
    return and_(
        JobRow.kind.in_(kinds),
        or_(
            and_(JobRow.status == JobStatus.WAITING, JobRow.run_after <= now),
            # A worker that died mid-job: its lease ran out, the job is anyone's again.
            and_(JobRow.status == JobStatus.RUNNING, JobRow.locked_until < now),
        ),
    )


async def claim_due(
    db: AsyncSession, worker_id: str, kinds: list[str], limit: int, now: datetime, locked_until: datetime,
) -> list[JobRow]:
    """Mark up to `limit` due jobs of these kinds running for `worker_id` until `locked_until`,
    counting an attempt for each; the jobs, in no particular order."""
    candidates = (
        select(JobRow.id).where(_claimable(kinds, now)).order_by(JobRow.run_after, JobRow.id).limit(limit)
    )
    if is_postgresql(db):
        # Lock the chosen rows, skipping rows other workers are claiming, then update them. (Not one
        # UPDATE ... WHERE id IN (SELECT ... SKIP LOCKED LIMIT n): PostgreSQL may run that subquery
        # more than once and so claim more than n rows.)
        ids = list(await db.scalars(candidates.with_for_update(skip_locked=True)))
        if not ids:
            return []
        chosen: ColumnElement[bool] = JobRow.id.in_(ids)
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
        .values(status=JobStatus.RUNNING, locked_by=worker_id, locked_until=locked_until,
                attempts=JobRow.attempts + 1)
        .returning(JobRow)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return list((await db.scalars(stmt)).all())


async def extend_leases(
    db: AsyncSession, worker_id: str, job_ids: list[int], locked_until: datetime,
) -> set[int]:
    """Move the leases of these jobs to `locked_until` where `worker_id` still holds them (running,
    locked by it); those ids."""
    stmt = (
        update(JobRow)
        .where(JobRow.id.in_(job_ids), JobRow.locked_by == worker_id, JobRow.status == JobStatus.RUNNING)
        .values(locked_until=locked_until)
        .returning(JobRow.id)
        .execution_options(synchronize_session=False)
    )
    return set(await db.scalars(stmt))


async def lock_if_held(db: AsyncSession, job_id: int, worker_id: str) -> bool:
    """Lock the job until the caller's transaction ends if `worker_id` holds its lease; whether it does."""
    # A write that changes nothing, so the check and the lock are one statement: the row lock on
    # PostgreSQL, the database's write lock on SQLite, both kept until the caller commits.
    stmt = (
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.locked_by == worker_id, JobRow.status == JobStatus.RUNNING)
        .values(locked_by=worker_id)
        .returning(JobRow.id)
        .execution_options(synchronize_session=False)
    )
    return (await db.scalar(stmt)) is not None


async def delete_finished(db: AsyncSession, *, done_before: datetime, failed_before: datetime) -> int:
    """Delete done jobs finished before `done_before` and failed ones before `failed_before`; how many."""
    result = await db.execute(
        delete(JobRow).where(or_(
            and_(JobRow.status == JobStatus.DONE, JobRow.finished_at < done_before),
            and_(JobRow.status == JobStatus.FAILED, JobRow.finished_at < failed_before),
        )).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def newest_first(*, status: str | None = None, kind: str | None = None) -> Select[tuple[JobRow]]:
    """Jobs, newest first, optionally of one status and kind (for paging)."""
    stmt = select(JobRow)
    if status is not None:
        stmt = stmt.where(JobRow.status == status)
    if kind is not None:
        stmt = stmt.where(JobRow.kind == kind)
    return stmt.order_by(JobRow.id.desc())


async def counts_by_kind_and_status(db: AsyncSession) -> dict[tuple[str, str], int]:
    """How many jobs of each kind are in each status (install-wide)."""
    rows = await db.execute(
        select(JobRow.kind, JobRow.status, func.count()).group_by(JobRow.kind, JobRow.status))
    return {(kind, status): count for kind, status, count in rows.tuples()}
