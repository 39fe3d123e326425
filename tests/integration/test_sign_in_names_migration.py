"""Migration 0010 copies existing users' sign-in names so that nobody's sign-in changes: each name
signs in whom the old lookup found (managed Apple ID, then email, then username), and a name two
users shared at the first rank that has it signs in nobody, as before (docs/security.md)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from quince.store import migrate
from quince.store.database import make_engine
from tests.fixtures.database import scratch_postgresql_database


@pytest.fixture
async def blank_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty database of its own (the suite's shared one is already at head)."""
    pg = os.environ.get("QUINCE_TEST_DATABASE_URL")
    async with AsyncExitStack() as stack:
        url = (await stack.enter_async_context(scratch_postgresql_database(pg, "quince_mig")) if pg
               else f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
        engine = make_engine(url)
        yield engine
        await engine.dispose()


USERS = [
    # id, username, email, managed Apple ID
    (1, "alice", "alice@acme.example", "alice@acme.example"),
    (2, "alice-b", "Alice@ACME.example", "alice.b@beta.example"),  # alice's email as her own email
    (3, "carol", "carol@acme.example", "shared@appleid.example"),
    (4, "dave", "dave@beta.example", "SHARED@appleid.example"),  # same managed Apple ID as carol
    (5, "erin", "erin@acme.example", "erin.mid@acme.example"),
    (6, "frank", "erin.mid@acme.example", "frank@beta.example"),  # erin's managed Apple ID as email
]


async def test_existing_users_keep_signing_in_as_they_did(blank_engine: AsyncEngine) -> None:
    await migrate.upgrade(blank_engine, "0009")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    async with blank_engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO organization_groups (id, uuid, name, group_id, group_id_key, type, path, created_at)"
            " VALUES (1, :u, 'Global', 'Global', 'global', 'Global', '/1/', :now)"
        ), {"u": str(uuid.uuid4()), "now": now})
        for user_id, username, email, apple_id in USERS:
            await conn.execute(text(
                "INSERT INTO enrollment_users (id, uuid, username, username_key, email, managed_apple_id,"
                " first_name, last_name, active, og_id, created_at, updated_at) VALUES (:id, :u, :n,"
                " :nk, :e, :m, '', '', :active, 1, :now, :now)"
            ), {"id": user_id, "u": str(uuid.uuid4()), "n": username, "nk": username.casefold(), "e": email,
                "m": apple_id, "active": True, "now": now})
    await migrate.upgrade(blank_engine)
    async with blank_engine.connect() as conn:
        names = dict((await conn.execute(text("SELECT name_key, user_id FROM sign_in_names"))).tuples().all())
    assert names["alice"] == 1 and names["alice-b"] == 2
    # alice's email is both users' email, and alice's managed Apple ID: found first as hers.
    assert names["alice@acme.example"] == 1
    # carol and dave shared a managed Apple ID: the old lookup refused it, and still nobody owns it.
    assert "shared@appleid.example" not in names
    assert names["carol@acme.example"] == 3 and names["dave@beta.example"] == 4
    # erin's managed Apple ID was frank's email: managed Apple IDs were looked up first.
    assert names["erin.mid@acme.example"] == 5
