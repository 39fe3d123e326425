from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.cli.conftest import Cli


@pytest.fixture
def cli(engine: AsyncEngine, database_url: str, tmp_path: Path) -> Cli:
    """The `quince` command on the test database, with its own QUINCE_VAR_DIR."""
    return Cli({"QUINCE_DATABASE_URL": database_url, "QUINCE_VAR_DIR": str(tmp_path / "var"),
                "COLUMNS": "200"})
