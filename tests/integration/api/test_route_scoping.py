"""Every route of the REST API, walked from the app itself: an admin scoped to a sibling OG cannot
touch another subtree, a read-only admin cannot change anything, bad input is a 400, and nothing
answers without credentials. A route added without a case here makes these tests fail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.config import Settings
from quince.store.models import AppAssignmentRow, AppRow, DeviceRow, EnrollmentUserRow
from quince.web.app import create_app
from tests.fixtures.live_server import ApiClientFactory
from tests.integration.api.support import World, assert_error, snapshot


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None

    async def send(self, client: httpx.AsyncClient) -> httpx.Response:
        return await client.request(self.method, self.url, params=self.params, json=self.json)


@dataclass(frozen=True)
class Case:
    reach: Callable[[World], Call]
    """A valid request that reaches Engineering's resources (out of scope for a Sales admin)."""
    bad: Callable[[World], Call]
    """The same route with input that breaks a rule."""
    filters: bool = False
    """A search: out of scope it finds nothing (200, Total 0) rather than refusing."""
    install_wide: bool = False
    """Only administrators of the whole install (Global) may use it; Acme's are refused too."""
    bulk: bool = False
    """A bulk request: out of scope each item is a fault (200, AcceptedItems 0), nothing changes."""
    unscoped: bool = False
    """It holds no organization's data (the product and its version): every admin may read it."""


G, U, UG = "/API/system/groups", "/API/system/users", "/API/system/usergroups"
UE = "user_enrollment_enabled"
D, ENG_UDID = "/API/mdm/devices", "ROUTE-SCOPING-ENROLLMENT-ID"
OLD_UDID = "ROUTE-SCOPING-UNENROLLED"
A, BUILDER = "/API/mam/apps", {"bundleid": "com.acme.builder"}


@dataclass(frozen=True)
class DeviceWorld(World):
    eng_device: int
    """Carol's enrolled, user-enrolled device in Engineering."""
    eng_app_uuid: str = ""
    """The Uuid of Engineering's purchased app."""
    eng_user_uuid: str = ""
    """Bob's Uuid (a user of Engineering with no devices)."""
    eng_old_device: int = 0
    """Carol's Unenrolled device in Engineering (a record that can be deleted)."""
    eng_app: int = 0
    """A purchased app in Engineering's catalog, assigned to Eng Team (eng_assignment)."""
    eng_assignment: int = 0


def dev(w: World) -> int:
    assert isinstance(w, DeviceWorld)
    return w.eng_device


@pytest.fixture
async def world(world: World, session: AsyncSession) -> DeviceWorld:
    """The shared world, plus a device for the device routes."""
    device = DeviceRow(og_id=world.eng, enrollment_user_id=world.carol, udid=ENG_UDID,
                       enrollment_status="Enrolled", ownership="E", is_user_enrolled=True,
                       license_type_eligibility=2)
    session.add(device)
    old = DeviceRow(og_id=world.eng, enrollment_user_id=world.carol, udid=OLD_UDID,
                    enrollment_status="Unenrolled", ownership="E", is_user_enrolled=True,
                    license_type_eligibility=2)
    session.add(old)
    app = AppRow(og_id=world.eng, kind="purchased", name="Builder", bundle_id="com.acme.builder",
                 adam_id="1000", total_licenses=10)
    session.add(app)
    await session.flush()
    assignment = AppAssignmentRow(app_id=app.id, target_kind="user_group", target_id=world.eng_team,
                                  mode="automatic")
    session.add(assignment)
    await session.commit()
    bob = await session.get(EnrollmentUserRow, world.bob)
    assert bob is not None
    return DeviceWorld(**asdict(world), eng_device=device.id, eng_old_device=old.id, eng_app=app.id,
                       eng_assignment=assignment.id, eng_user_uuid=bob.uuid,
                       eng_app_uuid=app.uuid)


