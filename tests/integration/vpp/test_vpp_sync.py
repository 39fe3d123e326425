"""Purchased apps and licence counts synced from Apps and Books into the catalog."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.apple.vpp.errors import VppError
from quince.clients.vpp import VppClient
from quince.config import Settings
from quince.domain.errors import NotFound
from quince.services import jobs
from quince.services.apps import vpp_sync, vpp_tokens
from quince.services.directory import org_groups
from quince.services.scope import Scope
from quince.store.database import make_sessionmaker
from quince.store.models import AppRow, VppTokenRow
from tests.support_vpp import VppDouble


async def purchased(session: AsyncSession) -> dict[str, AppRow]:
    rows = await session.scalars(select(AppRow).where(AppRow.kind == "purchased"))
    return {r.adam_id or "": r for r in rows}


async def test_sync_creates_purchased_apps_at_the_tokens_og_with_counts(
    session: AsyncSession, scope: Scope, var_dir: Path, vpp_server: VppDouble, client: VppClient
) -> None:
    acme = await org_groups.create(session, scope, scope.og_id, name="Acme", group_id="acme",
                                   og_type="Customer")
    sales = await org_groups.create(session, scope, acme.id, name="Sales", group_id="sales")
    await vpp_tokens.set_token(session, scope, acme.id, vpp_server.token_file_text, var_dir=var_dir)
    vpp_server.add_asset("408709785", total=10, device_assignable=True)
    vpp_server.add_asset("377298193", total=2)
    vpp_server.add_asset("999", total=5, product_type="Book")
    for user in ("a", "b"):
        vpp_server.add_user(user)
        vpp_server.assign("377298193", user)

    result = await vpp_sync.sync_assets(session, scope, sales.id, client)  # from an OG below the token's
    await session.commit()
    assert (result.token_og_id, result.apps, result.created, result.updated) == (acme.id, 2, 2, 0)
    assert result.location_name == vpp_server.location_name
    apps = await purchased(session)
    assert set(apps) == {"408709785", "377298193"}  # the book is left out
    first = apps["408709785"]
    assert first.og_id == acme.id
    assert first.device_licensing_enabled is True
    assert (first.total_licenses, first.assigned_licenses) == (10, 0)
    assert first.name == "408709785"  # Apple's v2 assets carry no names
    assert first.bundle_id == vpp_sync.placeholder_bundle_id("408709785")
    assert first.synced_at is not None
    second = apps["377298193"]
    assert (second.device_licensing_enabled, second.total_licenses, second.assigned_licenses) == (False, 2, 2)
    token = await session.scalar(select(VppTokenRow))
    assert token is not None and token.location_name == vpp_server.location_name


async def test_sync_updates_known_apps_and_keeps_their_names(
    session: AsyncSession, scope: Scope, var_dir: Path, vpp_server: VppDouble, client: VppClient
) -> None:
    await vpp_tokens.set_token(session, scope, scope.og_id, vpp_server.token_file_text, var_dir=var_dir)
    session.add(AppRow(og_id=scope.og_id, kind="purchased", name="Hub", bundle_id="com.example.hub",
                       adam_id="111", total_licenses=1))
    session.add(AppRow(og_id=scope.og_id, kind="purchased", name="Old", bundle_id="com.example.old",
                       adam_id="222", total_licenses=4, assigned_licenses=1))
    await session.flush()
    vpp_server.add_asset("111", total=50)
    vpp_server.add_user("u")
    vpp_server.assign("111", "u")

    result = await vpp_sync.sync_assets(session, None, scope.og_id, client)
    assert (result.created, result.updated, result.gone) == (0, 1, 1)
    apps = await purchased(session)
    hub = apps["111"]
    assert (hub.name, hub.bundle_id, hub.total_licenses, hub.assigned_licenses) == (
        "Hub", "com.example.hub", 50, 1)
    gone = apps["222"]
    assert (gone.total_licenses, gone.assigned_licenses) == (0, 0)  # no longer held by the location

    # Running it again changes nothing.
    again = await vpp_sync.sync_assets(session, None, scope.og_id, client)
    assert (again.created, again.updated) == (0, 1)
    assert len(await purchased(session)) == 2


async def test_sync_without_a_token_is_not_found(
    session: AsyncSession, scope: Scope, client: VppClient
) -> None:
    with pytest.raises(NotFound):
        await vpp_sync.sync_assets(session, scope, scope.og_id, client)


async def test_a_failed_sync_changes_nothing(
    session: AsyncSession, scope: Scope, var_dir: Path, vpp_server: VppDouble, client: VppClient
) -> None:
    await vpp_tokens.set_token(session, scope, scope.og_id, vpp_server.token_file_text, var_dir=var_dir)
    vpp_server.add_asset("111")
    vpp_server.outage(503)
    with pytest.raises(VppError) as caught:
        await vpp_sync.sync_assets(session, scope, scope.og_id, client)
    assert caught.value.retryable
    assert await purchased(session) == {}


async def test_a_sync_queued_from_the_console_runs_as_one_background_job_per_token(
    session: AsyncSession, scope: Scope, var_dir: Path, vpp_server: VppDouble, engine: AsyncEngine
) -> None:
    await vpp_tokens.set_token(session, scope, scope.og_id, vpp_server.token_file_text, var_dir=var_dir)
    vpp_server.add_asset("361304891", total=10)
    assert await vpp_sync.last_synced(session, scope.og_id) is None
    assert await vpp_sync.queue_sync(session, scope, scope.og_id)
    assert not await vpp_sync.queue_sync(session, scope, scope.og_id)  # already waiting
    await session.commit()
    settings = Settings(database_url="sqlite+aiosqlite://", var_dir=var_dir, vpp_url=vpp_server.url)
    runner = jobs.JobRunner(make_sessionmaker(engine), vpp_sync.handlers(settings), worker_id="test:1")
    assert await runner.run_once() == 1
    session.expire_all()
    assert (await purchased(session))["361304891"].total_licenses == 10
    assert await vpp_sync.last_synced(session, scope.og_id) is not None


async def test_a_sync_cannot_be_queued_without_a_token(session: AsyncSession, scope: Scope) -> None:
    with pytest.raises(NotFound):
        await vpp_sync.queue_sync(session, scope, scope.og_id)
