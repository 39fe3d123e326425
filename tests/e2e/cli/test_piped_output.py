"""Into a pipe or a file, the CLI's tables and messages keep each line whole and print no colour codes
(Rich would wrap them at 80 columns)."""

from __future__ import annotations

import asyncio

from click.testing import Result
from typer.testing import CliRunner

from quince.cli import app
from tests.e2e.cli.conftest import Cli

LONG_NAME = "Northern Europe field sales, contractors and seasonal staff with loaned devices (EMEA)"
LONG_BUNDLE = "com.example." + "very-long-bundle-identifier." * 6 + "app"


async def piped(cli: Cli, *args: str) -> Result:
    """`quince ARGS` with its output captured (not a terminal) and no COLUMNS set."""
    env: dict[str, str | None] = {**cli.env, "COLUMNS": None}
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


async def test_tables_and_messages_are_not_wrapped_into_a_pipe(cli: Cli) -> None:
    await cli.ok("og", "create", "--parent", "Global", "--name", LONG_NAME, "--group-id", "emea-field")
    await cli.ok("apps", "add-public", "Notes", LONG_BUNDLE, "--adam-id", "361309726",
                 "--group-id", "emea-field")

    created = await piped(cli, "og", "create", "--parent", "emea-field", "--name", LONG_NAME + " 2",
                          "--group-id", "emea-field-2")
    listed = await piped(cli, "og", "list")
    apps = await piped(cli, "apps", "list")

    assert any(LONG_NAME + " 2" in line for line in created.stdout.splitlines()), created.stdout
    assert any(LONG_NAME in line and "emea-field" in line for line in listed.stdout.splitlines()), (
        listed.stdout
    )
    assert any(LONG_BUNDLE in line and "Notes" in line for line in apps.stdout.splitlines()), apps.stdout
    assert all("\x1b[" not in r.output for r in (created, listed, apps))


async def test_an_error_is_one_line_into_a_pipe(cli: Cli) -> None:
    result = await piped(cli, "og", "show", LONG_NAME)
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1 and LONG_NAME in result.stderr, result.stderr
    assert "\x1b[" not in result.stderr
