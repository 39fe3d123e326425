"""The compatibility suite: real Workspace ONE clients' requests (ws1_clients.yaml) replayed against
the live server, in an organization with users, user groups, a user-enrolled device and a purchased
app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.access import admins, oauth_clients
from quince.services.scope import Scope
from quince.store.models import DeviceRow, EnrollmentUserRow, OrgGroupRow
from tests.fixtures.database import database_url, engine, migrated_engine, scope, session
from tests.fixtures.live_server import live_server, live_settings
from tests.integration.api.support import build_world

# The shared fixtures this directory uses, re-exported so that pytest finds them here.
__all__ = ["database_url", "engine", "live_server", "live_settings", "migrated_engine", "scope", "session"]

ADMIN = "ws1-integration"
PASSWORD = "integration-pass-1"


@dataclass(frozen=True)
class Replay:
    """A client signed in as an administrator of Acme, and the values the requests' placeholders take."""

    client: httpx.AsyncClient
    values: dict[str, str]


@pytest.fixture
async def replay(live_server: str, session: AsyncSession, scope: Scope) -> AsyncIterator[Replay]:
    world = await build_world(session, scope)
    device = DeviceRow(og_id=world.eng, enrollment_user_id=world.carol, udid=f"EID-{world.carol}-carol",
                       enrollment_status="Enrolled", ownership="E", is_user_enrolled=True,
                       license_type_eligibility=2, model="iPhone16,2", model_name="iPhone",
                       product_name="iPhone16,2", os_version="18.1")
    session.add(device)
    # A record whose device has left (unenrolled): the kind a helpdesk deletes.
    old_device = DeviceRow(og_id=world.eng, enrollment_user_id=world.bob, udid=f"EID-{world.bob}-old",
                           enrollment_status="Unenrolled", ownership="E", is_user_enrolled=True,
                           license_type_eligibility=2)
    session.add(old_device)
    await admins.add_admin(session, scope, username=ADMIN, password=PASSWORD, og_id=world.acme,
                           role="administrator")
    _row, key = await admins.create_api_key(session, scope, og_id=world.acme)
    oauth_client, secret = await oauth_clients.create_client(session, scope, og_id=world.acme, name="scripts")
    await session.commit()
    client = httpx.AsyncClient(base_url=live_server, auth=(ADMIN, PASSWORD),
                               headers={"aw-tenant-code": key}, timeout=30)
    app = await client.post("/API/mam/apps/purchased", json={
        "ApplicationName": "Work Mail", "BundleId": "com.acme.mail", "AppStoreId": "284882215",
        "LocationGroupId": world.eng, "Purchased": 50, "Redeemed": 0})
    assert app.status_code == 201, app.text
    eng = await session.get(OrgGroupRow, world.eng)
    bob = await session.get(EnrollmentUserRow, world.bob)
    alice = await session.get(EnrollmentUserRow, world.alice)
    assert eng is not None and bob is not None and alice is not None
    values = {
        "root": world.root, "acme": world.acme, "sales": world.sales, "eng": world.eng,
        "eng_lab": world.eng_lab, "alice": world.alice, "bob": world.bob, "carol": world.carol,
        "sales_team": world.sales_team, "eng_team": world.eng_team, "device": device.id,
        "device_udid": device.udid, "device_uuid": device.uuid, "old_device": old_device.id,
        "old_device_udid": old_device.udid, "app": app.json()["Id"]["Value"],
        "app_uuid": app.json()["Uuid"], "eng_uuid": eng.uuid,
        "bob_uuid": bob.uuid, "alice_uuid": alice.uuid, "me": ADMIN,
        "client_id": oauth_client.client_id, "client_secret": secret,
    }
    yield Replay(client, {name: str(value) for name, value in values.items()})
    await client.aclose()
