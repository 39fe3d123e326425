"""What every client of the REST API relies on beyond single resources: the OpenAPI document,
the request size limit and the error body for requests no route handles."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.live_server import ApiClientFactory
from tests.integration.api.support import World, assert_error, snapshot

S = "/API/system"
EXPECTED_OPERATIONS = {
    f"{S}/groups/search": {"get"},
    f"{S}/jobs/search": {"get"},
    f"{S}/admins/search": {"get"},
    f"{S}/info": {"get"},
    f"{S}/users/{{user_uuid}}": {"get", "put", "delete"},
    "/connect/token": {"post"},
    "/API/oauth/token": {"post"},
    f"{S}/groups/{{og_id}}": {"get", "put", "delete", "post"},  # POST: a child OG
    f"{S}/groups/{{og_id}}/children": {"get"},
    f"{S}/groups/{{og_id}}/settings": {"get"},
    f"{S}/groups/{{og_id}}/settings/{{name}}": {"get", "put"},
    f"{S}/users/search": {"get"},
    f"{S}/users/adduser": {"post"},
    f"{S}/users/{{user_id}}": {"get", "put", "delete"},
    f"{S}/users/{{user_id}}/update": {"post"},
    f"{S}/users/{{user_id}}/activate": {"post"},
    f"{S}/users/{{user_id}}/deactivate": {"post"},
    f"{S}/users/{{user_id}}/delete": {"delete"},
    f"{S}/usergroups/search": {"get"},
    f"{S}/usergroups": {"post"},
    f"{S}/usergroups/{{group_id}}": {"get", "put", "delete"},
    f"{S}/usergroups/{{group_id}}/users": {"get"},
    f"{S}/usergroups/{{group_id}}/users/{{user_id}}": {"post", "delete"},
    f"{S}/usergroups/{{group_id}}/mappings": {"get", "post"},
    f"{S}/usergroups/{{group_id}}/mappings/{{mapping_id}}": {"put", "delete"},
    "/API/mdm/enrollment/preview": {"get"},
    "/API/mdm/devices": {"get", "delete"},
    "/API/mdm/devices/search": {"get"},
    "/API/mdm/devices/udid/{udid}": {"get"},
    "/API/mdm/devices/{device_id}": {"get", "delete"},
    "/API/mdm/devices/{device_id}/security": {"get"},
    "/API/mdm/devices/security": {"get"},
    "/API/mdm/devices/devicecountinfo": {"get"},
    "/API/mdm/devices/commands": {"post"},
    "/API/mdm/devices/commands/bulk": {"post"},
    "/API/mdm/devices/commands/changeorganizationgroup": {"post"},
    "/API/mdm/devices/{device_id}/commands/changeorganizationgroup/{ogid}": {"put"},
    "/API/mdm/devices/{device_id}/extendedproperties": {"get"},
    "/API/mdm/devices/{device_id}/commands": {"get", "post"},
    "/API/mdm/devices/{device_id}/messages": {"get"},
    "/API/mdm/devices/{device_id}/apps": {"get"},
    f"{S}/users/{{user_id}}/vppuser": {"get"},
    "/API/mam/apps/search": {"get"},
    "/API/mam/apps/purchased/search": {"get"},
    "/API/mam/apps/purchased": {"post"},
    "/API/mam/apps/purchased/{app_id}": {"get"},
    "/API/mam/apps/purchased/{app_id}/install": {"post"},
    "/API/mam/apps/public": {"post"},
    "/API/mam/apps/internal": {"post"},
    "/API/mam/apps/{app_id}": {"get", "delete"},
    "/API/mam/apps/{app_uuid}": {"get"},
    "/API/mam/apps/{app_id}/assignments": {"get", "post"},
    "/API/mam/apps/{app_id}/assignments/{assignment_id}": {"delete"},
}


async def test_api_help_serves_the_openapi_document_of_every_route(live_server: str) -> None:
    async with httpx.AsyncClient(base_url=live_server) as client:
        response = await client.get("/API/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert {path: set(ops) for path, ops in document["paths"].items()} == EXPECTED_OPERATIONS
    assert document["components"]["securitySchemes"]["tenantCode"]["name"] == "aw-tenant-code"
    assert document["security"] == [{"basicAuth": [], "tenantCode": []}, {"oauthClientCredentials": []}]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            # FastAPI's own 422 is gone (validation errors are 400s); a route's declared 422
            # (a command refused for a user-enrolled device) is an ApiError like every error.
            # The token endpoints answer as RFC 6749 says ({error, error_description}).
            error = "TokenError" if path in ("/connect/token", "/API/oauth/token") else "ApiError"
            for status in ("400", "422") if "422" in responses else ("400",):
                assert responses[status]["content"]["application/json"]["schema"] == {
                    "$ref": f"#/components/schemas/{error}"}, (method, path, status)


async def test_the_documented_models_are_pascal_case(live_server: str) -> None:
    async with httpx.AsyncClient(base_url=live_server) as client:
        schemas = (await client.get("/API/openapi.json")).json()["components"]["schemas"]
    assert set(schemas["User"]["properties"]) == {
        "Id", "Uuid", "UserName", "Email", "ManagedAppleId", "FirstName", "LastName", "Status",
        "LocationGroupId", "Group", "OrganizationGroupUuid", "SecurityType", "CreatedOn"}
    assert set(schemas["EnrollmentPreview"]["required"]) == {
        "Allowed", "GroupId", "LocationGroupId", "Reason", "Trace"}
    assert set(schemas["ApiError"]["properties"]) == {"errorCode", "message", "activityId"}


async def test_a_body_over_the_size_limit_is_413_and_creates_nothing(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme)
    before = await snapshot(engine)
    huge = {"Name": "Big", "GroupId": "big", "Country": "x" * 1_100_000}
    body = assert_error(await client.post(f"{S}/groups/{world.eng}", json=huge), 413)
    assert "larger than" in body["message"]

    async def streamed() -> AsyncIterator[bytes]:
        # No Content-Length: the limit must hold while the body streams in.
        yield b'{"Name": "Big", "GroupId": "big", "Country": "'
        for _ in range(20):
            yield b"x" * 65_536
        yield b'"}'

    chunked = await client.post(f"{S}/groups/{world.eng}", content=streamed(),
                                headers={"Content-Type": "application/json"})
    assert_error(chunked, 413)
    assert await snapshot(engine) == before


async def test_unknown_paths_and_methods_answer_with_the_error_body(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    assert_error(await client.get("/API/system/nothing-here"), 404)
    not_allowed = await client.patch(f"{S}/groups/{world.eng}", json={})
    assert_error(not_allowed, 405)
    # RFC 9110: a 405 lists every method the resource allows.
    assert not_allowed.headers["allow"] == "DELETE, GET, POST, PUT"  # POST: a child OG
    assert_error(await client.post(f"{S}/users/{world.bob}/update", content=b"[",
                                   headers={"Content-Type": "application/json"}), 400)


async def test_a_literal_path_beside_an_id_route_is_never_taken_for_an_id(
    api_client: ApiClientFactory, world: World
) -> None:
    # /API/mam/apps/internal is not /API/mam/apps/{app_id}: a method it lacks is 405 with Allow.
    client = await api_client(og_id=world.acme)
    for method, path, allow in (
        ("GET", "/API/mam/apps/internal", "POST"),
        ("DELETE", "/API/mam/apps/purchased", "POST"),
        ("PUT", f"{S}/users/adduser", "POST"),
        ("PUT", f"{S}/usergroups/search", "GET"),
        ("DELETE", "/API/mdm/devices/search", "GET"),
    ):
        response = await client.request(method, path)
        assert_error(response, 405)
        assert response.headers["allow"] == allow, (method, path)
    # An id that is not a number names nothing.
    for path in (f"{S}/users/bob", f"{S}/groups/-1", "/API/mam/apps/1.5/assignments"):
        assert_error(await client.get(path), 404)


async def test_every_error_carries_a_distinct_activity_id(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.sales)
    ids = {assert_error(await client.get(f"{S}/groups/{world.eng}"), 404)["activityId"] for _ in range(3)}
    assert len(ids) == 3


async def test_api_help_is_a_page_for_people_and_the_document_for_a_client_asking_for_json(
    live_server: str,
) -> None:
    async with httpx.AsyncClient(base_url=live_server) as client:
        page = await client.get("/API/help", headers={"Accept": "text/html,*/*;q=0.8"})
        as_json = await client.get("/API/help", headers={"Accept": "application/json"})
        document = (await client.get("/API/openapi.json")).json()
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<h2" in page.text and "/API/system/users/search" in page.text and "/API/openapi.json" in page.text
    assert as_json.json() == document


async def test_the_root_sends_people_to_the_console(live_server: str) -> None:
    async with httpx.AsyncClient(base_url=live_server) as client:
        answer = await client.get("/")
    assert answer.status_code in (302, 307) and answer.headers["location"] == "/console/"
