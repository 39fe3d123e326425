"""CSV imports of enrollment users started from the console, run in the background.

A run is one `UserImportRunRow`: `start` records it (queued), `execute` reads the file and imports
it with `user_import.import_users` in a session of its own, writing the run's progress into each
batch's transaction, and `launch` runs `execute` as an asyncio task of the web process. A process
that dies mid-import leaves its run "running" for ever: `status_of` reports a run that has not moved
for `STALE_AFTER` as interrupted (the import is idempotent, so starting it again finishes the job).
"""

from __future__ import annotations

import asyncio
import codecs
import io
import logging
import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from quince.domain.errors import NotFound
from quince.services.directory import org_groups
from quince.services.directory.user_import import importer as user_import
from quince.services.directory.user_import.importer import ImportFileError, ImportReport, ParsedFile, RowError
from quince.services.scope import Scope
from quince.store import user_import_runs as run_store
from quince.store.database import Db, Sessions
from quince.store.models import UserImportRunRow

log = logging.getLogger("quince.user_import")

QUEUED, RUNNING, FINISHED, FAILED, INTERRUPTED = "queued", "running", "finished", "failed", "interrupted"
ACTIVE = frozenset({QUEUED, RUNNING})
STALE_AFTER = timedelta(minutes=5)
MAX_STORED_ERRORS = 1000
MAX_FILE_BYTES = user_import.MAX_FILE_BYTES
MAX_FILENAME_CHARS = 255
INTERRUPTED_MESSAGE = (
    "This import stopped before it finished (the server was restarted or its process ended). "
    "Start the import again with the same file: it is idempotent, so rows already imported are "
    "left unchanged."
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def last_progress_at(run: UserImportRunRow) -> datetime:
    """When the run last recorded progress (or ended)."""
    return _aware(run.updated_at or run.created_at)


def status_of(run: UserImportRunRow, now: datetime | None = None) -> str:
    """The run's status as people should see it: a queued or running run that has not moved for
    STALE_AFTER lost its process and is `interrupted`."""
    if run.status in ACTIVE and (now or _now()) - last_progress_at(run) > STALE_AFTER:
        return INTERRUPTED
    return run.status


def is_active(run: UserImportRunRow, now: datetime | None = None) -> bool:
    return status_of(run, now) in ACTIVE


def clean_filename(raw: str) -> str:
    """The name of an uploaded file as shown on its run: no folders, no control characters."""
    name = _CONTROL.sub("", raw.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return name[:MAX_FILENAME_CHARS] or "upload.csv"


def size_text(n: int) -> str:
    """A byte count for people: 50 MB, 700 KB, 12 bytes."""
    if n >= 1_048_576:
        return f"{n / 1_048_576:.3g} MB"
    return f"{n / 1024:.3g} KB" if n >= 1024 else f"{n} bytes"


def upload_limit(configured: int) -> int:
    """The largest file the console imports: the configured upload size, at most MAX_FILE_BYTES."""
    return min(configured, MAX_FILE_BYTES)


def check_size(size: int, limit: int) -> None:
    if size > limit:
        raise ImportFileError(
            f"The file is larger than {size_text(limit)}, the most that can be imported at once. "
            "Split it into smaller files and import them one after the other."
        )


def parse(data: bytes) -> ParsedFile:
    """Decode an uploaded file as UTF-8 (a byte-order mark, as Excel writes, is fine) and parse it;
    ImportFileError for a file that cannot be read at all."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportFileError(
            f"The file is not UTF-8 text (line {line} holds a character in another encoding). "
            "Save it as \u201cCSV UTF-8\u201d in your spreadsheet app and import it again."
        ) from None
    # newline="" as the csv module wants: line breaks inside quoted cells stay in their cell.
    return user_import.parse_csv(io.StringIO(text, newline=""))


def _stored_errors(errors: list[RowError]) -> list[list[object]]:
    return [[e.line, e.reason] for e in sorted(errors, key=lambda e: e.line)[:MAX_STORED_ERRORS]]


async def start(
    session: Db, scope: Scope, *, og_id: int, started_by: str, filename: str
) -> UserImportRunRow:
    """Record a new run (queued) for an import into `og_id`'s subtree."""
    scope.require_write()
    og = await org_groups.get(session, scope, og_id)
    row = UserImportRunRow(
        og_id=og.id, started_by=started_by[:160], filename=clean_filename(filename), status=QUEUED,
        total_rows=0, done_rows=0, created_count=0, updated_count=0, unchanged_count=0,
        error_count=0, errors=[], message=None, updated_at=_now(),
    )
    session.add(row)
    await session.flush()
    return row


async def get(session: Db, scope: Scope, run_id: int) -> UserImportRunRow:
    """A run whose OG lies in the caller's subtree."""
    row = await run_store.run_within(session, run_id, scope.path)
    if row is None:
        raise NotFound("Import", run_id)
    return row


async def recent(session: Db, scope: Scope, limit: int = 10) -> list[UserImportRunRow]:
    """The latest runs into the caller's subtree, newest first."""
    return await run_store.latest_runs_within(session, scope.path, limit)


async def _record(session: Db, run_id: int, **values: Any) -> None:
    """Write fields of the run in the session's transaction (the caller commits); a run that ends
    gets its end time."""
    now = _now()
    values.setdefault("updated_at", now)
    if values.get("status") in (FINISHED, FAILED, INTERRUPTED):
        values.setdefault("finished_at", now)
    await run_store.set_fields(session, run_id, values)


class _Progress:
    """Writes the run's progress into each batch's own transaction, so the row moves exactly as the
    users are committed."""

    def __init__(self, session: Db, run_id: int, parsed: ParsedFile, batch_size: int) -> None:
        self.session, self.run_id, self.batch_size = session, run_id, batch_size
        self.total = parsed.total
        self.done = len(parsed.errors)

    def reported(self, done: int, _total: int) -> None:
        self.done = done

    async def commit(self) -> None:
        # import_users commits a batch and then reports it (a batch the database refused is reported
        # without a commit): the batch committing now is the one after the rows reported so far.
        await _record(self.session, self.run_id, done_rows=min(self.done + self.batch_size, self.total))
        await self.session.commit()


async def _import(
    session: Db, scope: Scope, run_id: int, data: bytes, batch_size: int
) -> ImportReport | None:
    await _record(session, run_id, status=RUNNING)
    await session.commit()
    try:
        # Decoding and parsing a large file takes a while: keep the event loop serving pages.
        parsed = await asyncio.to_thread(parse, data)
    except ImportFileError as exc:
        await _record(session, run_id, status=FAILED, message=exc.message)
        await session.commit()
        return None
    await _record(session, run_id, total_rows=parsed.total, done_rows=len(parsed.errors),
                  error_count=len(parsed.errors), errors=_stored_errors(parsed.errors))
    await session.commit()
    progress = _Progress(session, run_id, parsed, batch_size)
    report = await user_import.import_users(session, scope, parsed, batch_size=batch_size,
                                            progress=progress.reported, commit=progress.commit)
    await _record(session, run_id, status=FINISHED, total_rows=report.total, done_rows=report.total,
                  created_count=report.created, updated_count=report.updated,
                  unchanged_count=report.unchanged, error_count=report.failed,
                  errors=_stored_errors(report.errors))
    await session.commit()
    return report


async def _end(session: Db, run_id: int, status: str, message: str) -> None:
    """Mark a run that could not finish, as far as the database still lets us."""
    try:
        await session.rollback()
        await _record(session, run_id, status=status, message=message)
        await session.commit()
    except Exception:  # the database may be what failed; the run then shows as interrupted later
        log.exception("could not record the end of user import run %s", run_id)


async def execute(
    sessionmaker: Sessions, scope: Scope, run_id: int, data: bytes, *,
    batch_size: int = 500,
) -> UserImportRunRow | None:
    """Parse and import the file of a run, recording its progress and outcome on the run's row;
    returns the run as it ended (None when even that could not be read)."""
    async with sessionmaker() as session:
        try:
            await _import(session, scope, run_id, data, batch_size)
        except asyncio.CancelledError:
            await _end(session, run_id, INTERRUPTED, INTERRUPTED_MESSAGE)
            raise
        # A background task has nobody to raise to: whatever went wrong is recorded on the run.
        except Exception:
            log.exception("user import run %s failed", run_id)
            await _end(session, run_id, FAILED,
                       "The import stopped on an unexpected error; the batches imported before it "
                       "are kept. Start the import again: it is idempotent.")
        try:
            return await session.get(UserImportRunRow, run_id, populate_existing=True)
        except Exception:
            log.exception("could not read user import run %s", run_id)
            return None


def launch(
    tasks: set[asyncio.Task[Any]],
    sessionmaker: Sessions,
    scope: Scope,
    run_id: int,
    data: bytes,
    *,
    batch_size: int = 500,
    on_done: Callable[[UserImportRunRow | None], None] | None = None,
) -> asyncio.Task[None]:
    """Start `execute` as a task of the running event loop; `tasks` holds it until it ends (the
    loop keeps only weak references to tasks)."""

    async def work() -> None:
        ended = await execute(sessionmaker, scope, run_id, data, batch_size=batch_size)
        if on_done is not None:
            on_done(ended)

    coroutine: Coroutine[Any, Any, None] = work()
    task = asyncio.create_task(coroutine, name=f"user-import-run-{run_id}")
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return task
