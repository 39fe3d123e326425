"""Apps on a user-enrolled iPhone, end to end (DESIGN.md rules 5-7, 9): the simulated device
enrolls, Quince registers its user with the local Apps and Books service silently (no invitation),
assigns user-based licences, sends InstallApplication, and the device installs the apps as managed;
public and in-house apps are refused with reasons and no command."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.config import Settings
from quince.domain.app_eligibility import AppKind
from quince.services import jobs
from quince.services.apps import catalog as apps
from quince.services.apps import licensing, vpp_tokens
from quince.services.apps.catalog import NewApp
from quince.services.directory import og_settings
from quince.services.scope import Scope
from quince.simulator import SimulatedDevice
from quince.store.database import make_sessionmaker
from quince.store.models import CommandRow, DeviceAppRow, DeviceRow, JobRow, VppUserRow
from tests.e2e.mdm.conftest import NewDevice, Tenant, find_by_udid
from tests.support_vpp import VppDouble

HUB, WORD = "338761996", "586447913"


@dataclass(frozen=True)
class Catalog:
    hub: int
    word: int
    public: int
    in_house: int


@pytest.fixture
async def catalog(session: AsyncSession, scope: Scope, tenant: Tenant, live_settings: Settings,
                  vpp_server: VppDouble) -> Catalog:
    """Acme's Apps and Books token and catalog: the Hub (the companion app), Word (device-based
    licensing enabled) and a public and an in-house app, all assigned automatically to Acme."""
    vpp_server.org_domains = ("appleid.acme.example",)  # Acme's Managed Apple IDs
    vpp_server.add_asset(HUB, 10)
    vpp_server.add_asset(WORD, 10, device_assignable=True)
    await vpp_tokens.set_token(session, scope, tenant.acme, vpp_server.token_file_text,
                               var_dir=live_settings.var_dir)
    new = [
        NewApp(AppKind.PURCHASED, tenant.acme, "Intelligent Hub", "com.air-watch.agent", HUB,
               total_licenses=10),
        NewApp(AppKind.PURCHASED, tenant.acme, "Microsoft Word", "com.microsoft.Office.Word", WORD,
               total_licenses=10, device_licensing_enabled=True),
        NewApp(AppKind.PUBLIC, tenant.acme, "Weather", "com.example.weather", "1234567"),
        NewApp(AppKind.IN_HOUSE, tenant.acme, "Expenses", "com.acme.expenses",
               manifest_url="https://apps.acme.example/expenses.plist"),
    ]
    rows = [await apps.create(session, scope, n) for n in new]
    for row in rows[1:]:
        await apps.assign(session, scope, row.id, "og", tenant.acme, "automatic")
    await og_settings.override(session, scope, tenant.acme, "companion_app_bundle_id", "com.air-watch.agent")
    await session.commit()
    return Catalog(*(r.id for r in rows))


def runner(engine: AsyncEngine, settings: Settings, vpp: VppDouble, name: str) -> jobs.JobRunner:
    """The server's job worker for the delivery flow, pointed at the local Apps and Books service."""
    local = settings.model_copy(update={"vpp_url": vpp.url})
    return jobs.JobRunner(make_sessionmaker(engine), licensing.handlers(local, poll_seconds=0), name)


async def drain(worker: jobs.JobRunner, rounds: int = 30) -> None:
    for _ in range(rounds):
        if not await worker.run_once():
            await asyncio.sleep(0.05)
            if not await worker.run_once():
                return


async def statuses(session: AsyncSession, device_id: int) -> dict[int, tuple[str, str | None, str]]:
    session.expire_all()
    rows = await session.scalars(select(DeviceAppRow).where(DeviceAppRow.device_id == device_id))
    return {r.app_id: (r.status, r.license_type, r.reason) for r in rows}


async def enrolled_iphone(new_device: NewDevice, api: httpx.AsyncClient) -> tuple[SimulatedDevice, int]:
    """A new iPhone of Maria's, enrolled, and its device id."""
    iphone = new_device()
    enrolled = await iphone.enroll()
    assert enrolled.enrollment_id is not None
    return iphone, int((await find_by_udid(api, enrolled.enrollment_id))["Id"]["Value"])


