"""What Workspace ONE scripts send beside what Quince reads: fields it has no use for are accepted
and ignored, a page size above the cap is clamped, and WS1's names for a filter are read; but a
query parameter Quince does not read is refused, so no filter is silently dropped."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.live_server import ApiClientFactory
from tests.integration.api.support import World, assert_error
from tests.integration.api.test_apps import A, _device, purchased_body

USERS = "/API/system/users"
GROUPS = "/API/system/groups"
DEVICES = "/API/mdm/devices"


async def test_fields_workspace_one_clients_send_on_user_create_are_accepted_and_ignored(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    # As the WS1 API admin toolbox (PowerShell) sends it: unset parameters as null, Status a string.
    created = await client.post(f"{USERS}/adduser", json={
        "UserName": "erin", "Password": "erin-password-1", "Email": "erin@acme.example",
        "FirstName": "Erin", "LastName": "Eve", "LocationGroupId": world.eng, "Status": "true",
        "SecurityType": 1, "ContactNumber": None, "MobileNumber": None, "Group": "Engineering",
        "Role": "Full Access", "MessageType": 0, "MessageTemplateId": None, "StagingMode": None,
        "DeviceStagingEnabled": "false"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["UserName"], body["Status"], body["Value"]) == ("erin", True, body["Id"]["Value"])
    inactive = await client.post(f"{USERS}/{body['Value']}/update", json={"Status": "FALSE", "Role": "x"})
    assert inactive.status_code == 200, inactive.text
    assert inactive.json()["Status"] is False


async def test_a_field_nobody_sends_is_still_refused(api_client: ApiClientFactory, world: World) -> None:
    client = await api_client(og_id=world.acme)
    body = assert_error(await client.post(f"{GROUPS}/{world.eng}", json={
        "Name": "QA", "GroupId": "qa", "Colour": "blue"}), 400)
    assert "Colour" in body["message"]
    body = assert_error(await client.post(f"{USERS}/adduser", json={
        "UserName": "x", "Email": "x@acme.example", "LocationGroupId": world.eng, "Status": "yes"}), 400)
    assert "Status" in body["message"]


async def test_a_group_create_with_workspace_one_location_fields_answers_the_new_id_as_value(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    created = await client.post(f"/Api/System/groups/{world.eng}", json={
        "Name": "Eng QA", "GroupId": "eng-qa", "LocationGroupType": "Container", "Country": "Netherlands",
        "Locale": "nl-NL", "AddDefaultLocation": "Yes"})
    assert created.status_code == 201, created.text
    assert created.json()["Value"] == created.json()["Id"]["Value"]


async def test_a_purchased_install_takes_the_udid_and_ignores_hardware_identifiers(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    device = await _device(session, world.eng, world.carol)
    client = await api_client(og_id=world.acme)
    app = (await client.post(f"{A}/purchased", json=purchased_body(world.eng))).json()["Id"]["Value"]
    udid = f"EID-{world.carol}-{world.eng}"
    response = await client.post(f"{A}/purchased/{app}/install", json={
        "DeviceId": device, "Udid": udid.lower(), "SerialNumber": "", "MacAddress": None})
    assert response.status_code == 202, response.text
    assert [s["DeviceId"] for s in response.json()["DeviceApps"]] == [device]
    other = assert_error(await client.post(f"{A}/purchased/{app}/install", json={
        "DeviceId": device, "Udid": "SOMEONE-ELSE"}), 422)
    assert "Udid" in other["message"]


async def test_a_page_size_above_the_cap_is_clamped_and_the_answer_says_so(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    for path in (f"{GROUPS}/search", f"{USERS}/search", f"{DEVICES}/search"):
        response = await client.get(path, params={"pagesize": 100_000})
        assert response.status_code == 200, (path, response.text)
        assert response.json()["PageSize"] == 500


async def test_workspace_one_names_for_the_group_filter_narrow_the_search(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    groups = (await client.get(f"{GROUPS}/{world.sales}")).json()
    for params in ({"organizationgroupid": world.sales}, {"OrganizationGroupUuid": groups["Uuid"]},
                   {"lgId": world.sales}, {"locationgroupid": world.sales, "lgid": world.sales}):
        users = (await client.get(f"{USERS}/search", params=params)).json()["Users"]
        assert [u["UserName"] for u in users] == ["alice"], params
    clash = assert_error(await client.get(f"{USERS}/search", params={
        "locationgroupid": world.sales, "organizationgroupid": world.eng}), 422)
    assert "different organization groups" in clash["message"]
    outside = assert_error(await client.get(f"{USERS}/search", params={
        "organizationgroupuuid": "3f2504e0-4f89-11d3-9a0c-0305e82c3301"}), 404)
    assert "Organization group" in outside["message"]


async def test_user_groups_are_found_by_groupname(api_client: ApiClientFactory, world: World) -> None:
    client = await api_client(og_id=world.acme)
    found = (await client.get("/API/system/usergroups/search", params={"groupname": "Sales"})).json()
    assert [g["Name"] for g in found["ResultSet"]] == ["Sales Team"]


async def test_a_query_parameter_the_endpoint_does_not_read_is_refused_not_dropped(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    # A compliance filter Quince cannot apply: dropping it would answer every device.
    body = assert_error(await client.get(f"{DEVICES}/search", params={"compliantstatus": "false"}), 400)
    assert body["message"].startswith("Unknown query parameter compliantstatus: this endpoint reads ")
    assert "lgid" in body["message"]
    body = assert_error(await client.get(f"{USERS}/search", params={"Role": "Admin"}), 400)
    assert "role" in body["message"]
