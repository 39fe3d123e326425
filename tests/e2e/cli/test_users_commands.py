"""`quince users`: enrollment users from the command line, and the CSV import."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.cli.conftest import Cli


@pytest.fixture
async def acme(cli: Cli) -> None:
    await cli.ok("og", "create", "--parent", "Global", "--name", "Acme Corp", "--group-id", "acme",
                 "--type", "Customer")
    await cli.ok("og", "create", "--parent", "acme", "--name", "Sales", "--group-id", "acme-sales")


async def test_users_add_defaults_the_managed_apple_id_to_the_email(cli: Cli, acme: None) -> None:
    added = await cli.json("users", "add", "alice", "--email", "alice@acme.example",
                           "--group-id", "acme-sales", "--password", "Alice-pass-1",
                           "--first-name", "Alice", "--last-name", "Andersen")
    assert added["UserName"] == "alice"
    assert added["ManagedAppleId"] == "alice@acme.example"
    assert added["GroupId"] == "acme-sales"
    assert added["Status"] is True
    assert added["HasPassword"] is True
    assert (added["FirstName"], added["LastName"]) == ("Alice", "Andersen")


async def test_users_add_takes_the_password_from_stdin(cli: Cli, acme: None) -> None:
    added = await cli.json("users", "add", "bob", "--email", "bob@acme.example", "--group-id", "acme",
                           "--password-stdin", "--managed-apple-id", "bob@appleid.acme.example",
                           "--inactive", input="Bob-pass-123\n")
    assert added["HasPassword"] is True
    assert added["ManagedAppleId"] == "bob@appleid.acme.example"
    assert added["Status"] is False


async def test_users_list_filters_by_enrollment_og_and_search_text(cli: Cli, acme: None) -> None:
    await cli.ok("users", "add", "alice", "--email", "alice@acme.example", "--group-id", "acme-sales")
    await cli.ok("users", "add", "bob", "--email", "bob@acme.example", "--group-id", "acme",
                 "--last-name", "Berg")
    assert [u["UserName"] for u in await cli.json("users", "list")] == ["alice", "bob"]
    assert [u["UserName"] for u in await cli.json("users", "list", "--group-id", "acme-sales")] == ["alice"]
    assert [u["UserName"] for u in await cli.json("users", "list", "--search", "BERG")] == ["bob"]


async def test_users_show_update_deactivate_activate_and_delete(cli: Cli, acme: None) -> None:
    await cli.ok("users", "add", "alice", "--email", "alice@acme.example", "--group-id", "acme")
    updated = await cli.json("users", "update", "alice", "--email", "a.andersen@acme.example",
                             "--group-id", "acme-sales", "--first-name", "Alice")
    assert updated["Email"] == "a.andersen@acme.example"
    assert updated["ManagedAppleId"] == "a.andersen@acme.example"
    assert updated["GroupId"] == "acme-sales"
    assert (await cli.json("users", "deactivate", "alice"))["Status"] is False
    assert (await cli.json("users", "show", "ALICE"))["Status"] is False
    assert (await cli.json("users", "activate", "alice"))["Status"] is True
    await cli.ok("users", "delete", "alice")
    assert "User 'alice' was not found" in await cli.fails("users", "show", "alice")


async def test_users_add_refuses_a_taken_username_ignoring_case(cli: Cli, acme: None) -> None:
    await cli.ok("users", "add", "alice", "--email", "alice@acme.example", "--group-id", "acme")
    message = await cli.fails("users", "add", "ALICE", "--email", "other@acme.example", "--group-id", "acme")
    assert "A user named 'ALICE' already exists" in message


async def test_users_add_refuses_a_short_password_and_a_bad_email(cli: Cli, acme: None) -> None:
    message = await cli.fails("users", "add", "alice", "--email", "alice@acme.example",
                              "--group-id", "acme", "--password", "short")
    assert "at least 8 characters" in message
    message = await cli.fails("users", "add", "alice", "--email", "alice", "--group-id", "acme")
    assert "'alice' is not an email address" in message


CSV = """username,email,password,managed_apple_id,first_name,last_name,group_id,active
ivy,ivy@acme.example,Ivy-pass-123,,Ivy,Irwin,acme-sales,true
bad user,x@acme.example,,,,,acme,
jack,jack@acme.example,,jack@appleid.acme.example,Jack,Jones,acme,no
"""


async def test_users_import_reports_counts_and_bad_rows_and_exits_1(
    cli: Cli, acme: None, tmp_path: Path
) -> None:
    path = tmp_path / "users.csv"
    path.write_text(CSV)
    result = await cli("users", "import", str(path), "--json")
    assert result.exit_code == 1
    import json
    report = json.loads(result.stdout)
    assert (report["Created"], report["Updated"], report["Unchanged"], report["Failed"]) == (2, 0, 0, 1)
    assert report["Errors"] == [{
        "Line": 3, "UserName": "bad user",
        "Reason": "The username must not contain spaces, slashes or control characters.",
    }]
    jack = await cli.json("users", "show", "jack")
    assert jack["ManagedAppleId"] == "jack@appleid.acme.example" and jack["Status"] is False


async def test_users_import_human_output_lists_bad_rows_by_line(cli: Cli, acme: None, tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text(CSV)
    result = await cli("users", "import", str(path))
    assert result.exit_code == 1
    assert "2 created" in result.stdout and "1 failed" in result.stdout
    assert "bad user" in result.stdout


async def test_users_import_of_the_same_file_twice_changes_nothing(
    cli: Cli, acme: None, tmp_path: Path
) -> None:
    path = tmp_path / "users.csv"
    path.write_text("username,email,group_id,password\nivy,ivy@acme.example,acme,Ivy-pass-123\n")
    first = await cli.json("users", "import", str(path))
    before = await cli.json("users", "show", "ivy")
    second = await cli.json("users", "import", str(path))
    assert (first["Created"], second["Created"], second["Unchanged"], second["Updated"]) == (1, 0, 1, 0)
    assert await cli.json("users", "show", "ivy") == before


async def test_users_import_in_batches_of_two(cli: Cli, acme: None, tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    rows = "".join(f"u{i},u{i}@acme.example,acme\n" for i in range(5))
    path.write_text("username,email,group_id\n" + rows)
    report = await cli.json("users", "import", str(path), QUINCE_IMPORT_BATCH_SIZE="2")
    assert report["Created"] == 5
    assert len(await cli.json("users", "list")) == 5


async def test_users_import_refuses_an_unknown_column(cli: Cli, acme: None, tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text("username,email,group_id,department\nivy,ivy@acme.example,acme,Sales\n")
    message = await cli.fails("users", "import", str(path))
    assert "Unknown column(s) 'department'" in message
    assert await cli.json("users", "list") == []


async def test_users_import_refuses_a_missing_file(cli: Cli, acme: None, tmp_path: Path) -> None:
    message = await cli.fails("users", "import", str(tmp_path / "nope.csv"))
    assert "Cannot read" in message and "nope.csv" in message
