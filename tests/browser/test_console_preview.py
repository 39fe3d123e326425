""""Where will a user enroll?" in Chromium at 1280 px: alice's default OG, then a rank-1 user-group
mapping added on the user group's page wins; screenshots for the console docs."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.directory import og_settings, user_groups, users
from quince.services.scope import Scope
from tests.browser.conftest import console_sign_in, save_screenshot
from tests.integration.console.support import Fleet

if os.environ.get("CI") != "true":  # in CI a missing playwright fails the collection instead
    pytest.importorskip("playwright.async_api", reason="playwright is not installed")
from playwright.async_api import Page, expect

pytestmark = pytest.mark.browser


@pytest.fixture
async def field_crew(session: AsyncSession, scope: Scope, fleet: Fleet) -> int:
    """User Enrollment on everywhere, and a user group at Acme holding alice, without mappings yet."""
    await og_settings.override(session, scope, scope.og_id, "user_enrollment_enabled", True)
    group = await user_groups.create(session, scope, name="Field crew", og_id=fleet.acme,
                                     description="People who work on site")
    alice = await users.get_by_username(session, scope, "alice")
    await user_groups.add_member(session, scope, group.id, alice.id)
    await session.commit()
    return group.id


async def _preview_alice(page: Page) -> None:
    await page.get_by_role("link", name="Where will a user enroll?", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Where will a user enroll?")
    await page.get_by_label("Username").fill("alice")
    await page.get_by_role("button", name="Preview enrollment").click()
    await expect(page.get_by_role("heading", name="Result for alice")).to_be_visible()


async def test_a_rank_one_mapping_wins_the_preview(desktop: Page, fleet: Fleet, field_crew: int) -> None:
    await console_sign_in(desktop, "acme-admin")
    await _preview_alice(desktop)
    result = desktop.locator(".pv-result")
    await expect(result.locator(".notice-ok")).to_contain_text("alice's device would enroll into Sales")
    await expect(result).to_contain_text("The user's default enrollment organization group")
    trace = desktop.locator("#decision-trace li")
    await expect(trace.first).to_contain_text("User 'alice' is active")
    await expect(trace.last).to_have_text("Decision: enroll into 'Sales' (Group ID sales).")
    assert "username=alice" in desktop.url  # a GET: the answer can be shared as a link

    await desktop.get_by_role("link", name="User groups", exact=True).click()
    await desktop.get_by_role("link", name="Field crew", exact=True).click()
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("User group Field crew")
    await expect(desktop.locator("table.ug-members")).to_contain_text("alice")
    await desktop.get_by_label("Target organization group").select_option(str(fleet.field))
    await desktop.get_by_label("Rank", exact=True).fill("1")
    await desktop.get_by_role("button", name="Add mapping").click()
    await expect(desktop.locator(".notice-ok")).to_have_text("The mapping to Field was added.")
    await expect(desktop.locator("table.ug-mappings")).to_contain_text("Field")
    assert await desktop.evaluate("document.documentElement.scrollWidth") <= 1280
    await save_screenshot(desktop, "console-user-group.png")

    await _preview_alice(desktop)
    await expect(result.locator(".notice-ok")).to_contain_text("alice's device would enroll into Field")
    await expect(result).to_contain_text("A user-group mapping")
    await expect(desktop.locator("tr.pv-chosen")).to_contain_text("Field crew")
    await expect(trace.last).to_have_text("Decision: enroll into 'Field' (Group ID field).")
    await expect(trace.nth(3)).to_have_text("Best rank is 1: user group 'Field crew'.")
    assert await desktop.evaluate("document.documentElement.scrollWidth") <= 1280
    await save_screenshot(desktop, "console-preview.png")
