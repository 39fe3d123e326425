"""The admin console in Chromium at 1280 px: sign in, switch OG, filter devices, open a device
(its commands with results, apps and raw messages), and an out-of-scope address refused;
screenshots for docs/console.md."""

from __future__ import annotations

import os
import plistlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.store.models import AppRow, CommandRow, DeviceAppRow, DeviceMessageRow, DeviceRow
from tests.browser.conftest import console_sign_in, save_screenshot
from tests.integration.console.support import ALICE_ENROLLMENT_ID, Fleet

if os.environ.get("CI") != "true":  # in CI a missing playwright fails the collection instead
    pytest.importorskip("playwright.async_api", reason="playwright is not installed")
from playwright.async_api import Page, expect

pytestmark = pytest.mark.browser
# Fixed times for what the device page shows, so the screenshot does not change from run to run.
EARLIER = datetime(2025, 1, 1, 8, 30, tzinfo=UTC)


async def _history(session: AsyncSession, fleet: Fleet) -> None:
    """Alice's iPhone answered one command, failed another, has two apps and sent messages."""
    def answer(status: str, uuid: str, **fields: object) -> bytes:
        return plistlib.dumps({"Status": status, "CommandUUID": uuid, "EnrollmentID": ALICE_ENROLLMENT_ID,
                               **fields})

    chain = [{"ErrorCode": 12064, "ErrorDomain": "MCMDMErrorDomain",
              "LocalizedDescription": "The request is not supported on User Enrollment."}]
    device = fleet.alice_iphone
    mail = AppRow(og_id=fleet.acme, kind="purchased", name="Work Mail", bundle_id="com.example.mail",
                  adam_id="1")
    maps = AppRow(og_id=fleet.acme, kind="public", name="Maps Plus", bundle_id="com.example.maps",
                  adam_id="2")
    session.add_all([mail, maps])
    await session.flush()
    session.add_all([
        CommandRow(device_id=device, uuid="c-info", request_type="DeviceInformation", status="Acknowledged",
                   command={}, queued_by="console:acme-admin", queued_at=EARLIER, completed_at=EARLIER,
                   result_raw=answer("Acknowledged", "c-info", QueryResponses={"OSVersion": "18.1"})),
        CommandRow(device_id=device, uuid="c-profiles", request_type="ProfileList", status="Error",
                   command={}, queued_by="console:acme-admin", queued_at=EARLIER, completed_at=EARLIER,
                   error_chain=chain, result_raw=answer("Error", "c-profiles", ErrorChain=chain)),
        DeviceAppRow(device_id=device, app_id=mail.id, status="Installed", license_type="user",
                     reason="The device installed the app as a managed app.", updated_at=EARLIER),
        DeviceAppRow(device_id=device, app_id=maps.id, status="NotSupported", updated_at=EARLIER,
                     reason="Public apps are not supported on User Enrollment."),
        DeviceMessageRow(device_id=device, channel="checkin", message_type="TokenUpdate", received_at=EARLIER,
                         raw=plistlib.dumps({"MessageType": "TokenUpdate",
                                             "EnrollmentID": ALICE_ENROLLMENT_ID})),
        DeviceMessageRow(device_id=device, channel="connect", message_type="Acknowledged",
                         command_uuid="c-info", received_at=EARLIER, raw=answer("Acknowledged", "c-info")),
    ])
    await session.commit()


