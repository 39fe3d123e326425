"""Apps and Books jobs that run twice do no harm (DESIGN.md rule 7, against the local Apps and Books
service). A worker's process may die after Apple accepted a request but before the job's
transaction committed: the job runs again, and Apple must end up with one VPP user per person and
one licence per user and app, and each device with one InstallApplication per app."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from quince.clients.vpp import VppClient
from quince.config import Settings
from quince.domain.app_eligibility import AppKind
from quince.domain.devices import EnrollmentStatus
from quince.services import jobs
from quince.services.apps import catalog as apps
from quince.services.apps import delivery as app_delivery
from quince.services.apps import licensing, vpp_tokens
from quince.services.apps.catalog import NewApp
from quince.services.scope import Scope
from quince.store.database import make_sessionmaker
from quince.store.models import (
    CommandRow,
    DeviceAppRow,
    DeviceRow,
    JobRow,
    VppLicenseRow,
    VppUserRow,
)
from tests.integration.api.support import build_world
from tests.integration.jobs.test_runner import Clock
from tests.support_vpp import VppDouble

HUB, WORD = "338761996", "586447913"
ALICE = "alice@acme.example"  # her Managed Apple ID (her address, in Acme's domain)
USERS_CREATE, ASSOCIATE, DISASSOCIATE = (
    "/mdm/v2/users/create", "/mdm/v2/assets/associate", "/mdm/v2/assets/disassociate")


class ProcessDied(BaseException):
    """The worker's process dies here: nothing it had not committed survives; its claims stay."""


@dataclass
class Delivery:
    """Alice's user-enrolled iPhone, waiting for two Apps and Books apps; the workers' clock."""

    device_id: int
    apps: tuple[int, int]
    sessionmaker: async_sessionmaker[AsyncSession]
    handlers: Mapping[str, jobs.Handler]
    clock: Clock

    def worker(self, name: str, handlers: Mapping[str, jobs.Handler] | None = None) -> jobs.JobRunner:
        return jobs.JobRunner(self.sessionmaker, handlers or self.handlers, name, clock=self.clock)


@pytest.fixture
async def delivery(session: AsyncSession, scope: Scope, engine: AsyncEngine, live_settings: Settings,
                   vpp_server: VppDouble) -> Delivery:
    world = await build_world(session, scope)
    vpp_server.org_domains = ("acme.example",)
    vpp_server.add_asset(HUB, 10)
    vpp_server.add_asset(WORD, 10)
    settings = live_settings.model_copy(update={"vpp_url": vpp_server.url})
    await vpp_tokens.set_token(session, scope, world.acme, vpp_server.token_file_text,
                               var_dir=settings.var_dir)
    hub = await apps.create(session, scope, NewApp(AppKind.PURCHASED, world.acme, "Intelligent Hub",
                                                   "com.air-watch.agent", HUB, total_licenses=10))
    word = await apps.create(session, scope, NewApp(AppKind.PURCHASED, world.acme, "Microsoft Word",
                                                    "com.microsoft.Office.Word", WORD, total_licenses=10))
    device = DeviceRow(og_id=world.sales, enrollment_user_id=world.alice,
                       enrollment_status=EnrollmentStatus.ENROLLED.value, ownership="E",
                       is_user_enrolled=True, license_type_eligibility=2)
    session.add(device)
    await session.flush()
    for app in (hub, word):
        await app_delivery.deliver(session, device, app)
    await session.commit()
    return Delivery(device.id, (hub.id, word.id), make_sessionmaker(engine),
                    licensing.handlers(settings, poll_seconds=0), Clock(jobs.utcnow()))


def dying_after(path: str, vpp: VppDouble, handlers: Mapping[str, jobs.Handler]) -> dict[str, jobs.Handler]:
    """The handlers of a worker whose process dies as soon as Apple has accepted a `path` request."""

    def wrap(handler: jobs.Handler) -> jobs.Handler:
        async def run(db: AsyncSession, job: JobRow) -> jobs.Outcome:
            before = len(vpp.received(path, "POST"))
            outcome = await handler(db, job)
            if len(vpp.received(path, "POST")) > before:
                raise ProcessDied(path)
            return outcome
        return run

    return {kind: wrap(handler) for kind, handler in handlers.items()}


async def run_until_it_dies(delivery: Delivery, vpp: VppDouble, path: str) -> None:
    doomed = delivery.worker("doomed", dying_after(path, vpp, delivery.handlers))
    for _ in range(10):
        delivery.clock.now += timedelta(minutes=1)  # a dead worker's leases run out meanwhile
        try:
            await doomed.run_once()
        except ProcessDied:
            return
    raise AssertionError(f"the worker never sent {path}")


def apple_errors(vpp: VppDouble) -> list[int]:
    """The error numbers of Apple's failed events, in order."""
    return [f["errorNumber"] for event in vpp.events.values() for f in event.failures]


async def drain(worker: jobs.JobRunner, clock: Clock) -> None:
    for _ in range(20):
        clock.now += timedelta(minutes=1)
        if not await worker.run_once():
            return
    raise AssertionError("the jobs never finished")


