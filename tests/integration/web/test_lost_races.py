"""Telling a write that lost a race with another transaction (answered 409, "retry") from a bug
or an unusable database, and what the CLI prints for one."""

from __future__ import annotations

import pytest
import typer
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from quince.cli.runtime import run_async
from quince.store.concurrency import lost_race


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"driver error {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize("exc", [
    StaleDataError("UPDATE statement on table 'og_settings' expected to update 1 row(s); 0 were matched."),
    IntegrityError("INSERT ...", {}, Exception("UNIQUE constraint failed")),
    DBAPIError("UPDATE ...", {}, _DriverError("40001")),  # serialization failure
    DBAPIError("UPDATE ...", {}, _DriverError("40P01")),  # deadlock detected
])
def test_a_stale_row_a_fired_constraint_or_a_rolled_back_transaction_is_a_lost_race(
    exc: BaseException,
) -> None:
    assert lost_race(exc)


@pytest.mark.parametrize("exc", [
    OperationalError("SELECT 1", {}, _DriverError("08006")),  # the connection failed
    DBAPIError("SELECT 1", {}, Exception("no sqlstate")),
    ValueError("a bug"),
])
def test_an_unusable_database_or_a_bug_is_not_a_lost_race(exc: BaseException) -> None:
    assert not lost_race(exc)


def test_the_cli_says_a_lost_race_changed_nothing_and_can_be_retried(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def work() -> None:
        raise StaleDataError("UPDATE statement on table 'enrollment_users' expected to update 1 row(s)")

    with pytest.raises(typer.Exit) as exited:
        run_async(work())

    assert exited.value.exit_code == 1
    err = capsys.readouterr().err
    assert "Another request changed the same data at the same moment" in err
    assert "Cannot use the database" not in err
