"""Workspace ONE's device endpoints beyond reading a record: deleting a record, moving a device to
another organization group, its security information, the device counts, and the command form
`?command=<Name>` (by id, by alternate id, in bulk) with Enterprise Wipe. Every one is scoped to
the caller's organization groups and refused to read-only admins where it changes something."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.domain.app_eligibility import AppKind
from quince.services.apps import catalog as apps
from quince.services.apps.catalog import NewApp
from quince.services.directory import og_settings
from quince.services.scope import Scope
from quince.store.models import CommandRow, DeviceMessageRow, DeviceRow
from tests.fixtures.live_server import ApiClientFactory
from tests.integration.api.support import World, assert_error, snapshot
from tests.integration.api.test_devices import NOW, add_device, enrolled

DEVICES = "/API/mdm/devices"
BOB = "ENR-BOB-IPHONE"
ALICE = "ENR-ALICE"
OLD = "ENR-BOB-OLD"


@dataclass(frozen=True)
class Phones:
    """Engineering: bob's enrolled iPhone (it reported its SecurityInfo), bob's old Unenrolled
    iPhone with a command and a message, carol's placeholder. Sales: alice's enrolled iPhone."""

    bob: int
    bob_old: int
    carol_placeholder: int
    alice: int


@pytest.fixture
async def phones(session: AsyncSession, world: World) -> Phones:
    bob = await add_device(session, world.eng, world.bob, **enrolled(
        NOW - timedelta(hours=1), udid=BOB, product_name="iPhone16,2",
        inventory={"SecurityInfo": {"HardwareEncryptionCaps": 3, "PasscodeCompliant": False}}))
    session.add(CommandRow(device_id=bob.id, request_type="SecurityInfo",
                           command={"RequestType": "SecurityInfo"}, status="Acknowledged",
                           queued_at=NOW - timedelta(hours=2),
                           completed_at=NOW - timedelta(hours=1)))
    old = await add_device(session, world.eng, world.bob, **enrolled(
        NOW - timedelta(days=40), udid=OLD, enrollment_status="Unenrolled"))
    session.add(CommandRow(device_id=old.id, request_type="ProfileList",
                           command={"RequestType": "ProfileList"}, status="Acknowledged",
                           queued_at=NOW - timedelta(days=41)))
    session.add(DeviceMessageRow(device_id=old.id, channel="checkin", message_type="CheckOut",
                                 raw=b"<plist/>", received_at=NOW - timedelta(days=40)))
    placeholder = await add_device(session, world.eng, world.carol)
    alice = await add_device(session, world.sales, world.alice, **enrolled(NOW, udid=ALICE))
    await session.commit()
    return Phones(bob.id, old.id, placeholder.id, alice.id)


async def commands_of(session: AsyncSession, device_id: int) -> list[str]:
    session.expire_all()
    rows = await session.scalars(select(CommandRow.request_type).where(CommandRow.device_id == device_id)
                                 .order_by(CommandRow.id))
    return list(rows)


# --- deleting a record ----------------------------------------------------------------------------


async def test_deleting_an_unenrolled_record_removes_it_with_its_commands_and_messages(
    api_client: ApiClientFactory, world: World, phones: Phones, session: AsyncSession,
) -> None:
    client = await api_client(og_id=world.acme)

    deleted = await client.delete(f"{DEVICES}/{phones.bob_old}")

    assert (deleted.status_code, deleted.content) == (204, b"")
    assert_error(await client.get(f"{DEVICES}/{phones.bob_old}"), 404)
    assert await session.scalar(select(func.count()).select_from(CommandRow)
                                .where(CommandRow.device_id == phones.bob_old)) == 0
    assert await session.scalar(select(func.count()).select_from(DeviceMessageRow)
                                .where(DeviceMessageRow.device_id == phones.bob_old)) == 0


async def test_a_placeholder_is_deleted_by_its_alternate_id_and_an_enrolled_device_is_not(
    api_client: ApiClientFactory, world: World, phones: Phones, engine: AsyncEngine,
) -> None:
    client = await api_client(og_id=world.acme)
    by_id = await client.delete(DEVICES, params={"searchBy": "DeviceId", "id": str(phones.carol_placeholder)})
    assert by_id.status_code == 204, by_id.text

    before = await snapshot(engine)
    refused = assert_error(await client.delete(DEVICES, params={"searchby": "Udid", "id": BOB}), 409)
    assert "Enterprise Wipe" in refused["message"] and "Enrolled" in refused["message"]
    assert_error(await client.delete(DEVICES, params={"searchby": "Serialnumber", "id": "C02X"}), 404)
    assert await snapshot(engine) == before


# --- moving a device ------------------------------------------------------------------------------


async def test_a_device_moves_to_an_organization_group_in_scope_by_id_or_alternate_id(
    api_client: ApiClientFactory, world: World, phones: Phones,
) -> None:
    client = await api_client(og_id=world.acme)

    moved = await client.put(f"{DEVICES}/{phones.bob}/commands/changeorganizationgroup/{world.eng_lab}")

    assert (moved.status_code, moved.content) == (204, b"")
    after = (await client.get(f"{DEVICES}/{phones.bob}")).json()
    assert after["LocationGroupId"]["Id"] == {"Value": world.eng_lab}
    back = await client.post(f"{DEVICES}/commands/changeorganizationgroup",
                             params={"searchby": "Udid", "id": BOB, "ogid": world.eng})
    assert back.status_code == 204, back.text
    assert (await client.get(f"{DEVICES}/{phones.bob}")).json()["LocationGroupName"] == "Engineering"


async def test_a_user_enrolled_device_does_not_move_where_user_enrollment_is_disabled(
    api_client: ApiClientFactory, world: World, phones: Phones, session: AsyncSession, scope: Scope,
    engine: AsyncEngine,
) -> None:
    await og_settings.override(session, scope, world.eng_lab, "user_enrollment_enabled", False)
    await session.commit()
    client = await api_client(og_id=world.acme)
    before = await snapshot(engine)

    refused = assert_error(
        await client.put(f"{DEVICES}/{phones.bob}/commands/changeorganizationgroup/{world.eng_lab}"), 422)

    assert "User Enrollment is not enabled at organization group 'Eng Lab'" in refused["message"]
    assert await snapshot(engine) == before


# --- security information and counts --------------------------------------------------------------


async def test_security_info_shows_what_the_device_reported_and_null_for_what_user_enrollment_hides(
    api_client: ApiClientFactory, world: World, phones: Phones,
) -> None:
    client = await api_client(og_id=world.acme)

    answer = await client.get(f"{DEVICES}/{phones.bob}/security")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["Id"], body["Udid"], body["IsUserEnrolled"]) == ({"Value": phones.bob}, BOB, True)
    assert (body["HardwareEncryptionCaps"], body["BlockLevelEncryption"], body["FileLevelEncryption"]) == (
        3, True, True)
    assert body["IsPasscodeCompliant"] is False
    assert (body["IsPasscodePresent"], body["IsPasscodeCompliantWithProfiles"], body["IsCompromised"]) == (
        None, None, None)
    assert body["SecurityInfoReportedOn"] is not None
    never = (await client.get(f"{DEVICES}/security", params={"searchby": "Udid", "id": ALICE})).json()
    assert {k: v for k, v in never.items() if k not in {"Id", "Uuid", "Udid", "IsUserEnrolled"}} == {
        "SecurityInfoReportedOn": None, "IsCompromised": None, "HardwareEncryptionCaps": None,
        "BlockLevelEncryption": None, "FileLevelEncryption": None, "IsPasscodePresent": None,
        "IsPasscodeCompliant": None, "IsPasscodeCompliantWithProfiles": None}


async def test_device_counts_cover_the_organization_group_and_its_children(
    api_client: ApiClientFactory, world: World, phones: Phones,
) -> None:
    client = await api_client(og_id=world.acme)

    acme = (await client.get(f"{DEVICES}/devicecountinfo", params={"organizationgroupid": world.acme})).json()
    eng = (await client.get(f"{DEVICES}/devicecountinfo", params={"OrganizationGroupId": world.eng})).json()

    assert acme["TotalDevices"] == 4 and acme["Platform"] == {"Apple": 4}
    assert acme["Ownership"] == {"CorporateDedicated": 0, "EmployeeOwned": 4, "CorporateShared": 0,
                                 "Undefined": 0}
    assert eng["TotalDevices"] == 3
    assert {k: v for k, v in eng["EnrollmentStatus"].items() if v} == {
        "Enrolled": 1, "Unenrolled": 1, "EnrollmentInProgress": 1}
    assert eng["EnrollmentStatus"]["EnterpriseWipePending"] == 0
    everything = (await client.get(f"{DEVICES}/devicecountinfo")).json()
    assert everything["TotalDevices"] == 4


# --- the Workspace ONE command form ---------------------------------------------------------------


async def test_the_command_form_answers_202_without_a_body_and_queues_the_apple_commands_meant(
    api_client: ApiClientFactory, world: World, phones: Phones, session: AsyncSession,
) -> None:
    client = await api_client(og_id=world.acme)
    before = await commands_of(session, phones.bob)

    sync = await client.post(f"{DEVICES}/{phones.bob}/commands", params={"command": "syncdevice"})
    query = await client.post(f"{DEVICES}/{phones.bob}/commands?command=DeviceQuery",
                              headers={"Content-Type": "application/json", "Content-Length": "0"})
    lock = await client.post(f"{DEVICES}/{phones.bob}/commands", json={"command": "LockDevice"})
    apple = await client.post(f"{DEVICES}/{phones.bob}/commands", json={"RequestType": "ProfileList"})

    assert [(r.status_code, r.content) for r in (sync, query, lock)] == [(202, b"")] * 3
    assert apple.status_code == 201 and apple.json()["RequestType"] == "ProfileList"
    assert (await commands_of(session, phones.bob))[len(before):] == [
        "DeviceInformation", "InstalledApplicationList", "ManagedApplicationList", "DeviceInformation",
        "DeviceLock", "ProfileList"]


@pytest.mark.parametrize(("name", "apple_name"), [
    ("DeviceWipe", "EraseDevice"), ("ClearPasscode", "ClearPasscode"), ("RestartDevice", "RestartDevice"),
])
async def test_commands_user_enrollment_forbids_are_refused_by_their_workspace_one_names_too(
    api_client: ApiClientFactory, world: World, phones: Phones, engine: AsyncEngine, name: str,
    apple_name: str,
) -> None:
    client = await api_client(og_id=world.acme)
    before = await snapshot(engine)

    sent = await client.post(f"{DEVICES}/{phones.bob}/commands", params={"command": name})

    refused = assert_error(sent, 422)

    assert refused["errorCode"] == 1030 and apple_name in refused["message"]
    assert await snapshot(engine) == before


async def test_an_unknown_command_name_is_400_listing_the_names_quince_answers(
    api_client: ApiClientFactory, world: World, phones: Phones,
) -> None:
    client = await api_client(og_id=world.acme)
    unknown = await client.post(f"{DEVICES}/{phones.bob}/commands", params={"command": "Fly"})
    refused = assert_error(unknown, 400)
    assert "SyncDevice" in refused["message"] and "EnterpriseWipe" in refused["message"]
    unnamed = assert_error(await client.post(f"{DEVICES}/{phones.bob}/commands"), 422)
    assert "?command=" in unnamed["message"]
    both = await client.post(f"{DEVICES}/{phones.bob}/commands", params={"command": "DeviceQuery"},
                             json={"RequestType": "ProfileList"})
    assert_error(both, 422)


async def test_a_bulk_command_reports_each_device_that_cannot_take_it(
    api_client: ApiClientFactory, world: World, phones: Phones, session: AsyncSession,
) -> None:
    client = await api_client(og_id=world.acme)
    values = [str(phones.bob), str(phones.carol_placeholder), "999999", "abc"]

    answer = await client.post(f"{DEVICES}/commands/bulk",
                               params={"command": "DeviceQuery", "searchby": "DeviceId"},
                               json={"BulkValues": {"Value": values}})

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["TotalItems"], body["AcceptedItems"], body["FailedItems"]) == (4, 1, 3)
    assert [(f["ItemValue"], f["ErrorCode"]) for f in body["Faults"]["Fault"]] == [
        (str(phones.carol_placeholder), 1020), ("999999", 5061), ("abc", 5061)]
    assert (await commands_of(session, phones.bob))[-1] == "DeviceInformation"


async def test_an_enterprise_wipe_by_alternate_id_marks_the_device_and_records_who_asked(
    api_client: ApiClientFactory, world: World, phones: Phones, session: AsyncSession,
) -> None:
    client = await api_client(og_id=world.acme)

    wiped = await client.post(f"{DEVICES}/commands",
                              params={"command": "EnterpriseWipe", "searchby": "Udid", "id": BOB})

    assert wiped.status_code == 202, wiped.text
    session.expire_all()
    row = await session.get(DeviceRow, phones.bob)
    assert row is not None and row.enrollment_status == "EnterpriseWipePending"
    command = await session.scalar(select(CommandRow).where(CommandRow.device_id == phones.bob,
                                                            CommandRow.request_type == "RemoveProfile"))
    assert command is not None and command.command["Identifier"] == "org.quince.enrollment.enrollment"
    assert command.queued_by and command.queued_by.startswith("admin 'admin-")
    # A device being wiped takes no other command.
    busy = await client.post(f"{DEVICES}/{phones.bob}/commands", params={"command": "DeviceQuery"})
    assert_error(busy, 409)


# --- scope and roles ------------------------------------------------------------------------------


def _changes(phones: Phones, world: World) -> list[tuple[str, str, dict[str, object], object]]:
    """Every new request that changes something, aimed at bob's iPhone (Engineering)."""
    return [
        ("DELETE", f"{DEVICES}/{phones.bob_old}", {}, None),
        ("DELETE", DEVICES, {"searchby": "Udid", "id": OLD}, None),
        ("PUT", f"{DEVICES}/{phones.bob}/commands/changeorganizationgroup/{world.eng_lab}", {}, None),
        ("POST", f"{DEVICES}/commands/changeorganizationgroup",
         {"searchby": "Udid", "id": BOB, "ogid": world.eng_lab}, None),
        ("POST", f"{DEVICES}/{phones.bob}/commands", {"command": "EnterpriseWipe"}, None),
        ("POST", f"{DEVICES}/commands", {"command": "DeviceQuery", "searchby": "Udid", "id": BOB}, None),
        ("POST", f"{DEVICES}/commands/bulk", {"command": "EnterpriseWipe", "searchby": "DeviceId"},
         {"BulkValues": {"Value": [str(phones.bob)]}}),
    ]


