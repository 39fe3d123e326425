"""Each refusal of the sign-in pages over real HTTP: its page, its status, and nothing created."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.integration.device_management.support import (
    ACCOUNT,
    PASSWORD,
    WEB,
    Org,
    alert,
    attempts,
    csrf_token,
    devices,
    heading,
    outcome,
    sign_in,
)


async def test_wrong_password_and_unknown_user_get_the_same_page(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    wrong = await sign_in(browser_client, WEB, "alice@acme.example", "not-the-password")
    nobody = await sign_in(browser_client, WEB, "nobody@acme.example", "not-the-password")
    for page in (wrong, nobody):
        assert page.status_code == 401
        assert outcome(page.text) == "wrong_credentials"
        assert heading(page.text) == "Check your email address and password"
        assert alert(page.text) == "The email address or password is not correct."
        assert 'name="password"' in page.text  # the form again, to retry
    assert "WWW-Authenticate" not in wrong.headers
    assert await devices(session) == []
    assert [a.succeeded for a in await attempts(session)] == [False, False]


@pytest.mark.parametrize(
    ("email", "group_id", "kind", "title", "words"),
    [
        ("bob@acme.example", "", "inactive_user", "Your account is not active", ["not active"]),
        ("alice@acme.example", "no-such-group", "unknown_group_id", "Group ID not recognised",
         ["'no-such-group'", "not recognised"]),
        ("alice@acme.example", "beta", "group_id_out_of_reach", "Group ID not available to you",
         ["cannot enroll into Group ID 'beta'"]),
        ("carol@acme.example", "", "user_enrollment_disabled", "Enrollment is not available",
         ["'Closed'", "set at 'Closed'"]),
        ("erin@acme.example", "", "user_enrollment_disabled", "Enrollment is not available",
         ["'Beta'", "inherited from 'Global'"]),
    ],
)
async def test_each_policy_refusal_has_its_own_page(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org,
    email: str, group_id: str, kind: str, title: str, words: list[str],
) -> None:
    page = await sign_in(browser_client, ACCOUNT, email, group_id=group_id,
                         query=f"?user-identifier={email}")
    assert page.status_code == 403
    assert outcome(page.text) == kind
    assert heading(page.text) == title
    for word in words:
        assert word in alert(page.text)
    assert page.headers["cache-control"] == "no-store"
    # "Start again" goes back to the same flow, keeping the address the device typed.
    assert f'href="/DeviceManagement/Enrollment/account-driven?user-identifier={email.replace("@", "%40")}"' \
        in page.text
    assert await devices(session) == []


async def test_in_list_mode_a_typed_group_id_out_of_reach_is_refused_without_a_list(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    page = await sign_in(browser_client, WEB, "dave@acme.example", group_id="sales")
    assert page.status_code == 403 and outcome(page.text) == "group_id_out_of_reach"


async def test_a_post_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(
    live_server: str, browser_client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    form = await browser_client.get(WEB)
    token = csrf_token(form.text)
    fields = {"email": "alice@acme.example", "password": PASSWORD, "group_id": ""}
    missing = await browser_client.post(WEB, data=fields)
    wrong = await browser_client.post(WEB, data={**fields, "csrf_token": token[:-3] + "xyz"})
    async with httpx.AsyncClient(base_url=live_server) as stranger:  # the token, but not the cookie
        no_cookie = await stranger.post(WEB, data={**fields, "csrf_token": token})
    for page in (missing, wrong, no_cookie):
        assert page.status_code == 403
        assert outcome(page.text) == "csrf_rejected"
        assert heading(page.text) == "This page has expired"
        assert "Nothing was changed" in alert(page.text)
    assert await devices(session) == []
    assert await attempts(session) == []  # not even counted as a sign-in attempt


async def test_a_token_for_one_browser_does_not_work_with_another_browsers_cookie(
    live_server: str, browser_client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    mine = csrf_token((await browser_client.get(WEB)).text)
    async with httpx.AsyncClient(base_url=live_server) as other:
        await other.get(WEB)  # has a cookie of its own
        page = await other.post(WEB, data={"csrf_token": mine, "email": "alice@acme.example",
                                           "password": PASSWORD})
    assert page.status_code == 403
    assert await devices(session) == []


async def test_failures_for_one_user_make_that_user_wait_at_that_address(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    for _ in range(5):  # QUINCE_SIGN_IN_FREE_FAILURES_PER_ACCOUNT
        assert (await sign_in(browser_client, WEB, "alice@acme.example", "wrong")).status_code == 401
    page = await sign_in(browser_client, WEB, "alice@acme.example")  # even the right password
    assert page.status_code == 429
    assert outcome(page.text) == "rate_limited"
    assert heading(page.text) == "Too many sign-in attempts"
    assert "Wait 30 seconds" in alert(page.text)  # the test server's first wait
    assert 0 < int(page.headers["retry-after"]) <= 30
    assert await devices(session) == []
    # Another user from the same address is not affected.
    assert (await sign_in(browser_client, WEB, "dave@acme.example", group_id="field")).status_code == 303


async def test_many_failures_from_one_address_make_that_address_wait(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    for n in range(20):  # QUINCE_SIGN_IN_FREE_FAILURES_PER_ADDRESS, each for a different name
        page = await sign_in(browser_client, ACCOUNT, f"guess{n}@acme.example", "wrong")
        assert page.status_code == 401
    page = await sign_in(browser_client, ACCOUNT, "alice@acme.example")
    assert page.status_code == 429 and outcome(page.text) == "rate_limited"
    assert await devices(session) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "", "password": PASSWORD}, "Enter your email address."),
        ({"email": "a" * 255, "password": PASSWORD}, "at most 254 characters"),
        ({"email": "alice@acme.example\x00", "password": PASSWORD}, "not allowed"),
        ({"email": "alice@acme.example", "password": ""}, "Enter your password."),
        ({"email": "alice@acme.example", "password": "p" * 257}, "at most 256 characters"),
        ({"email": "alice@acme.example", "password": PASSWORD, "group_id": "g" * 65},
         "at most 64 characters"),
        ({"email": "alice@acme.example", "password": PASSWORD, "group_id": "sales eu"},
         "only letters, digits"),
        ({"email": "alice@acme.example", "password": PASSWORD, "group_id": "s\u00e4les"},
         "only letters, digits"),
    ],
)
async def test_out_of_bounds_fields_show_the_form_again_with_a_message(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org,
    fields: dict[str, str], message: str,
) -> None:
    token = csrf_token((await browser_client.get(WEB)).text)
    page = await browser_client.post(WEB, data={"csrf_token": token, **fields})
    assert page.status_code == 400
    assert outcome(page.text) == "invalid_form"
    assert message in alert(page.text)
    assert 'name="password"' in page.text
    assert "\x00" not in page.text
    assert await devices(session) == [] and await attempts(session) == []


async def test_garbage_bodies_never_cause_a_server_error(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    token = csrf_token((await browser_client.get(WEB)).text)
    form = "application/x-www-form-urlencoded"
    bodies: list[tuple[str, bytes]] = [
        (form, f"csrf_token={token}&email=%ff%fe%00&password=%ff".encode()),
        (form, f"csrf_token={token}&email=a&email=b&password=x&password=y".encode()),
        (form, b"&".join(f"f{n}=x".encode() for n in range(100)) + f"&csrf_token={token}".encode()),
        (form, f"csrf_token={token}&email={'x' * 40_000}&password=x".encode()),
        ("application/json", b'{"email": "alice@acme.example"}'),
        ("text/plain", b"\x00\x01\x02"),
        ("multipart/form-data; boundary=zz",
         b'--zz\r\nContent-Disposition: form-data; name="email"; filename="a.txt"\r\n\r\nhi\r\n--zz--\r\n'),
        ("multipart/form-data; boundary=zz", b"--zz\r\nbroken"),
    ]
    for content_type, body in bodies:
        page = await browser_client.post(WEB, content=body, headers={"content-type": content_type})
        assert page.status_code in (400, 401, 403), (content_type, body[:60], page.status_code)
        assert page.headers["content-type"].startswith("text/html")
    state_garbage = await browser_client.post(WEB, data={"csrf_token": token, "state": "x.y"})
    assert state_garbage.status_code == 403
    query = await browser_client.get(WEB, params={"user-identifier": "x" * 5000})
    assert query.status_code == 200 and "x" * 300 not in query.text
    assert await devices(session) == []
