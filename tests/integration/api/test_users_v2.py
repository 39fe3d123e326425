"""/API/system/users/{uuid}: Workspace ONE v2's user paths, read, changed and deleted by Uuid in
v2's camelCase, scoped like every user route."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quince.store.models import EnrollmentUserRow, OrgGroupRow
from tests.fixtures.live_server import ApiClientFactory
from tests.integration.api.support import World, assert_error

U = "/API/system/users"
V2 = {"Accept": "application/json;version=2"}


async def _uuid(session: AsyncSession, user_id: int) -> str:
    row = await session.get(EnrollmentUserRow, user_id)
    assert row is not None
    return row.uuid


async def test_a_user_is_read_changed_and_deleted_by_uuid_in_v2_names(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.acme)
    alice = await _uuid(session, world.alice)
    read = await client.get(f"/api/system/users/{alice.upper()}", headers=V2)
    assert read.status_code == 200, read.text
    body = read.json()
    assert (body["uuid"], body["userName"], body["emailAddress"], body["status"]) == (
        alice, "alice", "alice@acme.example", True)
    assert "password" not in read.text.lower()
    eng = await session.get(OrgGroupRow, world.eng)
    assert eng is not None
    changed = await client.put(f"{U}/{alice}", headers=V2, json={
        "firstName": "Alicia", "emailAddress": "alicia@acme.example", "displayName": "Alicia A",
        "enrollmentOrganizationGroupUuid": eng.uuid, "status": "false"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["firstName"], changed.json()["enrollmentOrganizationGroupUuid"],
            changed.json()["status"]) == ("Alicia", eng.uuid, False)
    assert (await client.delete(f"{U}/{alice}", headers=V2)).status_code == 204
    assert_error(await client.get(f"{U}/{alice}", headers=V2), 404)


async def test_a_uuid_outside_the_callers_subtree_is_not_found_and_a_non_uuid_is_no_endpoint(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.sales)
    bob = await _uuid(session, world.bob)
    assert_error(await client.get(f"{U}/{bob}", headers=V2), 404)
    assert_error(await client.delete(f"{U}/{bob}", headers=V2), 404)
    body = assert_error(await client.get(f"{U}/not-a-uuid", headers=V2), 404)
    assert body["message"].startswith("No such endpoint")
    refused = assert_error(await client.put(f"{U}/{bob}", headers=V2, json={"colour": "blue"}), 400)
    assert "colour" in refused["message"]
