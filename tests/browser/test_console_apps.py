"""The console's apps pages in Chromium at 1280 px: the catalog, a purchased app assigned to an OG;
screenshots for docs/console-apps.md."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.scope import Scope
from tests.browser.conftest import console_sign_in, save_screenshot
from tests.integration.console.support import Fleet
from tests.integration.console.test_console_apps import Catalog, build_catalog

if os.environ.get("CI") != "true":  # in CI a missing playwright fails the collection instead
    pytest.importorskip("playwright.async_api", reason="playwright is not installed")
from playwright.async_api import Page, expect

pytestmark = pytest.mark.browser


@pytest.fixture
async def catalog(session: AsyncSession, scope: Scope, fleet: Fleet) -> Catalog:
    """Acme's catalog with a purchased app (Work Mail) under an Apps and Books token."""
    return await build_catalog(session, scope, fleet)


async def test_an_admin_assigns_a_purchased_app_to_an_og(
    desktop: Page, fleet: Fleet, catalog: Catalog
) -> None:
    await console_sign_in(desktop, "acme-admin")
    await desktop.get_by_role("link", name="Apps", exact=True).click()
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Apps for Acme")
    await expect(desktop.locator("#app-count")).to_have_text("4 apps")
    await expect(desktop.locator("table.apps")).to_contain_text("Not supported on User Enrollment")
    assert await desktop.evaluate("document.documentElement.scrollWidth") <= 1280
    await save_screenshot(desktop, "console-apps.png")

    await desktop.get_by_role("link", name="Work Mail", exact=True).click()
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Work Mail")
    await expect(desktop.locator(".licence-counts")).to_contain_text("Available")
    await desktop.get_by_label("Assign to").select_option(f"og:{fleet.sales}")
    await desktop.get_by_label("Mode").select_option("automatic")
    await desktop.get_by_role("button", name="Assign", exact=True).click()
    await expect(desktop.locator(".notice-ok")).to_contain_text("Work Mail was assigned to Sales.")
    await expect(desktop.locator("table.assignments")).to_contain_text("Sales")
    await expect(desktop.locator("table.assignments")).to_contain_text("Waiting for Apps and Books user: 1")
    await expect(desktop.locator("table.device-apps")).to_contain_text(f"#{fleet.alice_iphone}")
    assert await desktop.evaluate("document.documentElement.scrollWidth") <= 1280
    await desktop.evaluate("document.querySelectorAll('.app-when, table.assignments td:nth-child(5), "
                           "table.device-apps td:nth-child(7)')"
                           ".forEach(td => td.textContent = '2025-01-01 09:00')")
    await save_screenshot(desktop, "console-app.png")


async def test_an_admin_queues_a_sync_of_the_purchased_apps(
    desktop: Page, fleet: Fleet, catalog: Catalog
) -> None:
    await console_sign_in(desktop, "acme-admin")
    await desktop.get_by_role("link", name="Apps", exact=True).click()
    await expect(desktop.locator(".app-synced")).to_have_text("never")
    await desktop.get_by_role("button", name="Sync purchased apps").click()
    await expect(desktop.locator(".notice-ok")).to_contain_text("A sync of the purchased apps was queued")
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Apps for Acme")
