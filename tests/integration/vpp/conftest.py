from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from quince.clients.vpp import VppClient
from tests.e2e.cli.conftest import Cli
from tests.support_vpp import VppDouble


@pytest.fixture
def cli(engine: AsyncEngine, database_url: str, tmp_path: Path, vpp_server: VppDouble) -> Cli:
    """The `quince` command on the test database, its own QUINCE_VAR_DIR, and the local Apps and
    Books service."""
    return Cli({"QUINCE_DATABASE_URL": database_url, "QUINCE_VAR_DIR": str(tmp_path / "var"),
                "COLUMNS": "200", **vpp_server.environment()})


@pytest.fixture
async def client(vpp_server: VppDouble) -> AsyncIterator[VppClient]:
    """The production client with the double's token."""
    async with VppClient(vpp_server.token_file_text, base_url=vpp_server.url) as c:
        yield c
