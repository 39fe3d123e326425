"""The storage contracts: what Quince relies on the database for, where SQLite and PostgreSQL
differ or could. The suite runs on SQLite, and on PostgreSQL with QUINCE_TEST_DATABASE_URL;
`make test-storage` runs both, in seconds."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from tests.fixtures.database import database_url, engine, migrated_engine, scope, session

# The shared fixtures this directory uses, re-exported so that pytest finds them here.
__all__ = ["database_url", "engine", "migrated_engine", "scope", "session"]


@pytest.fixture(scope="session")
def dialect(database_url: str) -> str:
    """"sqlite" or "postgresql": for the contracts that differ on purpose."""
    return make_url(database_url).get_backend_name()
