"""Start-up: `quince --help` imports no command module, and only `serve` imports the web app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import quince.cli
from quince.cli import COMMANDS, app, load

WEB = ("uvicorn", "fastapi", "starlette", "quince.web")
DATABASE = ("asyncpg", "sqlalchemy", "alembic")


def modules_loaded_by(*args: str) -> set[str]:
    """The heavy modules a fresh interpreter holds after `quince ARGS`."""
    code = (
        "import sys\n"
        "from quince.cli import app\n"
        "try:\n"
        f"    app({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(' '.join(m for m in {WEB + DATABASE!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(quince.cli.__file__).parents[2]), "COLUMNS": "200"}
    done = subprocess.run(  # noqa: S603 (this interpreter, code built here)
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return set(done.stdout.splitlines()[-1].split())


def test_help_imports_neither_the_web_app_nor_the_database_drivers() -> None:
    assert modules_loaded_by("--help") == set()


def test_a_command_that_does_not_serve_does_not_import_the_web_app() -> None:
    assert modules_loaded_by("og", "list", "--help") & set(WEB) == set()


def test_every_command_module_is_listed() -> None:
    here = Path(quince.cli.__file__).parent
    modules = {p.stem for p in here.glob("*.py")} - {"__init__", "runtime", "views"}
    assert modules == {entry.module for entry in COMMANDS.values()}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listed_help_is_the_commands_own(name: str) -> None:
    command = load(name)
    assert (command.help or "").split("\n\n")[0].strip() == COMMANDS[name].help


def test_help_groups_the_commands_into_panels() -> None:
    out = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).stdout
    panels = [line.split("─ ")[1].split(" ─")[0] for line in out.splitlines() if line.startswith("╭─ ")]
    assert panels == ["Options", "Setup", "Directory", "Devices", "Apps", "Operations"]
    for name in COMMANDS:
        assert f"│ {name} " in out


def test_a_group_of_one_command_still_takes_the_command_name() -> None:
    assert isinstance(load("enroll"), typer.core.TyperGroup)
