"""The device list's helpdesk tools in Chromium at 1280 px: search, select all and Query the
selection; the Enterprise Wipe from a device's page after its confirmation; the CSV export of the
filtered list."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.store.models import CommandRow, DeviceRow
from tests.browser.conftest import console_sign_in
from tests.integration.console.support import ALICE_ENROLLMENT_ID, Fleet

if os.environ.get("CI") != "true":  # in CI a missing playwright fails the collection instead
    pytest.importorskip("playwright.async_api", reason="playwright is not installed")
from playwright.async_api import Page, expect

pytestmark = pytest.mark.browser


async def test_a_helpdesk_searches_selects_all_and_queries_the_selection(
    desktop: Page, fleet: Fleet, session: AsyncSession
) -> None:
    await console_sign_in(desktop, "acme-admin")
    await desktop.goto(f"/console/devices?og={fleet.acme}")
    await desktop.get_by_label("Search").fill("ALICE")
    await desktop.get_by_role("button", name="Apply filters").click()
    await expect(desktop.locator("#device-count")).to_have_text("2 devices")
    await desktop.get_by_label("Select all on this page").check()
    await expect(desktop.get_by_label(f"Select #{fleet.alice_iphone}")).to_be_checked()
    await expect(desktop.get_by_label(f"Select #{fleet.alice_abandoned}")).to_be_checked()
    await desktop.get_by_label("With the selected devices").select_option("query")
    await desktop.get_by_role("button", name="Apply", exact=True).click()
    await expect(desktop.locator(".bulk-done")).to_contain_text("Query queued for 1 device. Not done for 1:")
    await expect(desktop.locator(".bulk-failures")).to_contain_text(f"#{fleet.alice_abandoned}")
    await expect(desktop.get_by_label("Search")).to_have_value("ALICE")  # the same list again
    assert await desktop.evaluate("document.documentElement.scrollWidth") <= 1280
    session.expire_all()
    queued = list(await session.scalars(select(CommandRow.request_type)
                                        .where(CommandRow.device_id == fleet.alice_iphone)))
    assert queued == ["DeviceInformation"]


async def test_an_enterprise_wipe_from_the_device_page_is_confirmed_first(
    desktop: Page, fleet: Fleet, session: AsyncSession
) -> None:
    await console_sign_in(desktop, "acme-admin")
    await desktop.goto(f"/console/devices/{fleet.alice_iphone}?og={fleet.acme}")
    await desktop.get_by_role("link", name="Enterprise Wipe…").click()
    await expect(desktop.get_by_role("heading", level=1)).to_have_text(
        f"Enterprise Wipe device #{fleet.alice_iphone}?")
    await expect(desktop.locator("dl.summary")).to_contain_text(ALICE_ENROLLMENT_ID)
    await expect(desktop.locator("dl.summary")).to_contain_text("alice")
    session.expire_all()
    assert (await session.get(DeviceRow, fleet.alice_iphone)).enrollment_status == "Enrolled"  # type: ignore[union-attr]
    await desktop.get_by_role("button", name="Enterprise Wipe this device").click()
    await expect(desktop.locator(".notice-ok")).to_contain_text("Enterprise Wipe queued")
    await expect(desktop.locator(".wipe-pending")).to_contain_text("by console:acme-admin")
    await expect(desktop.get_by_role("link", name="Enterprise Wipe…")).to_have_count(0)
    await expect(desktop.locator(".summary").first).to_contain_text("EnterpriseWipePending")


async def test_the_export_link_downloads_the_filtered_list_as_csv(
    desktop: Page, fleet: Fleet, tmp_path: Path
) -> None:
    await console_sign_in(desktop, "acme-admin")
    await desktop.goto(f"/console/devices?og={fleet.acme}&status=Enrolled")
    await expect(desktop.locator("#device-count")).to_have_text("2 devices")
    async with desktop.expect_download() as waiting:
        await desktop.get_by_role("link", name="Export CSV").click()
    download = await waiting.value
    assert download.suggested_filename.startswith("devices-") and download.suggested_filename.endswith(".csv")
    saved = tmp_path / "devices.csv"
    await download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert {int(r["Device ID"]) for r in rows} == {fleet.alice_iphone, fleet.corporate_ipad}
    assert {r["Status"] for r in rows} == {"Enrolled"}
