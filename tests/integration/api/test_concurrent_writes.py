"""Requests racing to change the same object at the same moment, over HTTP on a real server: every
answer is a success or a 409 (a 404 only for an object another request removed first), never a
500, and what is stored afterwards is what one order of the requests would have left."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.mdm import push
from quince.store.models import (
    AppAssignmentRow,
    CommandRow,
    DeviceRow,
    EnrollmentUserRow,
    JobRow,
    OGSettingRow,
    UserGroupMappingRow,
    UserGroupMemberRow,
)
from tests.fixtures.live_server import ApiClientFactory
from tests.integration.api.support import World, assert_error

GROUPS = "/API/system/groups"
USERS = "/API/system/users"
UG = "/API/system/usergroups"
A = "/API/mam/apps"
RACERS = 12


async def race(*requests: Awaitable[httpx.Response]) -> list[httpx.Response]:
    """Send the requests at once; none of them may fail with a server error."""
    responses = list(await asyncio.gather(*requests))
    for response in responses:
        assert response.status_code < 500, response.text
    return responses


def statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def only(responses: list[httpx.Response], allowed: set[int]) -> None:
    assert set(statuses(responses)) <= allowed, [(r.status_code, r.text) for r in responses]
    for response in responses:
        if response.status_code >= 400:
            assert_error(response, response.status_code)


async def count(session: AsyncSession, stmt: Any) -> int:
    await session.rollback()  # a fresh transaction sees what the server committed
    return int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


# --- organization group settings ----------------------------------------------------------------


async def test_concurrent_changes_of_one_setting_all_succeed_and_leave_one_of_the_values(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.acme)
    url = f"{GROUPS}/{world.eng}/settings/default_ownership"
    bodies: list[dict[str, Any]] = [
        {"CurrentSetting": "Inherit"} if n % 4 == 0
        else {"CurrentSetting": "Override", "Value": "CES"[n % 3]}
        for n in range(RACERS)
    ]
    responses = await race(*(client.put(url, json=body) for body in bodies))

    assert statuses(responses) == {200: RACERS}
    for body, response in zip(bodies, responses, strict=True):
        # Each answer shows the state its own change left.
        assert response.json()["CurrentSetting"] == body["CurrentSetting"]
        if body["CurrentSetting"] == "Override":
            assert response.json()["Value"] == body["Value"]
    final = (await client.get(url)).json()
    assert final["CurrentSetting"] in {"Inherit", "Override"}
    assert final["Value"] in {"C", "E", "S"}
    stored = await count(session, select(OGSettingRow).where(
        OGSettingRow.og_id == world.eng, OGSettingRow.key == "default_ownership"))
    assert stored == (1 if final["CurrentSetting"] == "Override" else 0)


async def test_concurrent_child_permission_changes_keep_every_child_bound_by_the_final_one(
    api_client: ApiClientFactory, world: World
) -> None:
    """OverrideOnly gives each inheriting child its own copy; racing changes of the permission and
    value at the parent still leave every child of an OverrideOnly parent holding a value."""
    client = await api_client(og_id=world.acme)
    url = f"{GROUPS}/{world.acme}/settings/default_ownership"
    bodies = [{"CurrentSetting": "Override", "Value": "CES"[n % 3],
               "ChildPermission": "OverrideOnly" if n % 2 else "InheritOrOverride"}
              for n in range(RACERS)]
    responses = await race(*(client.put(url, json=body) for body in bodies))

    assert statuses(responses) == {200: RACERS}
    final = (await client.get(url)).json()
    assert (final["Value"], final["ChildPermission"]) in {
        (b["Value"], b["ChildPermission"]) for b in bodies}
    if final["ChildPermission"] == "OverrideOnly":
        for child in (world.sales, world.eng):
            below = (await client.get(f"{GROUPS}/{child}/settings/default_ownership")).json()
            assert below["CurrentSetting"] == "Override"


# --- organization groups ------------------------------------------------------------------------


async def test_two_empty_groups_moved_under_each_other_at_once_never_make_a_loop(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    pairs = []
    for n in range(4):
        ids = []
        for side in "ab":
            made = await client.post(f"{GROUPS}/{world.eng}", json={"Name": f"Loop {n}{side}",
                                                                   "GroupId": f"loop-{n}{side}"})
            assert made.status_code == 201, made.text
            ids.append(made.json()["Id"]["Value"])
        pairs.append(ids)

    responses = await race(*(
        client.put(f"{GROUPS}/{one}", json={"ParentId": other})
        for a, b in pairs for one, other in ((a, b), (b, a))
    ))

    only(responses, {200, 409})
    for (a, b), (to_b, to_a) in zip(pairs, zip(responses[::2], responses[1::2], strict=True), strict=True):
        # One move wins; the other finds its group no longer empty (it now holds the winner).
        assert sorted([to_b.status_code, to_a.status_code]) == [200, 409], (to_b.text, to_a.text)
        parents = {og: (await client.get(f"{GROUPS}/{og}")).json()["ParentLocationGroup"]["Id"]["Value"]
                   for og in (a, b)}
        assert parents in ({a: b, b: world.eng}, {a: world.eng, b: a}), parents


async def test_deleting_one_group_twice_at_once_deletes_it_once(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    made = await client.post(f"{GROUPS}/{world.eng}", json={"Name": "Short lived", "GroupId": "short"})
    og_id = made.json()["Id"]["Value"]

    responses = await race(*(client.delete(f"{GROUPS}/{og_id}") for _ in range(RACERS)))

    only(responses, {204, 404})
    assert statuses(responses)[204] >= 1
    assert_error(await client.get(f"{GROUPS}/{og_id}"), 404)


# --- users --------------------------------------------------------------------------------------


async def test_adding_one_username_at_once_creates_one_user_and_refuses_the_rest(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.acme)
    responses = await race(*(
        client.post(f"{USERS}/adduser", json={"UserName": "dave" if n % 2 else "DAVE",
                                              "Email": f"dave{n}@acme.example", "LocationGroupId": world.eng})
        for n in range(RACERS)
    ))

    only(responses, {201, 409})
    assert statuses(responses)[201] == 1
    dave = select(EnrollmentUserRow).where(EnrollmentUserRow.username_key == "dave")
    assert await count(session, dave) == 1


async def test_changing_and_deleting_one_user_at_once_answers_each_request_without_a_server_error(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.acme)
    ids = []
    for n in range(6):
        made = await client.post(f"{USERS}/adduser", json={"UserName": f"temp{n}",
                                                           "Email": f"temp{n}@acme.example",
                                                           "LocationGroupId": world.eng})
        ids.append(made.json()["Id"]["Value"])

    responses = await race(*(
        request for user_id in ids for request in (
            client.put(f"{USERS}/{user_id}", json={"FirstName": "Changed"}),
            client.put(f"{USERS}/{user_id}", json={"LastName": "Twice"}),
            client.delete(f"{USERS}/{user_id}"),
        )
    ))

    # A change that lands after the delete is a 404 (it found nothing) or a 409 (the user went
    # away under it); a delete after a change deletes the changed user.
    only(responses, {200, 204, 404, 409})
    for n, user_id in enumerate(ids):
        first, second, deleted = responses[3 * n:3 * n + 3]
        assert deleted.status_code == 204, deleted.text
        assert_error(await client.get(f"{USERS}/{user_id}"), 404)
        assert {first.status_code, second.status_code} <= {200, 404, 409}
    assert await count(session, select(EnrollmentUserRow).where(EnrollmentUserRow.id.in_(ids))) == 0


# --- user groups: members and mappings ----------------------------------------------------------


async def test_adding_one_member_at_once_is_reported_by_every_request_and_stored_once(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    """The API says adding a member again changes nothing: racing adds are no different."""
    client = await api_client(og_id=world.acme)
    responses = await race(*(client.post(f"{UG}/{world.eng_team}/users/{world.carol}")
                             for _ in range(RACERS)))

    assert statuses(responses) == {200: RACERS}, [r.text for r in responses]
    assert all(r.json()["Id"]["Value"] == world.eng_team for r in responses)
    assert await count(session, select(UserGroupMemberRow).where(
        UserGroupMemberRow.user_group_id == world.eng_team, UserGroupMemberRow.user_id == world.carol)) == 1


async def test_removing_one_member_at_once_removes_it_once_and_finds_nothing_after(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.acme)
    responses = await race(*(client.delete(f"{UG}/{world.eng_team}/users/{world.bob}")
                             for _ in range(RACERS)))

    only(responses, {204, 404})
    assert statuses(responses)[204] == 1
    assert await count(session, select(UserGroupMemberRow).where(
        UserGroupMemberRow.user_group_id == world.eng_team, UserGroupMemberRow.user_id == world.bob)) == 0


async def test_adding_and_removing_one_member_at_once_ends_in_or_out_never_in_error(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.acme)
    member = f"{UG}/{world.eng_team}/users/{world.carol}"
    responses = await race(*(client.post(member) if n % 2 else client.delete(member)
                             for n in range(RACERS)))

    only(responses, {200, 204, 404})
    listed = (await client.get(f"{UG}/{world.eng_team}/users")).json()
    stored = await count(session, select(UserGroupMemberRow).where(
        UserGroupMemberRow.user_group_id == world.eng_team, UserGroupMemberRow.user_id == world.carol))
    assert stored in (0, 1)
    assert ("carol" in {u["UserName"] for u in listed["Users"]}) == (stored == 1)


async def test_creating_one_user_group_name_at_once_creates_one_group(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    responses = await race(*(
        client.post(UG, json={"Name": "Night Shift" if n % 2 else "NIGHT SHIFT",
                              "LocationGroupId": world.eng})
        for n in range(RACERS)
    ))

    only(responses, {201, 409})
    assert statuses(responses)[201] == 1
    found = (await client.get(f"{UG}/search", params={"name": "night"})).json()
    assert found["Total"] == 1


async def test_adding_one_mapping_at_once_maps_once_and_refuses_the_rest_as_already_mapped(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.acme)
    responses = await race(*(
        client.post(f"{UG}/{world.eng_team}/mappings", json={"LocationGroupId": world.eng_lab, "Rank": n + 1})
        for n in range(RACERS)
    ))

    only(responses, {201, 409})
    assert statuses(responses)[201] == 1
    for refused in (r for r in responses if r.status_code == 409):
        assert "already mapped" in refused.json()["message"]
    assert await count(session, select(UserGroupMappingRow).where(
        UserGroupMappingRow.user_group_id == world.eng_team, UserGroupMappingRow.og_id == world.eng_lab)) == 1


async def test_reranking_and_removing_one_mapping_at_once_answers_without_a_server_error(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.acme)
    url = f"{UG}/{world.eng_team}/mappings/{world.eng_mapping}"
    responses = await race(*(client.put(url, json={"Rank": n + 2}) for n in range(RACERS - 1)),
                           client.delete(url))

    only(responses, {200, 204, 404, 409})
    assert responses[-1].status_code == 204
    assert await count(session, select(UserGroupMappingRow).where(
        UserGroupMappingRow.id == world.eng_mapping)) == 0


# --- apps and assignments -----------------------------------------------------------------------


def purchased(og_id: int) -> dict[str, Any]:
    return {"ApplicationName": "Work Mail", "BundleId": "com.acme.mail", "AppStoreId": "284882215",
            "LocationGroupId": og_id, "Purchased": 50, "Redeemed": 3}


async def test_adding_one_app_to_a_catalog_at_once_adds_it_once(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    responses = await race(*(client.post(f"{A}/purchased", json=purchased(world.acme))
                             for _ in range(RACERS)))

    only(responses, {201, 409})
    assert statuses(responses)[201] == 1
    found = (await client.get(f"{A}/search", params={"bundleid": "com.acme.mail"})).json()
    assert found["Total"] == 1


async def test_assigning_one_app_to_one_target_at_once_assigns_it_once(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.acme)
    app_id = (await client.post(f"{A}/purchased", json=purchased(world.acme))).json()["Id"]["Value"]
    responses = await race(*(client.post(f"{A}/{app_id}/assignments", json={"LocationGroupId": world.eng})
                             for _ in range(RACERS)))

    only(responses, {201, 409})
    assert statuses(responses)[201] == 1
    for refused in (r for r in responses if r.status_code == 409):
        assert "already assigned" in refused.json()["message"]
    assert await count(session, select(AppAssignmentRow).where(AppAssignmentRow.app_id == app_id)) == 1


async def test_removing_one_assignment_at_once_removes_it_once(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.acme)
    app_id = (await client.post(f"{A}/purchased", json=purchased(world.acme))).json()["Id"]["Value"]
    made = await client.post(f"{A}/{app_id}/assignments", json={"LocationGroupId": world.eng})
    url = f"{A}/{app_id}/assignments/{made.json()['Id']['Value']}"
    responses = await race(*(client.delete(url) for _ in range(RACERS)))

    only(responses, {204, 404})
    assert statuses(responses)[204] >= 1
    assert await count(session, select(AppAssignmentRow).where(AppAssignmentRow.app_id == app_id)) == 0


async def test_changing_and_deleting_one_app_at_once_answers_without_a_server_error(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.acme)
    app_id = (await client.post(f"{A}/purchased", json=purchased(world.acme))).json()["Id"]["Value"]
    responses = await race(*(client.post(f"{A}/{app_id}/assignments",
                                         json={"UserGroupId": world.eng_team if n % 2 else world.sales_team})
                             for n in range(4)),
                           client.delete(f"{A}/{app_id}"))

    only(responses, {201, 204, 404, 409})
    assert responses[-1].status_code == 204
    assert_error(await client.get(f"{A}/{app_id}"), 404)
    assert await count(session, select(AppAssignmentRow).where(AppAssignmentRow.app_id == app_id)) == 0


# --- device commands ----------------------------------------------------------------------------


async def test_commands_queued_at_once_for_one_device_are_all_kept_with_one_push(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    device = DeviceRow(og_id=world.eng, enrollment_user_id=world.bob, udid="EID-RACE",
                       enrollment_status="Enrolled", ownership="E", is_user_enrolled=True,
                       license_type_eligibility=2, push_token="ab" * 32, push_magic="magic",
                       topic="com.apple.mgmt.test")
    session.add(device)
    await session.commit()
    client = await api_client(og_id=world.acme)
    responses = await race(*(client.post(f"/API/mdm/devices/{device.id}/commands",
                                         json={"RequestType": "DeviceInformation", "Queries": ["OSVersion"]})
                             for _ in range(RACERS)))

    assert statuses(responses) == {201: RACERS}
    assert len({r.json()["CommandUuid"] for r in responses}) == RACERS
    assert await count(session, select(CommandRow).where(CommandRow.device_id == device.id)) == RACERS
    assert await count(session, select(JobRow).where(JobRow.status == "waiting",
                                                      JobRow.dedupe_key == push.dedupe_key(device.id))) == 1
