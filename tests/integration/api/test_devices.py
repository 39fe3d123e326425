"""/API/mdm/devices: user-enrolled device records as Workspace ONE shows them (rules 2, 3, 4, 9),
search with its filters and paging, and the command queue and raw messages of a device."""

from __future__ import annotations

import base64
import plistlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.store.models import CommandRow, DeviceMessageRow, DeviceRow
from tests.fixtures.live_server import ApiClientFactory
from tests.integration.api.support import World, assert_error, snapshot

DEVICES = "/API/mdm/devices"
DEVICE_KEYS = {
    "Id", "Uuid", "Udid", "SerialNumber", "MacAddress", "Imei", "DeviceFriendlyName",
    "DeviceReportedName", "LocationGroupId", "LocationGroupName", "UserId", "UserName",
    "UserEmailAddress", "Ownership", "Platform", "Model", "ModelName", "OperatingSystem",
    "OSBuildVersion", "LastSeen", "EnrollmentStatus", "LastEnrolledOn", "IsSupervised",
    "IsUserEnrolled", "LicenseTypeEligibility", "EnrollmentUserUuid", "IsAbandonedPlaceholder",
    "SupersededBy",
}
NOW = datetime.now(UTC).replace(microsecond=0)
BOB_ENROLLMENT_ID = "5E1C3F2A-7B1D-4C55-9F0E-0A1B2C3D4E5F"


@dataclass(frozen=True)
class Fleet:
    """Engineering: bob's abandoned placeholder, superseded by bob's enrolled iPhone; carol's
    placeholder still in progress; a device-enrolled (not UE) corporate iPad. Eng Lab: carol's
    enrolled iPad, seen ten days ago. Sales (a sibling): alice's enrolled iPhone."""

    bob_abandoned: int
    bob_iphone: int
    carol_placeholder: int
    corporate_ipad: int
    carol_lab_ipad: int
    alice_iphone: int


async def add_device(session: AsyncSession, og_id: int, user_id: int | None, **fields: Any) -> DeviceRow:
    values: dict[str, Any] = {
        "enrollment_status": "EnrollmentInProgress", "ownership": "E", "is_user_enrolled": True,
        "license_type_eligibility": 2, "created_at": NOW - timedelta(days=30),
    }
    values.update(fields)
    row = DeviceRow(og_id=og_id, enrollment_user_id=user_id, **values)
    session.add(row)
    await session.flush()
    return row


def enrolled(seen: datetime, **fields: Any) -> dict[str, Any]:
    return {"enrollment_status": "Enrolled", "last_seen_at": seen, "enrolled_at": seen - timedelta(hours=1),
            "os_version": "18.1", "build_version": "22B83", **fields}


@pytest.fixture
async def fleet(session: AsyncSession, world: World) -> Fleet:
    abandoned = await add_device(session, world.eng, world.bob, created_at=NOW - timedelta(days=2))
    iphone = await add_device(session, world.eng, world.bob, **enrolled(
        NOW - timedelta(hours=1), udid=BOB_ENROLLMENT_ID, product_name="iPhone16,2",
        model_name="iPhone", device_name="Bob's iPhone"))
    abandoned.superseded_by_device_id = iphone.id
    abandoned.superseded_at = NOW - timedelta(days=1)
    placeholder = await add_device(session, world.eng, world.carol)
    corporate = await add_device(session, world.eng, None, **enrolled(
        NOW - timedelta(hours=3), udid="00008030-001A2B3C4D5E6F70", ownership="C",
        is_user_enrolled=False, license_type_eligibility=1, product_name="iPad13,1"))
    lab = await add_device(session, world.eng_lab, world.carol, **enrolled(
        NOW - timedelta(days=10), udid="ENR-CAROL-LAB", product_name="iPad14,1"))
    alice = await add_device(session, world.sales, world.alice, **enrolled(
        NOW - timedelta(minutes=5), udid="ENR-ALICE", product_name="iPhone15,3"))
    await session.commit()
    return Fleet(abandoned.id, iphone.id, placeholder.id, corporate.id, lab.id, alice.id)


