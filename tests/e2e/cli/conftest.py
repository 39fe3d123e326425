"""Run the `quince` command in-process (typer's CliRunner) against the test database.

The CLI runs its own event loop (asyncio.run), so each call runs in a worker thread while the
async fixtures keep theirs.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from quince.cli import app


@dataclass
class Cli:
    """`await cli("og", "tree")` runs `quince og tree`; `cli.json(...)` adds --json and parses."""

    env: dict[str, str]

    async def __call__(self, *args: str, input: str | None = None, **env: str) -> Result:
        runner = CliRunner()
        return await asyncio.to_thread(
            runner.invoke, app, list(args), input=input, env={**self.env, **env}, catch_exceptions=False
        )

    async def ok(self, *args: str, input: str | None = None, exit_code: int = 0, **env: str) -> Result:
        """Run a command that must exit with `exit_code` (0: success)."""
        result = await self(*args, input=input, **env)
        assert result.exit_code == exit_code, (
            f"quince {' '.join(args)} exited {result.exit_code}:\n{result.output}"
        )
        return result

    async def json(self, *args: str, input: str | None = None, exit_code: int = 0, **env: str) -> Any:
        return json.loads((await self.ok(*args, "--json", input=input, exit_code=exit_code, **env)).stdout)

    async def fails(self, *args: str, input: str | None = None, **env: str) -> str:
        """Run a command that must fail; return its error message (stderr)."""
        result = await self(*args, input=input, **env)
        assert result.exit_code == 1, f"quince {' '.join(args)} exited {result.exit_code}:\n{result.output}"
        return " ".join(result.stderr.split())


@pytest.fixture
def cli(engine: AsyncEngine, database_url: str, tmp_path: Path) -> Cli:
    """The CLI on the test database (holding only Global), with its own QUINCE_VAR_DIR."""
    return Cli({
        "QUINCE_DATABASE_URL": database_url,
        "QUINCE_VAR_DIR": str(tmp_path / "var"),
        "COLUMNS": "200",
    })
