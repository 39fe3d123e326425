"""Browser tests: Playwright for Python driving Debian's Chromium (never a downloaded browser).

Outside CI they skip when /usr/bin/chromium or playwright is missing; under CI=true they must run.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.scope import Scope
from tests.fixtures.database import database_url, engine, migrated_engine, scope, session
from tests.fixtures.live_server import live_server, live_settings
from tests.integration.console.support import PASSWORD, Fleet, build_fleet
from tests.integration.device_management.support import Org, build_org

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
PHONE: ViewportSize = {"width": 375, "height": 812}

# The shared fixtures this directory uses, re-exported so that pytest finds them here.
__all__ = ["database_url", "engine", "live_server", "live_settings", "migrated_engine", "scope", "session"]


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright; never `playwright install`)"
    return None


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    missing = _missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Browser tests must run in CI: {missing}")
        pytest.skip(missing)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


@pytest.fixture
async def phone(browser: Browser, live_server: str) -> AsyncIterator[Page]:
    """A page in a fresh phone-sized browser context (375x812, touch, light mode)."""
    context = await browser.new_context(
        viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True,
        base_url=live_server, locale="en-US", color_scheme="light",
    )
    context.set_default_timeout(15_000)
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture
async def desktop(browser: Browser, live_server: str) -> AsyncIterator[Page]:
    """A page in a fresh desktop-sized browser context (1280x800, light mode)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, device_scale_factor=1,
                                        base_url=live_server, locale="en-US", color_scheme="light")
    context.set_default_timeout(15_000)
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture
async def fleet(session: AsyncSession, scope: Scope) -> Fleet:
    """The console tests' organization (see tests/integration/console/support.py)."""
    return await build_fleet(session, scope)


async def console_sign_in(page: Page, username: str) -> None:
    """Sign in to the console as `username` (password PASSWORD) through the sign-in form."""
    from playwright.async_api import expect

    await page.goto("/console/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the console")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("Password").press("Enter")
    await expect(page.locator(".signout .who")).to_contain_text(username)


@pytest.fixture
async def org(session: AsyncSession, scope: Scope) -> Org:
    return await build_org(session, scope)


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGE_BACKGROUND = "#f2f2f5"


async def save_screenshot(page: Page, name: str) -> None:
    """Take a screenshot of the page (the footer's per-request reference painted over). It is
    written to docs/screenshots only with QUINCE_UPDATE_SCREENSHOTS=1, so a test run does not
    change the documentation's pictures (pages show today's dates)."""
    shot = await page.screenshot(full_page=True, mask=[page.locator(".footer")],
                                 mask_color=PAGE_BACKGROUND)
    assert shot.startswith(b"\x89PNG")
    if os.environ.get("QUINCE_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / name).write_bytes(shot)
