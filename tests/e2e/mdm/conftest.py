"""Fixtures for the MDM channel end to end: an organization with User Enrollment on, its people,
and simulated iPhones (quince.simulator) that enroll against the live server over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.directory import og_settings, org_groups, users
from quince.services.scope import Scope
from quince.simulator import Credentials, SimulatedDevice
from tests.e2e.cli.conftest import Cli
from tests.fixtures.live_server import ApiClientFactory

MARIA = Credentials("maria@acme.example", "Maria-pass-1")
TOM = Credentials("tom@acme.example", "Tom-pass-123")


@dataclass(frozen=True)
class Tenant:
    acme: int
    maria: int
    tom: int


@pytest.fixture
async def tenant(session: AsyncSession, scope: Scope) -> Tenant:
    acme = await org_groups.create(session, scope, scope.og_id, name="Acme", group_id="acme",
                                   og_type="Customer")
    await og_settings.override(session, scope, acme.id, "user_enrollment_enabled", True)
    maria = await users.add(session, scope, username="maria", email=MARIA.email, og_id=acme.id,
                            password=MARIA.password, managed_apple_id="maria@appleid.acme.example")
    tom = await users.add(session, scope, username="tom", email=TOM.email, og_id=acme.id,
                          password=TOM.password, managed_apple_id="tom@appleid.acme.example")
    await session.commit()
    return Tenant(acme.id, maria.id, tom.id)


NewDevice = Callable[..., SimulatedDevice]


@pytest.fixture
async def new_device(live_server: str, tenant: Tenant) -> AsyncIterator[NewDevice]:
    """Make simulated iPhones for the live server (Maria's by default); closed after the test."""
    made: list[SimulatedDevice] = []

    def make(credentials: Credentials = MARIA, **options: Any) -> SimulatedDevice:
        device = SimulatedDevice(live_server, credentials, **options)
        made.append(device)
        return device

    yield make
    for device in made:
        await device.aclose()


@pytest.fixture
async def api(api_client: ApiClientFactory) -> httpx.AsyncClient:
    """An administrator of the whole install, over the REST API."""
    return await api_client()


async def find_by_udid(api: httpx.AsyncClient, udid: str) -> dict[str, Any]:
    found = await api.get("/API/mdm/devices", params={"searchby": "Udid", "id": udid})
    assert found.status_code == 200, found.text
    device: dict[str, Any] = found.json()
    return device


async def queue(api: httpx.AsyncClient, device_id: int, request_type: str, **keys: Any) -> httpx.Response:
    body = {"RequestType": request_type, **keys}
    return await api.post(f"/API/mdm/devices/{device_id}/commands", json=body)


async def history(api: httpx.AsyncClient, device_id: int) -> list[dict[str, Any]]:
    answer = await api.get(f"/API/mdm/devices/{device_id}/commands")
    assert answer.status_code == 200, answer.text
    commands: list[dict[str, Any]] = answer.json()["Commands"]
    return commands


@pytest.fixture
def cli() -> Cli:
    """The `quince` command in-process; `quince simulate` needs no database, only the server URL."""
    return Cli({"COLUMNS": "200"})