async def assert_delivered_once(session: AsyncSession, vpp: VppDouble, delivery: Delivery) -> str:
    """Apple has one VPP user for Alice and one licence of each app for it; Quince agrees, and the
    device got one InstallApplication per app. Returns Alice's clientUserId."""
    session.expire_all()
    at_apple = [u for u in vpp.users if u.managed_apple_id == ALICE]
    assert [u.status for u in at_apple] == ["Associated"]
    client_user_id = at_apple[0].client_user_id
    stored = list(await session.scalars(select(VppUserRow)))
    assert [(u.client_user_id, u.status) for u in stored] == [(client_user_id, "Associated")]
    assert vpp.assigned_users(HUB) == vpp.assigned_users(WORD) == [client_user_id]
    licences = list(await session.scalars(select(VppLicenseRow)))
    assert sorted((lic.app_id, lic.status) for lic in licences) == sorted(
        (app_id, "Associated") for app_id in delivery.apps)
    statuses = {r.app_id: r.status for r in await session.scalars(select(DeviceAppRow))}
    assert statuses == dict.fromkeys(delivery.apps, "InstallQueued")
    installs = list(await session.scalars(select(CommandRow).where(
        CommandRow.device_id == delivery.device_id, CommandRow.request_type == "InstallApplication")))
    assert sorted(c.command["iTunesStoreID"] for c in installs) == sorted([int(HUB), int(WORD)])
    unfinished = list(await session.scalars(select(JobRow).where(
        JobRow.kind.like("vpp.%"), JobRow.status != jobs.DONE)))
    assert [(j.kind, j.status, j.last_error) for j in unfinished] == []
    assert vpp.invitations_requested == []
    return client_user_id


async def test_a_worker_dying_after_apple_registered_the_user_leaves_one_vpp_user(
    session: AsyncSession, vpp_server: VppDouble, delivery: Delivery,
) -> None:
    await run_until_it_dies(delivery, vpp_server, USERS_CREATE)
    await drain(delivery.worker("survivor"), delivery.clock)
    client_user_id = await assert_delivered_once(session, vpp_server, delivery)
    asked = {u["clientUserId"] for r in vpp_server.received(USERS_CREATE) for u in r.body["users"]}
    assert asked == {client_user_id}


async def test_a_registration_apple_finishes_after_it_was_asked_again_counts_as_done(
    session: AsyncSession, vpp_server: VppDouble, delivery: Delivery,
) -> None:
    """Apple answers the second users/create with 9716 (that clientUserId exists): it is the user
    Quince asked for the first time, not a failure."""
    vpp_server.event_polls = 1  # Apple works on each request until it is asked how it went
    await run_until_it_dies(delivery, vpp_server, USERS_CREATE)
    [first] = list(vpp_server.events)
    survivor = delivery.worker("survivor")
    delivery.clock.now += timedelta(minutes=1)
    assert await survivor.run_once() == 1  # not registered yet, as far as Apple says: ask again
    assert len(vpp_server.received(USERS_CREATE)) == 2
    async with VppClient(vpp_server.token_file_text, base_url=vpp_server.url) as apple:
        await apple.event_status(first)  # ... and Apple finishes the first registration now
    await drain(survivor, delivery.clock)
    assert apple_errors(vpp_server) == [9716]
    await assert_delivered_once(session, vpp_server, delivery)


async def test_a_worker_dying_after_apple_assigned_a_licence_leaves_one_licence(
    session: AsyncSession, vpp_server: VppDouble, delivery: Delivery,
) -> None:
    await run_until_it_dies(delivery, vpp_server, ASSOCIATE)
    await drain(delivery.worker("survivor"), delivery.clock)
    await assert_delivered_once(session, vpp_server, delivery)
    for asset in vpp_server.assets.values():
        assert vpp_server._assigned_count(asset.adam_id) == 1  # one licence used, not two


async def test_apple_answering_already_assigned_to_a_repeated_associate_counts_as_assigned(
    session: AsyncSession, vpp_server: VppDouble, delivery: Delivery,
) -> None:
    await run_until_it_dies(delivery, vpp_server, ASSOCIATE)
    vpp_server.fail_next_event(9616)  # "The licence is already assigned", to the same request
    await drain(delivery.worker("survivor"), delivery.clock)
    assert apple_errors(vpp_server) == [9616]
    await assert_delivered_once(session, vpp_server, delivery)


async def test_a_worker_dying_while_releasing_licences_releases_each_once_and_no_one_elses(
    session: AsyncSession, vpp_server: VppDouble, delivery: Delivery,
) -> None:
    await drain(delivery.worker("first"), delivery.clock)
    alice = await assert_delivered_once(session, vpp_server, delivery)
    vpp_server.assign(HUB, "someone-else")
    device = await session.get(DeviceRow, delivery.device_id)
    assert device is not None
    device.enrollment_status = EnrollmentStatus.UNENROLLED.value
    await app_delivery.on_unenrolled(session, device)
    await session.commit()

    await run_until_it_dies(delivery, vpp_server, DISASSOCIATE)
    await drain(delivery.worker("survivor"), delivery.clock)
    session.expire_all()
    assert [lic.status for lic in await session.scalars(select(VppLicenseRow))] == ["Released", "Released"]
    assert vpp_server.assigned_users(HUB) == ["someone-else"]
    assert vpp_server.assigned_users(WORD) == []
    released = [c for r in vpp_server.received(DISASSOCIATE) for c in r.body["clientUserIds"]]
    assert set(released) == {alice}
    assert [j.status for j in await session.scalars(select(JobRow).where(
        JobRow.kind == licensing.RELEASE_JOB))] == [jobs.DONE]
