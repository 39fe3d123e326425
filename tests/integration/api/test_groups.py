"""/API/system/groups: organization groups over HTTP."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.services.directory import org_groups
from quince.services.scope import Scope
from tests.fixtures.live_server import ApiClientFactory
from tests.integration.api.support import World, assert_error, snapshot

GROUPS = "/API/system/groups"


async def test_an_admin_creates_reads_renames_and_deletes_a_group(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    created = await client.post(f"{GROUPS}/{world.eng}", json={
        "Name": "Eng QA", "GroupId": "eng-qa", "Country": "NL", "Locale": "nl-NL"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["Name"] == "Eng QA"
    assert body["GroupId"] == "eng-qa"
    assert body["LocationGroupType"] == "Container"
    assert body["ParentLocationGroup"] == {"Id": {"Value": world.eng}, "Name": "Engineering",
                                           "Uuid": body["ParentLocationGroup"]["Uuid"]}
    assert body["Users"] == body["Admins"] == body["Devices"] == "0"
    og_id = body["Id"]["Value"]
    assert body.pop("Value") == og_id  # what Workspace ONE answers a create with

    fetched = await client.get(f"{GROUPS}/{og_id}")
    assert fetched.json() == body

    renamed = await client.put(f"{GROUPS}/{og_id}", json={"Name": "Quality", "GroupId": "quality"})
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["Name"], renamed.json()["GroupId"]) == ("Quality", "quality")

    deleted = await client.delete(f"{GROUPS}/{og_id}")
    assert deleted.status_code == 204
    assert_error(await client.get(f"{GROUPS}/{og_id}"), 404)


async def test_a_group_shows_how_many_users_and_admins_it_holds(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.eng)
    body = (await client.get(f"{GROUPS}/{world.eng}")).json()
    assert (body["Users"], body["Admins"], body["Devices"]) == ("2", "1", "0")


async def test_children_lists_the_subtree_depth_first_with_levels(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    response = await client.get(f"{GROUPS}/{world.acme}/children")
    assert response.status_code == 200, response.text
    assert [(g["GroupId"], g["LgLevel"]) for g in response.json()] == [
        ("acme", 0), ("eng", 1), ("eng-lab", 2), ("sales", 1)]


async def test_admin_cannot_read_a_group_outside_their_subtree(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.sales)
    for url in (f"{GROUPS}/{world.eng}", f"{GROUPS}/{world.acme}", f"{GROUPS}/{world.eng}/children"):
        body = assert_error(await client.get(url), 404)
        assert "was not found" in body["message"]
    found = (await client.get(f"{GROUPS}/search")).json()
    assert [g["GroupId"] for g in found["LocationGroups"]] == ["sales"]
    assert found["Total"] == 1


async def test_group_ids_are_unique_ignoring_case(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme)
    before = await snapshot(engine)
    clash = await client.post(f"{GROUPS}/{world.eng}", json={"Name": "Other", "GroupId": "SALES"})
    body = assert_error(clash, 409)
    assert "SALES" in body["message"] and "Sales" in body["message"]
    assert_error(await client.put(f"{GROUPS}/{world.eng_lab}", json={"GroupId": "Eng"}), 409)
    assert await snapshot(engine) == before


async def test_a_group_is_found_by_group_id_in_any_case(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    found = (await client.get(f"{GROUPS}/search", params={"groupid": "ENG-LAB"})).json()
    assert [g["Id"]["Value"] for g in found["LocationGroups"]] == [world.eng_lab]


async def test_deleting_a_group_that_holds_children_or_users_is_409_and_changes_nothing(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.root)
    before = await snapshot(engine)
    holding_children = assert_error(await client.delete(f"{GROUPS}/{world.acme}"), 409)
    assert "child organization groups" in holding_children["message"]
    holding_users = assert_error(await client.delete(f"{GROUPS}/{world.sales}"), 409)
    assert "users" in holding_users["message"]
    assert await snapshot(engine) == before


async def test_moving_a_group_that_holds_children_or_users_is_409_and_changes_nothing(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme)
    before = await snapshot(engine)
    assert_error(await client.put(f"{GROUPS}/{world.eng}", json={"ParentId": world.sales}), 409)
    assert_error(await client.put(f"{GROUPS}/{world.sales}", json={"ParentId": world.eng_lab}), 409)
    assert await snapshot(engine) == before


async def test_an_empty_group_moves_to_a_new_parent(api_client: ApiClientFactory, world: World) -> None:
    client = await api_client(og_id=world.acme)
    moved = await client.put(f"{GROUPS}/{world.eng_lab}", json={"ParentId": world.sales})
    assert moved.status_code == 200, moved.text
    assert moved.json()["ParentLocationGroup"]["Id"]["Value"] == world.sales
    children = (await client.get(f"{GROUPS}/{world.sales}/children")).json()
    assert [g["GroupId"] for g in children] == ["sales", "eng-lab"]


async def test_admin_cannot_move_a_group_into_a_sibling_subtree(
    api_client: ApiClientFactory, world: World, session: AsyncSession, scope: Scope,
    engine: AsyncEngine,
) -> None:
    spare = await org_groups.create(session, scope, world.sales, name="Sales EU", group_id="sales-eu")
    await session.commit()
    client = await api_client(og_id=world.sales)
    before = await snapshot(engine)
    assert_error(await client.put(f"{GROUPS}/{spare.id}", json={"ParentId": world.eng}), 404)
    assert_error(await client.post(f"{GROUPS}/{world.eng}", json={"Name": "X", "GroupId": "x"}), 404)
    assert await snapshot(engine) == before


async def test_an_admin_cannot_delete_or_move_the_top_of_their_own_subtree(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.eng_lab)
    before = await snapshot(engine)
    assert_error(await client.delete(f"{GROUPS}/{world.eng_lab}"), 409)
    assert_error(await client.put(f"{GROUPS}/{world.eng_lab}", json={"ParentId": world.sales}), 409)
    assert await snapshot(engine) == before


async def test_group_type_placement_rules_are_422_and_unknown_types_400(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.root)
    before = await snapshot(engine)
    customer_in_customer = await client.post(f"{GROUPS}/{world.acme}", json={
        "Name": "Nested", "GroupId": "nested", "LocationGroupType": "Customer"})
    assert "Container" in assert_error(customer_in_customer, 422)["message"]
    unknown_type = await client.post(f"{GROUPS}/{world.root}", json={
        "Name": "Odd", "GroupId": "odd", "LocationGroupType": "Planet"})
    assert "LocationGroupType" in assert_error(unknown_type, 400)["message"]
    assert await snapshot(engine) == before


async def test_invalid_group_fields_are_400_with_a_readable_message(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme)
    before = await snapshot(engine)
    cases = {
        "Group ID": {"Name": "A", "GroupId": "has space"},
        "GroupId": {"Name": "A", "GroupId": "g" * 65},
        "Name": {"Name": "n" * 101, "GroupId": "ok"},
        "NUL": {"Name": "a\x00b", "GroupId": "ok"},
        "Field required": {"GroupId": "ok"},
        "Extra inputs": {"Name": "A", "GroupId": "ok", "Colour": "red"},
    }
    for expected, payload in cases.items():
        body = assert_error(await client.post(f"{GROUPS}/{world.eng}", json=payload), 400)
        assert expected in body["message"], (expected, body["message"])
    not_json = await client.post(f"{GROUPS}/{world.eng}", content=b"{not json",
                                 headers={"Content-Type": "application/json"})
    assert_error(not_json, 400)
    assert await snapshot(engine) == before


async def test_group_search_pages_from_zero_with_a_correct_total(
    api_client: ApiClientFactory, world: World, session: AsyncSession, scope: Scope
) -> None:
    for n in range(7):
        await org_groups.create(session, scope, world.eng_lab, name=f"Bench {n}", group_id=f"bench-{n}")
    await session.commit()
    client = await api_client(og_id=world.eng_lab)
    pages = [
        (await client.get(f"{GROUPS}/search", params={"page": p, "pagesize": 3, "orderby": "groupid"})).json()
        for p in range(4)
    ]
    assert [p["Total"] for p in pages] == [8, 8, 8, 8]
    assert [(p["Page"], p["PageSize"]) for p in pages] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert [[g["GroupId"] for g in p["LocationGroups"]] for p in pages] == [
        ["bench-0", "bench-1", "bench-2"], ["bench-3", "bench-4", "bench-5"], ["bench-6", "eng-lab"], []]
    descending = (await client.get(f"{GROUPS}/search", params={
        "pagesize": 2, "orderby": "groupid", "sortorder": "DESC"})).json()
    assert [g["GroupId"] for g in descending["LocationGroups"]] == ["eng-lab", "bench-6"]


async def test_group_search_refuses_bad_paging_and_sorting(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    for params, expected in (
        ({"pagesize": 0}, "pagesize"), ({"page": -1}, "page"),
        ({"page": "first"}, "page"), ({"orderby": "colour"}, "orderby"),
        ({"sortorder": "UP"}, "sortorder"), ({"name": "n" * 101}, "name"),
        ({"name": "a\x00"}, "NUL"), ({"page": 10**12}, "page"),
    ):
        body = assert_error(await client.get(f"{GROUPS}/search", params=params), 400)
        assert expected in body["message"], (params, body["message"])
    default = (await client.get(f"{GROUPS}/search")).json()
    assert (default["Page"], default["PageSize"], default["Total"]) == (0, 500, 4)


async def test_group_search_filters_by_name_and_type(api_client: ApiClientFactory, world: World) -> None:
    client = await api_client(og_id=world.root)
    by_name = (await client.get(f"{GROUPS}/search", params={"name": "ENG"})).json()
    assert sorted(g["GroupId"] for g in by_name["LocationGroups"]) == ["eng", "eng-lab"]
    by_type = (await client.get(f"{GROUPS}/search", params={"type": "customer"})).json()
    assert [g["GroupId"] for g in by_type["LocationGroups"]] == ["acme"]


async def test_concurrent_creates_with_one_group_id_make_exactly_one_group(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    responses = await asyncio.gather(*(
        client.post(f"{GROUPS}/{world.eng}",
                    json={"Name": f"Race {n}", "GroupId": "RACE" if n % 2 else "race"})
        for n in range(8)
    ))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7, [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 409):
        assert_error(refused, 409)
    found = (await client.get(f"{GROUPS}/search", params={"groupid": "race"})).json()
    assert found["Total"] == 1


async def test_a_group_id_taken_outside_the_subtree_is_409_without_naming_its_holder(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.sales)
    before = await snapshot(engine)
    taken = await client.post(f"{GROUPS}/{world.sales}", json={"Name": "X", "GroupId": "ENG"})
    body = assert_error(taken, 409)
    assert "Engineering" not in body["message"]
    assert await snapshot(engine) == before
