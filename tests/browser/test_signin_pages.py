"""What a person sees on a phone: the sign-in pages in Chromium at 375x812, each outcome's page."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.enrollment import sessions as enrollment
from quince.services.enrollment.sessions import SecretKind
from tests.browser.conftest import save_screenshot
from tests.integration.device_management.support import ACCOUNT, PASSWORD, WEB, Org, devices

if os.environ.get("CI") != "true":  # in CI a missing playwright fails the collection instead
    pytest.importorskip("playwright.async_api", reason="playwright is not installed")
from playwright.async_api import Page, Response, expect

pytestmark = pytest.mark.browser

PROFILE_PATH = "/DeviceServices/Enrollment/profile"


async def _profile_token(answer: Response) -> str:
    """The sign-in POST's answer must send the browser on to the profile download (which belongs
    to DeviceServices and is tested there); returns the download token it carries."""
    assert answer.status == 303
    target = urlsplit(answer.headers["location"])
    assert target.path == PROFILE_PATH
    [token] = parse_qs(target.query)["token"]
    return token


def _is_sign_in_post(response: Response) -> bool:
    return response.request.method == "POST" and urlsplit(response.url).path.startswith(WEB)


async def _sign_in(page: Page, email: str, password: str = PASSWORD, group_id: str = "") -> None:
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_label("Group ID").fill(group_id)
    await page.get_by_role("button", name="Sign in").click()


async def test_on_a_phone_a_person_signs_in_with_the_keyboard_and_gets_the_profile(
    phone: Page, session: AsyncSession, org: Org
) -> None:
    await phone.goto(WEB)
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Sign in to enroll your device")
    await expect(phone.locator(".org")).to_have_text("Quince")
    # Readable at 375 px: nothing wider than the screen, inputs large enough that iOS won't zoom.
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 375
    font_size = await phone.evaluate(
        "parseFloat(getComputedStyle(document.getElementById('email')).fontSize)"
    )
    assert font_size >= 16
    await expect(phone.get_by_label("Email address")).to_be_focused()
    await phone.keyboard.type("alice@acme.example")
    await phone.keyboard.press("Tab")
    await expect(phone.get_by_label("Password")).to_be_focused()
    await phone.keyboard.type(PASSWORD)
    await save_screenshot(phone, "signin.png")
    async with phone.expect_response(_is_sign_in_post) as answer:
        await phone.keyboard.press("Enter")
    token = await _profile_token(await answer.value)
    found = await enrollment.redeem_secret(session, SecretKind.PROFILE_DOWNLOAD, token, consume=False)
    assert found is not None and found.og_id == org.sales
    [device] = await devices(session)
    assert (device.enrollment_status, device.ownership, device.udid) == ("EnrollmentInProgress", "E", None)


async def test_the_account_driven_page_prefills_the_address_the_device_typed(
    phone: Page, org: Org
) -> None:
    await phone.goto(ACCOUNT + "?user-identifier=alice%40acme.example")
    await expect(phone.get_by_label("Email address")).to_have_value("alice@acme.example")
    await expect(phone.get_by_label("Password")).to_be_focused()


@pytest.mark.parametrize(
    ("email", "password", "group_id", "title", "says", "screenshot"),
    [
        ("alice@acme.example", "wrong-password", "", "Check your email address and password",
         "The email address or password is not correct.", None),
        ("nobody@acme.example", "wrong-password", "", "Check your email address and password",
         "The email address or password is not correct.", None),
        ("bob@acme.example", PASSWORD, "", "Your account is not active", "not active", None),
        ("alice@acme.example", PASSWORD, "no-such-group", "Group ID not recognised",
         "'no-such-group' is not recognised", None),
        ("alice@acme.example", PASSWORD, "beta", "Group ID not available to you",
         "cannot enroll into Group ID 'beta'", None),
        ("carol@acme.example", PASSWORD, "", "Enrollment is not available",
         "User Enrollment is not enabled for organization group 'Closed' (setting set at 'Closed')",
         "refusal-user-enrollment-disabled.png"),
        ("erin@acme.example", PASSWORD, "", "Enrollment is not available",
         "(setting inherited from 'Global')", None),
    ],
    ids=["wrong-password", "unknown-user", "inactive", "unknown-group-id", "out-of-reach",
         "ue-disabled-here", "ue-disabled-inherited"],
)
async def test_each_refusal_page_appears_for_its_cause(
    phone: Page, session: AsyncSession, org: Org,
    email: str, password: str, group_id: str, title: str, says: str, screenshot: str | None,
) -> None:
    await phone.goto(WEB)
    await _sign_in(phone, email, password, group_id)
    await expect(phone.get_by_role("heading", level=1)).to_have_text(title)
    await expect(phone.get_by_role("alert")).to_contain_text(says)
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 375
    if screenshot:
        await save_screenshot(phone, screenshot)
    assert await devices(session) == []


async def test_too_many_attempts_shows_the_wait_page(phone: Page, session: AsyncSession, org: Org) -> None:
    await phone.goto(WEB)
    for _ in range(5):
        await _sign_in(phone, "alice@acme.example", "wrong-password")
        await expect(phone.get_by_role("heading", level=1)).to_have_text(
            "Check your email address and password")
    await _sign_in(phone, "alice@acme.example")
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Too many sign-in attempts")
    await expect(phone.get_by_role("alert")).to_contain_text("Wait 30 seconds")
    await phone.get_by_role("link", name="Start again").click()
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Sign in to enroll your device")
    assert await devices(session) == []


async def test_list_mode_lets_the_person_pick_a_group_after_signing_in(
    phone: Page, session: AsyncSession, org: Org
) -> None:
    await phone.goto(WEB)
    await _sign_in(phone, "dave@acme.example")
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Choose your group")
    group = phone.get_by_label("Group")
    await expect(group).to_be_focused()
    await expect(group.locator("option")).to_have_count(4)
    await expect(group.locator("option").first).to_have_text("No Group ID (use Field)")
    await save_screenshot(phone, "choose-group.png")
    await group.select_option("field-north")
    async with phone.expect_response(_is_sign_in_post) as answer:
        await phone.get_by_role("button", name="Continue").click()
    await _profile_token(await answer.value)
    [device] = await devices(session)
    assert device.og_id == org.field_north
