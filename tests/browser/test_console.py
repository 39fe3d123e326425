"""The admin console in Chromium at 1280 px: sign in, switch OG, filter devices, open a device,
and an out-of-scope address refused; screenshots for docs/console.md."""

from __future__ import annotations

import os

import pytest

from tests.browser.conftest import console_sign_in, save_screenshot
from tests.integration.console.support import Fleet

if os.environ.get("CI") != "true":  # in CI a missing playwright fails the collection instead
    pytest.importorskip("playwright.async_api", reason="playwright is not installed")
from playwright.async_api import Page, expect

pytestmark = pytest.mark.browser



async def test_an_admin_signs_in_switches_og_filters_devices_and_opens_one(
    desktop: Page, fleet: Fleet
) -> None:
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
    await desktop.get_by_role("button", name="Apply filters").click()
    await expect(desktop.locator("#device-count")).to_have_text("1 device")
    await desktop.get_by_role("link", name=f"#{fleet.alice_iphone}", exact=True).click()
    await expect(desktop.get_by_role("heading", level=1)).to_contain_text(f"Device #{fleet.alice_iphone}")
    await expect(desktop.locator(".properties")).to_contain_text("IsUserEnrolled")
    await desktop.get_by_label("Command", exact=True).select_option("SecurityInfo")
    await desktop.get_by_role("button", name="Queue command").click()
    await expect(desktop.locator(".notice-ok")).to_contain_text("was queued")
    await expect(desktop.locator("table.commands")).to_contain_text("SecurityInfo")
    await desktop.evaluate("document.querySelectorAll('table.commands td:nth-child(4)')"
                           ".forEach(td => td.textContent = '2025-01-01 09:00')")
    await save_screenshot(desktop, "console-device.png")


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
