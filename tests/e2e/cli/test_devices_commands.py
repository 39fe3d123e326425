"""`quince devices`: find a user-enrolled device by its Enrollment ID, queue a command, see history."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.directory import og_settings, org_groups, users
from quince.services.scope import Scope
from quince.store.models import DeviceRow
from tests.e2e.cli.conftest import Cli

ENROLLMENT_ID = "5C7B1F0E-2D4A-4B8E-9C3D-1A2B3C4D5E6F"


async def _device(session: AsyncSession, scope: Scope) -> int:
    acme = await org_groups.create(session, scope, scope.og_id, name="Acme", group_id="acme",
                                   og_type="Customer")
    await og_settings.override(session, scope, acme.id, "user_enrollment_enabled", True)
    maria = await users.add(session, scope, username="maria", email="maria@acme.example", og_id=acme.id)
    row = DeviceRow(og_id=acme.id, enrollment_user_id=maria.id, udid=ENROLLMENT_ID,
                    enrollment_status="Enrolled", ownership="E", is_user_enrolled=True,
                    license_type_eligibility=2, os_version="18.2.1")
    session.add(row)
    await session.commit()
    return row.id


async def test_a_user_enrolled_device_is_shown_by_its_enrollment_id(
    cli: Cli, session: AsyncSession, scope: Scope
) -> None:
    device_id = await _device(session, scope)
    shown = await cli.json("devices", "show", ENROLLMENT_ID)
    assert shown["Id"] == device_id
    assert shown["Udid"] == ENROLLMENT_ID
    assert shown["ExtendedProperties"] == {"IsUserEnrolled": "true", "LicenseTypeEligibility": "2"}
    listed = await cli.json("devices", "list", "--user", "maria")
    assert [d["Id"] for d in listed] == [device_id]


async def test_a_command_is_queued_and_listed_in_the_history(
    cli: Cli, session: AsyncSession, scope: Scope
) -> None:
    device_id = await _device(session, scope)
    queued = await cli.json("devices", "command", str(device_id), "DeviceInformation",
                            "--keys", '{"Queries": ["OSVersion"]}')
    assert (queued["RequestType"], queued["Status"]) == ("DeviceInformation", "Queued")
    history = await cli.json("devices", "commands", ENROLLMENT_ID)
    assert [c["CommandUuid"] for c in history] == [queued["CommandUuid"]]


async def test_a_command_user_enrollment_forbids_is_refused_naming_it(
    cli: Cli, session: AsyncSession, scope: Scope
) -> None:
    await _device(session, scope)
    message = await cli.fails("devices", "command", ENROLLMENT_ID, "EraseDevice")
    assert "EraseDevice is not allowed on a user-enrolled device" in message
    assert await cli.json("devices", "commands", ENROLLMENT_ID) == []
    assert "--keys is not valid JSON" in await cli.fails("devices", "command", ENROLLMENT_ID,
                                                          "ProfileList", "--keys", "{nope")


async def test_an_enterprise_wipe_asks_first_naming_the_device_and_its_user(
    cli: Cli, session: AsyncSession, scope: Scope
) -> None:
    device_id = await _device(session, scope)
    declined = await cli("devices", "wipe", ENROLLMENT_ID, "--enterprise", input="n\n")
    assert declined.exit_code == 1
    assert f"Enterprise Wipe device {device_id} (maria Apple device 18.2.1, Enrolled) of user maria?" \
        in " ".join(declined.output.split())
    assert "Nothing was done." in declined.stderr
    assert await cli.json("devices", "commands", ENROLLMENT_ID) == []

    confirmed = await cli.ok("devices", "wipe", ENROLLMENT_ID, "--enterprise", input="y\n")
    assert "EnterpriseWipePending" in confirmed.stdout
    history = await cli.json("devices", "commands", ENROLLMENT_ID)
    assert [(c["RequestType"], c["QueuedBy"]) for c in history] == [("RemoveProfile", "local operator")]
    assert (await cli.json("devices", "show", ENROLLMENT_ID))["EnrollmentStatus"] == "EnterpriseWipePending"


async def test_a_wipe_without_enterprise_is_refused_because_user_enrollment_forbids_erasing(
    cli: Cli, session: AsyncSession, scope: Scope
) -> None:
    await _device(session, scope)
    assert "forbids erasing a device" in await cli.fails("devices", "wipe", ENROLLMENT_ID, "--yes")
    wiped = await cli.json("devices", "wipe", ENROLLMENT_ID, "--enterprise", "--yes")
    assert (wiped["Status"], wiped["RequestedBy"]) == ("Queued", "local operator")
    history = await cli.json("devices", "commands", ENROLLMENT_ID)
    assert [c["RequestType"] for c in history] == ["RemoveProfile"]