async def test_a_user_enrolled_device_is_found_by_its_enrollment_id_with_no_hardware_identity(
    api_client: ApiClientFactory, world: World, fleet: Fleet, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.acme)
    found = await client.get(DEVICES, params={"searchby": "Udid", "id": BOB_ENROLLMENT_ID})
    assert found.status_code == 200, found.text
    body = found.json()
    assert set(body) == DEVICE_KEYS
    row = await session.get(DeviceRow, fleet.bob_iphone)
    assert row is not None
    assert body["Id"] == {"Value": fleet.bob_iphone} and body["Uuid"] == row.uuid
    assert body["Udid"] == BOB_ENROLLMENT_ID
    assert (body["SerialNumber"], body["MacAddress"], body["Imei"]) == ("", "", "")
    assert body["Ownership"] == "E"
    assert body["IsUserEnrolled"] is True and body["LicenseTypeEligibility"] == 2
    assert body["IsSupervised"] is False
    assert body["EnrollmentStatus"] == "Enrolled"
    assert body["Platform"] == "Apple"
    assert (body["Model"], body["ModelName"]) == ("iPhone16,2", "iPhone")
    assert (body["OperatingSystem"], body["OSBuildVersion"]) == ("18.1", "22B83")
    assert body["DeviceReportedName"] == "Bob's iPhone"
    assert body["DeviceFriendlyName"] == "bob iPhone iOS 18.1"
    assert body["LocationGroupId"]["Id"] == {"Value": world.eng}
    assert body["LocationGroupId"]["Name"] == body["LocationGroupName"] == "Engineering"
    assert body["UserId"]["Id"] == {"Value": world.bob} and body["UserId"]["Name"] == "bob"
    assert (body["UserName"], body["UserEmailAddress"]) == ("bob", "bob@acme.example")
    assert body["EnrollmentUserUuid"] == body["UserId"]["Uuid"]
    # Workspace ONE's time format: no zone.
    assert body["LastSeen"] == (NOW - timedelta(hours=1)).replace(tzinfo=None).isoformat(
        timespec="milliseconds")
    assert body["LastEnrolledOn"].endswith(".000") and "+" not in body["LastEnrolledOn"]
    assert (body["IsAbandonedPlaceholder"], body["SupersededBy"]) == (False, None)

    for other in (
        await client.get(f"{DEVICES}/{fleet.bob_iphone}"),
        await client.get(f"{DEVICES}/udid/{BOB_ENROLLMENT_ID}"),
        await client.get(DEVICES, params={"searchby": "udid", "id": BOB_ENROLLMENT_ID}),
        await client.get(DEVICES, params={"searchby": "DeviceId", "id": str(fleet.bob_iphone)}),
    ):
        assert other.status_code == 200, other.text
        assert other.json() == body


async def test_the_enrollment_id_is_matched_exactly(
    api_client: ApiClientFactory, world: World, fleet: Fleet
) -> None:
    client = await api_client(og_id=world.acme)
    for near in (BOB_ENROLLMENT_ID.lower(), BOB_ENROLLMENT_ID[:-1], f" {BOB_ENROLLMENT_ID}"):
        body = assert_error(await client.get(DEVICES, params={"searchby": "Udid", "id": near}), 404)
        assert (body["errorCode"], body["message"]) == (5061, "Device not found for this request.")


async def test_extended_properties_say_user_enrolled_and_user_based_licences(
    api_client: ApiClientFactory, world: World, fleet: Fleet
) -> None:
    client = await api_client(og_id=world.acme)
    for device_id in (fleet.bob_iphone, fleet.carol_placeholder, fleet.bob_abandoned):
        response = await client.get(f"{DEVICES}/{device_id}/extendedproperties")
        assert response.status_code == 200, response.text
        assert response.json() == {"ExtendedProperties": [
            {"Name": "IsUserEnrolled", "Value": "true"},
            {"Name": "LicenseTypeEligibility", "Value": "2"},
        ]}
    corporate = await client.get(f"{DEVICES}/{fleet.corporate_ipad}/extendedproperties")
    assert corporate.json()["ExtendedProperties"] == [
        {"Name": "IsUserEnrolled", "Value": "false"}, {"Name": "LicenseTypeEligibility", "Value": "1"}]


