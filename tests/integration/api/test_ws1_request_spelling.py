"""Workspace ONE's REST paths and query names are case-insensitive and may name a version; scripts
written for it reach Quince's routes however they spell a request."""

from __future__ import annotations

import httpx

from tests.fixtures.live_server import ApiClientFactory
from tests.integration.api.support import World, assert_error


async def test_a_path_under_api_in_any_case_reaches_its_route(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    for path in (f"/api/system/groups/{world.sales}", f"/Api/System/Groups/{world.sales}",
                 f"/API/SYSTEM/GROUPS/{world.sales}/"):
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.json()["Id"]["Value"] == world.sales


async def test_a_doubled_slash_before_api_is_one_slash(api_client: ApiClientFactory, world: World) -> None:
    client = await api_client(og_id=world.acme)
    url = httpx.URL(str(client.base_url).rstrip("/") + f"//API/system/groups/{world.sales}")
    response = await client.send(client.build_request("GET", url))
    assert response.status_code == 200, response.text


async def test_query_names_in_any_case_are_read(api_client: ApiClientFactory, world: World) -> None:
    client = await api_client(og_id=world.acme)
    response = await client.get("/api/system/groups/search", params={"PageSize": "1", "Page": "1"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["Page"], body["PageSize"]) == (1, 1)
    assert len(body["LocationGroups"]) == 1


async def test_a_version_in_the_path_is_taken_off_and_an_unknown_one_is_refused(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    for version in ("v1", "V2"):
        response = await client.get(f"/API/{version}/system/groups/{world.sales}")
        assert response.status_code == 200, (version, response.text)
    refused = assert_error(await client.get(f"/API/v3/system/groups/{world.sales}"), 406)
    assert "version=1 and version=2" in refused["message"]
    refused = assert_error(await client.get(f"/API/system/groups/{world.sales}",
                                            headers={"Accept": "application/json;version=9"}), 406)
    assert "API version 9" in refused["message"]


async def test_a_path_no_route_has_is_a_404_naming_the_endpoint(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    for path in ("/api/mdm/devices/not-a-number/anything", "/API/mdm/tags/search"):
        body = assert_error(await client.get(path), 404)
        assert body["message"].startswith("No such endpoint: GET "), body
