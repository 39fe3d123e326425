"""/API/system/admins/search and /API/system/info, the calls Workspace ONE integrations make first
(a credentials check, a connection test), and the v2 shape of the OG search."""

from __future__ import annotations

import base64

from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.access import admins
from quince.services.scope import Scope
from tests.fixtures.live_server import ApiClientFactory
from tests.integration.api.support import World, assert_error

ADMINS = "/API/system/admins/search"
V2 = {"Accept": "application/json;version=2"}


async def test_an_integration_finds_itself_in_the_admin_search_as_its_credentials_check(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    signed = next(client.auth.sync_auth_flow(client.build_request("GET", ADMINS)))
    username = base64.b64decode(signed.headers["Authorization"].split()[1]).decode().split(":")[0]
    found = await client.get(ADMINS, params={"username": username})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["Total"] == 1 and {"Admins", "Page", "PageSize", "Total"} <= set(body)
    admin = body["Admins"][0]
    assert (admin["UserName"], admin["LocationGroupId"]) == (username, world.acme)
    assert {"Id", "Uuid", "UserName", "LocationGroup", "LocationGroupId", "OrganizationGroupUuid",
            "Roles"} <= set(admin)
    assert "Password" not in found.text and "password" not in found.text.lower()


async def test_the_admin_search_reaches_only_the_callers_subtree_and_filters(
    api_client: ApiClientFactory, world: World, session: AsyncSession, scope: Scope
) -> None:
    await admins.add_admin(session, scope, username="sales-helpdesk", password="helpdesk-pass-1",
                           og_id=world.sales, role="read-only")
    await admins.add_admin(session, scope, username="eng-helpdesk", password="helpdesk-pass-1",
                           og_id=world.eng, role="administrator")
    await session.commit()
    client = await api_client(og_id=world.eng)
    found = (await client.get(ADMINS, params={"username": "helpdesk"})).json()
    names = [a["UserName"] for a in found["Admins"]]
    assert names == ["eng-helpdesk"]
    acme = await api_client(og_id=world.acme)
    by_role = (await acme.get(ADMINS, params={"Role": "Read Only", "username": "helpdesk"})).json()
    assert [a["UserName"] for a in by_role["Admins"]] == ["sales-helpdesk"]
    assert by_role["Admins"][0]["Roles"][0]["Name"] == "Read Only"
    by_og = (await acme.get(ADMINS, params={"organizationgroupid": world.sales,
                                            "username": "helpdesk"})).json()
    assert [a["UserName"] for a in by_og["Admins"]] == ["sales-helpdesk"]
    # Quince keeps no names or email for an admin: such a filter matches nobody, never everybody.
    assert (await acme.get(ADMINS, params={"email": "x@acme.example"})).json()["Total"] == 0
    assert (await acme.get(ADMINS, params={"Role": "Console Administrator"})).json()["Total"] == 0
    v2 = (await acme.get(ADMINS, params={"username": "eng-helpdesk"}, headers=V2)).json()
    assert v2["Total"] == 1
    assert set(v2["admins"][0]) >= {"uuid", "username", "organizationGroupUuid", "firstName", "lastName",
                                    "email"}


async def test_system_info_names_the_product_and_its_version_and_needs_credentials(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.sales)
    info = await client.get("/api/system/info")
    assert info.status_code == 200, info.text
    body = info.json()
    assert body["ProductName"] == "Quince" and body["ProductVersion"]
    areas = [w["location"].rsplit("/", 1)[1] for w in body["Resources"]["Workspaces"]]
    assert areas == ["system", "mdm", "mam"]
    client.auth = None
    assert_error(await client.get("/api/system/info", headers={"Authorization": "Basic eDp5"}), 401)


async def test_the_og_search_answers_v2_shapes_when_asked_for_version_2(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    v2 = await client.get("/API/system/groups/search", params={"groupid": "sales"}, headers=V2)
    assert v2.status_code == 200, v2.text
    body = v2.json()
    assert body["TotalResults"] == 1 and "LocationGroups" not in body
    [og] = body["OrganizationGroups"]
    assert (og["Id"], og["GroupId"], og["Name"]) == (world.sales, "sales", "Sales")
    v1 = (await client.get("/API/v1/system/groups/search", params={"groupid": "sales"}, headers=V2)).json()
    assert v1["LocationGroups"][0]["Id"] == {"Value": world.sales}