def user_uuid(w: World) -> str:
    assert isinstance(w, DeviceWorld)
    return w.eng_user_uuid


def old_dev(w: World) -> int:
    assert isinstance(w, DeviceWorld)
    return w.eng_old_device


def app(w: World) -> int:
    assert isinstance(w, DeviceWorld)
    return w.eng_app


def assignment(w: World) -> int:
    assert isinstance(w, DeviceWorld)
    return w.eng_assignment

CASES: dict[str, Case] = {
    f"GET {G}/search": Case(
        lambda w: Call("GET", f"{G}/search", {"groupid": "eng"}),
        lambda w: Call("GET", f"{G}/search", {"pagesize": 0}),
        filters=True,
    ),
    f"GET {G}/{{og_id}}": Case(
        lambda w: Call("GET", f"{G}/{w.eng}"),
        lambda w: Call("GET", f"{G}/0"),
    ),
    f"GET {G}/{{og_id}}/children": Case(
        lambda w: Call("GET", f"{G}/{w.eng}/children"),
        lambda w: Call("GET", f"{G}/{2**31}/children"),
    ),
    f"POST {G}/{{og_id}}": Case(
        lambda w: Call("POST", f"{G}/{w.eng}", json={"Name": "Eng QA", "GroupId": "eng-qa"}),
        lambda w: Call("POST", f"{G}/{w.eng}", json={"Name": "Eng QA", "GroupId": "eng qa"}),
    ),
    f"PUT {G}/{{og_id}}": Case(
        lambda w: Call("PUT", f"{G}/{w.eng_lab}", json={"Name": "Eng Lab 2"}),
        lambda w: Call("PUT", f"{G}/{w.eng_lab}", json={"Name": "   "}),
    ),
    f"DELETE {G}/{{og_id}}": Case(
        lambda w: Call("DELETE", f"{G}/{w.eng_lab}"),
        lambda w: Call("DELETE", f"{G}/0"),
    ),
    f"GET {G}/{{og_id}}/settings": Case(
        lambda w: Call("GET", f"{G}/{w.eng}/settings"),
        lambda w: Call("GET", f"{G}/0/settings"),
    ),
    f"GET {G}/{{og_id}}/settings/{{name}}": Case(
        lambda w: Call("GET", f"{G}/{w.eng}/settings/{UE}"),
        lambda w: Call("GET", f"{G}/{w.eng}/settings/no_such_setting"),
    ),
    f"PUT {G}/{{og_id}}/settings/{{name}}": Case(
        lambda w: Call("PUT", f"{G}/{w.eng}/settings/{UE}",
                       json={"CurrentSetting": "Override", "Value": False}),
        lambda w: Call("PUT", f"{G}/{w.eng}/settings/{UE}",
                       json={"CurrentSetting": "Override", "Value": "perhaps"}),
    ),
    f"GET {U}/search": Case(
        lambda w: Call("GET", f"{U}/search", {"locationgroupid": w.eng}),
        lambda w: Call("GET", f"{U}/search", {"status": "maybe"}),
    ),
    f"POST {U}/adduser": Case(
        lambda w: Call("POST", f"{U}/adduser", json={
            "UserName": "dave", "Email": "dave@acme.example", "LocationGroupId": w.eng}),
        lambda w: Call("POST", f"{U}/adduser", json={
            "UserName": "dave", "Email": "dave-at-acme", "LocationGroupId": w.eng}),
    ),
    f"GET {U}/{{user_id}}": Case(
        lambda w: Call("GET", f"{U}/{w.bob}"),
        lambda w: Call("GET", f"{U}/0"),
    ),
    f"PUT {U}/{{user_id}}": Case(
        lambda w: Call("PUT", f"{U}/{w.bob}", json={"FirstName": "Robert"}),
        lambda w: Call("PUT", f"{U}/{w.bob}", json={"Email": "not-an-email"}),
    ),
    f"POST {U}/{{user_id}}/update": Case(
        lambda w: Call("POST", f"{U}/{w.bob}/update", json={"FirstName": "Robert"}),
        lambda w: Call("POST", f"{U}/{w.bob}/update", json={"Shoe": 44}),
    ),
    f"POST {U}/{{user_id}}/activate": Case(
        lambda w: Call("POST", f"{U}/{w.bob}/activate"),
        lambda w: Call("POST", f"{U}/0/activate"),
    ),
    f"POST {U}/{{user_id}}/deactivate": Case(
        lambda w: Call("POST", f"{U}/{w.bob}/deactivate"),
        lambda w: Call("POST", f"{U}/0/deactivate"),
    ),
    f"DELETE {U}/{{user_id}}": Case(
        lambda w: Call("DELETE", f"{U}/{w.bob}"),
        lambda w: Call("DELETE", f"{U}/{2**31}"),
    ),
    f"DELETE {U}/{{user_id}}/delete": Case(
        lambda w: Call("DELETE", f"{U}/{w.bob}/delete"),
        lambda w: Call("DELETE", f"{U}/99999999999/delete"),
    ),
    f"GET {UG}/search": Case(
        lambda w: Call("GET", f"{UG}/search", {"locationgroupid": w.eng}),
        lambda w: Call("GET", f"{UG}/search", {"page": -1}),
    ),
    f"POST {UG}": Case(
        lambda w: Call("POST", UG, json={"Name": "Eng Ops", "LocationGroupId": w.eng}),
        lambda w: Call("POST", UG, json={"Name": "x" * 101, "LocationGroupId": w.eng}),
    ),
    f"GET {UG}/{{group_id}}": Case(
        lambda w: Call("GET", f"{UG}/{w.eng_team}"),
        lambda w: Call("GET", f"{UG}/0"),
    ),
    f"PUT {UG}/{{group_id}}": Case(
        lambda w: Call("PUT", f"{UG}/{w.eng_team}", json={"Description": "Builders"}),
        lambda w: Call("PUT", f"{UG}/{w.eng_team}", json={"Description": "d" * 501}),
    ),
    f"DELETE {UG}/{{group_id}}": Case(
        lambda w: Call("DELETE", f"{UG}/{w.eng_team}"),
        lambda w: Call("DELETE", f"{UG}/0"),
    ),
    f"GET {UG}/{{group_id}}/users": Case(
        lambda w: Call("GET", f"{UG}/{w.eng_team}/users"),
        lambda w: Call("GET", f"{UG}/{w.eng_team}/users", {"pagesize": 0}),
    ),
    f"POST {UG}/{{group_id}}/users/{{user_id}}": Case(
        lambda w: Call("POST", f"{UG}/{w.eng_team}/users/{w.carol}"),
        lambda w: Call("POST", f"{UG}/{w.eng_team}/users/0"),
    ),
    f"DELETE {UG}/{{group_id}}/users/{{user_id}}": Case(
        lambda w: Call("DELETE", f"{UG}/{w.eng_team}/users/{w.bob}"),
        lambda w: Call("DELETE", f"{UG}/{w.eng_team}/users/0"),
    ),
    f"GET {UG}/{{group_id}}/mappings": Case(
        lambda w: Call("GET", f"{UG}/{w.eng_team}/mappings"),
        lambda w: Call("GET", f"{UG}/0/mappings"),
    ),
    f"POST {UG}/{{group_id}}/mappings": Case(
        lambda w: Call("POST", f"{UG}/{w.eng_team}/mappings",
                       json={"LocationGroupId": w.eng_lab, "Rank": 2}),
        lambda w: Call("POST", f"{UG}/{w.eng_team}/mappings",
                       json={"LocationGroupId": w.eng_lab, "Rank": 0}),
    ),
    f"PUT {UG}/{{group_id}}/mappings/{{mapping_id}}": Case(
        lambda w: Call("PUT", f"{UG}/{w.eng_team}/mappings/{w.eng_mapping}", json={"Rank": 3}),
        lambda w: Call("PUT", f"{UG}/{w.eng_team}/mappings/{w.eng_mapping}", json={"Rank": 1001}),
    ),
    f"DELETE {UG}/{{group_id}}/mappings/{{mapping_id}}": Case(
        lambda w: Call("DELETE", f"{UG}/{w.eng_team}/mappings/{w.eng_mapping}"),
        lambda w: Call("DELETE", f"{UG}/{w.eng_team}/mappings/0"),
    ),
    "GET /API/mdm/enrollment/preview": Case(
        lambda w: Call("GET", "/API/mdm/enrollment/preview", {"username": "bob"}),
        lambda w: Call("GET", "/API/mdm/enrollment/preview"),
    ),
    "GET /API/system/jobs/search": Case(
        lambda w: Call("GET", "/API/system/jobs/search", {"status": "waiting"}),
        lambda w: Call("GET", "/API/system/jobs/search", {"status": "sleeping"}),
        install_wide=True,
    ),
    f"GET {D}": Case(
        lambda w: Call("GET", D, {"searchby": "Udid", "id": ENG_UDID}),
        lambda w: Call("GET", D, {"searchby": "Name", "id": ENG_UDID}),
    ),
    f"GET {D}/search": Case(
        lambda w: Call("GET", f"{D}/search", {"isuserenrolled": "true"}),
        lambda w: Call("GET", f"{D}/search", {"ownership": "Mine"}),
        filters=True,
    ),
    f"GET {D}/udid/{{udid}}": Case(
        lambda w: Call("GET", f"{D}/udid/{ENG_UDID}"),
        lambda w: Call("GET", f"{D}/udid/{'x' * 129}"),
    ),
    f"GET {D}/{{device_id}}": Case(
        lambda w: Call("GET", f"{D}/{dev(w)}"),
        lambda w: Call("GET", f"{D}/0"),
    ),
    f"GET {D}/{{device_id}}/extendedproperties": Case(
        lambda w: Call("GET", f"{D}/{dev(w)}/extendedproperties"),
        lambda w: Call("GET", f"{D}/0/extendedproperties"),
    ),
    f"POST {D}/{{device_id}}/commands": Case(
        lambda w: Call("POST", f"{D}/{dev(w)}/commands", json={"RequestType": "ProfileList"}),
        lambda w: Call("POST", f"{D}/{dev(w)}/commands", json={"RequestType": ""}),
    ),
    f"POST {D}/commands": Case(
        lambda w: Call("POST", f"{D}/commands",
                       {"command": "DeviceQuery", "searchby": "Udid", "id": ENG_UDID}),
        lambda w: Call("POST", f"{D}/commands", {"command": "Fly", "searchby": "Udid", "id": ENG_UDID}),
    ),
    f"POST {D}/commands/bulk": Case(
        lambda w: Call("POST", f"{D}/commands/bulk", {"command": "DeviceQuery", "searchby": "DeviceId"},
                       json={"BulkValues": {"Value": [str(dev(w))]}}),
        lambda w: Call("POST", f"{D}/commands/bulk", {"command": "DeviceQuery", "searchby": "DeviceId"},
                       json={"BulkValues": {"Value": []}}),
        bulk=True,
    ),
    f"DELETE {D}/{{device_id}}": Case(
        lambda w: Call("DELETE", f"{D}/{old_dev(w)}"),
        lambda w: Call("DELETE", f"{D}/0"),
    ),
    f"DELETE {D}": Case(
        lambda w: Call("DELETE", D, {"searchby": "Udid", "id": OLD_UDID}),
        lambda w: Call("DELETE", D, {"searchby": "Name", "id": OLD_UDID}),
    ),
    f"PUT {D}/{{device_id}}/commands/changeorganizationgroup/{{ogid}}": Case(
        lambda w: Call("PUT", f"{D}/{dev(w)}/commands/changeorganizationgroup/{w.eng_lab}"),
        lambda w: Call("PUT", f"{D}/{dev(w)}/commands/changeorganizationgroup/0"),
    ),
    f"POST {D}/commands/changeorganizationgroup": Case(
        lambda w: Call("POST", f"{D}/commands/changeorganizationgroup",
                       {"searchby": "Udid", "id": ENG_UDID, "ogid": w.eng_lab}),
        lambda w: Call("POST", f"{D}/commands/changeorganizationgroup",
                       {"searchby": "Udid", "id": ENG_UDID, "ogid": 0}),
    ),
    f"GET {D}/{{device_id}}/security": Case(
        lambda w: Call("GET", f"{D}/{dev(w)}/security"),
        lambda w: Call("GET", f"{D}/0/security"),
    ),
    f"GET {D}/security": Case(
        lambda w: Call("GET", f"{D}/security", {"searchby": "Udid", "id": ENG_UDID}),
        lambda w: Call("GET", f"{D}/security", {"searchby": "Name", "id": ENG_UDID}),
    ),
    f"GET {D}/devicecountinfo": Case(
        lambda w: Call("GET", f"{D}/devicecountinfo", {"organizationgroupid": w.eng}),
        lambda w: Call("GET", f"{D}/devicecountinfo", {"organizationgroupid": 0}),
    ),
    f"GET {D}/{{device_id}}/commands": Case(
        lambda w: Call("GET", f"{D}/{dev(w)}/commands"),
        lambda w: Call("GET", f"{D}/{dev(w)}/commands", {"pagesize": 0}),
    ),
    f"GET {D}/{{device_id}}/messages": Case(
        lambda w: Call("GET", f"{D}/{dev(w)}/messages"),
        lambda w: Call("GET", f"{D}/{dev(w)}/messages", {"page": -1}),
    ),
    f"GET {D}/{{device_id}}/apps": Case(
        lambda w: Call("GET", f"{D}/{dev(w)}/apps"),
        lambda w: Call("GET", f"{D}/{dev(w)}/apps", {"pagesize": 0}),
    ),
    f"GET {U}/{{user_id}}/vppuser": Case(
        lambda w: Call("GET", f"{U}/{w.carol}/vppuser"),
        lambda w: Call("GET", f"{U}/0/vppuser"),
    ),
    f"GET {A}/search": Case(
        lambda w: Call("GET", f"{A}/search", BUILDER),
        lambda w: Call("GET", f"{A}/search", {"type": "Free"}),
        filters=True,
    ),
    f"GET {A}/purchased/search": Case(
        lambda w: Call("GET", f"{A}/purchased/search", BUILDER),
        lambda w: Call("GET", f"{A}/purchased/search", {"pagesize": 0}),
        filters=True,
    ),
    f"GET {A}/purchased/{{app_id}}": Case(
        lambda w: Call("GET", f"{A}/purchased/{app(w)}"),
        lambda w: Call("GET", f"{A}/purchased/0"),
    ),
    f"POST {A}/purchased": Case(
        lambda w: Call("POST", f"{A}/purchased", json={
            "ApplicationName": "Mail", "BundleId": "com.acme.mail", "AppStoreId": "2848",
            "LocationGroupId": w.eng, "Purchased": 5}),
        lambda w: Call("POST", f"{A}/purchased", json={
            "ApplicationName": "Mail", "BundleId": "com.acme.mail", "AppStoreId": "2848",
            "LocationGroupId": w.eng, "Purchased": -1}),
    ),
    f"POST {A}/purchased/{{app_id}}/install": Case(
        lambda w: Call("POST", f"{A}/purchased/{app(w)}/install", json={"DeviceId": dev(w)}),
        lambda w: Call("POST", f"{A}/purchased/{app(w)}/install", json={}),
    ),
    f"POST {A}/public": Case(
        lambda w: Call("POST", f"{A}/public", json={
            "ApplicationName": "Notes", "BundleId": "com.example.notes", "AppStoreId": "3613",
            "LocationGroupId": w.eng}),
        lambda w: Call("POST", f"{A}/public", json={
            "ApplicationName": "Notes", "BundleId": "com.example.notes", "AppStoreId": "notes",
            "LocationGroupId": w.eng}),
    ),
    f"POST {A}/internal": Case(
        lambda w: Call("POST", f"{A}/internal", json={
            "ApplicationName": "Tool", "BundleId": "com.acme.tool", "LocationGroupId": w.eng,
            "ManifestUrl": "https://apps.acme.example/tool.plist"}),
        lambda w: Call("POST", f"{A}/internal", json={
            "ApplicationName": "Tool", "BundleId": "com.acme.tool", "LocationGroupId": w.eng,
            "ManifestUrl": "http://apps.acme.example/tool.plist"}),
    ),
    f"GET {A}/{{app_id}}": Case(
        lambda w: Call("GET", f"{A}/{app(w)}"),
        lambda w: Call("GET", f"{A}/0"),
    ),
    f"DELETE {A}/{{app_id}}": Case(
        lambda w: Call("DELETE", f"{A}/{app(w)}"),
        lambda w: Call("DELETE", f"{A}/0"),
    ),
    f"GET {A}/{{app_id}}/assignments": Case(
        lambda w: Call("GET", f"{A}/{app(w)}/assignments"),
        lambda w: Call("GET", f"{A}/0/assignments"),
    ),
    f"POST {A}/{{app_id}}/assignments": Case(
        lambda w: Call("POST", f"{A}/{app(w)}/assignments", json={"LocationGroupId": w.eng_lab}),
        lambda w: Call("POST", f"{A}/{app(w)}/assignments",
                       json={"LocationGroupId": w.eng_lab, "UserGroupId": w.eng_team}),
    ),
    "GET /API/system/admins/search": Case(
        lambda w: Call("GET", "/API/system/admins/search", {"organizationgroupid": w.eng}),
        lambda w: Call("GET", "/API/system/admins/search", {"pagesize": 0}),
    ),
    f"GET {A}/{{app_uuid}}": Case(
        lambda w: Call("GET", f"{A}/{w.eng_app_uuid}" if isinstance(w, DeviceWorld) else A),
        lambda w: Call("GET", f"{A}/{w.eng_app_uuid}" if isinstance(w, DeviceWorld) else A,
                       {"verbose": "true"}),
    ),
    f"GET {U}/{{user_uuid}}": Case(
        lambda w: Call("GET", f"{U}/{user_uuid(w)}"),
        lambda w: Call("GET", f"{U}/{user_uuid(w)}", {"verbose": "true"}),
    ),
    f"PUT {U}/{{user_uuid}}": Case(
        lambda w: Call("PUT", f"{U}/{user_uuid(w)}", json={"firstName": "Robert"}),
        lambda w: Call("PUT", f"{U}/{user_uuid(w)}", json={"userName": "bob smith"}),
    ),
    f"DELETE {U}/{{user_uuid}}": Case(
        lambda w: Call("DELETE", f"{U}/{user_uuid(w)}"),
        lambda w: Call("DELETE", f"{U}/{user_uuid(w)}", {"verbose": "true"}),
    ),
    "GET /API/system/info": Case(
        lambda w: Call("GET", "/API/system/info"),
        lambda w: Call("GET", "/API/system/info", {"verbose": "true"}),
        unscoped=True,
    ),
    f"DELETE {A}/{{app_id}}/assignments/{{assignment_id}}": Case(
        lambda w: Call("DELETE", f"{A}/{app(w)}/assignments/{assignment(w)}"),
        lambda w: Call("DELETE", f"{A}/{app(w)}/assignments/0"),
    ),
}


