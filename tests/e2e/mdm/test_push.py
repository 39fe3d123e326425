"""A queued command wakes the device: Quince pushes it through APNs (here the local APNs double,
reached with Quince's production client), and the simulated iPhone then connects and answers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from quince.clients import apns_certificate
from quince.clients.apns import ApnsClients
from quince.config import Settings
from quince.services import jobs
from quince.services.mdm import push
from quince.store.database import make_sessionmaker
from tests.e2e.mdm.conftest import NewDevice, find_by_udid, queue
from tests.support_apns import ApnsDouble


@pytest.fixture
def push_certificate(live_settings: Settings, apns_server: ApnsDouble) -> Iterator[str]:
    """The double's push certificate installed in the live server's var/ (what `quince apns
    set-cert` does); removed afterwards, as the live server outlives this test."""
    installed = apns_certificate.install(live_settings.apns_dir, apns_server.identity_file.read_bytes())
    try:
        yield installed.topic
    finally:
        installed.path.unlink(missing_ok=True)


async def test_a_queued_command_pushes_the_device_which_then_connects_and_answers(
    new_device: NewDevice, api: httpx.AsyncClient, live_settings: Settings, migrated_engine: AsyncEngine,
    apns_server: ApnsDouble, push_certificate: str,
) -> None:
    iphone = new_device()
    enrollment = await iphone.enroll()
    assert enrollment.topic == push_certificate  # profiles carry the installed certificate's topic
    assert enrollment.enrollment_id is not None
    device_id = (await find_by_udid(api, enrollment.enrollment_id))["Id"]["Value"]

    for request_type in ("DeviceInformation", "ProfileList"):
        assert (await queue(api, device_id, request_type)).status_code == 201
    # The server's job worker, pointed at the local APNs (the live server runs none: workers=0).
    settings = live_settings.model_copy(
        update={"apns_url": apns_server.url, "apns_ca_file": apns_server.ca_file}
    )
    apns = ApnsClients(settings)
    try:
        runner = jobs.JobRunner(make_sessionmaker(migrated_engine), push.handlers(apns), "e2e-worker")
        await runner.run_once()
    finally:
        await apns.aclose()

    (pushed,) = apns_server.delivered  # two commands, one push
    assert pushed.token == iphone.push_token.hex()
    assert pushed.payload == {"mdm": iphone.push_magic}
    assert pushed.topic == push_certificate
    assert pushed.headers["apns-push-type"] == "mdm"

    woken = await iphone.connect()
    assert woken.commands == ["DeviceInformation", "ProfileList"]
    assert woken.statuses == ["Acknowledged", "Acknowledged"]
