"""/API/system/jobs: background jobs (APNs pushes, retries), for administrators of the whole install."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from quince.services import jobs
from quince.store.models import JobRow
from quince.web.api import errors
from quince.web.api.deps import Caller, Paging
from quince.web.api.fields import Text
from quince.web.api.schemas import ApiModel, IdValue, Paged, wire_time
from quince.web.deps import Db

router = APIRouter(prefix="/API/system/jobs", tags=["Background jobs"], responses=errors.RESPONSES)


class Job(ApiModel):
    id: IdValue
    kind: str
    status: jobs.JobStatus
    dedupe_key: str | None = None
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    run_after: str
    locked_by: str | None = None
    locked_until: str | None = None
    last_error: str | None = None
    created_on: str
    finished_on: str | None = None


class JobSearch(Paged):
    jobs: list[Job]


def present(row: JobRow) -> Job:
    return Job(
        id=IdValue(value=row.id), kind=row.kind, status=row.status,
        dedupe_key=row.dedupe_key, payload=row.payload, attempts=row.attempts,
        max_attempts=row.max_attempts, run_after=wire_time(row.run_after),
        locked_by=row.locked_by, locked_until=wire_time(row.locked_until) if row.locked_until else None,
        last_error=row.last_error, created_on=wire_time(row.created_at),
        finished_on=wire_time(row.finished_at) if row.finished_at else None,
    )


@router.get("/search", response_model=JobSearch, response_model_exclude_none=True)
async def search_jobs(
    db: Db,
    caller: Caller,
    paging: Paging,
    status: Annotated[jobs.JobStatus | None, Query(description="waiting, running, done or failed")] = None,
    kind: Annotated[Text | None, Query(max_length=48, description="e.g. apns.push")] = None,
) -> JobSearch:
    """Background jobs, newest first. Only administrators of the Global organization group may
    see them (jobs concern every organization group); others get 403."""
    page = await jobs.search(db, caller, paging, status=status, kind=kind)
    return JobSearch(jobs=[present(r) for r in page.items], page=page.page, page_size=page.page_size,
                     total=page.total)
