"""DESIGN.md rule 8: the sign-in pages write the DeviceManagement log, with the fields a support
engineer filters on, and never a password, token or CSRF value."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.apple.discovery import access_token_from_callback_url
from quince.logs import JsonLines
from tests.integration.device_management.support import (
    ACCOUNT,
    WEB,
    Org,
    csrf_token,
    devices,
    enrollments,
    sign_in,
    state_of,
)

LOGGER = "quince.DeviceManagement"


class Captured(logging.Handler):
    """The face logger's records, as the log file would hold them (JSON lines)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(JsonLines())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[dict[str, object]]:
        return [json.loads(self.format(r)) for r in self.records]


@pytest.fixture
def dm_log() -> Iterator[Captured]:
    """Attached to the face logger itself: `quince serve` stops its propagation to the root."""
    logger, handler = logging.getLogger(LOGGER), Captured()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_form_views_and_a_successful_sign_in_are_logged_with_session_user_device_and_og(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org, dm_log: Captured
) -> None:
    answer = await sign_in(browser_client, ACCOUNT, "alice@acme.example", group_id="sales-eu",
                           query="?user-identifier=alice%40acme.example")
    token = access_token_from_callback_url(answer.headers["location"])
    [device] = await devices(session)
    [enrollment] = await enrollments(session)
    shown, started = dm_log.lines()
    assert (shown["event"], shown["outcome"], shown["flow"]) == ("signin.form", "shown", "account")
    assert "user" not in shown and "enrollment" not in shown  # nobody is known yet
    assert (started["event"], started["outcome"]) == ("signin.submit", "enrollment_started")
    assert started["enrollment"] == enrollment.uuid
    assert started["device"] == device.uuid
    assert started["user"] == "alice"
    assert started["og"] == "sales-eu"
    assert started["level"] == "INFO"
    assert isinstance(shown["request_id"], str) and shown["request_id"] != started["request_id"]
    text = json.dumps(dm_log.lines())
    assert token not in text
    assert "correct-horse-1" not in text


async def test_refusals_are_logged_with_their_kind_and_without_secrets(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org, dm_log: Captured
) -> None:
    await sign_in(browser_client, WEB, "alice@acme.example", "secret-guess-1")
    await sign_in(browser_client, WEB, "nobody@acme.example", "secret-guess-2")
    await sign_in(browser_client, WEB, "carol@acme.example")
    await sign_in(browser_client, WEB, "alice@acme.example", group_id="nope")
    form = await browser_client.get(WEB)
    token = csrf_token(form.text)
    await browser_client.post(WEB, data={"csrf_token": "forged", "email": "alice@acme.example",
                                         "password": "secret-guess-3"})
    for _ in range(5):  # alice's right password above forgave her first failure
        await sign_in(browser_client, WEB, "alice@acme.example", "secret-guess-4")
    await sign_in(browser_client, WEB, "alice@acme.example", "secret-guess-5")
    submits = [(e["outcome"], e.get("user"), e.get("og")) for e in dm_log.lines()
               if e["event"] == "signin.submit"]
    assert submits == [
        ("wrong_credentials", "alice", None),
        ("wrong_credentials", None, None),  # an unknown address names nobody
        ("refused:user_enrollment_disabled", "carol", "closed"),
        ("refused:unknown_group_id", "alice", None),
        ("csrf_rejected", None, None),
        *[("wrong_credentials", "alice", None)] * 5,
        ("rate_limited", "alice", None),
    ]
    text = json.dumps(dm_log.lines())
    for secret in ("secret-guess", "correct-horse-1", token, "forged"):
        assert secret not in text
    cookie = browser_client.cookies.get("quince_signin")
    assert cookie and cookie not in text
    assert all(e["level"] == "WARNING" for e in dm_log.lines() if e["event"] == "signin.submit")


async def test_the_group_list_and_the_choice_are_logged(
    browser_client: httpx.AsyncClient, session: AsyncSession, org: Org, dm_log: Captured
) -> None:
    page = await sign_in(browser_client, WEB, "dave@acme.example")
    done = await browser_client.post(WEB, data={
        "csrf_token": csrf_token(page.text), "state": state_of(page.text), "group_id": "field-south",
    })
    assert done.status_code == 303
    events = [(e["event"], e["outcome"], e.get("user"), e.get("og")) for e in dm_log.lines()]
    assert events == [
        ("signin.form", "shown", None, None),
        ("signin.group_list", "shown", "dave", "field"),
        ("signin.group_choice", "enrollment_started", "dave", "field-south"),
    ]
    assert state_of(page.text) not in json.dumps(dm_log.lines())
