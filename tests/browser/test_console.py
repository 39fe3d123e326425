"""The admin console in Chromium at 1280 px: sign in, switch OG, filter devices, open a device,
and an out-of-scope address refused; screenshots for docs/console.md."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.scope import Scope
from tests.browser.conftest import save_screenshot
from tests.integration.console.support import PASSWORD, Fleet, build_fleet

if os.environ.get("CI") != "true":  # in CI a missing playwright fails the collection instead
    pytest.importorskip("playwright.async_api", reason="playwright is not installed")
from playwright.async_api import Browser, Page, expect

pytestmark = pytest.mark.browser



@pytest.fixture
async def fleet(session: AsyncSession, scope: Scope) -> Fleet:
    return await build_fleet(session, scope)


@pytest.fixture
async def desktop(browser: Browser, live_server: str) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, device_scale_factor=1,
                                        base_url=live_server, locale="en-US", color_scheme="light")
    context.set_default_timeout(15_000)
    page = await context.new_page()
    yield page
    await context.close()


async def _sign_in(page: Page, username: str) -> None:
    await page.goto("/console/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the console")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("Password").press("Enter")


async def test_an_admin_signs_in_switches_og_filters_devices_and_opens_one(
    desktop: Page, fleet: Fleet
) -> None:
    await _sign_in(desktop, "acme-admin")
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
    await _sign_in(desktop, "beta-admin")
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Beta")
    answer = await desktop.goto(f"/console/devices/{fleet.alice_iphone}")
    assert answer is not None and answer.status == 404
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Not found")
    answer = await desktop.goto(f"/console/devices?og={fleet.acme}")
    assert answer is not None and answer.status == 404


async def test_the_skip_link_is_the_first_stop_for_the_keyboard(desktop: Page, fleet: Fleet) -> None:
    await _sign_in(desktop, "acme-admin")
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Acme")
    await desktop.keyboard.press("Tab")
    await expect(desktop.get_by_role("link", name="Skip to main content")).to_be_focused()
