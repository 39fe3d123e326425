"""Commands end to end: queued through the REST API, delivered when the simulated iPhone connects,
answered as a user-enrolled iPhone does, and recorded (status, ErrorChain, inventory)."""

from __future__ import annotations

import base64
import plistlib
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.simulator import NotEnrolled, SimulatedDevice
from quince.store.models import DeviceRow
from tests.e2e.mdm.conftest import NewDevice, find_by_udid, history, queue

HUB = 338761996  # the companion app, pushed as a managed Apps and Books app (rule 5)


async def enrolled(
    new_device: NewDevice, api: httpx.AsyncClient, **options: Any
) -> tuple[SimulatedDevice, int]:
    iphone = new_device(**options)
    result = await iphone.enroll()
    assert result.enrollment_id is not None
    found = await find_by_udid(api, result.enrollment_id)
    return iphone, int(found["Id"]["Value"])


async def inventory(session: AsyncSession, device_id: int) -> dict[str, Any]:
    session.expire_all()
    row = await session.get(DeviceRow, device_id)
    assert row is not None
    return dict(row.inventory or {})


@pytest.mark.parametrize(("request_type", "keys"), [
    ("EraseDevice", {}),
    ("DeviceInformation", {"Queries": ["OSVersion", "SerialNumber"]}),
    ("InstallApplication", {"iTunesStoreID": HUB, "Options": {"PurchaseMethod": 1},
                            "ChangeManagementState": "Managed"}),
])
async def test_a_command_forbidden_under_user_enrollment_is_refused_and_never_reaches_the_device(
    new_device: NewDevice, api: httpx.AsyncClient, request_type: str, keys: dict[str, Any]
) -> None:
    iphone, device_id = await enrolled(new_device, api)

    refused = await queue(api, device_id, request_type, **keys)

    assert refused.status_code == 422, refused.text
    assert request_type in refused.json()["message"]
    assert await history(api, device_id) == []
    session = await iphone.connect()
    assert (session.exchanges, session.messages) == ([], 1)
    assert iphone.received == []


async def test_not_now_puts_the_command_back_until_a_later_connect_acknowledges_it(
    new_device: NewDevice, api: httpx.AsyncClient
) -> None:
    iphone, device_id = await enrolled(new_device, api, not_now={"DeviceInformation": 1})
    queued = await queue(api, device_id, "DeviceInformation", Queries=["OSVersion", "BatteryLevel"])
    assert queued.status_code == 201, queued.text
    command_uuid = queued.json()["CommandUuid"]

    busy = await iphone.connect()
    assert [(e.command_uuid, e.status) for e in busy.exchanges] == [(command_uuid, "NotNow")]
    assert [c["Status"] for c in await history(api, device_id)] == ["NotNow"]

    later = await iphone.connect()
    assert [(e.command_uuid, e.status) for e in later.exchanges] == [(command_uuid, "Acknowledged")]
    assert later.messages == 2  # Idle -> command, Acknowledged -> empty reply
    assert [c["Status"] for c in await history(api, device_id)] == ["Acknowledged"]


async def test_device_information_lands_in_the_inventory_without_hardware_ids(
    new_device: NewDevice, api: httpx.AsyncClient, session: AsyncSession
) -> None:
    honest, honest_id = await enrolled(new_device, api)
    # A device that breaks the rules and reports its UDID, serial number, IMEI, ... anyway.
    leaky, leaky_id = await enrolled(new_device, api, leak_hardware_ids=True)
    for device_id in (honest_id, leaky_id):
        assert (await queue(api, device_id, "DeviceInformation")).status_code == 201
        assert (await queue(api, device_id, "SecurityInfo")).status_code == 201

    for iphone, device_id in ((honest, honest_id), (leaky, leaky_id)):
        session_ = await iphone.connect()
        assert session_.statuses == ["Acknowledged", "Acknowledged"]
        answers = session_.exchanges[0].response["QueryResponses"]
        hardware = iphone.iphone.facts.hardware_identifiers()
        if iphone is honest:
            assert not set(answers) & set(hardware)  # a real UE device never sends them
        stored = await inventory(session, device_id)
        info = stored["DeviceInformation"]
        assert (info["OSVersion"], info["BuildVersion"]) == ("18.2.1", "22C161")
        assert info["ProductName"] == "iPhone16,2"
        assert info["IsSupervised"] is False
        for key, value in hardware.items():
            assert key not in info
            assert str(value) not in repr(stored)
        assert stored["SecurityInfo"]["ManagementStatus"]["IsUserEnrollment"] is True
        assert "PasscodePresent" not in stored["SecurityInfo"]


