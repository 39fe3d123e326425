"""The console dashboard in Chromium at 1280 px: device counts per OG, the enrollments chart and
the recent refusals (screenshot for docs/console-dashboard.md); the logs form's download."""

from __future__ import annotations

import os
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.enrollment_policy import EnrollmentRefusal
from quince.services.directory import users
from quince.services.enrollment import sessions as enrollment
from quince.services.enrollment.sessions import Flow
from tests.browser.conftest import console_sign_in, save_screenshot
from tests.integration.console.support import Fleet, add_device, enrolled

if os.environ.get("CI") != "true":  # in CI a missing playwright fails the collection instead
    pytest.importorskip("playwright.async_api", reason="playwright is not installed")
from playwright.async_api import Page, expect

pytestmark = pytest.mark.browser

# Devices enrolled per day over the last weeks (days ago -> how many, and where).
HISTORY = {2: 3, 3: 5, 4: 2, 6: 4, 7: 6, 9: 1, 10: 3, 13: 2, 14: 4, 16: 1, 20: 2, 21: 3, 24: 1, 27: 2}


@pytest.fixture
async def dashboard_data(session: AsyncSession, fleet: Fleet) -> Fleet:
    today = datetime.now(UTC).date()
    places = (fleet.sales, fleet.field, fleet.sales_eu, fleet.acme)
    for days_ago, count in HISTORY.items():
        for n in range(count):
            when = datetime.combine(today - timedelta(days=days_ago), time(9 + n), UTC)
            await add_device(session, places[(days_ago + n) % len(places)], None, **enrolled(
                enrolled_at=when, is_user_enrolled=False, ownership="C", product_name="iPad13,1"))
    for username, group_id, flow in (("alice", "sales-us", Flow.ACCOUNT), ("bob", None, Flow.WEB),
                                     ("erin", None, Flow.ACCOUNT)):
        user = await users.find_by_username(session, username)
        assert user is not None
        outcome = await enrollment.start(session, user, flow=flow, group_id=group_id,
                                         ttl=timedelta(minutes=30))
        assert isinstance(outcome, EnrollmentRefusal)
    await session.commit()
    return fleet


async def test_an_admin_lands_on_the_dashboard_with_counts_chart_and_refusals(
    desktop: Page, dashboard_data: Fleet
) -> None:
    await console_sign_in(desktop, "acme-admin")
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Acme")
    await expect(desktop.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    counts = desktop.locator("table.dash-counts")
    await expect(counts.locator("tbody tr")).to_have_count(3)
    await expect(counts.locator("tfoot")).to_contain_text("Total")
    chart = desktop.locator("svg[role=img]")
    await expect(chart).to_be_visible()
    label = await chart.get_attribute("aria-label")
    assert label and label.startswith("Enrollments per day in Acme and below") and "41 in total" in label
    assert (await chart.bounding_box() or {"width": 0})["width"] > 1000
    await expect(chart.locator("g.day")).to_have_count(30)
    refusals = desktop.locator("table.dash-refusals tbody tr")
    await expect(refusals).to_have_count(2)
    await expect(refusals.first).to_contain_text("bob")
    await expect(desktop.locator("table.dash-refusals")).not_to_contain_text("erin")
    # The per-day figures are there as a table too, one click away.
    await desktop.get_by_text("Enrollments per day as a table").click()
    await expect(desktop.locator("table.dash-per-day tbody tr")).to_have_count(30)
    await desktop.get_by_text("Enrollments per day as a table").click()
    assert await desktop.evaluate("document.documentElement.scrollWidth") <= 1280
    await save_screenshot(desktop, "console-dashboard.png")
    # Drill down: a child OG's name opens its own dashboard.
    await counts.get_by_role("link", name="Sales", exact=True).click()
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Sales")


async def test_the_dashboard_fits_a_tablet(desktop: Page, dashboard_data: Fleet) -> None:
    await desktop.set_viewport_size({"width": 900, "height": 1000})
    await console_sign_in(desktop, "acme-admin")
    await expect(desktop.locator("svg[role=img]")).to_be_visible()
    assert await desktop.evaluate("document.documentElement.scrollWidth") <= 900


async def test_a_read_only_admin_downloads_a_log_bundle_from_the_logs_form(
    desktop: Page, dashboard_data: Fleet
) -> None:
    await console_sign_in(desktop, "acme-reader")
    await desktop.get_by_role("link", name="Logs", exact=True).click()
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Logs")
    await desktop.get_by_role("button", name="Download bundle").click()
    await expect(desktop.get_by_role("alert")).to_contain_text("Name a user, a device or an enrollment")
    await desktop.get_by_label("User").fill("bob")
    await desktop.get_by_label("From").fill("1d")
    async with desktop.expect_download() as download:
        await desktop.get_by_role("button", name="Download bundle").click()
    assert (await download.value).suggested_filename.startswith("quince-logs-all-")
    assert await desktop.evaluate("document.documentElement.scrollWidth") <= 1280


async def test_the_dashboard_warns_when_no_push_certificate_is_installed(
    desktop: Page, dashboard_data: Fleet
) -> None:
    await console_sign_in(desktop, "acme-admin")
    warning = desktop.locator('[data-warning="push_certificate"]')
    await expect(warning).to_be_visible()
    await expect(warning).to_contain_text("No APNs push certificate is installed")
