"""Organization groups and their settings in Chromium at 1280 px: the tree, then overriding a
setting at Sales and inheriting it again; screenshots for the console documentation."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.directory import og_settings
from quince.services.scope import Scope
from tests.browser.conftest import console_sign_in, save_screenshot
from tests.integration.console.support import Fleet

if os.environ.get("CI") != "true":  # in CI a missing playwright fails the collection instead
    pytest.importorskip("playwright.async_api", reason="playwright is not installed")
from playwright.async_api import Page, expect

pytestmark = pytest.mark.browser


async def test_an_admin_overrides_a_setting_at_sales_and_inherits_it_again(
    desktop: Page, fleet: Fleet, session: AsyncSession, scope: Scope
) -> None:
    # User Enrollment is on at Acme, so Sales inherits Yes until it overrides.
    await og_settings.override(session, scope, fleet.acme, "user_enrollment_enabled", True)
    await session.commit()
    await console_sign_in(desktop, "acme-admin")
    await desktop.get_by_role("link", name="Groups & settings", exact=True).click()
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Organization groups: Acme")
    tree = desktop.locator("table.og-tree")
    await expect(tree.locator("tbody tr")).to_have_count(4)
    await expect(tree.get_by_role("rowheader", name="Sales EU (level 2, below Sales)")).to_be_visible()
    assert await desktop.evaluate("document.documentElement.scrollWidth") <= 1280
    await save_screenshot(desktop, "console-groups.png")

    await desktop.get_by_role("link", name="Settings of Sales", exact=True).click()
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Settings of Sales")
    setting = desktop.locator("#setting-user_enrollment_enabled")
    await expect(setting.locator(".og-current")).to_have_text("Inherit")
    await expect(setting.locator(".og-value")).to_have_text("Yes")
    await expect(setting.locator(".og-source")).to_have_text("Acme (Group ID acme)")

    await setting.get_by_label("Override here").check()
    await setting.get_by_label("Value").select_option(label="No")
    await setting.get_by_role("button", name="Save User Enrollment enabled").click()
    await expect(desktop.locator(".notice-ok")).to_contain_text(
        "User Enrollment enabled was saved: the effective value at 'Sales' is now No, from 'Sales'")
    setting = desktop.locator("#setting-user_enrollment_enabled")
    await expect(setting.locator(".og-current")).to_have_text("Override")
    await expect(setting.locator(".og-value")).to_have_text("No")
    await expect(setting.locator(".og-source")).to_have_text("Sales (Group ID sales)")
    assert await desktop.evaluate("document.documentElement.scrollWidth") <= 1280
    await save_screenshot(desktop, "console-settings.png")

    await setting.get_by_label("Inherit from the group above").check()
    await setting.get_by_role("button", name="Save User Enrollment enabled").click()
    await expect(desktop.locator(".notice-ok")).to_contain_text("is now Yes, from 'Acme'")
    setting = desktop.locator("#setting-user_enrollment_enabled")
    await expect(setting.locator(".og-current")).to_have_text("Inherit")
    await expect(setting.locator(".og-value")).to_have_text("Yes")
    await expect(setting.locator(".og-source")).to_have_text("Acme (Group ID acme)")


async def test_the_groups_pages_fit_a_tablet_and_show_a_locked_setting(
    desktop: Page, fleet: Fleet, session: AsyncSession, scope: Scope
) -> None:
    await og_settings.override(session, scope, fleet.acme, "user_enrollment_enabled", True, "InheritOnly")
    await session.commit()
    await desktop.set_viewport_size({"width": 820, "height": 1180})
    await console_sign_in(desktop, "acme-admin")
    for path in (f"/console/groups?og={fleet.acme}", f"/console/groups/settings?og={fleet.sales}",
                 f"/console/groups/delete?og={fleet.sales_eu}"):
        answer = await desktop.goto(path)
        assert answer is not None and answer.status == 200, path
        await expect(desktop.locator("h1")).to_have_count(1)
        assert await desktop.evaluate("document.documentElement.scrollWidth") <= 820, path
    await desktop.goto(f"/console/groups/settings?og={fleet.sales}")
    setting = desktop.locator("#setting-user_enrollment_enabled")
    await expect(setting.locator(".og-locked")).to_contain_text("Locked by Acme (Group ID acme)")
    await expect(setting.locator("form")).to_have_count(0)