def _web_clip_profile() -> bytes:
    return plistlib.dumps({
        "PayloadType": "Configuration", "PayloadVersion": 1, "PayloadIdentifier": "com.acme.intranet",
        "PayloadUUID": str(uuid.uuid4()).upper(), "PayloadDisplayName": "Acme intranet",
        "PayloadContent": [{
            "PayloadType": "com.apple.webClip.managed", "PayloadVersion": 1,
            "PayloadIdentifier": "com.acme.intranet.clip", "PayloadUUID": str(uuid.uuid4()).upper(),
            "URL": "https://intranet.acme.example", "Label": "Intranet",
        }],
    })


async def test_a_user_enrolled_iphone_answers_the_commands_user_enrollment_allows(
    new_device: NewDevice, api: httpx.AsyncClient, session: AsyncSession
) -> None:
    iphone, device_id = await enrolled(new_device, api)
    first_round: list[tuple[str, dict[str, Any]]] = [
        ("InstallApplication", {"iTunesStoreID": HUB, "Options": {"PurchaseMethod": 1},
                                "ManagementFlags": 1}),
        ("InstallProfile", {"Payload": base64.b64encode(_web_clip_profile()).decode()}),
        ("ManagedApplicationList", {}),
        ("InstalledApplicationList", {}),
        ("ProfileList", {}),
        ("CertificateList", {}),
        ("DeviceLock", {}),
    ]
    for request_type, keys in first_round:
        assert (await queue(api, device_id, request_type, **keys)).status_code == 201, request_type

    answered = await iphone.connect()

    assert answered.commands == [r for r, _ in first_round]  # first in, first out
    assert answered.statuses == ["Acknowledged"] * len(first_round)
    assert answered.exchanges[0].response["Identifier"] == "com.air-watch.agent"
    stored = await inventory(session, device_id)
    assert list(stored["ManagedApplicationList"]) == ["com.air-watch.agent"]
    # Managed apps only: the person's own apps never show.
    assert [a["Identifier"] for a in stored["InstalledApplicationList"]] == ["com.air-watch.agent"]
    assert "net.whatsapp.WhatsApp" not in repr(stored)
    assert {p["PayloadIdentifier"] for p in stored["ProfileList"]} >= {"com.acme.intranet"}
    assert [c["IsIdentity"] for c in stored["CertificateList"]] == [True]
    assert iphone.iphone.locked == 1

    second_round = [
        ("RemoveApplication", {"Identifier": "com.air-watch.agent"}),
        ("RemoveProfile", {"Identifier": "com.acme.intranet"}),
        ("RemoveApplication", {"Identifier": "com.air-watch.agent"}),  # not managed any more
        ("ManagedApplicationList", {}),
    ]
    for request_type, keys in second_round:
        assert (await queue(api, device_id, request_type, **keys)).status_code == 201, request_type
    answered = await iphone.connect()
    assert answered.statuses == ["Acknowledged", "Acknowledged", "Error", "Acknowledged"]
    assert (await inventory(session, device_id))["ManagedApplicationList"] == {}
    failed = next(c for c in await history(api, device_id) if c["Status"] == "Error")
    (error,) = failed["ErrorChain"]
    assert error["ErrorDomain"] == "MCMDMErrorDomain" and "not managed" in error["USEnglishDescription"]


async def test_check_out_unenrolls_the_device_and_keeps_its_record(
    new_device: NewDevice, api: httpx.AsyncClient
) -> None:
    iphone, device_id = await enrolled(new_device, api)
    enrollment_id = iphone.enrollment_id
    assert enrollment_id is not None

    await iphone.checkout()

    found = await find_by_udid(api, enrollment_id)
    assert found["Id"]["Value"] == device_id
    assert found["EnrollmentStatus"] == "Unenrolled"
    assert found["IsUserEnrolled"] is True and found["Ownership"] == "E"
    refused = await queue(api, device_id, "DeviceInformation")
    assert refused.status_code == 409, refused.text
    with pytest.raises(NotEnrolled):
        await iphone.connect()
