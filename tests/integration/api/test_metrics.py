"""/metrics for Prometheus: requests by face, method and status with durations, devices by
enrollment status and jobs by kind and status read at each scrape; only for allowed addresses."""

from __future__ import annotations

import re

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from quince.config import Settings
from quince.services import jobs
from quince.services.scope import Scope
from quince.store.models import DeviceRow
from quince.web.faces import face_of
from quince.web.metrics import allowed, parse_networks
from tests.fixtures.live_server import free_port, serving


def _sample(text: str, name: str) -> float:
    """The value of the one sample line that starts with `name` (labels included)."""
    [line] = [line for line in text.splitlines() if line.startswith(name + " ")]
    return float(line.rsplit(" ", 1)[1])


async def test_metrics_count_requests_by_face_and_read_devices_and_jobs(
    live_server: str, session: AsyncSession, scope: Scope
) -> None:
    for status in ("Enrolled", "Enrolled", "EnrollmentInProgress"):
        session.add(DeviceRow(og_id=scope.og_id, enrollment_status=status, ownership="E"))
    await jobs.enqueue(session, "apns.push", {"device_id": 1}, dedupe_key="device:1")
    await session.commit()
    async with httpx.AsyncClient(base_url=live_server) as client:
        await client.get("/API/system/groups/search")  # 401: no credentials
        await client.get("/console/sign-in")
        answer = await client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert _sample(text, 'quince_http_requests_total{face="api",method="GET",status="401"}') >= 1
    assert _sample(text, 'quince_http_requests_total{face="console",method="GET",status="200"}') >= 1
    assert _sample(text, 'quince_http_request_duration_seconds_count{face="console"}') >= 1
    assert _sample(text, 'quince_devices{status="Enrolled"}') == 2
    assert _sample(text, 'quince_devices{status="EnrollmentInProgress"}') == 1
    assert _sample(text, 'quince_jobs{kind="apns.push",status="waiting"}') == 1
    assert "password" not in text.lower() and "token" not in text.lower()


def test_metrics_are_off_for_addresses_not_allowed(live_settings: Settings) -> None:
    settings = live_settings.model_copy(update={
        "metrics_allowed": "10.0.0.0/8", "public_url": f"http://127.0.0.1:{free_port()}"})
    with serving(settings) as url:
        assert httpx.get(f"{url}/metrics").status_code == 404
    settings = live_settings.model_copy(update={
        "metrics_allowed": "", "public_url": f"http://127.0.0.1:{free_port()}"})
    with serving(settings) as url:
        assert httpx.get(f"{url}/metrics").status_code == 404


def test_a_bad_network_in_the_setting_is_refused_with_its_name() -> None:
    with pytest.raises(ValidationError, match=re.escape("'10.0.0.300' is not an address or network")):
        Settings(metrics_allowed="127.0.0.1/32, 10.0.0.300")


def test_faces_and_networks() -> None:
    assert [face_of(p) for p in ("/API/mdm/devices", "/console/", "/DeviceServices/mdm/server",
                                 "/.well-known/com.apple.remotemanagement", "/DeviceManagement/Enrollment",
                                 "/metrics", "/nope")] == [
        "api", "console", "device_services", "device_services", "device_management", "metrics", "other"]
    networks = parse_networks("127.0.0.1/32, ::1/128,192.168.0.0/16")
    assert allowed("192.168.4.2", networks) and allowed("::1", networks)
    assert not allowed("10.0.0.1", networks) and not allowed(None, networks) and not allowed("x", networks)