# The OAuth token endpoints authenticate the client by its own credentials, not an admin's: their
# scoping (a token reaches its client's subtree) is tested in test_oauth_client_credentials.py.
TOKEN_ROUTES = {"POST /connect/token", "POST /API/oauth/token"}


def _app_routes() -> list[str]:
    """Every operation of the app, read from its OpenAPI document (the public list of routes)."""
    # The app is only inspected, never served: its engine is made but never connects.
    app = create_app(Settings(database_url="sqlite+aiosqlite://"))
    return sorted(
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if f"{method.upper()} {path}" not in TOKEN_ROUTES
    )


ROUTES = _app_routes()
assert len(ROUTES) >= len(CASES) > 0, "the app's routes could not be read"
WRITES = [r for r in ROUTES if not r.startswith("GET ")]


def case_for(route: str) -> Case:
    if route not in CASES:
        pytest.fail(f"{route} has no case in test_route_scoping.CASES: add one so its scoping is tested")
    return CASES[route]


def test_every_case_names_a_route_of_the_app() -> None:
    assert set(CASES) <= set(ROUTES), set(CASES) - set(ROUTES)


@pytest.mark.parametrize("route", ROUTES)
async def test_an_admin_of_the_owning_subtree_can_use_the_route(
    route: str, api_client: ApiClientFactory, world: World
) -> None:
    """The cases below would prove nothing if the request failed for another reason."""
    case = case_for(route)
    client = await api_client(og_id=world.root if case.install_wide else world.acme)
    response = await case.reach(world).send(client)
    assert 200 <= response.status_code < 300, response.text
    if case.filters:
        assert response.json()["Total"] >= 1


