"""Console users in Chromium at 1280 px: list, search, add a user; the screenshot for the docs."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.directory import user_groups, users
from quince.services.scope import Scope
from tests.browser.conftest import console_sign_in, save_screenshot
from tests.integration.console.support import Fleet

if os.environ.get("CI") != "true":  # in CI a missing playwright fails the collection instead
    pytest.importorskip("playwright.async_api", reason="playwright is not installed")
from playwright.async_api import Page, expect

pytestmark = pytest.mark.browser


async def _name_people(session: AsyncSession, scope: Scope, fleet: Fleet) -> None:
    """Names for the screenshot, and two more users (one of them inactive)."""
    for ref, first, last in (("alice", "Alice", "Archer"), ("bob", "Bob", "Baker")):
        row = await users.get_by_username(session, scope, ref)
        await users.update(session, scope, row.id, users.UserChanges(first_name=first, last_name=last))
    await users.add(session, scope, username="dana", email="dana@acme.example", first_name="Dana",
                    last_name="Diaz", managed_apple_id="dana@appleid.acme.example", og_id=fleet.field)
    await users.add(session, scope, username="ed", email="ed@acme.example", first_name="Ed",
                    last_name="Evans", og_id=fleet.sales, active=False)
    sellers = await user_groups.create(session, scope, name="Sellers", og_id=fleet.acme)
    for ref in ("alice", "bob"):
        member = await users.get_by_username(session, scope, ref)
        await user_groups.add_member(session, scope, sellers.id, member.id)
    await session.commit()


async def test_an_admin_lists_searches_and_adds_a_user(
    desktop: Page, fleet: Fleet, session: AsyncSession, scope: Scope
) -> None:
    await _name_people(session, scope, fleet)
    await console_sign_in(desktop, "acme-admin")
    await desktop.get_by_role("link", name="Users", exact=True).click()
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Users in Acme")
    await expect(desktop.locator("#user-count")).to_have_text("4 users")
    assert await desktop.evaluate("document.documentElement.scrollWidth") <= 1280
    await save_screenshot(desktop, "console-users.png")

    await desktop.get_by_label("Search").fill("bob")
    await desktop.get_by_role("button", name="Search").click()
    await expect(desktop.locator("#user-count")).to_have_text("1 user")
    await expect(desktop.locator("table.usr-list tbody")).to_contain_text("bob@acme.example")

    await desktop.get_by_role("link", name="Add user").click()
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Add a user")
    await desktop.get_by_label("Username").fill("carol")
    await desktop.get_by_label("Email").fill("carol@acme.example")
    await desktop.get_by_label("First name").fill("Carol")
    await desktop.get_by_label("Last name").fill("Chen")
    await desktop.locator("#og_id").select_option(label="— Field (field)")
    await desktop.get_by_label("Password").fill("Carol-pass-123")
    assert await desktop.evaluate("document.documentElement.scrollWidth") <= 1280
    await desktop.get_by_role("button", name="Add user").click()
    await expect(desktop.locator(".notice-ok")).to_have_text("User carol was added.")
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("User carol")
    await expect(desktop.locator(".summary")).to_contain_text("Field")



async def test_an_admin_deactivates_selected_users_after_seeing_them_listed(
    desktop: Page, fleet: Fleet, session: AsyncSession, scope: Scope
) -> None:
    await _name_people(session, scope, fleet)
    await console_sign_in(desktop, "acme-admin")
    await desktop.goto(f"/console/users?og={fleet.acme}")
    table = desktop.locator("table.usr-list")
    await expect(table.locator("thead")).to_contain_text("Enrolled devices")
    await desktop.get_by_label("Select alice").check()
    await desktop.get_by_label("Select dana").check()
    await desktop.get_by_role("button", name="Deactivate…").click()
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Deactivate 2 users?")
    await expect(desktop.locator("table.usr-list tbody tr")).to_have_count(2)
    await desktop.get_by_role("button", name="Deactivate 2 users").click()
    await expect(desktop.locator(".notice-ok")).to_contain_text("2 users deactivated.")
    await expect(desktop.locator("table.usr-list tr.usr-inactive")).to_have_count(3)  # ed was already
    await desktop.get_by_label("Select ed").check()
    await desktop.get_by_role("button", name="Activate", exact=True).click()
    await expect(desktop.locator(".notice-ok")).to_contain_text("1 user activated.")
    assert await desktop.evaluate("document.documentElement.scrollWidth") <= 1280