async def test_a_user_enrolled_device_gets_its_apps_through_silent_association(
    new_device: NewDevice, api: httpx.AsyncClient, session: AsyncSession, migrated_engine: AsyncEngine,
    live_settings: Settings, vpp_server: VppDouble, catalog: Catalog,
) -> None:
    iphone, device_id = await enrolled_iphone(new_device, api)

    before = await statuses(session, device_id)
    assert before[catalog.public][0] == "NotSupported"
    assert "Public App Store apps cannot be installed on a user-enrolled device" in before[catalog.public][2]
    assert before[catalog.in_house][0] == "NotSupported"
    assert "In-house apps cannot be installed" in before[catalog.in_house][2]
    assert before[catalog.hub][0] == before[catalog.word][0] == "WaitingForVppUser"

    await drain(runner(migrated_engine, live_settings, vpp_server, "apps-worker"))

    vpp_user = await session.scalar(select(VppUserRow))
    assert vpp_user is not None and vpp_user.status == "Associated"
    assert vpp_user.managed_apple_id == "maria@appleid.acme.example"
    assert vpp_server.invitations_requested == []  # rule 7: silent, never an invitation
    assert vpp_server.assigned_users(HUB) == [vpp_user.client_user_id]
    # Rule 6: Word has device-based licensing, yet the licence is the user's.
    assert vpp_server.assigned_users(WORD) == [vpp_user.client_user_id]
    assert all(serial is None for _adam, _user, serial in vpp_server.assignments)

    queued = await statuses(session, device_id)
    assert queued[catalog.hub][:2] == ("InstallQueued", "user")
    assert queued[catalog.word][:2] == ("InstallQueued", "user")
    commands = list(await session.scalars(select(CommandRow).where(CommandRow.device_id == device_id)))
    assert sorted(c.command["iTunesStoreID"] for c in commands) == sorted([int(HUB), int(WORD)])
    assert all(c.command["Options"] == {"PurchaseMethod": 1} and c.command["ManagementFlags"] == 1
               for c in commands)

    answered = await iphone.connect()
    assert answered.commands == ["InstallApplication", "InstallApplication"]
    assert answered.statuses == ["Acknowledged", "Acknowledged"]
    assert {"com.air-watch.agent", "com.microsoft.Office.Word"} <= set(iphone.iphone.managed_apps)
    done = await statuses(session, device_id)
    assert done[catalog.hub][0] == done[catalog.word][0] == "Installed"
    assert done[catalog.public][0] == "NotSupported"  # and no command was ever sent for it
    device = await session.get(DeviceRow, device_id)
    assert device is not None and device.license_type_eligibility == 2

    listed = await api.get(f"/API/mdm/devices/{device_id}/apps")
    assert listed.status_code == 200, listed.text
    by_bundle = {a["ApplicationIdentifier"]: a for a in listed.json()["DeviceApps"]}
    assert by_bundle["com.microsoft.Office.Word"]["LicenseType"] == "User"


async def test_an_apps_and_books_outage_delays_the_flow_which_completes_after_recovery(
    new_device: NewDevice, api: httpx.AsyncClient, session: AsyncSession, migrated_engine: AsyncEngine,
    live_settings: Settings, vpp_server: VppDouble, catalog: Catalog,
) -> None:
    vpp_server.outage(503)
    enrolled = await new_device().enroll()
    assert enrolled.enrollment_id is not None
    device_id = (await find_by_udid(api, enrolled.enrollment_id))["Id"]["Value"]
    worker = runner(migrated_engine, live_settings, vpp_server, "outage-worker")
    await worker.run_once()  # the user's clientUserId is stored before Apple hears of it
    await worker.run_once()  # ... then Apple is called, and is down
    session.expire_all()
    waiting = list(await session.scalars(select(JobRow).where(JobRow.kind == licensing.USER_JOB)))
    assert [j.status for j in waiting] == ["waiting"]
    assert waiting[0].last_error and "Apps and Books" in waiting[0].last_error
    assert (await statuses(session, device_id))[catalog.hub][0] == "WaitingForVppUser"

    vpp_server.recover()
    await session.execute(JobRow.__table__.update().values(run_after=func.now()))  # skip the backoff
    await session.commit()
    await drain(worker)
    assert (await statuses(session, device_id))[catalog.hub][0] == "InstallQueued"


