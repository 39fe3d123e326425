"""/API/system/users: enrollment users over HTTP, including Workspace ONE's action-style aliases."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.services.access import passwords
from quince.services.directory import users
from quince.services.scope import Scope
from quince.store.models import DeviceRow, EnrollmentUserRow
from tests.fixtures.live_server import ApiClientFactory
from tests.integration.api.support import World, assert_error, snapshot

USERS = "/API/system/users"
USER_KEYS = {"Id", "Uuid", "UserName", "Email", "ManagedAppleId", "FirstName", "LastName", "Status",
             "LocationGroupId", "Group", "OrganizationGroupUuid", "SecurityType", "CreatedOn"}


async def stored(session: AsyncSession, user_id: int) -> EnrollmentUserRow:
    await session.rollback()  # a fresh transaction, so rows the server wrote are seen
    row = await session.scalar(select(EnrollmentUserRow).where(EnrollmentUserRow.id == user_id))
    assert row is not None
    return row


async def test_an_admin_adds_a_user_and_reads_it_back_without_any_password(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.acme)
    created = await client.post(f"{USERS}/adduser", json={
        "UserName": "dave", "Password": "dave-password-1", "Email": "dave@acme.example",
        "FirstName": "Dave", "LastName": "Dent", "LocationGroupId": world.eng})
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == USER_KEYS | {"Value"}
    assert body.pop("Value") == body["Id"]["Value"]  # what Workspace ONE answers a create with
    assert body["UserName"] == "dave"
    assert body["ManagedAppleId"] == "dave@acme.example"
    assert body["Status"] is True
    assert (body["LocationGroupId"], body["Group"]) == (world.eng, "Engineering")
    assert body["SecurityType"] == "Basic"
    row = await stored(session, body["Id"]["Value"])
    assert row.password_hash is not None and passwords.verify_password(row.password_hash, "dave-password-1")
    assert body["OrganizationGroupUuid"] != row.uuid
    fetched = await client.get(f"{USERS}/{body['Id']['Value']}")
    assert fetched.json() == body
    for text in (created.text, fetched.text):
        assert "dave-password-1" not in text and row.password_hash not in text
        assert "Password" not in text


async def test_adduser_takes_a_separate_managed_apple_id_and_an_inactive_status(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.eng)
    created = await client.post(f"{USERS}/adduser", json={
        "UserName": "erin", "Email": "erin@acme.example", "ManagedAppleId": "erin@appleid.acme.example",
        "Status": False, "LocationGroupId": world.eng_lab})
    assert created.status_code == 201, created.text
    assert created.json()["ManagedAppleId"] == "erin@appleid.acme.example"
    assert created.json()["Status"] is False


async def test_usernames_are_unique_ignoring_case(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme)
    before = await snapshot(engine)
    clash = await client.post(f"{USERS}/adduser", json={
        "UserName": "BOB", "Email": "bob2@acme.example", "LocationGroupId": world.sales})
    assert "already exists" in assert_error(clash, 409)["message"]
    rename = await client.put(f"{USERS}/{world.alice}", json={"UserName": "Carol"})
    assert_error(rename, 409)
    assert await snapshot(engine) == before


async def test_adduser_refuses_bad_fields_with_400(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme)
    before = await snapshot(engine)
    good = {"UserName": "frank", "Email": "frank@acme.example", "LocationGroupId": world.eng}
    for change, expected in (
        ({"LocationGroupId": None}, "LocationGroupId"),
        ({"Email": "frank"}, "not an email address"),
        ({"UserName": "frank smith"}, "spaces"),
        ({"UserName": "u" * 129}, "UserName"),
        ({"Password": "short"}, "at least 8"),
        ({"Password": "p" * 257}, "Password"),
        ({"FirstName": "f" * 101}, "FirstName"),
        ({"ManagedAppleId": "nope"}, "ManagedAppleId"),
        ({"Status": "sometimes"}, "Status"),
        ({"LocationGroupId": 0}, "LocationGroupId"),
        ({"Colour": "blue"}, "Colour"),
        ({"LastName": "nul\x00"}, "NUL"),
    ):
        payload = {k: v for k, v in {**good, **change}.items() if v is not None}
        body = assert_error(await client.post(f"{USERS}/adduser", json=payload), 400)
        assert expected in body["message"], (change, body["message"])
    assert await snapshot(engine) == before


async def test_admin_cannot_add_a_user_to_a_group_outside_their_subtree(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.sales)
    before = await snapshot(engine)
    refused = await client.post(f"{USERS}/adduser", json={
        "UserName": "mallory", "Email": "mallory@acme.example", "LocationGroupId": world.eng})
    assert_error(refused, 404)
    assert await snapshot(engine) == before


async def test_put_and_the_update_alias_change_only_the_given_fields(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.eng)
    put = await client.put(f"{USERS}/{world.bob}", json={"FirstName": "Robert", "Email": "rob@acme.example"})
    assert put.status_code == 200, put.text
    assert (put.json()["FirstName"], put.json()["LastName"]) == ("Robert", "Baker")
    # The managed Apple ID followed the email because it was the email before.
    assert put.json()["ManagedAppleId"] == "rob@acme.example"
    alias = await client.post(f"{USERS}/{world.bob}/update", json={"LastName": "Builder",
                                                                  "Password": "new-password-2"})
    assert alias.status_code == 200, alias.text
    assert (alias.json()["FirstName"], alias.json()["LastName"]) == ("Robert", "Builder")
    row = await stored(session, world.bob)
    assert passwords.verify_password(row.password_hash, "new-password-2")
    assert "new-password-2" not in alias.text


async def test_a_user_read_then_sent_back_whole_with_a_change_is_updated(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    # Read-modify-write, as Workspace ONE scripts do: the fields the server sets come back too.
    client = await api_client(og_id=world.eng)
    read = (await client.get(f"{USERS}/{world.bob}")).json()
    put = await client.put(f"{USERS}/{world.bob}", json={**read, "FirstName": "Robert"})
    assert put.status_code == 200, put.text
    assert put.json() == {**read, "FirstName": "Robert"}
    before = await snapshot(engine)
    other = await client.put(f"{USERS}/{world.bob}", json={**read, "Id": {"Value": world.carol}})
    assert "is not the record in the address" in assert_error(other, 422)["message"]
    wrong_uuid = await client.put(f"{USERS}/{world.bob}", json={**read, "Uuid": str(uuid.UUID(int=0))})
    assert "is not the record in the address" in assert_error(wrong_uuid, 422)["message"]
    not_a_uuid = await client.put(f"{USERS}/{world.bob}", json={**read, "Uuid": "0" * 36})
    assert "UUID" in assert_error(not_a_uuid, 400)["message"]
    assert await snapshot(engine) == before


async def test_a_user_moves_to_another_enrollment_group_in_scope_but_not_outside_it(
    api_client: ApiClientFactory, world: World, session: AsyncSession, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.eng)
    moved = await client.put(f"{USERS}/{world.carol}", json={"LocationGroupId": world.eng_lab})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["LocationGroupId"], moved.json()["Group"]) == (world.eng_lab, "Eng Lab")
    before = await snapshot(engine)
    for url in (f"{USERS}/{world.carol}", f"{USERS}/{world.carol}/update"):
        method = "PUT" if url.endswith(str(world.carol)) else "POST"
        refused = await client.request(method, url, json={"LocationGroupId": world.sales,
                                                          "FirstName": "Changed"})
        assert_error(refused, 404)
    assert await snapshot(engine) == before
    assert (await stored(session, world.carol)).first_name == "Carol"


async def test_deactivate_and_activate_switch_the_status(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.eng)
    off = await client.post(f"{USERS}/{world.bob}/deactivate")
    assert off.status_code == 200, off.text
    assert off.json()["Status"] is False
    assert (await stored(session, world.bob)).active is False
    on = await client.post(f"{USERS}/{world.bob}/activate")
    assert on.json()["Status"] is True
    assert (await stored(session, world.bob)).active is True


async def test_delete_and_the_delete_alias_remove_a_user(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.eng)
    first = await client.delete(f"{USERS}/{world.bob}")
    assert first.status_code == 204 and first.content == b""
    assert_error(await client.get(f"{USERS}/{world.bob}"), 404)
    second = await client.delete(f"{USERS}/{world.carol}/delete")
    assert second.status_code == 204
    assert_error(await client.delete(f"{USERS}/{world.carol}/delete"), 404)
    group = (await client.get(f"/API/system/usergroups/{world.eng_team}")).json()
    assert group["Members"] == 0


async def test_a_user_with_device_records_cannot_be_deleted(
    api_client: ApiClientFactory, world: World, session: AsyncSession, engine: AsyncEngine
) -> None:
    session.add(DeviceRow(og_id=world.eng, enrollment_user_id=world.bob, udid="enrollment-1",
                          enrollment_status="EnrollmentInProgress", ownership="E", is_user_enrolled=True))
    await session.commit()
    client = await api_client(og_id=world.eng)
    before = await snapshot(engine)
    body = assert_error(await client.delete(f"{USERS}/{world.bob}"), 409)
    assert "deactivate" in body["message"]
    assert await snapshot(engine) == before


async def test_admin_cannot_read_or_change_a_user_outside_their_subtree(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.sales)
    before = await snapshot(engine)
    assert_error(await client.get(f"{USERS}/{world.bob}"), 404)
    assert_error(await client.put(f"{USERS}/{world.bob}", json={"Status": False}), 404)
    assert_error(await client.post(f"{USERS}/{world.bob}/deactivate"), 404)
    assert_error(await client.delete(f"{USERS}/{world.bob}"), 404)
    assert_error(await client.get(f"{USERS}/search", params={"locationgroupid": world.eng}), 404)
    everyone = (await client.get(f"{USERS}/search")).json()
    assert [u["UserName"] for u in everyone["Users"]] == ["alice"]
    assert await snapshot(engine) == before


async def test_a_read_only_admin_can_search_but_not_change_users(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme, role="read-only")
    before = await snapshot(engine)
    assert (await client.get(f"{USERS}/search")).json()["Total"] == 3
    assert_error(await client.post(f"{USERS}/adduser", json={
        "UserName": "gina", "Email": "gina@acme.example", "LocationGroupId": world.eng}), 403)
    assert_error(await client.post(f"{USERS}/{world.bob}/activate"), 403)
    assert_error(await client.delete(f"{USERS}/{world.bob}/delete"), 403)
    assert await snapshot(engine) == before


async def test_user_search_filters_match_part_of_a_field_ignoring_case(
    api_client: ApiClientFactory, world: World, session: AsyncSession, scope: Scope
) -> None:
    await users.update(session, scope, world.carol, users.UserChanges(active=False))
    await session.commit()
    client = await api_client(og_id=world.acme)

    async def names(**params: object) -> list[str]:
        response = await client.get(f"{USERS}/search", params=params)
        assert response.status_code == 200, response.text
        return [u["UserName"] for u in response.json()["Users"]]

    assert await names(username="LIC") == ["alice"]
    assert await names(firstname="ro") == ["carol"]
    assert await names(lastname="BAK") == ["bob"]
    assert await names(email="@acme.EXAMPLE") == ["alice", "bob", "carol"]
    assert await names(locationgroupid=world.eng) == ["bob", "carol"]
    assert await names(status="true") == ["alice", "bob"]
    assert await names(status="false") == ["carol"]
    assert await names(username="100%_") == []
    assert await names(orderby="lastname", sortorder="DESC") == ["carol", "bob", "alice"]


async def test_user_search_pages_from_zero_with_a_correct_total(
    api_client: ApiClientFactory, world: World, session: AsyncSession, scope: Scope
) -> None:
    for n in range(8):
        await users.add(session, scope, username=f"temp{n}", email=f"temp{n}@acme.example", og_id=world.eng)
    await session.commit()
    client = await api_client(og_id=world.eng)
    seen: list[str] = []
    for page in range(4):
        body = (await client.get(f"{USERS}/search", params={"page": page, "pagesize": 3})).json()
        assert (body["Page"], body["PageSize"], body["Total"]) == (page, 3, 10)
        seen += [u["UserName"] for u in body["Users"]]
    assert seen == ["bob", "carol"] + [f"temp{n}" for n in range(8)]
    assert (await client.get(f"{USERS}/search", params={"page": 4, "pagesize": 3})).json()["Users"] == []


async def test_user_search_refuses_bad_parameters(api_client: ApiClientFactory, world: World) -> None:
    client = await api_client(og_id=world.acme)
    for params, expected in (
        ({"pagesize": 0}, "pagesize"), ({"page": -1}, "page"), ({"status": "maybe"}, "status"),
        ({"orderby": "shoesize"}, "orderby"), ({"sortorder": "sideways"}, "sortorder"),
        ({"locationgroupid": "eng"}, "locationgroupid"), ({"locationgroupid": 2**31}, "locationgroupid"),
        ({"username": "u" * 129}, "username"), ({"email": "a\x00b"}, "NUL"),
    ):
        body = assert_error(await client.get(f"{USERS}/search", params=params), 400)
        assert expected in body["message"], (params, body["message"])
