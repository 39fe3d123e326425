"""User Enrollment with a simulated iOS 18 iPhone, end to end over HTTP: the placeholder record
becomes the enrolled device (DESIGN.md rules 2-4, 9), and an abandoned enrollment stays listed."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.enrollment.sessions import SessionStatus
from quince.store.models import DeviceRow, EnrollmentSessionRow
from tests.e2e.mdm.conftest import MARIA, NewDevice, Tenant, find_by_udid


async def test_a_completed_enrollment_turns_the_placeholder_into_an_enrolled_user_enrolled_device(
    new_device: NewDevice, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
) -> None:
    iphone = new_device()
    result = await iphone.enroll()

    assert result.outcome == "enrolled"
    assert result.managed_apple_id == "maria@appleid.acme.example"
    enrollment_id = result.enrollment_id
    assert enrollment_id is not None
    found = await find_by_udid(api, enrollment_id)
    assert found["Udid"] == enrollment_id
    assert found["EnrollmentStatus"] == "Enrolled"
    assert found["Ownership"] == "E"
    assert found["IsUserEnrolled"] is True
    assert found["LicenseTypeEligibility"] == 2
    assert (found["SerialNumber"], found["Imei"], found["MacAddress"]) == ("", "", "")
    assert found["Model"] == "iPhone16,2" and found["OperatingSystem"] == "18.2.1"
    assert found["UserName"] == "maria"
    assert found["LocationGroupId"]["Id"]["Value"] == tenant.acme

    extended = await api.get(f"/API/mdm/devices/{found['Id']['Value']}/extendedproperties")
    values = {p["Name"]: p["Value"] for p in extended.json()["ExtendedProperties"]}
    assert values["IsUserEnrolled"] == "true" and values["LicenseTypeEligibility"] == "2"

    # The same record the sign-in created: one device for Maria, the enrollment's own.
    session.expire_all()
    mine = select(DeviceRow).where(DeviceRow.enrollment_user_id == tenant.maria)
    rows = (await session.scalars(mine)).all()
    enrollment = await session.scalar(select(EnrollmentSessionRow))
    assert enrollment is not None and enrollment.status == SessionStatus.COMPLETED.value
    assert [r.id for r in rows] == [enrollment.device_id] == [found["Id"]["Value"]]
    # Rule 3: the hardware identifiers the iPhone knows never reach the record.
    for secret in (iphone.iphone.facts.udid, iphone.iphone.facts.serial_number, iphone.iphone.facts.imei):
        assert secret not in repr(found)
        assert secret not in repr(rows[0].__dict__)


async def test_aborting_after_sign_in_and_starting_again_keeps_the_abandoned_placeholder_linked(
    new_device: NewDevice, api: httpx.AsyncClient, tenant: Tenant
) -> None:
    first = await new_device().enroll(abort_after_sign_in=True)
    assert first.outcome == "aborted_after_sign_in" and first.enrollment_id is None
    assert [s.name for s in first.steps][-1] == "sign_in.submit"

    second = await new_device().enroll()
    assert second.enrollment_id is not None
    enrolled = await find_by_udid(api, second.enrollment_id)

    listed = await api.get("/API/mdm/devices/search", params={"user": "maria"})
    assert listed.status_code == 200, listed.text
    devices = {d["Id"]["Value"]: d for d in listed.json()["Devices"]}
    assert len(devices) == 2
    (abandoned,) = [d for d in devices.values() if d["Id"]["Value"] != enrolled["Id"]["Value"]]
    assert abandoned["IsAbandonedPlaceholder"] is True
    assert abandoned["EnrollmentStatus"] == "EnrollmentInProgress"
    assert abandoned["Udid"] == ""
    assert abandoned["SupersededBy"]["Id"]["Value"] == enrolled["Id"]["Value"]
    assert enrolled["IsAbandonedPlaceholder"] is False and enrolled["SupersededBy"] is None
    assert MARIA.email == abandoned["UserEmailAddress"]
