"""/API/system/groups/{id}/settings: settings inherited down the OG tree or overridden, with the
child permissions a parent gives its children."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.live_server import ApiClientFactory
from tests.integration.api.support import World, assert_error, snapshot

UE = "user_enrollment_enabled"


def settings_url(og_id: int, name: str | None = None) -> str:
    return f"/API/system/groups/{og_id}/settings" + (f"/{name}" if name else "")


async def read(client: httpx.AsyncClient, og_id: int, name: str = UE) -> dict[str, Any]:
    response = await client.get(settings_url(og_id, name))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_root_holds_every_default_and_answers_to_no_parent(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client()
    response = await client.get(settings_url(world.root))
    assert response.status_code == 200, response.text
    by_name = {s["Name"]: s for s in response.json()}
    assert set(by_name) == {UE, "group_id_assignment_mode", "default_ownership",
                            "companion_app_bundle_id", "vpp_release_license_on_unenroll"}
    ownership = by_name["default_ownership"]
    assert set(ownership) == {"Name", "Description", "Value", "CurrentSetting", "ChildPermission",
                              "PermissionFromParent", "SourceLocationGroup", "AllowedValues"}
    assert ownership["Value"] == "C"
    assert ownership["CurrentSetting"] == "Override"
    assert ownership["ChildPermission"] == "InheritOrOverride"
    assert ownership["PermissionFromParent"] is None
    assert ownership["SourceLocationGroup"]["Id"]["Value"] == world.root
    assert ownership["SourceLocationGroup"]["Name"] == "Global"
    assert ownership["AllowedValues"] == ["C", "E", "S", "Undefined"]
    assert by_name[UE]["Value"] is False


async def test_a_child_inherits_the_nearest_override_and_says_where_it_comes_from(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.eng)
    setting = await read(client, world.eng_lab)
    assert setting["Value"] is True
    assert setting["CurrentSetting"] == "Inherit"
    assert setting["PermissionFromParent"] == "InheritOrOverride"
    assert setting["SourceLocationGroup"]["Name"] == "Acme"
    assert setting["SourceLocationGroup"]["Id"]["Value"] == world.acme
    assert setting["AllowedValues"] == ["true", "false"]
    assert "User Enrollment" in setting["Description"]


async def test_an_override_applies_here_and_below_until_the_group_inherits_again(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.eng)
    response = await client.put(settings_url(world.eng, UE),
                                json={"CurrentSetting": "Override", "Value": False})
    assert response.status_code == 200, response.text
    assert response.json()["CurrentSetting"] == "Override"
    assert response.json()["Value"] is False
    assert response.json()["SourceLocationGroup"]["Id"]["Value"] == world.eng
    below = await read(client, world.eng_lab)
    assert (below["Value"], below["SourceLocationGroup"]["Name"]) == (False, "Engineering")

    back = await client.put(settings_url(world.eng, UE), json={"CurrentSetting": "Inherit"})
    assert back.status_code == 200, back.text
    assert (back.json()["CurrentSetting"], back.json()["Value"]) == ("Inherit", True)
    assert (await read(client, world.eng_lab))["SourceLocationGroup"]["Name"] == "Acme"


async def test_values_are_parsed_for_the_setting_they_belong_to(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.eng)
    as_text = await client.put(settings_url(world.eng, UE),
                               json={"CurrentSetting": "Override", "Value": "false"})
    assert as_text.json()["Value"] is False
    choice = await client.put(settings_url(world.eng, "group_id_assignment_mode"),
                              json={"CurrentSetting": "Override", "Value": "SELECT_FROM_LIST"})
    assert choice.status_code == 200, choice.text
    assert choice.json()["Value"] == "select_from_list"


async def test_a_parents_inherit_only_permission_makes_an_override_below_it_409(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme)
    locked = await client.put(settings_url(world.acme, UE), json={
        "CurrentSetting": "Override", "Value": True, "ChildPermission": "InheritOnly"})
    assert locked.json()["ChildPermission"] == "InheritOnly"
    assert (await read(client, world.eng))["PermissionFromParent"] == "InheritOnly"
    before = await snapshot(engine)
    for og_id in (world.eng, world.eng_lab):
        refused = await client.put(settings_url(og_id, UE),
                                   json={"CurrentSetting": "Override", "Value": False})
        body = assert_error(refused, 409)
        assert "InheritOnly" in body["message"] and "Acme" in body["message"]
    assert await snapshot(engine) == before
    assert (await read(client, world.eng_lab))["Value"] is True


async def test_a_parents_override_only_permission_gives_children_a_copy_they_cannot_drop(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme)
    await client.put(settings_url(world.acme, UE), json={
        "CurrentSetting": "Override", "Value": True, "ChildPermission": "OverrideOnly"})
    copy = await read(client, world.eng)
    assert (copy["CurrentSetting"], copy["Value"], copy["PermissionFromParent"]) == (
        "Override", True, "OverrideOnly")
    before = await snapshot(engine)
    refused = await client.put(settings_url(world.eng, UE), json={"CurrentSetting": "Inherit"})
    assert "OverrideOnly" in assert_error(refused, 409)["message"]
    assert await snapshot(engine) == before


async def test_the_root_cannot_inherit(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client()
    before = await snapshot(engine)
    refused = await client.put(settings_url(world.root, UE), json={"CurrentSetting": "Inherit"})
    assert "root" in assert_error(refused, 422)["message"]
    assert await snapshot(engine) == before


async def test_invalid_setting_writes_are_400_with_a_readable_message(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.eng)
    before = await snapshot(engine)
    url = settings_url(world.eng, UE)
    cases: list[tuple[str, dict[str, Any], str]] = [
        (url, {"CurrentSetting": "Override"}, "Value: Field required"),
        (url, {"CurrentSetting": "Inherit", "Value": True}, "Value: Extra inputs"),
        (url, {"CurrentSetting": "Sometimes", "Value": True}, "CurrentSetting"),
        (url, {"Value": True}, "CurrentSetting"),
        (url, {"CurrentSetting": "Override", "Value": "perhaps"}, "true or false"),
        (url, {"CurrentSetting": "Override", "Value": 7}, "Value"),
        (url, {"CurrentSetting": "Override", "Value": "x" * 65}, "Value"),
        (url, {"CurrentSetting": "Override", "Value": True, "ChildPermission": "Whatever"},
         "ChildPermission must be one of"),
        (settings_url(world.eng, "colour"), {"CurrentSetting": "Override", "Value": "red"}, "name"),
    ]
    for target, payload, expected in cases:
        body = assert_error(await client.put(target, json=payload), 400)
        assert expected in body["message"], (payload, body["message"])
    assert_error(await client.get(settings_url(world.eng, "s" * 65)), 400)
    assert await snapshot(engine) == before


async def test_a_value_of_another_setting_is_422(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    # The document states every value some setting takes; which one fits depends on the name.
    client = await api_client(og_id=world.eng)
    before = await snapshot(engine)
    for name, value, expected in (
        ("default_ownership", "free_text", "one of C, E, S, Undefined"),
        (UE, "E", "true or false"),
        ("group_id_assignment_mode", True, "one of free_text, select_from_list"),
    ):
        body = assert_error(await client.put(settings_url(world.eng, name), json={
            "CurrentSetting": "Override", "Value": value}), 422)
        assert expected in body["message"], (name, body["message"])
    assert await snapshot(engine) == before


async def test_admin_cannot_read_or_change_settings_of_a_group_outside_their_subtree(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.sales)
    before = await snapshot(engine)
    assert_error(await client.get(settings_url(world.eng)), 404)
    assert_error(await client.get(settings_url(world.acme, UE)), 404)
    assert_error(await client.put(settings_url(world.eng, UE),
                                  json={"CurrentSetting": "Override", "Value": False}), 404)
    assert_error(await client.put(settings_url(world.acme, UE), json={"CurrentSetting": "Inherit"}), 404)
    assert await snapshot(engine) == before


async def test_a_read_only_admin_cannot_change_settings(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme, role="read-only")
    before = await snapshot(engine)
    assert (await read(client, world.eng))["Value"] is True
    assert_error(await client.put(settings_url(world.eng, UE),
                                  json={"CurrentSetting": "Override", "Value": False}), 403)
    assert_error(await client.put(settings_url(world.acme, UE), json={"CurrentSetting": "Inherit"}), 403)
    assert await snapshot(engine) == before
