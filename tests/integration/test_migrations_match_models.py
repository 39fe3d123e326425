"""The migrations build exactly the schema store/models.py describes, on SQLite and PostgreSQL: a
model changed without its migration (or the reverse) fails here, not in production."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from quince.store.models import Base

# Indexes the models create on PostgreSQL only (`Index(...).ddl_if(dialect="postgresql")`).
POSTGRESQL_ONLY = {"ix_devices_last_seen_desc"}


async def test_the_migrated_database_matches_the_models(migrated_engine: AsyncEngine) -> None:
    def differences(sync_conn: Any) -> list[Any]:
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with migrated_engine.connect() as conn:
        found = await conn.run_sync(differences)
    if migrated_engine.dialect.name != "postgresql":
        found = [d for d in found if not (d[0] == "add_index" and d[1].name in POSTGRESQL_ONLY)]
    assert found == []
