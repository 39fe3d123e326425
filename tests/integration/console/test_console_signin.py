"""Console sign-in: admin accounts, session cookie, CSRF, lock-out, redirects."""

from __future__ import annotations

import hashlib
import logging
import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.users import typed_name_digest
from quince.services.access import admins
from quince.services.scope import Scope
from tests.integration.console.support import PASSWORD, Fleet, csrf_token, sign_in

WRONG = "The username or password is not correct."
# htmx 2.0.11's dist/htmx.min.js from the npm registry (src/quince/web/console/static/vendor/).
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


async def test_an_admin_signs_in_and_gets_a_strict_httponly_session(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    answer = await sign_in(client, "acme-admin")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("quince_console="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # the test server's public_url is http
    home = await client.get("/console/")
    assert home.status_code == 200 and "acme-admin" in home.text and "<h1>Acme</h1>" in home.text
    assert home.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in home.headers["content-security-policy"]
    assert "http" not in home.headers["content-security-policy"]


async def test_unknown_user_and_wrong_password_get_the_same_message(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    unknown = await sign_in(client, "nobody", PASSWORD)
    wrong = await sign_in(client, "acme-admin", "not-the-password")
    assert unknown.status_code == wrong.status_code == 401
    assert WRONG in unknown.text and WRONG in wrong.text
    assert "quince_console=" not in " ".join(wrong.headers.get_list("set-cookie"))


async def test_failures_make_that_account_wait_from_that_address_even_for_the_right_password(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    for _ in range(5):
        assert (await sign_in(client, "acme-admin", "wrong")).status_code == 401
    paused = await sign_in(client, "acme-admin", PASSWORD)
    assert paused.status_code == 429
    assert "Too many failed sign-ins. Wait 30 seconds" in paused.text  # a back-off, not a 15-minute wall
    assert 0 < int(paused.headers["retry-after"]) <= 30
    assert (await sign_in(client, "acme-reader")).status_code == 303  # other accounts are not


async def test_failed_rest_calls_count_towards_the_console_back_off_and_the_reverse(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession, scope: Scope
) -> None:
    _row, key = await admins.create_api_key(session, scope, og_id=fleet.acme)
    await session.commit()
    for _ in range(5):
        answer = await client.get("/API/system/groups/search", auth=("acme-admin", "wrong"),
                                  headers={"aw-tenant-code": key})
        assert answer.status_code == 401
    assert (await sign_in(client, "acme-admin", PASSWORD)).status_code == 429
    for _ in range(5):
        assert (await sign_in(client, "acme-reader", "wrong")).status_code == 401
    rest = await client.get("/API/system/groups/search", auth=("acme-reader", PASSWORD),
                            headers={"aw-tenant-code": key})
    assert rest.status_code == 429 and int(rest.headers["retry-after"]) > 0


async def test_many_failures_from_one_address_slow_it_down_briefly_for_every_account(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    # Guessing one password across many usernames never trips the per-account back-off.
    for n in range(20):
        assert (await sign_in(client, f"guess-{n}", "wrong")).status_code == 401
    paused = await sign_in(client, "acme-admin", PASSWORD)
    assert paused.status_code == 429
    assert int(paused.headers["retry-after"]) <= 60  # QUINCE_SIGN_IN_MAX_WAIT_SECONDS_PER_ADDRESS
    assert "quince_console=" not in " ".join(paused.headers.get_list("set-cookie"))


async def test_signing_out_ends_the_session_on_the_server_so_a_copied_cookie_stops_working(
    client: httpx.AsyncClient, fleet: Fleet, live_server: str
) -> None:
    assert (await sign_in(client, "acme-admin")).status_code == 303
    copied = client.cookies.get("quince_console", path="/console")
    assert copied
    home = await client.get("/console/")
    out = await client.post("/console/sign-out", data={"csrf_token": csrf_token(home.text)})
    assert out.status_code == 303
    async with httpx.AsyncClient(base_url=live_server, follow_redirects=False,
                                 cookies={"quince_console": copied}) as thief:
        again = await thief.get("/console/")
    assert again.status_code == 303 and again.headers["location"].startswith("/console/sign-in")


async def test_signing_out_ends_the_admins_other_sessions_too(
    client: httpx.AsyncClient, fleet: Fleet, live_server: str
) -> None:
    async with httpx.AsyncClient(base_url=live_server, follow_redirects=False) as other_browser:
        assert (await sign_in(other_browser, "acme-admin")).status_code == 303
        assert (await sign_in(client, "acme-admin")).status_code == 303
        home = await client.get("/console/")
        await client.post("/console/sign-out", data={"csrf_token": csrf_token(home.text)})
        assert (await other_browser.get("/console/")).status_code == 303


async def test_a_password_change_ends_the_admins_console_sessions(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession, scope: Scope
) -> None:
    assert (await sign_in(client, "acme-admin")).status_code == 303
    assert (await client.get("/console/")).status_code == 200
    await admins.update_admin(session, scope, "acme-admin", password="a-new-password-1")
    await session.commit()
    assert (await client.get("/console/")).status_code == 303


async def test_a_failed_sign_in_never_logs_the_typed_username(
    client: httpx.AsyncClient, fleet: Fleet, caplog: pytest.LogCaptureFixture
) -> None:
    typed = "Summer2026!MyPassword"  # people type passwords into the username field
    with caplog.at_level(logging.INFO):
        assert (await sign_in(client, typed, "x")).status_code == 401
    records = [r for r in caplog.records if getattr(r, "event", "") == "console.signin"
               or "console.signin" in r.getMessage()]
    assert records, "the failure is logged"
    assert all(typed not in r.getMessage() and typed not in str(r.__dict__) for r in caplog.records)
    assert typed_name_digest(typed) in " ".join(str(r.__dict__) for r in records)


async def test_a_form_without_the_csrf_token_is_refused(client: httpx.AsyncClient, fleet: Fleet) -> None:
    await client.get("/console/sign-in")
    answer = await client.post("/console/sign-in", data={"username": "acme-admin", "password": PASSWORD})
    assert answer.status_code == 403 and "This page has expired" in answer.text
    assert (await sign_in(client, "acme-admin")).status_code == 303
    signed_in = await client.get("/console/")
    assert (await client.post("/console/sign-out", data={})).status_code == 403
    out = await client.post("/console/sign-out", data={"csrf_token": csrf_token(signed_in.text)})
    assert out.status_code == 303 and out.headers["location"] == "/console/sign-in"


async def test_unauthenticated_pages_redirect_to_sign_in(client: httpx.AsyncClient, fleet: Fleet) -> None:
    for path in ("/console/", f"/console/devices?og={fleet.sales}", f"/console/devices/{fleet.alice_iphone}"):
        answer = await client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/console/sign-in?next=%2Fconsole%2F")
    client.cookies.set("quince_console", "e30.bm90LWEtbWFj", path="/console")
    answer = await client.get("/console/")
    assert answer.status_code == 303


async def test_after_sign_in_the_admin_returns_to_the_page_asked_for(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    form = await client.get(f"/console/sign-in?next=/console/devices%3Fog%3D{fleet.sales}")
    answer = await client.post("/console/sign-in", data={
        "csrf_token": csrf_token(form.text), "username": "acme-admin", "password": PASSWORD,
        "next": f"/console/devices?og={fleet.sales}",
    })
    assert answer.headers["location"] == f"/console/devices?og={fleet.sales}"
    evil = await client.post("/console/sign-in", data={
        "csrf_token": csrf_token(form.text), "username": "acme-admin", "password": PASSWORD,
        "next": "//evil.example/",
    })
    assert evil.headers["location"] == "/console/"


async def test_the_vendored_htmx_is_served_and_only_own_scripts_may_run(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    page = await client.get("/console/sign-in")
    source = re.search(r'<script src="(/console/static/htmx-[0-9.]+\.min\.js)"', page.text)
    assert source, "the console pages load htmx"
    script = await client.get(source.group(1))
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert hashlib.sha256(script.content).hexdigest() == HTMX_SHA256
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe" not in policy and "http" not in policy


async def test_the_console_has_its_own_icon(client: httpx.AsyncClient, fleet: Fleet) -> None:
    page = await client.get("/console/sign-in")
    assert '<link rel="icon" href="/console/static/favicon.svg"' in page.text
    icon = await client.get("/console/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert icon.text.startswith("<svg")
