"""Integration tests: a real database, the live server, and the local APNs and Apps and Books
services (tests/support_apns.py, tests/support_vpp.py)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from quince.store.database import make_engine
from tests.fixtures.database import (
    database_url,
    engine,
    migrated_engine,
    scope,
    scratch_postgresql_database,
    session,
)
from tests.fixtures.live_server import api_client, live_server, live_settings
from tests.support_apns import apns_server
from tests.support_vpp import vpp_server

# The shared fixtures this directory uses, re-exported so that pytest finds them here.
__all__ = [
    "api_client", "apns_server", "database_url", "engine", "live_server", "live_settings",
    "migrated_engine", "scope", "session", "vpp_server",
]


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


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
