"""Enterprise Wipe and Workspace ONE's command names end to end: queued through the REST API as
Workspace ONE scripts send them, received by a simulated user-enrolled iPhone at its next connect,
and the device's CheckOut unenrolling it."""

from __future__ import annotations

import httpx
import pytest

from quince.simulator import NotEnrolled, SimulatedDevice
from tests.e2e.mdm.conftest import NewDevice, find_by_udid, history

DEVICES = "/API/mdm/devices"
MDM_PROFILE = "org.quince.enrollment.enrollment"


async def enrolled(new_device: NewDevice, api: httpx.AsyncClient) -> tuple[SimulatedDevice, int]:
    iphone = new_device()
    result = await iphone.enroll()
    assert result.enrollment_id is not None
    return iphone, int((await find_by_udid(api, result.enrollment_id))["Id"]["Value"])


async def status_of(api: httpx.AsyncClient, device_id: int) -> str:
    found = await api.get(f"{DEVICES}/{device_id}")
    assert found.status_code == 200, found.text
    status: str = found.json()["EnrollmentStatus"]
    return status


async def test_an_enterprise_wipe_removes_the_enrollment_profile_at_the_next_connect_and_unenrolls_the_device(
    new_device: NewDevice, api: httpx.AsyncClient
) -> None:
    iphone, device_id = await enrolled(new_device, api)

    wiped = await api.post(f"{DEVICES}/{device_id}/commands", params={"command": "EnterpriseWipe"})

    assert (wiped.status_code, wiped.content) == (202, b"")
    assert await status_of(api, device_id) == "EnterpriseWipePending"
    (queued,) = await history(api, device_id)
    assert (queued["RequestType"], queued["Status"]) == ("RemoveProfile", "Queued")
    assert queued["QueuedBy"]  # the admin who asked
    session = await iphone.connect()
    assert [(e.request_type, e.command["Identifier"]) for e in session.exchanges] == [
        ("RemoveProfile", MDM_PROFILE)]
    assert not iphone.enrolled and iphone.iphone.managed_apps == {}
    assert await status_of(api, device_id) == "Unenrolled"
    with pytest.raises(NotEnrolled):
        await iphone.connect()
    # The record stays (Unenrolled) until someone deletes it; then it is gone.
    deleted = await api.delete(f"{DEVICES}/{device_id}")
    assert deleted.status_code == 204, deleted.text
    assert (await api.get(f"{DEVICES}/{device_id}")).status_code == 404


async def test_an_enrolled_device_is_not_deleted_until_it_has_been_wiped(
    new_device: NewDevice, api: httpx.AsyncClient
) -> None:
    iphone, device_id = await enrolled(new_device, api)

    refused = await api.delete(f"{DEVICES}/{device_id}")

    assert refused.status_code == 409
    assert "Enterprise Wipe" in refused.json()["message"]
    again = await api.post(f"{DEVICES}/{device_id}/commands", params={"command": "enterprisewipe"})
    assert again.status_code == 202
    assert (await api.delete(f"{DEVICES}/{device_id}")).status_code == 409  # pending: still managed
    # Asking twice queues one removal.
    twice = await api.post(f"{DEVICES}/{device_id}/commands", json={"command": "EnterpriseWipe"})
    assert twice.status_code == 202
    assert [c["RequestType"] for c in await history(api, device_id)] == ["RemoveProfile"]
    await iphone.connect()
    assert (await api.delete(f"{DEVICES}/{device_id}")).status_code == 204


async def test_workspace_one_command_names_reach_the_device_as_the_apple_commands_they_mean(
    new_device: NewDevice, api: httpx.AsyncClient
) -> None:
    iphone, device_id = await enrolled(new_device, api)
    assert iphone.enrollment_id is not None
    by_udid = await api.post(f"{DEVICES}/commands", params=[
        ("command", "SyncDevice"), ("searchBy", "Udid"), ("id", iphone.enrollment_id)])
    assert by_udid.status_code == 202, by_udid.text
    locked = await api.post(f"{DEVICES}/{device_id}/commands?command=LockDevice",
                            headers={"Content-Type": "application/json", "Content-Length": "0"})
    assert locked.status_code == 202, locked.text
    security = await api.post(f"{DEVICES}/{device_id}/commands", json={"command": "SecurityInfo"})
    assert security.status_code == 202, security.text

    session = await iphone.connect()

    assert [(e.request_type, e.status) for e in session.exchanges] == [
        ("DeviceInformation", "Acknowledged"), ("InstalledApplicationList", "Acknowledged"),
        ("ManagedApplicationList", "Acknowledged"), ("DeviceLock", "Acknowledged"),
        ("SecurityInfo", "Acknowledged")]
    info = await api.get(f"{DEVICES}/{device_id}/security")
    assert info.status_code == 200, info.text
    body = info.json()
    assert (body["HardwareEncryptionCaps"], body["BlockLevelEncryption"], body["FileLevelEncryption"]) == (
        3, True, True)
    assert body["IsPasscodeCompliant"] is True
    # User Enrollment never tells whether a passcode is set: null, never a guess.
    assert (body["IsPasscodePresent"], body["IsPasscodeCompliantWithProfiles"]) == (None, None)
    assert body["SecurityInfoReportedOn"] is not None and body["IsUserEnrolled"] is True
    by_alternate_id = await api.get(f"{DEVICES}/security",
                                    params={"searchby": "Udid", "id": iphone.enrollment_id})
    assert by_alternate_id.json() == body


async def test_a_bulk_enterprise_wipe_reports_each_device_it_could_not_wipe(
    new_device: NewDevice, api: httpx.AsyncClient
) -> None:
    first, first_id = await enrolled(new_device, api)
    _second, second_id = await enrolled(new_device, api)

    answer = await api.post(
        f"{DEVICES}/commands/bulk", params={"command": "EnterpriseWipe", "searchby": "DeviceId"},
        json={"BulkValues": {"Value": [str(first_id), str(second_id), "999999"]}},
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["TotalItems"], body["AcceptedItems"], body["FailedItems"]) == (3, 2, 1)
    assert body["Faults"]["Fault"] == [{"ItemValue": "999999", "ErrorCode": 5061,
                                        "Message": "Device not found for this request."}]
    assert await status_of(api, second_id) == "EnterpriseWipePending"
    await first.connect()
    assert await status_of(api, first_id) == "Unenrolled"