async def test_an_admin_signs_in_switches_og_filters_devices_and_opens_one(
    desktop: Page, fleet: Fleet, session: AsyncSession
) -> None:
    await _history(session, fleet)
    await console_sign_in(desktop, "acme-admin")
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Acme")
    await desktop.get_by_role("link", name="Devices", exact=True).click()
    await expect(desktop.locator("#device-count")).to_have_text("4 devices")
    await desktop.get_by_label("Organization group").select_option(str(fleet.sales))
    await desktop.get_by_role("button", name="Switch").click()
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Devices in Sales")
    await expect(desktop.locator("#device-count")).to_have_text("3 devices")
    await expect(desktop.locator("tr.abandoned")).to_contain_text("Abandoned — replaced by")
    assert await desktop.evaluate("document.documentElement.scrollWidth") <= 1280
    await save_screenshot(desktop, "console-devices.png")
    await desktop.get_by_label("Enrollment status").select_option("Enrolled")
    await desktop.get_by_label("Last seen").select_option("24h")
    await desktop.get_by_role("button", name="Apply filters").click()
    await expect(desktop.locator("#device-count")).to_have_text("1 device")
    await desktop.get_by_role("link", name=f"#{fleet.alice_iphone}", exact=True).click()
    await expect(desktop.get_by_role("heading", level=1)).to_contain_text(f"Device #{fleet.alice_iphone}")
    await expect(desktop.locator(".properties")).to_contain_text("IsUserEnrolled")
    await desktop.get_by_label("Command", exact=True).select_option("SecurityInfo")
    await desktop.get_by_role("button", name="Queue command").click()
    await expect(desktop.locator(".notice-ok")).to_contain_text("was queued")
    await expect(desktop.locator("table.commands")).to_contain_text("SecurityInfo")
    await expect(desktop.locator("table.commands")).to_contain_text("Answered with QueryResponses")
    await expect(desktop.locator(".error-chain")).to_contain_text("MCMDMErrorDomain code 12064")
    await expect(desktop.locator("table.device-apps")).to_contain_text("not supported on User Enrollment")
    await desktop.locator("table.messages summary").first.click()
    await expect(desktop.locator("table.messages pre").first).to_be_visible()
    assert await desktop.evaluate("document.documentElement.scrollWidth") <= 1280
    await desktop.evaluate("document.querySelectorAll('table.commands td:nth-child(4)')"
                           ".forEach(td => td.textContent = '2025-01-01 09:00')")
    await save_screenshot(desktop, "console-device.png")


async def test_an_admin_jumps_to_a_page_and_removes_old_abandoned_placeholders_after_confirming(
    desktop: Page, fleet: Fleet, session: AsyncSession
) -> None:
    await session.execute(insert(DeviceRow), [
        {"og_id": fleet.field, "udid": f"BULK-{n:03d}", "enrollment_status": "Enrolled", "ownership": "C",
         "is_user_enrolled": False, "license_type_eligibility": 0} for n in range(110)
    ])
    old = await session.get(DeviceRow, fleet.alice_abandoned)
    assert old is not None
    old.superseded_at = datetime.now(UTC) - timedelta(days=45)
    await session.commit()
    await console_sign_in(desktop, "acme-admin")
    await desktop.goto(f"/console/devices?og={fleet.acme}&ue=no")
    await expect(desktop.locator("#device-count")).to_have_text("111 devices, page 1 of 3")
    await desktop.get_by_label("Page", exact=True).fill("3")
    await desktop.get_by_role("button", name="Go").click()
    await expect(desktop.locator("#device-count")).to_have_text("111 devices, page 3 of 3")
    await expect(desktop.get_by_label("User-enrolled")).to_have_value("no")
    assert await desktop.evaluate("document.documentElement.scrollWidth") <= 1280
    await desktop.get_by_label("Remove abandoned placeholders older than").fill("30")
    await desktop.get_by_role("button", name="Review removal").click()
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Remove abandoned placeholders")
    await expect(desktop.locator("#abandoned-count")).to_contain_text("1 abandoned placeholder in")
    assert await desktop.evaluate("document.documentElement.scrollWidth") <= 1280
    await desktop.get_by_role("button", name="Remove 1 placeholder").click()
    await expect(desktop.locator(".notice-ok")).to_have_text("Removed 1 abandoned placeholder.")
    session.expire_all()
    await session.rollback()
    assert fleet.alice_abandoned not in set(await session.scalars(select(DeviceRow.id)))


async def test_an_out_of_scope_address_is_refused(desktop: Page, fleet: Fleet) -> None:
    await console_sign_in(desktop, "beta-admin")
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Beta")
    answer = await desktop.goto(f"/console/devices/{fleet.alice_iphone}")
    assert answer is not None and answer.status == 404
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Not found")
    answer = await desktop.goto(f"/console/devices?og={fleet.acme}")
    assert answer is not None and answer.status == 404


async def test_the_skip_link_is_the_first_stop_for_the_keyboard(desktop: Page, fleet: Fleet) -> None:
    await console_sign_in(desktop, "acme-admin")
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Acme")
    await desktop.keyboard.press("Tab")
    await expect(desktop.get_by_role("link", name="Skip to main content")).to_be_focused()
