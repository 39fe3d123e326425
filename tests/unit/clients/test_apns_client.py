"""The APNs client on httpx.MockTransport: the request a push makes, and what each answer or
network failure becomes for the caller. (tests/integration/apns/test_apns_client.py sends the
same pushes over HTTP/2 and TLS to the local APNs; test_apns_responses.py reads the answers.)"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from quince.clients import apns_certificate
from quince.clients.apns import ApnsClient, PushOutcome
from tests.support_apns import TestAuthority, new_topic

TOKEN = "ab" * 32
MAGIC = "5F2E1C7A-6B1D-4A83-9E3F-0C1D2E3F4A5B"
Handler = Callable[[httpx.Request], httpx.Response]


class Apns:
    """A scripted APNs: answers with `answer(request)` and keeps every request it was sent."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answer: Handler = _delivered

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)


def _delivered(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={"apns-id": "A-1"})


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> apns_certificate.PushCertificate:
    issued = TestAuthority("Apple Worldwide Developer Relations").issue_push_certificate(new_topic())
    return apns_certificate.install(tmp_path_factory.mktemp("apns"), issued.identity_pem)


@pytest.fixture(scope="module")
def scripted() -> Apns:
    return Apns()


@pytest.fixture
def apns(scripted: Apns) -> Apns:
    """The module's scripted APNs, reset: it delivers, and has been sent nothing."""
    scripted.requests.clear()
    scripted.answer = _delivered
    return scripted


@pytest.fixture(scope="module")
async def client(
    certificate: apns_certificate.PushCertificate, scripted: Apns
) -> AsyncIterator[ApnsClient]:
    # One client for the module, as in production (its TLS context takes a moment to build).
    c = ApnsClient(certificate, transport=httpx.MockTransport(scripted.handle))
    yield c
    await c.aclose()


async def test_a_push_posts_the_push_magic_to_the_device_token_on_the_topic(
    client: ApnsClient, apns: Apns
) -> None:
    before = time.time()
    result = await client.send_mdm_push(f"  {TOKEN.upper()} ", MAGIC, client.topic)

    assert (result.outcome, result.status, result.apns_id) == (PushOutcome.DELIVERED, 200, "A-1")
    [request] = apns.requests
    assert request.method == "POST"
    assert str(request.url) == f"https://api.push.apple.com/3/device/{TOKEN}"
    assert request.content == f'{{"mdm":"{MAGIC}"}}'.encode()
    assert request.headers["apns-topic"] == client.topic
    assert request.headers["apns-push-type"] == "mdm"
    assert request.headers["apns-priority"] == "10"
    assert request.headers["content-type"] == "application/json"
    # Stored by APNs for about a week while the device is offline, never "deliver once".
    expiration = int(request.headers["apns-expiration"])
    assert before + timedelta(days=6).total_seconds() < expiration <= time.time() + 7 * 86400 + 1


@pytest.mark.parametrize("token", ["", "ab" * 15, "zz" * 32, "ab/../../x", "ab" * 257])
async def test_a_malformed_token_is_never_sent(client: ApnsClient, apns: Apns, token: str) -> None:
    result = await client.send_mdm_push(token, MAGIC, client.topic)
    assert (result.outcome, result.status, result.reason) == (
        PushOutcome.INVALID_TOKEN, None, "MalformedDeviceToken")
    assert apns.requests == []


def _answer(status: int, reason: str | None = None, **headers: str) -> Handler:
    body = json.dumps({"reason": reason}).encode() if reason else b""
    return lambda request: httpx.Response(status, content=body, headers=headers)


