"""Fixtures of the integration tests beyond the shared ones in tests/conftest.py."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from quince.store.database import make_engine
from tests.conftest import scratch_postgresql_database


@pytest.fixture
async def blank_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty database of the test's own, for migration tests that start from an older revision
    (the suite's shared database is already at the newest): a SQLite file, or a PostgreSQL
    database dropped afterwards."""
    pg = os.environ.get("QUINCE_TEST_DATABASE_URL")
    async with AsyncExitStack() as stack:
        url = (await stack.enter_async_context(scratch_postgresql_database(pg, "quince_mig")) if pg
               else f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
        engine = make_engine(url)
        yield engine
        await engine.dispose()