async def _send(client: httpx.AsyncClient, method: str, url: str, params: dict[str, object],
                body: object) -> httpx.Response:
    return await client.request(method, url, params=params, json=body)  # type: ignore[arg-type]


async def test_a_read_only_admin_reads_security_and_counts_but_changes_nothing(
    api_client: ApiClientFactory, world: World, phones: Phones, engine: AsyncEngine,
) -> None:
    client = await api_client(og_id=world.acme, role="read-only")
    before = await snapshot(engine)

    assert (await client.get(f"{DEVICES}/{phones.bob}/security")).status_code == 200
    assert (await client.get(f"{DEVICES}/devicecountinfo")).status_code == 200
    for method, url, params, body in _changes(phones, world):
        assert_error(await _send(client, method, url, params, body), 403)
    assert await snapshot(engine) == before


async def test_devices_and_organization_groups_outside_your_subtree_do_not_exist_for_you(
    api_client: ApiClientFactory, world: World, phones: Phones, engine: AsyncEngine,
) -> None:
    sales = await api_client(og_id=world.sales)
    before = await snapshot(engine)

    for method, url, params, body in _changes(phones, world)[:-1]:
        assert_error(await _send(sales, method, url, params, body), 404)
    bulk = await _send(sales, *_changes(phones, world)[-1])
    assert bulk.json()["Faults"]["Fault"][0]["ErrorCode"] == 5061
    assert_error(await sales.get(f"{DEVICES}/{phones.bob}/security"), 404)
    assert_error(await sales.get(f"{DEVICES}/security", params={"searchby": "Udid", "id": BOB}), 404)
    counts = await sales.get(f"{DEVICES}/devicecountinfo", params={"organizationgroupid": world.eng})
    assert_error(counts, 404)
    # Alice's iPhone is Sales', but Engineering is not: the move is refused.
    move = await sales.put(f"{DEVICES}/{phones.alice}/commands/changeorganizationgroup/{world.eng}")
    assert_error(move, 404)
    assert (await sales.get(f"{DEVICES}/devicecountinfo")).json()["TotalDevices"] == 1
    assert await snapshot(engine) == before


async def test_a_moved_device_gets_the_automatic_apps_of_its_new_organization_group(
    api_client: ApiClientFactory, world: World, phones: Phones, session: AsyncSession, scope: Scope,
) -> None:
    lab_app = await apps.create(session, scope, NewApp(AppKind.PURCHASED, world.eng_lab, "Lab Notes",
                                                       "com.acme.labnotes", "4242", total_licenses=5))
    await apps.assign(session, scope, lab_app.id, "og", world.eng_lab, "automatic")
    await session.commit()
    client = await api_client(og_id=world.acme)
    before = (await client.get(f"{DEVICES}/{phones.bob}/apps")).json()["DeviceApps"]
    assert "com.acme.labnotes" not in {a["ApplicationIdentifier"] for a in before}

    moved = await client.put(f"{DEVICES}/{phones.bob}/commands/changeorganizationgroup/{world.eng_lab}")

    assert moved.status_code == 204, moved.text
    after = {a["ApplicationIdentifier"]: a["Status"]
             for a in (await client.get(f"{DEVICES}/{phones.bob}/apps")).json()["DeviceApps"]}
    assert after["com.acme.labnotes"] == "WaitingForVppUser"
