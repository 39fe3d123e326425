"""The sign-in pages over real HTTP: both flows succeed, create the placeholder record (rule 2) and
hand over the session's secret; signing in again supersedes the first placeholder."""

from __future__ import annotations

import stat
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from quince.apple.discovery import access_token_from_callback_url
from quince.config import Settings
from quince.services.directory import org_groups, user_groups, users
from quince.services.enrollment import sessions as enrollment
from quince.services.enrollment.sessions import SecretKind
from quince.services.scope import Scope
from quince.web.security import signing
from tests.integration.device_management.support import (
    ACCOUNT,
    WEB,
    Org,
    devices,
    enrollments,
    heading,
    outcome,
    sign_in,
)


async def test_the_form_asks_for_email_password_and_group_id_prefilled_from_the_user_identifier(
    browser_client: httpx.AsyncClient,
) -> None:
    page = await browser_client.get(ACCOUNT, params={"user-identifier": "alice@acme.example"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert outcome(page.text) == "shown"
    assert 'name="email"' in page.text and 'value="alice@acme.example"' in page.text
    assert 'name="password"' in page.text and 'type="password"' in page.text
    assert 'name="group_id"' in page.text
    for field in ("email", "password", "group_id"):
        assert f'<label for="{field}">' in page.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text
    assert 'action="/DeviceManagement/Enrollment/account-driven"' in page.text
    assert "Quince" in page.text  # the organization name from settings


async def test_pages_are_not_cached_framed_or_given_external_assets(
    browser_client: httpx.AsyncClient,
) -> None:
    page = await browser_client.get(WEB)
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert "<script" not in page.text and "http://" not in page.text and "https://" not in page.text
    css = await browser_client.get("/DeviceManagement/static/signin.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "@import" not in css.text and "url(" not in css.text


async def test_the_csrf_cookie_is_http_only_and_same_site(browser_client: httpx.AsyncClient) -> None:
    page = await browser_client.get(WEB)
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert "Path=/DeviceManagement/" in cookie


async def test_account_driven_sign_in_answers_308_with_an_access_token_for_the_new_session(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    answer = await sign_in(browser_client, ACCOUNT, "alice@acme.example",
                           query="?user-identifier=alice%40acme.example")
    assert answer.status_code == 308
    location = answer.headers["location"]
    assert location.startswith("apple-remotemanagement-user-login://authentication-results?access-token=")
    assert answer.headers["cache-control"] == "no-store"
    token = access_token_from_callback_url(location)
    found = await enrollment.redeem_secret(session, SecretKind.ACCESS_TOKEN, token, consume=False)
    assert found is not None
    assert found.flow == "account" and found.user_identifier == "alice@acme.example"
    assert found.og_id == org.sales
    [device] = await devices(session)
    assert found.device_id == device.id
    assert device.enrollment_status == "EnrollmentInProgress"
    assert device.ownership == "E"
    assert device.is_user_enrolled is True
    assert device.license_type_eligibility == 2
    assert device.udid is None
    assert device.og_id == org.sales


async def test_web_sign_in_redirects_303_to_the_single_use_profile_download(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    answer = await sign_in(browser_client, WEB, "alice@acme.example", group_id="sales-eu")
    assert answer.status_code == 303
    target = urlsplit(answer.headers["location"])
    assert target.path == "/DeviceServices/Enrollment/profile"
    [token] = parse_qs(target.query)["token"]
    found = await enrollment.redeem_secret(session, SecretKind.PROFILE_DOWNLOAD, token, consume=False)
    assert found is not None and found.flow == "web" and found.og_id == org.sales_eu
    assert found.entered_group_id == "sales-eu"
    # The web flow's secret is a download token, not an access token.
    assert await enrollment.redeem_secret(session, SecretKind.ACCESS_TOKEN, token, consume=False) is None
    [device] = await devices(session)
    assert (device.enrollment_status, device.ownership, device.is_user_enrolled,
            device.license_type_eligibility, device.udid) == ("EnrollmentInProgress", "E", True, 2, None)


async def test_signing_in_twice_leaves_two_placeholders_the_first_superseded_by_the_second(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    first = await sign_in(browser_client, ACCOUNT, "alice@acme.example")
    second = await sign_in(browser_client, ACCOUNT, "alice@acme.example")
    assert first.status_code == second.status_code == 308
    assert first.headers["location"] != second.headers["location"]
    old, new = await devices(session)
    assert old.superseded_by_device_id == new.id and old.superseded_at is not None
    assert new.superseded_by_device_id is None
    assert old.enrollment_status == new.enrollment_status == "EnrollmentInProgress"
    assert [e.device_id for e in await enrollments(session)] == [old.id, new.id]


async def test_the_user_may_sign_in_with_username_as_well_as_email(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    answer = await sign_in(browser_client, WEB, "ALICE")
    assert answer.status_code == 303
    assert len(await devices(session)) == 1


async def test_list_mode_offers_the_users_og_and_those_below_it_then_completes(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    page = await sign_in(browser_client, ACCOUNT, "dave@acme.example")
    assert page.status_code == 200, page.text
    assert outcome(page.text) == "group_list" and heading(page.text) == "Choose your group"
    assert 'type="password"' not in page.text  # the password is not asked for again
    for label in ("No Group ID (use Field)", "Field (field)", "Field North (field-north)",
                  "Field South (field-south)"):
        assert label in page.text.replace("&nbsp;", "").replace("\u00a0", "")
    assert "Sales" not in page.text  # only the user's enrollment OG and below
    assert await devices(session) == []  # nothing is created before the choice
    state = page.text.split('name="state" value="')[1].split('"')[0]
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    done = await browser_client.post(ACCOUNT, data={"csrf_token": token, "state": state,
                                                    "group_id": "field-north"})
    assert done.status_code == 308, done.text
    [device] = await devices(session)
    assert device.og_id == org.field_north
    [session_row] = await enrollments(session)
    assert session_row.flow == "account" and session_row.entered_group_id == "field-north"


async def test_list_mode_no_group_id_enrolls_into_the_users_enrollment_og(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    page = await sign_in(browser_client, WEB, "dave@acme.example")
    state = page.text.split('name="state" value="')[1].split('"')[0]
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    done = await browser_client.post(WEB, data={"csrf_token": token, "state": state, "group_id": ""})
    assert done.status_code == 303
    [device] = await devices(session)
    assert device.og_id == org.field


async def test_the_group_choice_works_once_a_resent_choice_starts_no_second_enrollment(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    page = await sign_in(browser_client, WEB, "dave@acme.example")
    state = page.text.split('name="state" value="')[1].split('"')[0]
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    choice = {"csrf_token": token, "state": state, "group_id": "field-north"}
    assert (await browser_client.post(WEB, data=choice)).status_code == 303
    again = await browser_client.post(WEB, data=choice)  # the back button, a reload, a copy
    assert again.status_code == 403 and outcome(again.text) == "state_rejected"
    assert len(await devices(session)) == 1 and len(await enrollments(session)) == 1


async def test_a_wrong_choice_shows_the_list_again_and_the_next_choice_still_works(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    page = await sign_in(browser_client, WEB, "dave@acme.example")
    state = page.text.split('name="state" value="')[1].split('"')[0]
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    wrong = await browser_client.post(WEB, data={"csrf_token": token, "state": state, "group_id": "x" * 300})
    assert wrong.status_code == 400 and await devices(session) == []
    state = wrong.text.split('name="state" value="')[1].split('"')[0]
    done = await browser_client.post(WEB, data={"csrf_token": token, "state": state, "group_id": ""})
    assert done.status_code == 303 and len(await devices(session)) == 1


async def test_list_mode_shows_no_list_when_a_user_group_mapping_decides_anyway(
    browser_client: httpx.AsyncClient, session: AsyncSession, scope: Scope, org: Org
) -> None:
    dave = await users.get_by_username(session, scope, "dave")
    crew = await user_groups.create(session, scope, name="Crew", og_id=org.acme)
    await user_groups.add_member(session, scope, crew.id, dave.id)
    await user_groups.add_mapping(session, scope, crew.id, org.field_south, 1)
    await session.commit()
    answer = await sign_in(browser_client, WEB, "dave@acme.example")
    assert answer.status_code == 303
    [device] = await devices(session)
    assert device.og_id == org.field_south


async def test_list_mode_with_a_typed_group_id_skips_the_list(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    answer = await sign_in(browser_client, WEB, "dave@acme.example", group_id="field-south")
    assert answer.status_code == 303
    [device] = await devices(session)
    assert device.og_id == org.field_south


async def test_list_state_does_not_work_in_another_browser_nor_for_the_other_flow(
    live_server: str, browser_client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    page = await sign_in(browser_client, WEB, "dave@acme.example")
    state = page.text.split('name="state" value="')[1].split('"')[0]
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    other_flow = await browser_client.post(ACCOUNT, data={"csrf_token": token, "state": state,
                                                          "group_id": ""})
    assert other_flow.status_code == 403 and outcome(other_flow.text) == "state_rejected"
    tampered = await browser_client.post(WEB, data={"csrf_token": token, "state": state[:-2] + "AA",
                                                    "group_id": ""})
    assert tampered.status_code == 403
    async with httpx.AsyncClient(base_url=live_server) as other:
        form = await other.get(WEB)
        other_token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        stolen = await other.post(WEB, data={"csrf_token": other_token, "state": state, "group_id": ""})
    assert stolen.status_code == 403 and outcome(stolen.text) == "state_rejected"
    assert await devices(session) == []


def test_the_signing_key_is_created_once_readable_only_by_quince(tmp_path: Path) -> None:
    key = signing.load_secret_key(tmp_path / "var")
    path = tmp_path / "var" / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) == 32 and signing.load_secret_key(tmp_path / "var") == key


async def test_both_flows_name_the_installs_one_customer_organization(
    browser_client: httpx.AsyncClient, session: AsyncSession, scope: Scope
) -> None:
    await org_groups.create(session, scope, scope.og_id, name="Northwind Traders", group_id="northwind",
                            og_type="Customer")
    await session.commit()
    for path in (ACCOUNT, WEB):
        page = await browser_client.get(path)
        assert page.status_code == 200
        assert '<p class="org">Northwind Traders</p>' in page.text
        assert "<title>Sign in · Northwind Traders</title>" in page.text


async def test_a_configured_organization_name_wins_over_the_customer_og(
    session: AsyncSession, scope: Scope
) -> None:
    await org_groups.create(session, scope, scope.og_id, name="Northwind Traders", group_id="northwind",
                            og_type="Customer")
    configured = Settings(database_url="sqlite+aiosqlite://", organization_name="Northwind")
    default = Settings(database_url="sqlite+aiosqlite://")
    assert await org_groups.organization_name(session, configured) == "Northwind"
    assert await org_groups.organization_name(session, default) == "Northwind Traders"
    await org_groups.create(session, scope, scope.og_id, name="Other", group_id="other", og_type="Customer")
    assert await org_groups.organization_name(session, default) == "Quince"