@pytest.mark.parametrize(("status", "reason", "outcome", "alarming"), [
    (410, "Unregistered", PushOutcome.INVALID_TOKEN, False),
    (400, "BadDeviceToken", PushOutcome.INVALID_TOKEN, False),
    (400, "TopicDisallowed", PushOutcome.FAILED, False),
    (413, "PayloadTooLarge", PushOutcome.FAILED, False),
    (403, "ExpiredProviderToken", PushOutcome.RETRY, True),
    (429, "TooManyRequests", PushOutcome.RETRY, False),
    (500, "InternalServerError", PushOutcome.RETRY, False),
    (503, "ServiceUnavailable", PushOutcome.RETRY, False),
])
async def test_apples_answer_reaches_the_caller_with_its_reason(
    client: ApnsClient, apns: Apns, status: int, reason: str, outcome: PushOutcome, alarming: bool
) -> None:
    apns.answer = _answer(status, reason, **{"apns-id": "A-2"})
    result = await client.send_mdm_push(TOKEN, MAGIC, client.topic)
    assert (result.outcome, result.status, result.reason, result.apns_id, result.alarming) == (
        outcome, status, reason, "A-2", alarming)
    assert result.describe() == f"APNs answered {status} {reason}"


async def test_retry_after_in_seconds_or_as_a_date_says_how_long_to_wait(
    client: ApnsClient, apns: Apns
) -> None:
    apns.answer = _answer(429, "TooManyRequests", **{"retry-after": "120"})
    assert (await client.send_mdm_push(TOKEN, MAGIC, client.topic)).retry_after == 120
    in_ten_minutes = format_datetime(datetime.now(UTC) + timedelta(minutes=10), usegmt=True)
    apns.answer = _answer(503, "ServiceUnavailable", **{"retry-after": in_ten_minutes})
    wait = (await client.send_mdm_push(TOKEN, MAGIC, client.topic)).retry_after
    assert wait is not None and 590 <= wait <= 600


async def test_an_error_body_that_is_not_apples_json_still_gives_a_result(
    client: ApnsClient, apns: Apns
) -> None:
    apns.answer = lambda request: httpx.Response(502, content=b"<html>Bad Gateway</html>")
    result = await client.send_mdm_push(TOKEN, MAGIC, client.topic)
    assert (result.outcome, result.status, result.reason) == (PushOutcome.RETRY, 502, None)


def _raise(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc
    return handler


async def test_an_unreachable_apns_is_retried_later(client: ApnsClient, apns: Apns) -> None:
    apns.answer = _raise(httpx.ConnectError("Connection refused"))
    result = await client.send_mdm_push(TOKEN, MAGIC, client.topic)
    assert (result.outcome, result.status, result.alarming) == (PushOutcome.RETRY, None, False)
    assert result.reason == "ConnectError: Connection refused"
    assert result.describe() == "APNs could not be reached: ConnectError: Connection refused"


async def test_a_timeout_is_retried_later(client: ApnsClient, apns: Apns) -> None:
    apns.answer = _raise(httpx.ReadTimeout(""))
    result = await client.send_mdm_push(TOKEN, MAGIC, client.topic)
    assert (result.outcome, result.status, result.reason) == (PushOutcome.RETRY, None, "ReadTimeout")


async def test_a_tls_failure_is_retried_and_alarming(client: ApnsClient, apns: Apns) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        try:
            raise ssl.SSLError(1, "[SSL: TLSV1_ALERT_CERTIFICATE_REVOKED] certificate revoked")
        except ssl.SSLError as exc:
            raise httpx.ConnectError("handshake failed") from exc

    apns.answer = refuse
    result = await client.send_mdm_push(TOKEN, MAGIC, client.topic)
    assert (result.outcome, result.alarming) == (PushOutcome.RETRY, True)


async def test_the_base_url_names_where_pushes_go(
    certificate: apns_certificate.PushCertificate, apns: Apns
) -> None:
    sandbox = ApnsClient(certificate, base_url="https://api.sandbox.push.apple.com/",
                         transport=httpx.MockTransport(apns.handle))
    try:
        await sandbox.send_mdm_push(TOKEN, MAGIC, sandbox.topic)
    finally:
        await sandbox.aclose()
    assert str(apns.requests[0].url) == f"https://api.sandbox.push.apple.com/3/device/{TOKEN}"
