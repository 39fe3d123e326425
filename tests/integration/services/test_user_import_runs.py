"""Console CSV import runs: a run records its progress batch by batch and its outcome, whole-file
errors fail it, a run whose process died is reported as interrupted, and runs are scoped."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from quince.domain.errors import NotFound, ReadOnly
from quince.services.directory.user_import import importer as user_import
from quince.services.directory.user_import import runs as user_import_runs
from quince.services.scope import Scope
from quince.store.database import make_sessionmaker
from quince.store.models import EnrollmentUserRow, UserImportRunRow
from tests.integration.services.conftest import Tenant, scope_at

FIVE_GOOD_ONE_BAD = (
    b"username,email,group_id\n"
    b"u1,u1@acme.example,sales\n"
    b"u2,u2@acme.example,sales\n"
    b"u3,not-an-email,sales\n"
    b"u4,u4@acme.example,support\n"
    b"u5,u5@acme.example,sales-eu\n"
    b"u6,u6@acme.example,acme\n"
)


def _counts(run: UserImportRunRow) -> tuple[int, int, int, int]:
    return run.created_count, run.updated_count, run.unchanged_count, run.error_count


async def _start(session: AsyncSession, scope: Scope, og_id: int) -> UserImportRunRow:
    run = await user_import_runs.start(session, scope, og_id=og_id, started_by="acme-admin",
                                       filename="people.csv")
    await session.commit()
    return run


async def _run(engine: AsyncEngine, run_id: int) -> UserImportRunRow:
    async with make_sessionmaker(engine)() as session:
        row = await session.get(UserImportRunRow, run_id)
        assert row is not None
        return row


async def test_a_run_records_its_progress_with_each_batch_and_its_outcome(
    engine: AsyncEngine, session: AsyncSession, tenant: Tenant
) -> None:
    acme = await scope_at(session, tenant.acme)
    run = await _start(session, acme, tenant.acme)
    assert run.status == "queued" and run.done_rows == 0
    seen: list[tuple[str, int, int]] = []

    class Watched(AsyncSession):
        """Reads the run from another connection after every commit, as the run page does."""

        async def commit(self) -> None:
            await super().commit()
            row = await _run(engine, run.id)
            seen.append((row.status, row.done_rows, row.total_rows))

    watched = cast("async_sessionmaker[AsyncSession]",
                   async_sessionmaker(engine, class_=Watched, expire_on_commit=False))
    ended = await user_import_runs.execute(watched, acme, run.id, FIVE_GOOD_ONE_BAD, batch_size=2)
    # Running; parsed (the bad row counts as done); three batches of 2, 2 and 1 rows; finished.
    assert seen == [("running", 0, 0), ("running", 1, 6), ("running", 3, 6), ("running", 5, 6),
                    ("running", 6, 6), ("finished", 6, 6)]
    assert ended is not None and ended.status == "finished"
    assert _counts(ended) == (5, 0, 0, 1)
    assert ended.errors == [[4, "Email 'not-an-email' is not an email address (name@domain)."]]
    assert ended.message is None and ended.finished_at is not None
    session.expire_all()
    assert len(list(await session.scalars(select(EnrollmentUserRow)))) == 1 + 5


async def test_a_rerun_of_the_same_file_counts_every_row_unchanged(
    engine: AsyncEngine, session: AsyncSession, tenant: Tenant
) -> None:
    acme = await scope_at(session, tenant.acme)
    maker = make_sessionmaker(engine)
    first = await _start(session, acme, tenant.acme)
    await user_import_runs.execute(maker, acme, first.id, FIVE_GOOD_ONE_BAD)
    second = await _start(session, acme, tenant.acme)
    ended = await user_import_runs.execute(maker, acme, second.id, FIVE_GOOD_ONE_BAD)
    assert ended is not None
    assert _counts(ended) == (0, 0, 5, 1)


@pytest.mark.parametrize(("content", "message"), [
    (b"name,mail\nx,y\n", "Unknown column(s) 'name', 'mail' in the header"),
    (b"", "The file is empty"),
    ("username,email,group_id\nj\u00f6rg,j@acme.example,sales\n".encode("cp1252"),
     "The file is not UTF-8 text (line 2 holds a character in another encoding)"),
    (b'username,email,group_id\n"ivy,ivy@acme.example,sales\n', "not valid CSV"),
])
async def test_a_file_that_cannot_be_read_fails_the_run_with_its_message(
    engine: AsyncEngine, session: AsyncSession, tenant: Tenant, content: bytes, message: str
) -> None:
    acme = await scope_at(session, tenant.acme)
    run = await _start(session, acme, tenant.acme)
    ended = await user_import_runs.execute(make_sessionmaker(engine), acme, run.id, content)
    assert ended is not None and ended.status == "failed"
    assert ended.message is not None and message in ended.message
    assert ended.created_count == 0 and ended.done_rows == 0


async def test_an_unexpected_error_fails_the_run_instead_of_leaving_it_running(
    engine: AsyncEngine, session: AsyncSession, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(user_import, "import_users", broken)
    acme = await scope_at(session, tenant.acme)
    run = await _start(session, acme, tenant.acme)
    ended = await user_import_runs.execute(make_sessionmaker(engine), acme, run.id, FIVE_GOOD_ONE_BAD)
    assert ended is not None and ended.status == "failed"
    assert ended.message is not None and "unexpected error" in ended.message and "boom" not in ended.message


async def test_a_run_that_has_not_moved_for_five_minutes_is_interrupted(
    session: AsyncSession, tenant: Tenant
) -> None:
    acme = await scope_at(session, tenant.acme)
    run = await _start(session, acme, tenant.acme)
    now = datetime.now(UTC)
    for status in ("queued", "running"):
        run.status = status
        run.updated_at = now - timedelta(minutes=4)
        assert user_import_runs.status_of(run, now) == status
        assert user_import_runs.is_active(run, now)
        run.updated_at = now - timedelta(minutes=5, seconds=1)
        assert user_import_runs.status_of(run, now) == "interrupted"
        assert not user_import_runs.is_active(run, now)
    run.status = "finished"
    run.updated_at = now - timedelta(days=3)
    assert user_import_runs.status_of(run, now) == "finished"
    # SQLite hands datetimes back without a time zone: they are UTC.
    run.status, run.updated_at = "running", (now - timedelta(minutes=10)).replace(tzinfo=None)
    assert user_import_runs.status_of(run, now) == "interrupted"


async def test_runs_are_scoped_and_need_a_writable_scope_to_start(
    session: AsyncSession, tenant: Tenant
) -> None:
    acme = await scope_at(session, tenant.acme)
    run = await _start(session, acme, tenant.sales)
    sales = await scope_at(session, tenant.sales)
    assert (await user_import_runs.get(session, sales, run.id)).id == run.id
    assert [r.id for r in await user_import_runs.recent(session, sales)] == [run.id]
    for other in (tenant.beta, tenant.support):
        with pytest.raises(NotFound):
            await user_import_runs.get(session, await scope_at(session, other), run.id)
        assert await user_import_runs.recent(session, await scope_at(session, other)) == []
    with pytest.raises(NotFound):
        await user_import_runs.start(session, sales, og_id=tenant.beta, started_by="x", filename="a.csv")
    with pytest.raises(ReadOnly):
        await user_import_runs.start(session, await scope_at(session, tenant.acme, can_write=False),
                                     og_id=tenant.acme, started_by="x", filename="a.csv")


async def test_launch_keeps_the_task_until_it_ends_and_reports_the_outcome(
    engine: AsyncEngine, session: AsyncSession, tenant: Tenant
) -> None:
    acme = await scope_at(session, tenant.acme)
    run = await _start(session, acme, tenant.acme)
    tasks: set[asyncio.Task[Any]] = set()
    outcomes: list[UserImportRunRow | None] = []
    task = user_import_runs.launch(tasks, make_sessionmaker(engine), acme, run.id, FIVE_GOOD_ONE_BAD,
                                   on_done=outcomes.append)
    assert task in tasks
    await asyncio.wait_for(task, timeout=30)
    assert task not in tasks
    assert len(outcomes) == 1 and outcomes[0] is not None and outcomes[0].status == "finished"


def test_uploaded_file_names_lose_folders_and_control_characters() -> None:
    assert user_import_runs.clean_filename("C:\\Users\\ann\\people.csv") == "people.csv"
    assert user_import_runs.clean_filename("../../etc/x\r\n.csv") == "x.csv"
    assert user_import_runs.clean_filename("") == "upload.csv"
    assert len(user_import_runs.clean_filename("a" * 400 + ".csv")) == user_import_runs.MAX_FILENAME_CHARS


def test_the_size_check_names_the_limit() -> None:
    user_import_runs.check_size(1024, 1024)
    with pytest.raises(user_import.ImportFileError, match="larger than 50 MB"):
        user_import_runs.check_size(50 * 1_048_576 + 1, 50 * 1_048_576)
    assert user_import_runs.upload_limit(100 * 1_048_576) == user_import.MAX_FILE_BYTES
    assert user_import_runs.upload_limit(2048) == 2048
