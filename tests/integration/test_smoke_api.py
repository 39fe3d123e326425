from __future__ import annotations

from tests.fixtures.live_server import ApiClientFactory


async def test_groups_can_be_created_and_read_over_http(api_client: ApiClientFactory, scope) -> None:
    client = await api_client()
    created = await client.post(
        f"/API/system/groups/{scope.og_id}",
        json={"Name": "Acme", "GroupId": "acme", "LocationGroupType": "Customer"},
    )
    assert created.status_code == 201, created.text
    og_id = created.json()["Id"]["Value"]
    fetched = await client.get(f"/API/system/groups/{og_id}")
    assert fetched.json()["GroupId"] == "acme"
    assert fetched.json()["ParentLocationGroup"]["Name"] == "Global"
    search = await client.get("/API/system/groups/search", params={"groupid": "ACME"})
    assert search.json()["Total"] == 1
