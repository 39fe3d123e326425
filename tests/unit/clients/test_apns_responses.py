"""What each APNs answer means (Apple: "Handling notification responses from APNs")."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from quince.clients.apns import PushOutcome, interpret


def answer(status: int, reason: str | None = None, **headers: str) -> tuple[int, httpx.Headers, bytes]:
    body = json.dumps({"reason": reason}).encode() if reason else b""
    return status, httpx.Headers(headers), body


def test_200_is_delivered_and_keeps_the_apns_id() -> None:
    result = interpret(*answer(200, **{"apns-id": "EC1BF194-B3B2-424A-89A7-0A0E5A2A4A5B"}))
    assert result.outcome is PushOutcome.DELIVERED
    assert result.apns_id == "EC1BF194-B3B2-424A-89A7-0A0E5A2A4A5B"


@pytest.mark.parametrize(("status", "reason"), [(410, "Unregistered"), (400, "BadDeviceToken"),
                                                (410, "ExpiredToken")])
def test_a_dead_token_is_an_invalid_token(status: int, reason: str) -> None:
    result = interpret(*answer(status, reason))
    assert result.outcome is PushOutcome.INVALID_TOKEN
    assert result.reason == reason


@pytest.mark.parametrize(("status", "reason"), [(429, "TooManyRequests"), (500, "InternalServerError"),
                                                (503, "ServiceUnavailable"), (502, None)])
def test_throttling_and_server_errors_are_retried(status: int, reason: str | None) -> None:
    result = interpret(*answer(status, reason))
    assert result.outcome is PushOutcome.RETRY
    assert not result.alarming


def test_retry_after_in_seconds_is_honoured() -> None:
    assert interpret(*answer(429, "TooManyRequests", **{"retry-after": "120"})).retry_after == 120


def test_retry_after_as_a_date_is_honoured() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    when = format_datetime(now + timedelta(seconds=90), usegmt=True)
    result = interpret(*answer(503, None, **{"retry-after": when}), now=now.timestamp())
    assert result.retry_after == 90


def test_an_absurd_retry_after_is_capped_at_an_hour() -> None:
    assert interpret(*answer(429, None, **{"retry-after": "99999999"})).retry_after == 3600


@pytest.mark.parametrize("reason", ["BadCertificate", "BadCertificateEnvironment", "Forbidden", None])
def test_a_403_is_retried_but_alarming(reason: str | None) -> None:
    result = interpret(*answer(403, reason))
    assert result.outcome is PushOutcome.RETRY
    assert result.alarming


@pytest.mark.parametrize(("status", "reason"), [(400, "BadTopic"), (400, "TopicDisallowed"),
                                                (413, "PayloadTooLarge"), (405, "MethodNotAllowed"),
                                                (400, "DeviceTokenNotForTopic"), (404, "BadPath")])
def test_other_refusals_fail_for_good(status: int, reason: str) -> None:
    result = interpret(*answer(status, reason))
    assert result.outcome is PushOutcome.FAILED
    assert result.describe() == f"APNs answered {status} {reason}"


def test_a_body_that_is_not_json_still_gives_a_result() -> None:
    assert interpret(500, httpx.Headers(), b"<html>oops</html>").outcome is PushOutcome.RETRY
