"""`quince jobs`: background jobs (APNs pushes, retries) and what became of them."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from quince.cli.runtime import console, emit, fail, plain, print_json, run
from quince.cli.views import JsonOption, when
from quince.services import jobs
from quince.services.scope import Scope
from quince.store.database import Db
from quince.store.models import JobRow
from quince.store.paging import MAX_PAGE_SIZE, PageRequest

app = typer.Typer(
    help="Background jobs: APNs pushes and other outbound work, retried with backoff.",
    invoke_without_command=True,
)


def job_dict(row: JobRow) -> dict[str, Any]:
    """A job spelled as the REST API spells it."""
    return {
        "Id": row.id, "Kind": row.kind, "Status": row.status, "DedupeKey": row.dedupe_key,
        "Payload": row.payload, "Attempts": row.attempts, "MaxAttempts": row.max_attempts,
        "RunAfter": when(row.run_after), "LockedBy": row.locked_by, "LockedUntil": when(row.locked_until),
        "LastError": row.last_error, "CreatedOn": when(row.created_at), "FinishedOn": when(row.finished_at),
    }


_COLOURS = {jobs.WAITING: "yellow", jobs.RUNNING: "cyan", jobs.DONE: "green", jobs.FAILED: "bold red"}


@app.callback()
def list_jobs(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(
        "--status", help="waiting, running, done or failed."
    )] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only jobs of this kind, e.g. apns.push.")] = (
        None
    ),
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most this many, newest first.")] = 100,
    as_json: JsonOption = False,
) -> None:
    """List background jobs, newest first (`quince jobs --status failed` shows what gave up)."""
    if ctx.invoked_subcommand is not None:
        return
    if status is not None and status not in jobs.STATUSES:
        fail(f"--status must be one of {', '.join(jobs.STATUSES)}, not {status!r}.")

    async def work(session: Db, scope: Scope) -> list[dict[str, Any]]:
        rows: list[JobRow] = []
        request = PageRequest(0, min(limit, MAX_PAGE_SIZE))
        while len(rows) < limit:
            page = await jobs.search(session, scope, request, status=status, kind=kind)
            rows.extend(page.items)
            if len(page.items) < request.page_size:
                break
            request = PageRequest(request.page + 1, request.page_size)
        return [job_dict(r) for r in rows[:limit]]

    data = run(work)
    if as_json:
        print_json(data)
        return
    if not data:
        console.print("No jobs.", highlight=False)
        return
    table = Table("Id", "Kind", "Status", "Attempts", "Run after", "Payload", "Last error")
    for job in data:
        payload = ", ".join(f"{k}={v}" for k, v in job["Payload"].items())
        table.add_row(
            str(job["Id"]), plain(job["Kind"]), Text(job["Status"], style=_COLOURS.get(job["Status"], "")),
            f"{job['Attempts']}/{job['MaxAttempts']}", plain(job["RunAfter"] or ""), plain(payload),
            plain(job["LastError"] or ""),
        )
    console.print(table)


@app.command("retry")
def retry_job(
    job_id: Annotated[int, typer.Argument(help="Id of a failed job (see `quince jobs --status failed`).")],
    as_json: JsonOption = False,
) -> None:
    """Run a failed job again, with a fresh set of attempts (after fixing what made it fail)."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        return job_dict(await jobs.requeue(session, scope, job_id))

    data = run(work, commit=True)
    emit(data, as_json, f"Job {data['Id']} ({plain(data['Kind'])}) is waiting to run again.")
