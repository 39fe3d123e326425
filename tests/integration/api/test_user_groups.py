"""/API/system/usergroups: user groups, their members and their ranked mappings to target OGs."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.services.directory import user_groups
from quince.services.scope import Scope
from tests.fixtures.live_server import ApiClientFactory
from tests.integration.api.support import World, assert_error, snapshot

UG = "/API/system/usergroups"


async def test_an_admin_creates_reads_updates_and_deletes_a_user_group(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.eng)
    created = await client.post(UG, json={"Name": "Eng Ops", "Description": "On call",
                                          "LocationGroupId": world.eng})
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"Id", "Uuid", "Name", "Description", "LocationGroupId", "Members"}
    assert (body["Name"], body["Description"], body["LocationGroupId"], body["Members"]) == (
        "Eng Ops", "On call", world.eng, 0)
    group_id = body["Id"]["Value"]
    assert (await client.get(f"{UG}/{group_id}")).json() == body
    updated = await client.put(f"{UG}/{group_id}", json={"Name": "Eng Operations"})
    assert updated.status_code == 200, updated.text
    assert (updated.json()["Name"], updated.json()["Description"]) == ("Eng Operations", "On call")
    assert (await client.delete(f"{UG}/{group_id}")).status_code == 204
    assert_error(await client.get(f"{UG}/{group_id}"), 404)


async def test_a_user_group_read_then_sent_back_whole_with_a_change_is_updated(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme)
    read = (await client.get(f"{UG}/{world.eng_team}")).json()
    put = await client.put(f"{UG}/{world.eng_team}", json={**read, "Description": "Builders"})
    assert put.status_code == 200, put.text
    assert put.json() == {**read, "Description": "Builders"}
    before = await snapshot(engine)
    moved = await client.put(f"{UG}/{world.eng_team}", json={**read, "LocationGroupId": world.sales})
    assert "cannot be changed" in assert_error(moved, 422)["message"]
    other = await client.put(f"{UG}/{world.eng_team}", json={**read, "Id": {"Value": world.sales_team}})
    assert_error(other, 422)
    assert await snapshot(engine) == before


async def test_user_group_names_are_unique_within_an_og_ignoring_case(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme)
    ops = (await client.post(UG, json={"Name": "Eng Ops", "LocationGroupId": world.eng})).json()
    before = await snapshot(engine)
    clash = await client.post(UG, json={"Name": "ENG TEAM", "LocationGroupId": world.eng})
    assert "already exists" in assert_error(clash, 409)["message"]
    assert_error(await client.put(f"{UG}/{ops['Id']['Value']}", json={"Name": "eng team"}), 409)
    assert await snapshot(engine) == before
    elsewhere = await client.post(UG, json={"Name": "Eng Team", "LocationGroupId": world.sales})
    assert elsewhere.status_code == 201, elsewhere.text


async def test_deleting_a_user_group_keeps_its_users(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.eng)
    assert (await client.delete(f"{UG}/{world.eng_team}")).status_code == 204
    assert (await client.get(f"/API/system/users/{world.bob}")).status_code == 200


async def test_user_group_search_filters_and_pages(
    api_client: ApiClientFactory, world: World, session: AsyncSession, scope: Scope
) -> None:
    for n in range(4):
        await user_groups.create(session, scope, name=f"Squad {n}", og_id=world.eng_lab)
    await session.commit()
    client = await api_client(og_id=world.acme)
    everything = (await client.get(f"{UG}/search")).json()
    assert (everything["Page"], everything["PageSize"], everything["Total"]) == (0, 500, 6)
    by_og = (await client.get(f"{UG}/search", params={"locationgroupid": world.eng})).json()
    assert [(g["Name"], g["Members"]) for g in by_og["UserGroups"]] == [("Eng Team", 1)]
    by_name = (await client.get(f"{UG}/search", params={"name": "SQUAD", "page": 1, "pagesize": 3})).json()
    assert (by_name["Total"], [g["Name"] for g in by_name["UserGroups"]]) == (4, ["Squad 3"])
    for params in ({"pagesize": 0}, {"page": -1}, {"name": "n" * 101}, {"locationgroupid": 0}):
        assert_error(await client.get(f"{UG}/search", params=params), 400)


async def test_members_are_listed_added_idempotently_and_removed(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.eng)
    members = (await client.get(f"{UG}/{world.eng_team}/users")).json()
    assert ([u["UserName"] for u in members["Users"]], members["Total"]) == (["bob"], 1)
    for _ in range(2):
        added = await client.post(f"{UG}/{world.eng_team}/users/{world.carol}")
        assert added.status_code == 200, added.text
        assert added.json()["Members"] == 2
    paged = (await client.get(f"{UG}/{world.eng_team}/users", params={"page": 1, "pagesize": 1})).json()
    assert ([u["UserName"] for u in paged["Users"]], paged["Total"]) == (["carol"], 2)
    assert (await client.delete(f"{UG}/{world.eng_team}/users/{world.bob}")).status_code == 204
    assert_error(await client.delete(f"{UG}/{world.eng_team}/users/{world.bob}"), 404)
    members = (await client.get(f"{UG}/{world.eng_team}/users")).json()
    assert [u["UserName"] for u in members["Users"]] == ["carol"]


async def test_admin_cannot_add_a_user_from_outside_their_subtree_to_their_group(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.sales)
    before = await snapshot(engine)
    assert_error(await client.post(f"{UG}/{world.sales_team}/users/{world.bob}"), 404)
    assert_error(await client.delete(f"{UG}/{world.sales_team}/users/{world.bob}"), 404)
    assert_error(await client.post(UG, json={"Name": "Spies", "LocationGroupId": world.eng}), 404)
    assert await snapshot(engine) == before


async def test_mappings_are_listed_best_rank_first_added_reranked_and_removed(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.eng)
    added = await client.post(f"{UG}/{world.eng_team}/mappings",
                              json={"LocationGroupId": world.eng_lab, "Rank": 2})
    assert added.status_code == 201, added.text
    mapping = added.json()
    assert set(mapping) == {"Id", "UserGroupId", "LocationGroup", "GroupId", "Rank"}
    assert (mapping["UserGroupId"], mapping["GroupId"], mapping["Rank"]) == (world.eng_team, "eng-lab", 2)
    assert (mapping["LocationGroup"]["Id"]["Value"], mapping["LocationGroup"]["Name"]) == (
        world.eng_lab, "Eng Lab")
    listed = (await client.get(f"{UG}/{world.eng_team}/mappings")).json()
    assert [(m["GroupId"], m["Rank"]) for m in listed] == [("eng", 1), ("eng-lab", 2)]

    reranked = await client.put(f"{UG}/{world.eng_team}/mappings/{world.eng_mapping}", json={"Rank": 5})
    assert reranked.status_code == 200, reranked.text
    assert reranked.json()["Rank"] == 5
    listed = (await client.get(f"{UG}/{world.eng_team}/mappings")).json()
    assert [m["GroupId"] for m in listed] == ["eng-lab", "eng"]

    removed = await client.delete(f"{UG}/{world.eng_team}/mappings/{mapping['Id']['Value']}")
    assert removed.status_code == 204
    assert [m["GroupId"] for m in (await client.get(f"{UG}/{world.eng_team}/mappings")).json()] == ["eng"]


async def test_mapping_rules_are_enforced_and_change_nothing_when_broken(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme)
    before = await snapshot(engine)
    outside_home = await client.post(f"{UG}/{world.sales_team}/mappings",
                                     json={"LocationGroupId": world.eng, "Rank": 1})
    assert "can only map" in assert_error(outside_home, 422)["message"]
    duplicate = await client.post(f"{UG}/{world.eng_team}/mappings",
                                  json={"LocationGroupId": world.eng, "Rank": 2})
    assert "already mapped" in assert_error(duplicate, 409)["message"]
    other_groups_mapping = await client.put(f"{UG}/{world.eng_team}/mappings/{world.sales_mapping}",
                                            json={"Rank": 2})
    assert_error(other_groups_mapping, 404)
    assert_error(await client.delete(f"{UG}/{world.eng_team}/mappings/{world.sales_mapping}"), 404)
    for payload in ({"LocationGroupId": world.eng_lab, "Rank": 0},
                    {"LocationGroupId": world.eng_lab, "Rank": 1001},
                    {"LocationGroupId": world.eng_lab},
                    {"Rank": 1}):
        body = assert_error(await client.post(f"{UG}/{world.eng_team}/mappings", json=payload), 400)
        assert "Rank" in body["message"] or "LocationGroupId" in body["message"]
    assert await snapshot(engine) == before


async def test_admin_cannot_map_their_group_to_an_og_outside_their_subtree(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.sales)
    before = await snapshot(engine)
    refused = await client.post(f"{UG}/{world.sales_team}/mappings",
                                json={"LocationGroupId": world.eng, "Rank": 1})
    assert_error(refused, 404)
    assert_error(await client.get(f"{UG}/{world.eng_team}/mappings"), 404)
    assert await snapshot(engine) == before


async def test_invalid_user_group_fields_are_400(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.eng)
    before = await snapshot(engine)
    for payload, expected in (
        ({"Name": "", "LocationGroupId": world.eng}, "must not be empty"),
        ({"Name": "n" * 101, "LocationGroupId": world.eng}, "Name"),
        ({"Name": "Ops", "Description": "d" * 501, "LocationGroupId": world.eng}, "Description"),
        ({"Name": "Ops"}, "LocationGroupId"),
        ({"Name": "Ops\x00", "LocationGroupId": world.eng}, "NUL"),
    ):
        body = assert_error(await client.post(UG, json=payload), 400)
        assert expected in body["message"], (payload, body["message"])
    assert_error(await client.put(f"{UG}/{world.eng_team}", json={"Name": "   "}), 400)
    assert_error(await client.put(f"{UG}/{world.eng_team}", json={"Colour": "blue"}), 400)  # unknown
    assert_error(await client.put(f"{UG}/{world.eng_team}", json={"Members": "many"}), 400)
    assert await snapshot(engine) == before


async def test_members_from_outside_the_admins_subtree_are_not_shown(
    api_client: ApiClientFactory, world: World, session: AsyncSession, scope: Scope
) -> None:
    await user_groups.add_member(session, scope, world.eng_team, world.alice)
    await session.commit()
    everyone = await api_client(og_id=world.acme)
    listed = (await everyone.get(f"{UG}/{world.eng_team}/users")).json()
    assert sorted(u["UserName"] for u in listed["Users"]) == ["alice", "bob"]
    client = await api_client(og_id=world.eng)
    listed = (await client.get(f"{UG}/{world.eng_team}/users")).json()
    assert ([u["UserName"] for u in listed["Users"]], listed["Total"]) == (["bob"], 1)
    assert (await client.get(f"{UG}/{world.eng_team}")).json()["Members"] == 1
    assert (await everyone.get(f"{UG}/{world.eng_team}")).json()["Members"] == 2
