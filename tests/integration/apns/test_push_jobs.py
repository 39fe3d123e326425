"""Pushing devices through durable jobs: one push per device however many commands are queued,
what each APNs answer does to the device and the job, and the workers the server runs."""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.clients import apns_certificate
from quince.clients.apns import ApnsClients
from quince.config import Settings
from quince.services import jobs
from quince.services.mdm import push
from quince.services.scope import Scope
from quince.store.database import make_sessionmaker
from quince.store.models import DeviceRow, JobRow
from quince.web.app import create_app
from tests.support_apns import ApnsDouble, Reply


class Clock:
    """Starts a little ahead of the wall clock, so jobs the test enqueues are already due."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(minutes=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def settings(apns_server: ApnsDouble, tmp_path: Path, database_url: str) -> Settings:
    return Settings(var_dir=tmp_path / "var", database_url=database_url, apns_url=apns_server.url,
                    apns_ca_file=apns_server.ca_file, workers=1)


@pytest.fixture
def installed(settings: Settings, apns_server: ApnsDouble) -> apns_certificate.PushCertificate:
    return apns_certificate.install(settings.apns_dir, apns_server.identity_file.read_bytes())


@pytest.fixture
async def worker(engine: AsyncEngine, settings: Settings) -> AsyncIterator[tuple[jobs.JobRunner, Clock]]:
    """A job runner with the production push handler, on a clock the test moves."""
    clock = Clock()
    apns = ApnsClients(settings)
    yield jobs.JobRunner(make_sessionmaker(engine), push.handlers(apns), "test-worker", clock=clock), clock
    await apns.aclose()


async def add_device(session: AsyncSession, scope: Scope, topic: str | None, **fields: object) -> DeviceRow:
    values: dict[str, object] = {
        "og_id": scope.og_id, "udid": f"enrollment-{uuid.uuid4()}", "enrollment_status": "Enrolled",
        "ownership": "E", "is_user_enrolled": True, "topic": topic,
        "push_token": secrets.token_hex(32), "push_magic": str(uuid.uuid4()).upper(),
    }
    values.update(fields)
    device = DeviceRow(**values)
    session.add(device)
    await session.commit()
    return device


async def job_of(engine: AsyncEngine, device: DeviceRow) -> JobRow:
    async with make_sessionmaker(engine)() as db:
        rows = (await db.scalars(select(JobRow).where(JobRow.dedupe_key == f"device:{device.id}")
                                 .order_by(JobRow.id))).all()
        return rows[-1]


async def device_state(engine: AsyncEngine, device: DeviceRow) -> str | None:
    async with make_sessionmaker(engine)() as db:
        row = await db.get(DeviceRow, device.id)
        assert row is not None
        return row.push_state


@pytest.mark.usefixtures("installed")
async def test_commands_queued_together_make_one_push(
    session: AsyncSession, scope: Scope, engine: AsyncEngine, apns_server: ApnsDouble,
    worker: tuple[jobs.JobRunner, Clock],
) -> None:
    device = await add_device(session, scope, apns_server.topic)
    for _ in range(3):  # three commands queued for the device
        await push.request_push(session, device.id)
    await session.commit()

    runner, _clock = worker
    assert await runner.run_once() == 1
    [received] = apns_server.received()
    assert received.token == device.push_token
    assert received.payload == {"mdm": device.push_magic}
    assert received.topic == apns_server.topic
    assert (await job_of(engine, device)).status == "done"
    assert await device_state(engine, device) == "ok"


async def test_a_push_requested_in_a_transaction_that_rolls_back_is_never_sent(
    session: AsyncSession, scope: Scope, apns_server: ApnsDouble, worker: tuple[jobs.JobRunner, Clock],
) -> None:
    device = await add_device(session, scope, apns_server.topic)
    await push.request_push(session, device.id)
    await session.rollback()
    assert await worker[0].run_once() == 0
    assert apns_server.received() == []


@pytest.mark.usefixtures("installed")
async def test_unregistered_marks_the_device_and_is_not_retried(
    session: AsyncSession, scope: Scope, engine: AsyncEngine, apns_server: ApnsDouble,
    worker: tuple[jobs.JobRunner, Clock],
) -> None:
    device = await add_device(session, scope, apns_server.topic)
    apns_server.reply(Reply(410, "Unregistered"), token=str(device.push_token))
    await push.request_push(session, device.id)
    await session.commit()
    runner, clock = worker

    await runner.run_once()
    job = await job_of(engine, device)
    assert (job.status, job.attempts) == ("done", 1)
    assert await device_state(engine, device) == "invalid_token"

    # Later commands do not push a token APNs called dead (a TokenUpdate brings a new one).
    await push.request_push(session, device.id)
    await session.commit()
    clock.advance(3600)
    assert await runner.run_once() == 1
    assert len(apns_server.received()) == 1


@pytest.mark.usefixtures("installed")
async def test_bad_device_token_marks_the_device(
    session: AsyncSession, scope: Scope, engine: AsyncEngine, apns_server: ApnsDouble,
    worker: tuple[jobs.JobRunner, Clock],
) -> None:
    device = await add_device(session, scope, apns_server.topic)
    apns_server.reply(Reply(400, "BadDeviceToken"), token=str(device.push_token))
    await push.request_push(session, device.id)
    await session.commit()
    await worker[0].run_once()
    assert await device_state(engine, device) == "invalid_token"
    assert (await job_of(engine, device)).status == "done"


@pytest.mark.usefixtures("installed")
async def test_too_many_requests_waits_as_long_as_apns_asks(
    session: AsyncSession, scope: Scope, engine: AsyncEngine, apns_server: ApnsDouble,
    worker: tuple[jobs.JobRunner, Clock],
) -> None:
    device = await add_device(session, scope, apns_server.topic)
    apns_server.reply(Reply(429, "TooManyRequests", retry_after="120"))
    await push.request_push(session, device.id)
    await session.commit()
    runner, clock = worker
    start = clock.now

    await runner.run_once()
    job = await job_of(engine, device)
    assert (job.status, job.attempts) == ("waiting", 1)
    assert "429 TooManyRequests" in (job.last_error or "")
    assert jobs.aware(job.run_after) == start + timedelta(seconds=120)

    clock.advance(119)
    assert await runner.run_once() == 0
    clock.advance(1)
    assert await runner.run_once() == 1
    assert [p.status for p in apns_server.received()] == [429, 200]
    assert (await job_of(engine, device)).status == "done"
    assert await device_state(engine, device) == "ok"


@pytest.mark.usefixtures("installed")
async def test_a_server_error_is_retried_with_backoff(
    session: AsyncSession, scope: Scope, engine: AsyncEngine, apns_server: ApnsDouble,
    worker: tuple[jobs.JobRunner, Clock],
) -> None:
    device = await add_device(session, scope, apns_server.topic)
    apns_server.reply(Reply(500, "InternalServerError"))
    await push.request_push(session, device.id)
    await session.commit()
    runner, clock = worker
    start = clock.now

    await runner.run_once()
    job = await job_of(engine, device)
    assert job.status == "waiting"
    assert 5 <= (jobs.aware(job.run_after) - start).total_seconds() <= 10
    clock.advance(10)
    await runner.run_once()
    assert [p.status for p in apns_server.received()] == [500, 200]
    assert (await job_of(engine, device)).status == "done"


@pytest.mark.usefixtures("installed")
async def test_certificate_trouble_is_retried_loudly_then_given_up(
    session: AsyncSession, scope: Scope, engine: AsyncEngine, apns_server: ApnsDouble,
    worker: tuple[jobs.JobRunner, Clock], caplog: pytest.LogCaptureFixture,
) -> None:
    device = await add_device(session, scope, apns_server.topic)
    apns_server.reply(*[Reply(403, "BadCertificate")] * 3)
    await jobs.enqueue(session, push.PUSH_JOB, {"device_id": device.id}, dedupe_key=f"device:{device.id}",
                       max_attempts=3)
    await session.commit()
    runner, clock = worker

    with caplog.at_level(logging.WARNING, logger="quince.jobs"):
        for _ in range(3):
            await runner.run_once()
            clock.advance(3600)
    job = await job_of(engine, device)
    assert (job.status, job.attempts) == ("failed", 3)
    assert "403 BadCertificate" in (job.last_error or "")
    assert "quince apns show" in (job.last_error or "")
    job_errors = [r.getMessage() for r in caplog.records
                  if r.name == "quince.jobs" and r.levelno == logging.ERROR]
    assert len(job_errors) == 3  # two retries, each alarming, then the give-up
    assert "gave up after 3 attempt(s)" in job_errors[-1]


async def test_without_a_push_certificate_the_job_waits_with_a_clear_error(
    session: AsyncSession, scope: Scope, engine: AsyncEngine, apns_server: ApnsDouble,
    worker: tuple[jobs.JobRunner, Clock], settings: Settings,
) -> None:
    device = await add_device(session, scope, apns_server.topic)
    await push.request_push(session, device.id)
    await session.commit()
    runner, clock = worker

    for _ in range(3):
        await runner.run_once()
        clock.advance(push.NO_CERTIFICATE_RECHECK)
    job = await job_of(engine, device)
    assert (job.status, job.attempts) == ("waiting", 0)  # waiting costs no attempts
    assert "quince apns set-cert" in (job.last_error or "")
    assert apns_server.received() == []

    apns_certificate.install(settings.apns_dir, apns_server.identity_file.read_bytes())
    assert await runner.run_once() == 1
    assert len(apns_server.delivered) == 1
    assert (await job_of(engine, device)).status == "done"


async def test_an_expired_push_certificate_is_not_used(
    session: AsyncSession, scope: Scope, engine: AsyncEngine, apns_server: ApnsDouble,
    worker: tuple[jobs.JobRunner, Clock], settings: Settings,
) -> None:
    now = datetime.now(UTC)
    expired = apns_server.apple_ca.issue_push_certificate(
        apns_server.topic, not_before=now - timedelta(days=366), not_after=now - timedelta(days=1))
    apns_certificate.install(settings.apns_dir, expired.identity_pem, now=now - timedelta(days=2))
    device = await add_device(session, scope, apns_server.topic)
    await push.request_push(session, device.id)
    await session.commit()

    await worker[0].run_once()
    job = await job_of(engine, device)
    assert job.status == "waiting"
    assert "expired" in (job.last_error or "")
    assert apns_server.received() == []


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize("fields", [
    {"push_token": None}, {"push_magic": None}, {"enrollment_status": "Unenrolled"},
    {"push_state": "invalid_token"},
], ids=["no-token", "no-push-magic", "unenrolled", "invalid-token"])
async def test_devices_that_cannot_be_pushed_are_skipped(
    session: AsyncSession, scope: Scope, engine: AsyncEngine, apns_server: ApnsDouble,
    worker: tuple[jobs.JobRunner, Clock], fields: dict[str, object],
) -> None:
    device = await add_device(session, scope, apns_server.topic, **fields)
    await push.request_push(session, device.id)
    await session.commit()
    await worker[0].run_once()
    assert (await job_of(engine, device)).status == "done"
    assert apns_server.received() == []


@pytest.mark.usefixtures("installed")
async def test_a_device_enrolled_on_another_topic_fails_without_a_push(
    session: AsyncSession, scope: Scope, engine: AsyncEngine, apns_server: ApnsDouble,
    worker: tuple[jobs.JobRunner, Clock],
) -> None:
    device = await add_device(session, scope, "com.apple.mgmt.External.old-certificate")
    await push.request_push(session, device.id)
    await session.commit()
    await worker[0].run_once()
    job = await job_of(engine, device)
    assert job.status == "failed"
    assert "must enroll again" in (job.last_error or "")
    assert apns_server.received() == []


@pytest.mark.usefixtures("installed")
async def test_the_server_runs_the_workers_that_send_pushes(
    session: AsyncSession, scope: Scope, engine: AsyncEngine, apns_server: ApnsDouble, settings: Settings,
) -> None:
    app = create_app(settings, engine=engine)
    async with app.router.lifespan_context(app):
        device = await add_device(session, scope, apns_server.topic)
        await push.request_push(session, device.id)
        await session.commit()
        for _ in range(100):
            if apns_server.delivered:
                break
            await asyncio.sleep(0.1)
    assert [p.token for p in apns_server.delivered] == [device.push_token]
    assert (await job_of(engine, device)).status == "done"


async def test_no_workers_run_when_quince_workers_is_zero(
    session: AsyncSession, scope: Scope, engine: AsyncEngine, apns_server: ApnsDouble, settings: Settings,
) -> None:
    apns_certificate.install(settings.apns_dir, apns_server.identity_file.read_bytes())
    app = create_app(settings.model_copy(update={"workers": 0}), engine=engine)
    async with app.router.lifespan_context(app):
        device = await add_device(session, scope, apns_server.topic)
        await push.request_push(session, device.id)
        await session.commit()
        await asyncio.sleep(1.5)
    assert apns_server.received() == []
    assert (await job_of(engine, device)).status == "waiting"