async def test_a_user_enrolled_device_is_employee_owned_and_user_licensed_whatever_its_row_says(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    odd = await add_device(session, world.eng, world.bob, ownership="C", license_type_eligibility=1)
    await session.commit()
    client = await api_client(og_id=world.acme)
    body = (await client.get(f"{DEVICES}/{odd.id}")).json()
    assert (body["Ownership"], body["LicenseTypeEligibility"]) == ("E", 2)
    props = (await client.get(f"{DEVICES}/{odd.id}/extendedproperties")).json()
    assert props["ExtendedProperties"][1] == {"Name": "LicenseTypeEligibility", "Value": "2"}
    found = await client.get(f"{DEVICES}/search", params={"ownership": "C"})
    assert odd.id not in [d["Id"]["Value"] for d in found.json()["Devices"]]
    found = await client.get(f"{DEVICES}/search", params={"ownership": "E", "user": "bob"})
    assert odd.id in [d["Id"]["Value"] for d in found.json()["Devices"]]


async def test_a_placeholder_before_its_first_check_in_has_an_empty_udid(
    api_client: ApiClientFactory, world: World, fleet: Fleet
) -> None:
    client = await api_client(og_id=world.acme)
    body = (await client.get(f"{DEVICES}/{fleet.carol_placeholder}")).json()
    assert body["Udid"] == ""
    assert body["EnrollmentStatus"] == "EnrollmentInProgress"
    assert (body["LastSeen"], body["LastEnrolledOn"]) == (None, None)
    assert (body["Model"], body["ModelName"], body["OperatingSystem"]) == ("", "", "")
    assert body["DeviceFriendlyName"] == "carol Apple device"
    assert (body["IsUserEnrolled"], body["Ownership"]) == (True, "E")


async def test_an_abandoned_placeholder_is_listed_marked_and_linked_to_its_successor(
    api_client: ApiClientFactory, world: World, fleet: Fleet, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.acme)
    found = await client.get(f"{DEVICES}/search", params={"user": "bob"})
    assert found.status_code == 200, found.text
    listed = {d["Id"]["Value"]: d for d in found.json()["Devices"]}
    assert set(listed) == {fleet.bob_abandoned, fleet.bob_iphone}
    abandoned = listed[fleet.bob_abandoned]
    successor = await session.get(DeviceRow, fleet.bob_iphone)
    assert successor is not None
    assert abandoned["IsAbandonedPlaceholder"] is True
    assert abandoned["SupersededBy"] == {"Id": {"Value": fleet.bob_iphone}, "Uuid": successor.uuid}
    assert abandoned["EnrollmentStatus"] == "EnrollmentInProgress"
    assert listed[fleet.bob_iphone]["IsAbandonedPlaceholder"] is False


async def test_a_successor_outside_the_callers_groups_is_not_named(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    # Alice restarted enrollment with Engineering's Group ID: her new record is out of Sales' reach.
    newer = await add_device(session, world.eng, world.alice)
    older = await add_device(session, world.sales, world.alice, superseded_by_device_id=newer.id,
                             superseded_at=NOW)
    await session.commit()
    sales = await api_client(og_id=world.sales)
    body = (await sales.get(f"{DEVICES}/{older.id}")).json()
    assert (body["IsAbandonedPlaceholder"], body["SupersededBy"]) == (True, None)
    acme = await api_client(og_id=world.acme)
    assert (await acme.get(f"{DEVICES}/{older.id}")).json()["SupersededBy"]["Id"] == {"Value": newer.id}


async def ids(client: Any, **params: Any) -> list[int]:
    response = await client.get(f"{DEVICES}/search", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["Total"] >= len(body["Devices"])
    return [d["Id"]["Value"] for d in body["Devices"]]


async def test_search_filters(api_client: ApiClientFactory, world: World, fleet: Fleet) -> None:
    client = await api_client(og_id=world.acme)
    f = fleet
    eng = [f.bob_abandoned, f.bob_iphone, f.carol_placeholder, f.corporate_ipad, f.carol_lab_ipad]
    assert await ids(client) == [*eng, f.alice_iphone]
    assert await ids(client, lgid=world.eng) == eng  # with its child Eng Lab
    assert await ids(client, lgid=world.eng_lab) == [f.carol_lab_ipad]
    assert await ids(client, lgid=world.sales) == [f.alice_iphone]
    assert await ids(client, user="CAROL") == [f.carol_placeholder, f.carol_lab_ipad]
    assert await ids(client, user="car") == []
    assert await ids(client, ownership="C") == [f.corporate_ipad]
    assert await ids(client, ownership="e", lgid=world.eng) == [
        f.bob_abandoned, f.bob_iphone, f.carol_placeholder, f.carol_lab_ipad]
    assert await ids(client, ownership="S") == await ids(client, ownership="Undefined") == []
    assert await ids(client, enrollmentstatus="Enrolled") == [
        f.bob_iphone, f.corporate_ipad, f.carol_lab_ipad, f.alice_iphone]
    assert await ids(client, enrollmentstatus="enrollmentinprogress") == [
        f.bob_abandoned, f.carol_placeholder]
    assert await ids(client, enrollmentstatus="Retired") == []
    assert await ids(client, isuserenrolled="false") == [f.corporate_ipad]
    assert len(await ids(client, isuserenrolled="true")) == 5
    assert await ids(client, platform="apple") == await ids(client)
    assert await ids(client, platform="Android") == []
    assert await ids(client, model="ipad") == [f.corporate_ipad, f.carol_lab_ipad]
    since = (NOW - timedelta(hours=2)).replace(tzinfo=None).isoformat()
    assert await ids(client, lastseen=since) == [f.bob_iphone, f.alice_iphone]
    assert await ids(client, seensince=since) == [f.bob_iphone, f.alice_iphone]
    assert await ids(client, lastseen=(NOW - timedelta(days=30)).isoformat(),
                     seensince=since) == [f.bob_iphone, f.alice_iphone]
    elsewhere = (NOW - timedelta(hours=2)).astimezone(timezone(timedelta(hours=5))).isoformat()
    assert await ids(client, lastseen=elsewhere) == [f.bob_iphone, f.alice_iphone]
    assert await ids(client, seenbefore=(NOW - timedelta(days=1)).isoformat()) == [f.carol_lab_ipad]
    assert await ids(client, user="bob", isuserenrolled="true", enrollmentstatus="Enrolled",
                     lgid=world.eng, ownership="E", lastseen=since) == [f.bob_iphone]


async def test_search_orders_and_pages_with_the_total(
    api_client: ApiClientFactory, world: World, fleet: Fleet
) -> None:
    client = await api_client(og_id=world.acme)
    f = fleet
    by_seen = [f.alice_iphone, f.bob_iphone, f.corporate_ipad, f.carol_lab_ipad,
               f.bob_abandoned, f.carol_placeholder]  # never seen: last, in id order
    assert await ids(client, orderby="lastseen", sortorder="DESC") == by_seen
    assert await ids(client, orderby="LastSeen", sortorder="asc") == [
        f.carol_lab_ipad, f.corporate_ipad, f.bob_iphone, f.alice_iphone,
        f.bob_abandoned, f.carol_placeholder]
    seen: list[int] = []
    for page in range(3):
        response = await client.get(f"{DEVICES}/search", params={
            "orderby": "lastseen", "sortorder": "DESC", "page": page, "pagesize": 4})
        body = response.json()
        assert (body["Page"], body["PageSize"], body["Total"]) == (page, 4, 6)
        seen += [d["Id"]["Value"] for d in body["Devices"]]
    assert seen == by_seen


@pytest.mark.parametrize("params", [
    {"orderby": "serialnumber"}, {"sortorder": "UP"}, {"ownership": "Employee"},
    {"enrollmentstatus": "Happy"}, {"lastseen": "yesterday"}, {"isuserenrolled": "perhaps"},
    {"pagesize": 0}, {"page": -1}, {"lgid": 0},
    # A time is an ISO 8601 date-time, as documented: not a Unix time, nor a bare date.
    {"seensince": "0.5"}, {"lastseen": "1700000000"}, {"seenbefore": "2025-01-15"},
    {"lastseen": "2025-01-15T25:00:00"},
])
async def test_search_refuses_bad_filters_with_400(
    api_client: ApiClientFactory, world: World, params: dict[str, Any]
) -> None:
    client = await api_client(og_id=world.acme)
    assert_error(await client.get(f"{DEVICES}/search", params=params), 400)


async def test_times_at_the_ends_of_the_calendar_still_bound_a_search(
    api_client: ApiClientFactory, world: World, fleet: Fleet
) -> None:
    # In UTC these fall before year 1 and after year 9999: the earliest and latest time there is.
    client = await api_client(og_id=world.acme)
    seen = await ids(client, orderby="lastseen", sortorder="DESC", seensince="2000-01-01T00:00:00Z")
    assert await ids(client, orderby="lastseen", sortorder="DESC",
                     seensince="0001-01-01T00:00:00+05:00") == seen
    assert await ids(client, orderby="lastseen", sortorder="DESC",
                     seenbefore="9999-12-31T23:59:59-05:00") == seen


@pytest.mark.parametrize("searchby", ["Macaddress", "Serialnumber", "ImeiNumber", "EasId", "serialnumber"])
async def test_hardware_identifiers_find_nothing_rather_than_being_refused(
    api_client: ApiClientFactory, world: World, fleet: Fleet, searchby: str
) -> None:
    client = await api_client(og_id=world.acme)
    body = assert_error(await client.get(DEVICES, params={"searchby": searchby, "id": "C39XK0AAAAAA"}), 404)
    assert body["errorCode"] == 5061
    assert body["message"].startswith("Device not found for this request.")
    assert "searchby=Udid" in body["message"]


@pytest.mark.parametrize("params", [
    {"searchby": "Name", "id": "x"}, {"searchby": "Udid"}, {"id": BOB_ENROLLMENT_ID},
    {"searchby": "Udid", "id": "x" * 129}, {"searchby": " Udid", "id": "x"},
])
async def test_a_lookup_without_a_valid_searchby_and_id_is_400(
    api_client: ApiClientFactory, world: World, params: dict[str, Any]
) -> None:
    client = await api_client(og_id=world.acme)
    assert_error(await client.get(DEVICES, params=params), 400)


@pytest.mark.parametrize("device_id", ["abc", "0", "99999999999"])
async def test_a_device_id_that_names_no_device_is_404(
    api_client: ApiClientFactory, world: World, device_id: str
) -> None:
    client = await api_client(og_id=world.acme)
    body = assert_error(await client.get(DEVICES, params={"searchby": "DeviceId", "id": device_id}), 404)
    assert body["errorCode"] == 5061


async def test_devices_outside_the_callers_groups_are_404_and_never_listed(
    api_client: ApiClientFactory, world: World, fleet: Fleet
) -> None:
    sales = await api_client(og_id=world.sales)
    for url, params in (
        (f"{DEVICES}/{fleet.bob_iphone}", {}),
        (f"{DEVICES}/{fleet.bob_iphone}/extendedproperties", {}),
        (f"{DEVICES}/{fleet.bob_iphone}/commands", {}),
        (f"{DEVICES}/{fleet.bob_iphone}/messages", {}),
        (f"{DEVICES}/udid/{BOB_ENROLLMENT_ID}", {}),
        (DEVICES, {"searchby": "Udid", "id": BOB_ENROLLMENT_ID}),
        (DEVICES, {"searchby": "DeviceId", "id": str(fleet.bob_iphone)}),
    ):
        assert assert_error(await sales.get(url, params=params), 404)["errorCode"] == 5061
    assert await ids(sales) == [fleet.alice_iphone]
    assert await ids(sales, user="bob") == []
    assert_error(await sales.get(f"{DEVICES}/search", params={"lgid": world.eng}), 404)
    assert_error(await sales.get(f"{DEVICES}/{10**6}"), 404)


async def count_commands(session: AsyncSession) -> int:
    await session.rollback()
    return (await session.scalar(select(func.count()).select_from(CommandRow))) or 0


async def test_an_admin_queues_a_command_and_reads_the_history_newest_first(
    api_client: ApiClientFactory, world: World, fleet: Fleet, session: AsyncSession
) -> None:
    client = await api_client(og_id=world.acme)
    url = f"{DEVICES}/{fleet.bob_iphone}/commands"
    first = await client.post(url, json={"RequestType": "ProfileList"})
    assert first.status_code == 201, first.text
    second = await client.post(url, json={"RequestType": "DeviceInformation",
                                          "Queries": ["OSVersion", "ModelName"]})
    assert second.status_code == 201, second.text
    body = second.json()
    assert set(body) == {"CommandUuid", "RequestType", "Status", "QueuedAt"}
    assert (body["RequestType"], body["Status"]) == ("DeviceInformation", "Queued")
    await session.rollback()
    row = await session.scalar(select(CommandRow).where(CommandRow.uuid == body["CommandUuid"]))
    assert row is not None and row.device_id == fleet.bob_iphone
    assert row.command["Queries"] == ["OSVersion", "ModelName"]

    history = await client.get(url, params={"pagesize": 1})
    assert history.status_code == 200, history.text
    page = history.json()
    assert (page["Page"], page["PageSize"], page["Total"]) == (0, 1, 2)
    [latest] = page["Commands"]
    assert set(latest) == {"CommandUuid", "RequestType", "Status", "QueuedAt", "SentAt",
                           "CompletedAt", "ErrorChain", "QueuedBy"}
    assert latest["CommandUuid"] == body["CommandUuid"]
    assert latest["QueuedBy"].startswith("admin ")
    assert (latest["SentAt"], latest["CompletedAt"], latest["ErrorChain"]) == (None, None, None)
    older = (await client.get(url, params={"page": 1, "pagesize": 1})).json()["Commands"]
    assert [c["CommandUuid"] for c in older] == [first.json()["CommandUuid"]]


async def test_a_read_only_admin_cannot_queue_a_command(
    api_client: ApiClientFactory, world: World, fleet: Fleet, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme, role="read-only")
    before = await snapshot(engine)
    assert_error(await client.post(f"{DEVICES}/{fleet.bob_iphone}/commands",
                                   json={"RequestType": "ProfileList"}), 403)
    assert await snapshot(engine) == before


@pytest.mark.parametrize(("command", "named"), [
    ({"RequestType": "EraseDevice"}, "EraseDevice"),
    ({"RequestType": "ClearPasscode"}, "ClearPasscode"),
    ({"RequestType": "DeviceInformation", "Queries": ["OSVersion", "SerialNumber"]}, "SerialNumber"),
])
async def test_a_command_user_enrollment_forbids_is_422_naming_it_and_queues_nothing(
    api_client: ApiClientFactory, world: World, fleet: Fleet, engine: AsyncEngine,
    command: dict[str, Any], named: str,
) -> None:
    client = await api_client(og_id=world.acme)
    before = await snapshot(engine)
    response = await client.post(f"{DEVICES}/{fleet.bob_iphone}/commands", json=command)
    body = assert_error(response, 422)
    assert body["errorCode"] == 1030
    assert command["RequestType"] in body["message"] and named in body["message"]
    assert await snapshot(engine) == before


async def test_an_unknown_command_is_400_and_keys_that_do_not_fit_it_are_422(
    api_client: ApiClientFactory, world: World, fleet: Fleet, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme)
    before = await snapshot(engine)
    url = f"{DEVICES}/{fleet.corporate_ipad}/commands"
    unknown = await client.post(url, json={"RequestType": "MakeCoffee"})
    assert "RequestType" in assert_error(unknown, 400)["message"]
    # The document names the request types; each command's own keys are Apple's, checked per type.
    for command in ({"RequestType": "ProfileList", "Sugar": 2},
                    {"RequestType": "DeviceInformation", "Queries": ["OS\x00Version"]}):
        assert assert_error(await client.post(url, json=command), 422)["errorCode"] == 1031
    assert await snapshot(engine) == before


async def test_commands_wait_until_the_device_is_enrolled(
    api_client: ApiClientFactory, world: World, fleet: Fleet, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme)
    before = await snapshot(engine)
    for device_id in (fleet.carol_placeholder, fleet.bob_abandoned):
        response = await client.post(f"{DEVICES}/{device_id}/commands", json={"RequestType": "ProfileList"})
        assert "EnrollmentInProgress" in assert_error(response, 409)["message"]
    assert await snapshot(engine) == before


@pytest.mark.parametrize("payload", [
    {}, {"RequestType": ""}, {"RequestType": "Device Information"}, {"RequestType": 5},
    {"RequestType": "deviceinformation"},
])
async def test_a_command_without_a_plain_request_type_is_400(
    api_client: ApiClientFactory, world: World, fleet: Fleet, engine: AsyncEngine, payload: dict[str, Any]
) -> None:
    client = await api_client(og_id=world.acme)
    before = await snapshot(engine)
    assert_error(await client.post(f"{DEVICES}/{fleet.bob_iphone}/commands", json=payload), 400)
    assert await snapshot(engine) == before


async def test_messages_show_xml_as_text_and_binary_plists_as_base64_newest_first(
    api_client: ApiClientFactory, world: World, fleet: Fleet, session: AsyncSession
) -> None:
    xml = plistlib.dumps({"MessageType": "Authenticate", "EnrollmentID": BOB_ENROLLMENT_ID})
    binary = plistlib.dumps({"Status": "Idle"}, fmt=plistlib.FMT_BINARY)
    session.add_all([
        DeviceMessageRow(device_id=fleet.bob_iphone, channel="checkin", message_type="Authenticate",
                         raw=xml, received_at=NOW - timedelta(minutes=2)),
        DeviceMessageRow(device_id=fleet.bob_iphone, channel="connect", message_type="Idle",
                         command_uuid=None, raw=binary, received_at=NOW - timedelta(minutes=1)),
        DeviceMessageRow(device_id=fleet.alice_iphone, channel="connect", message_type="Idle",
                         raw=binary, received_at=NOW),
    ])
    await session.commit()
    client = await api_client(og_id=world.acme)
    response = await client.get(f"{DEVICES}/{fleet.bob_iphone}/messages")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["Page"], body["PageSize"], body["Total"]) == (0, 500, 2)
    idle, authenticate = body["Messages"]
    assert (idle["Channel"], idle["MessageType"], idle["PlistEncoding"]) == ("connect", "Idle", "base64")
    assert plistlib.loads(base64.b64decode(idle["Plist"])) == {"Status": "Idle"}
    assert (authenticate["Channel"], authenticate["PlistEncoding"]) == ("checkin", "xml")
    assert authenticate["Plist"] == xml.decode()
    assert authenticate["ReceivedAt"] == (NOW - timedelta(minutes=2)).replace(tzinfo=None).isoformat(
        timespec="milliseconds")