async def test_a_server_restart_mid_flow_loses_no_job(
    new_device: NewDevice, api: httpx.AsyncClient, session: AsyncSession, migrated_engine: AsyncEngine,
    live_settings: Settings, vpp_server: VppDouble, catalog: Catalog,
) -> None:
    vpp_server.event_polls = 2  # Apple takes a while: the flow is mid-way when "the server stops"
    enrolled = await new_device().enroll()
    assert enrolled.enrollment_id is not None
    device_id = (await find_by_udid(api, enrolled.enrollment_id))["Id"]["Value"]
    first = runner(migrated_engine, live_settings, vpp_server, "before-restart")
    await first.run_once()  # the user's clientUserId stored
    await first.run_once()  # users/create sent, the event still pending
    assert len(vpp_server.received("/mdm/v2/users/create", "POST")) == 1
    del first  # the process is gone; only the database remains

    after = runner(migrated_engine, live_settings, vpp_server, "after-restart")
    await drain(after)
    assert (await statuses(session, device_id))[catalog.hub][0] == "InstallQueued"
    # The restart registered the user once: the job resumed from what was stored.
    assert len(vpp_server.received("/mdm/v2/users/create", "POST")) == 1


async def test_the_last_device_unenrolling_releases_the_users_licences(
    new_device: NewDevice, api: httpx.AsyncClient, session: AsyncSession, migrated_engine: AsyncEngine,
    live_settings: Settings, vpp_server: VppDouble, catalog: Catalog,
) -> None:
    first, second = new_device(), new_device()
    await first.enroll()
    await second.enroll()
    worker = runner(migrated_engine, live_settings, vpp_server, "release-worker")
    await drain(worker)
    vpp_user = await session.scalar(select(VppUserRow))
    assert vpp_user is not None
    assert vpp_server.assigned_users(HUB) == [vpp_user.client_user_id]

    await first.checkout()
    await drain(worker)
    assert vpp_server.assigned_users(HUB) == [vpp_user.client_user_id]  # Maria still has an iPhone

    await second.checkout()
    await drain(worker)
    assert vpp_server.assigned_users(HUB) == []
    assert vpp_server.assigned_users(WORD) == []
    assert vpp_server.invitations_requested == []


async def test_an_enterprise_wipe_of_the_users_last_device_releases_their_licences(
    new_device: NewDevice, api: httpx.AsyncClient, session: AsyncSession, migrated_engine: AsyncEngine,
    live_settings: Settings, vpp_server: VppDouble, catalog: Catalog,
) -> None:
    iphone, device_id = await enrolled_iphone(new_device, api)
    worker = runner(migrated_engine, live_settings, vpp_server, "wipe-worker")
    await drain(worker)
    vpp_user = await session.scalar(select(VppUserRow))
    assert vpp_user is not None
    assert vpp_server.assigned_users(HUB) == [vpp_user.client_user_id]

    wiped = await api.post(f"/API/mdm/devices/{device_id}/commands", params={"command": "EnterpriseWipe"})
    assert wiped.status_code == 202, wiped.text
    await drain(worker)
    assert vpp_server.assigned_users(HUB) == [vpp_user.client_user_id]  # pending: not gone yet

    await iphone.connect()  # receives RemoveProfile for its enrollment profile, checks out
    await drain(worker)
    assert vpp_server.assigned_users(HUB) == []
    assert vpp_server.assigned_users(WORD) == []
    assert {status for status, _, _ in (await statuses(session, device_id)).values()} <= {
        "Removed", "NotSupported"}


async def test_apples_error_codes_reach_the_device_app_status_as_readable_text(
    new_device: NewDevice, api: httpx.AsyncClient, session: AsyncSession, migrated_engine: AsyncEngine,
    live_settings: Settings, vpp_server: VppDouble, catalog: Catalog,
) -> None:
    enrolled = await new_device().enroll()
    assert enrolled.enrollment_id is not None
    device_id = (await find_by_udid(api, enrolled.enrollment_id))["Id"]["Value"]
    worker = runner(migrated_engine, live_settings, vpp_server, "errors-worker")
    await worker.run_once()  # the user's clientUserId stored
    await worker.run_once()  # users/create, answered at once
    vpp_server.fail_next_event(9609)  # the next licence request fails: registered user not found
    await drain(worker)
    now = await statuses(session, device_id)
    failed = [app_id for app_id in (catalog.hub, catalog.word) if now[app_id][0] == "Failed"]
    assert len(failed) == 1  # the other licence went through and its install is queued
    assert "Apple cannot find the registered VPP user" in now[failed[0]][2]
    assert now[catalog.public][0] == "NotSupported"
    listed = await api.get(f"/API/mdm/devices/{device_id}/apps")
    reasons = [a["StatusReason"] for a in listed.json()["DeviceApps"] if a["Status"] == "Failed"]
    assert len(reasons) == 1 and "Apple cannot find the registered VPP user" in reasons[0]
