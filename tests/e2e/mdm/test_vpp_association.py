"""Silent Apps and Books association at enrollment (DESIGN.md rule 7): when a user-enrolled device
enrolls in an OG that an Apps and Books token serves, its user is registered with their Managed
Apple ID at once, with no app assigned to them and no invitation; once only."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.config import Settings
from quince.services.apps import licensing, vpp_tokens
from quince.services.scope import Scope
from quince.store.models import JobRow, VppUserRow
from tests.e2e.mdm.conftest import NewDevice, Tenant
from tests.e2e.mdm.test_app_delivery import drain, runner
from tests.support_vpp import VppDouble

USERS_CREATE = "/mdm/v2/users/create"


@pytest.fixture
async def token(session: AsyncSession, scope: Scope, tenant: Tenant, live_settings: Settings,
                vpp_server: VppDouble) -> None:
    """Acme's Apps and Books token, and no app in any catalog."""
    vpp_server.org_domains = ("appleid.acme.example",)
    await vpp_tokens.set_token(session, scope, tenant.acme, vpp_server.token_file_text,
                               var_dir=live_settings.var_dir)
    await session.commit()


async def _user_jobs(session: AsyncSession) -> list[JobRow]:
    session.expire_all()
    return list(await session.scalars(select(JobRow).where(JobRow.kind == licensing.USER_JOB)))


@pytest.mark.usefixtures("token")
async def test_a_user_without_apps_is_associated_silently_when_their_device_enrolls(
    new_device: NewDevice, session: AsyncSession, migrated_engine: AsyncEngine,
    live_settings: Settings, vpp_server: VppDouble,
) -> None:
    await new_device().enroll()
    assert len(await _user_jobs(session)) == 1

    await drain(runner(migrated_engine, live_settings, vpp_server, "association-worker"))

    vpp_user = await session.scalar(select(VppUserRow))
    assert vpp_user is not None and vpp_user.status == "Associated"
    assert vpp_user.managed_apple_id == "maria@appleid.acme.example"
    created = vpp_server.received(USERS_CREATE, "POST")
    assert len(created) == 1
    assert created[0].body["users"][0]["managedAppleId"] == "maria@appleid.acme.example"
    assert "email" not in created[0].body["users"][0]
    assert vpp_server.invitations_requested == []  # silent: never an invitation
    assert vpp_server.assignments == []  # no app, no licence


@pytest.mark.usefixtures("token")
async def test_a_second_device_of_the_same_user_does_not_register_them_again(
    new_device: NewDevice, session: AsyncSession, migrated_engine: AsyncEngine,
    live_settings: Settings, vpp_server: VppDouble,
) -> None:
    worker = runner(migrated_engine, live_settings, vpp_server, "association-worker")
    await new_device().enroll()
    await drain(worker)
    await new_device().enroll()
    await drain(worker)

    assert len(await _user_jobs(session)) == 1  # the second enrollment queued nothing
    assert len(list(await session.scalars(select(VppUserRow)))) == 1
    assert len(vpp_server.received(USERS_CREATE, "POST")) == 1


@pytest.mark.usefixtures("token")
async def test_two_devices_enrolling_before_the_worker_runs_queue_one_registration(
    new_device: NewDevice, session: AsyncSession, migrated_engine: AsyncEngine,
    live_settings: Settings, vpp_server: VppDouble,
) -> None:
    await new_device().enroll()
    await new_device().enroll()
    assert len(await _user_jobs(session)) == 1  # the waiting job absorbed the second one

    await drain(runner(migrated_engine, live_settings, vpp_server, "association-worker"))
    assert len(vpp_server.received(USERS_CREATE, "POST")) == 1


async def test_an_og_without_a_token_queues_no_association(
    new_device: NewDevice, session: AsyncSession, vpp_server: VppDouble,
) -> None:
    await new_device().enroll()
    assert await _user_jobs(session) == []
    assert vpp_server.received(USERS_CREATE, "POST") == []
