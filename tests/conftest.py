"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when QUINCE_TEST_DATABASE_URL is
set), a clean schema per test, and a real Quince server over HTTP for API tests."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn
from sqlalchemy import update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.config import Settings
from quince.services.access import admins, passwords
from quince.services.directory.org_groups import ensure_root
from quince.services.scope import Scope, operator_scope
from quince.store import migrate
from quince.store.database import make_engine, make_sessionmaker
from quince.store.models import Base, OrgGroupRow
from quince.web.app import create_app
from tests.support_apns import apns_server  # noqa: F401  (the local APNs, for every test)
from tests.support_vpp import vpp_server  # noqa: F401  (the local Apps and Books service)

# Real argon2id, at a cost that keeps the suite fast; hashes record their own parameters.
passwords.configure(time_cost=1, memory_cost=1024)


def _plain_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def scratch_postgresql_database(pg: str, prefix: str = "quince_test") -> AsyncIterator[str]:
    """A PostgreSQL database of its own on the server `pg` names, dropped afterwards; yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_plain_dsn(pg))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(pg).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(_plain_dsn(pg))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A fresh database for this run: its own PostgreSQL database, or a SQLite file."""
    pg = os.environ.get("QUINCE_TEST_DATABASE_URL")
    if not pg:
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'quince.db'}"
        return
    async with scratch_postgresql_database(pg) as url:
        yield url


@pytest.fixture(scope="session")
async def migrated_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def engine(migrated_engine: AsyncEngine) -> AsyncEngine:
    """The migrated database, emptied, holding only the Global root."""
    async with migrated_engine.begin() as conn:
        # parent_id is ON DELETE RESTRICT, checked row by row: unhook the tree before emptying it.
        await conn.execute(update(OrgGroupRow).values(parent_id=None))
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())
    async with make_sessionmaker(migrated_engine)() as session:
        await ensure_root(session)
        await session.commit()
    return migrated_engine


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with make_sessionmaker(engine)() as s:
        yield s


@pytest.fixture
async def scope(session: AsyncSession) -> Scope:
    """The whole install, writable (what the CLI runs with)."""
    return await operator_scope(session)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The configuration of the test server: its own var/ (PKI, logs) and its real URL."""
    return Settings(
        database_url=database_url, var_dir=tmp_path_factory.mktemp("var"),
        public_url=f"http://127.0.0.1:{_free_port()}",
        workers=0,  # tests run job workers themselves (quince.services.jobs.JobRunner.run_once)
        # Long enough that a test's next request always lands inside the wait, however slow the
        # machine: sign-in back-off tests see the same answer every run.
        sign_in_first_wait_seconds=30,
    )


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """Quince with these settings, served by uvicorn on the port of settings.public_url, in a
    thread with its own event loop; yields the base URL."""
    port = int(settings.public_url.rsplit(":", 1)[1])
    server = uvicorn.Server(uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    ))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("Quince test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(live_settings: Settings, migrated_engine: AsyncEngine) -> Iterator[str]:
    """The shared test server (see `serving`)."""
    with serving(live_settings) as url:
        yield url


ApiClientFactory = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def api_client(
    live_server: str, session: AsyncSession, scope: Scope
) -> AsyncIterator[ApiClientFactory]:
    """Make HTTP clients that authenticate as a new admin (Basic + aw-tenant-code) at an OG."""
    clients: list[httpx.AsyncClient] = []

    async def make(og_id: int | None = None, role: str = "administrator",
                   key_og_id: int | None = None) -> httpx.AsyncClient:
        og = og_id if og_id is not None else scope.og_id
        name = f"admin-{uuid.uuid4().hex[:8]}"
        await admins.add_admin(session, scope, username=name, password="admin-pass-1",
                               og_id=og, role=role)
        _row, key = await admins.create_api_key(session, scope, og_id=key_og_id or og)
        await session.commit()
        client = httpx.AsyncClient(
            base_url=live_server, auth=(name, "admin-pass-1"),
            headers={"aw-tenant-code": key, "Accept": "application/json"}, timeout=30,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"
