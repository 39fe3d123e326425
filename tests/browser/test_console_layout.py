"""Every console section in Chromium: one heading 1, a label for every field, no sideways scroll at
1280 px or on a tablet, keyboard-reachable navigation, and no change buttons for read-only admins."""

from __future__ import annotations

import os

import pytest

from quince.web.console.pages import SECTIONS
from tests.browser.conftest import console_sign_in
from tests.integration.console.support import Fleet

if os.environ.get("CI") != "true":  # in CI a missing playwright fails the collection instead
    pytest.importorskip("playwright.async_api", reason="playwright is not installed")
from playwright.async_api import Page, expect

pytestmark = pytest.mark.browser

TABLET = {"width": 820, "height": 1180}
# Forms a read-only admin may use: they change nothing.
READ_ONLY_FORMS = ("/console/sign-out", "/console/logs/bundle")
UNLABELLED_FIELDS = """
[...document.querySelectorAll('input:not([type=hidden]):not([type=submit]), select, textarea')]
  .filter(f => !(f.labels && f.labels.length) && !f.getAttribute('aria-label')
               && !f.getAttribute('aria-labelledby'))
  .map(f => f.name || f.id || f.outerHTML.slice(0, 80))
"""
CHANGE_FORMS = """
[...document.querySelectorAll('form[method=post]')].map(f => new URL(f.action).pathname)
"""


@pytest.mark.parametrize("width", [1280, TABLET["width"]])
async def test_every_section_has_one_heading_labelled_fields_and_fits_the_screen(
    desktop: Page, fleet: Fleet, width: int
) -> None:
    await desktop.set_viewport_size({"width": width, "height": 900})
    await console_sign_in(desktop, "acme-admin")
    for _key, path, label in SECTIONS:
        answer = await desktop.goto(f"{path}?og={fleet.acme}")
        assert answer is not None and answer.status == 200, path
        await expect(desktop.locator("h1"), f"{label} has one heading 1").to_have_count(1)
        await expect(desktop.get_by_role("link", name=label, exact=True)).to_have_attribute(
            "aria-current", "page")
        assert await desktop.evaluate(UNLABELLED_FIELDS) == [], f"{label}: fields without a label"
        assert await desktop.evaluate("document.documentElement.scrollWidth") <= width, \
            f"{label} scrolls sideways at {width} px"


async def test_the_skip_link_and_the_navigation_work_from_the_keyboard(desktop: Page, fleet: Fleet) -> None:
    await console_sign_in(desktop, "acme-admin")
    await desktop.keyboard.press("Tab")
    skip = desktop.get_by_role("link", name="Skip to main content")
    await expect(skip).to_be_focused()
    await desktop.keyboard.press("Tab")
    await expect(desktop.get_by_role("link", name=SECTIONS[0][2], exact=True)).to_be_focused()


async def test_read_only_admins_see_no_forms_that_change_anything(desktop: Page, fleet: Fleet) -> None:
    await console_sign_in(desktop, "acme-reader")
    for _key, path, label in SECTIONS:
        await desktop.goto(f"{path}?og={fleet.acme}")
        await expect(desktop.locator("h1")).to_have_count(1)
        forms = await desktop.evaluate(CHANGE_FORMS)
        assert [f for f in forms if f not in READ_ONLY_FORMS] == [], f"{label} offers {forms}"
    await desktop.goto(f"/console/devices/{fleet.alice_iphone}?og={fleet.acme}")
    assert [f for f in await desktop.evaluate(CHANGE_FORMS) if f not in READ_ONLY_FORMS] == []