@pytest.mark.parametrize("route", ROUTES)
async def test_an_admin_of_a_sibling_subtree_cannot_touch_it(
    route: str, api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    case = case_for(route)
    client = await api_client(og_id=world.sales)
    before = await snapshot(engine)
    response = await case.reach(world).send(client)
    if case.filters:
        assert response.status_code == 200, response.text
        assert response.json()["Total"] == 0
    elif case.unscoped:
        assert response.status_code == 200, response.text
    elif case.bulk:
        assert response.status_code == 200, response.text
        assert response.json()["AcceptedItems"] == 0
        assert {f["ErrorCode"] for f in response.json()["Faults"]["Fault"]} == {5061}
    else:
        assert response.status_code in (403, 404), response.text
        assert_error(response, response.status_code)
    assert await snapshot(engine) == before


@pytest.mark.parametrize("route", ROUTES)
async def test_a_read_only_admin_can_read_but_not_change(
    route: str, api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    case = case_for(route)
    client = await api_client(og_id=world.root if case.install_wide else world.acme, role="read-only")
    before = await snapshot(engine)
    response = await case.reach(world).send(client)
    if route in WRITES:
        assert_error(response, 403)
    else:
        assert response.status_code == 200, response.text
    assert await snapshot(engine) == before


@pytest.mark.parametrize("route", ROUTES)
async def test_bad_input_is_refused_with_400_and_changes_nothing(
    route: str, api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    case = case_for(route)
    client = await api_client(og_id=world.acme)
    before = await snapshot(engine)
    response = await case.bad(world).send(client)
    assert_error(response, 400)
    assert await snapshot(engine) == before


@pytest.mark.parametrize("route", ROUTES)
async def test_no_route_answers_without_credentials(
    route: str, live_server: str, world: World, engine: AsyncEngine
) -> None:
    before = await snapshot(engine)
    async with httpx.AsyncClient(base_url=live_server) as anonymous:
        response = await case_for(route).reach(world).send(anonymous)
    body = assert_error(response, 401)
    assert body["errorCode"] == 1013
    assert response.headers["www-authenticate"].startswith("Basic")
    assert await snapshot(engine) == before
