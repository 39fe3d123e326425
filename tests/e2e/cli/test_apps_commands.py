"""`quince apps`: build a catalog, assign apps, read a device's app statuses with their reasons,
and install a purchased app on demand."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.app_statuses import DeviceAppStatus
from quince.services.apps import catalog as apps
from quince.services.directory import og_settings, org_groups, user_groups, users
from quince.services.scope import Scope
from quince.store.models import DeviceRow
from tests.e2e.cli.conftest import Cli

ENROLLMENT_ID = "9A1B2C3D-4E5F-4A6B-8C7D-0E1F2A3B4C5D"


async def _tenant(session: AsyncSession, scope: Scope) -> int:
    """Acme (UE enabled) with maria, in user group Field, and her enrolled user-enrolled iPhone."""
    acme = await org_groups.create(session, scope, scope.og_id, name="Acme", group_id="acme",
                                   og_type="Customer")
    await og_settings.override(session, scope, acme.id, "user_enrollment_enabled", True)
    maria = await users.add(session, scope, username="maria", email="maria@acme.example", og_id=acme.id)
    field = await user_groups.create(session, scope, name="Field", og_id=acme.id)
    await user_groups.add_member(session, scope, field.id, maria.id)
    row = DeviceRow(og_id=acme.id, enrollment_user_id=maria.id, udid=ENROLLMENT_ID,
                    enrollment_status="Enrolled", ownership="E", is_user_enrolled=True,
                    license_type_eligibility=2)
    session.add(row)
    await session.commit()
    return row.id


async def test_apps_of_each_kind_are_added_and_listed(cli: Cli, session: AsyncSession, scope: Scope) -> None:
    await _tenant(session, scope)
    public = await cli.json("apps", "add-public", "Notes", "com.example.notes", "--adam-id", "361309726",
                            "--group-id", "acme")
    internal = await cli.json("apps", "add-internal", "Tool", "com.acme.tool", "--group-id", "acme",
                              "--manifest-url", "https://apps.acme.example/tool.plist")
    bought = await cli.json("apps", "add-purchased", "Work Mail", "com.acme.mail", "--adam-id", "2848",
                            "--group-id", "acme", "--licenses", "40", "--device-licensing")
    assert (public["AppType"], internal["AppType"], bought["AppType"]) == ("Public", "Internal", "Purchased")
    assert (bought["Purchased"], bought["Available"], bought["DeviceBasedLicensingEnabled"]) == (40, 40, True)
    listed = await cli.json("apps", "list", "--group-id", "acme")
    assert [a["ApplicationName"] for a in listed] == ["Notes", "Tool", "Work Mail"]
    assert [a["Id"] for a in await cli.json("apps", "list", "--kind", "purchased")] == [bought["Id"]]
    table = (await cli.ok("apps", "list")).stdout
    assert "com.acme.mail" in table and "device-based enabled" in table
    message = await cli.fails("apps", "add-internal", "Bad", "com.acme.bad", "--group-id", "acme",
                              "--manifest-url", "http://apps.acme.example/bad.plist")
    assert "must be an https:// URL" in message


async def test_apps_are_assigned_to_user_groups_and_ogs(
    cli: Cli, session: AsyncSession, scope: Scope
) -> None:
    await _tenant(session, scope)
    await cli.ok("apps", "add-purchased", "Work Mail", "com.acme.mail", "--adam-id", "2848",
                 "--group-id", "acme")
    to_group = await cli.json("apps", "assign", "com.acme.mail", "--user-group", "Field")
    to_og = await cli.json("apps", "assign", "com.acme.mail", "--group-id", "acme", "--on-demand")
    assert (to_group["TargetName"], to_group["Mode"]) == ("Field", "Automatic")
    assert (to_og["TargetKind"], to_og["Mode"]) == ("OrganizationGroup", "OnDemand")
    listed = await cli.json("apps", "assignments", "com.acme.mail")
    assert [a["Id"] for a in listed] == [to_group["Id"], to_og["Id"]]
    assert "Give either --user-group or --group-id" in await cli.fails("apps", "assign", "com.acme.mail")
    again = await cli.fails("apps", "assign", "com.acme.mail", "--user-group", "Field")
    assert "already assigned" in again
    await cli.ok("apps", "unassign", "com.acme.mail", str(to_og["Id"]))
    assert len(await cli.json("apps", "assignments", "com.acme.mail")) == 1


async def test_a_devices_app_statuses_are_shown_with_their_reasons(
    cli: Cli, session: AsyncSession, scope: Scope
) -> None:
    device_id = await _tenant(session, scope)
    public = await cli.json("apps", "add-public", "Notes", "com.example.notes", "--adam-id", "361309726",
                            "--group-id", "acme")
    await apps.set_device_app_status(
        session, device_id, public["Id"], DeviceAppStatus.NOT_SUPPORTED,
        "Public App Store apps cannot be installed on a user-enrolled device; assign the app "
        "through Apps and Books (user-based licence) instead.")
    await session.commit()
    [status] = await cli.json("apps", "device", ENROLLMENT_ID)
    assert (status["ApplicationIdentifier"], status["Status"], status["LicenseType"]) == (
        "com.example.notes", "NotSupported", None)
    table = " ".join((await cli.ok("apps", "device", str(device_id))).stdout.split())
    assert "NotSupported" in table and "user-enrolled device" in table


async def test_a_purchased_app_is_installed_on_demand_with_a_user_licence(
    cli: Cli, session: AsyncSession, scope: Scope
) -> None:
    await _tenant(session, scope)
    await cli.ok("apps", "add-purchased", "Work Mail", "com.acme.mail", "--adam-id", "2848",
                 "--group-id", "acme", "--device-licensing")
    [status] = await cli.json("apps", "install", "com.acme.mail", "--device", ENROLLMENT_ID)
    assert status["LicenseType"] == "User"
    [again] = await cli.json("apps", "install", "com.acme.mail", "--user", "maria")
    assert again["DeviceId"] == status["DeviceId"]
    await cli.ok("apps", "add-public", "Notes", "com.example.notes", "--adam-id", "3613",
                 "--group-id", "acme")
    assert "was not found" in await cli.fails("apps", "install", "com.example.notes", "--user", "maria")
    assert "Give either --device or --user" in await cli.fails("apps", "install", "com.acme.mail")
