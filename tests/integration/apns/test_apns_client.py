"""Quince's production APNs client against the local APNs (HTTP/2 over TLS, client certificates)."""

from __future__ import annotations

import asyncio
import json
import secrets
import ssl
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from quince.clients import apns_certificate
from quince.clients.apns import ApnsClient, ApnsClients, PushOutcome
from quince.config import Settings
from tests.support_apns import ApnsDouble, Reply, TestAuthority


def token() -> str:
    return secrets.token_hex(32)


def magic() -> str:
    return str(uuid.uuid4()).upper()


def install(apns_server: ApnsDouble, var_dir: Path) -> apns_certificate.PushCertificate:
    return apns_certificate.install(var_dir / "apns", apns_server.identity_file.read_bytes())


@pytest.fixture
async def client(apns_server: ApnsDouble, tmp_path: Path) -> AsyncIterator[ApnsClient]:
    c = ApnsClient(install(apns_server, tmp_path), base_url=apns_server.url, ca_file=apns_server.ca_file)
    yield c
    await c.aclose()


async def test_a_push_is_delivered_with_the_mdm_headers_and_body(
    client: ApnsClient, apns_server: ApnsDouble
) -> None:
    device, push_magic = token(), magic()
    result = await client.send_mdm_push(device, push_magic, apns_server.topic)

    assert result.outcome is PushOutcome.DELIVERED and result.status == 200
    [push] = apns_server.received()
    assert result.apns_id == push.apns_id
    assert push.token == device
    assert push.body == f'{{"mdm":"{push_magic}"}}'.encode()
    assert push.headers["apns-topic"] == apns_server.topic == push.certificate_topic
    assert push.headers["apns-push-type"] == "mdm"
    assert push.headers["apns-priority"] == "10"
    # Stored by APNs for a device that is offline right now, not dropped (0 would drop it).
    assert int(push.headers["apns-expiration"]) > time.time() + 24 * 3600


async def test_pushes_share_one_long_lived_http2_connection(
    client: ApnsClient, apns_server: ApnsDouble
) -> None:
    for _ in range(3):
        result = await client.send_mdm_push(token(), magic(), apns_server.topic)
        assert result.outcome is PushOutcome.DELIVERED
    results = await asyncio.gather(*(client.send_mdm_push(token(), magic(), apns_server.topic)
                                     for _ in range(10)))
    assert {r.outcome for r in results} == {PushOutcome.DELIVERED}
    assert len(apns_server.delivered) == 13
    assert apns_server.connections == 1


@pytest.mark.parametrize(("reply", "outcome"), [
    (Reply(410, "Unregistered"), PushOutcome.INVALID_TOKEN),
    (Reply(400, "BadDeviceToken"), PushOutcome.INVALID_TOKEN),
    (Reply(500, "InternalServerError"), PushOutcome.RETRY),
    (Reply(503, "ServiceUnavailable"), PushOutcome.RETRY),
    (Reply(400, "BadCollapseId"), PushOutcome.FAILED),
])
async def test_apns_answers_are_mapped(
    client: ApnsClient, apns_server: ApnsDouble, reply: Reply, outcome: PushOutcome
) -> None:
    device = token()
    apns_server.reply(reply, token=device)
    result = await client.send_mdm_push(device, magic(), apns_server.topic)
    assert (result.outcome, result.status, result.reason) == (outcome, reply.status, reply.reason)


async def test_429_says_how_long_to_wait(client: ApnsClient, apns_server: ApnsDouble) -> None:
    apns_server.reply(Reply(429, "TooManyRequests", retry_after="45"))
    result = await client.send_mdm_push(token(), magic(), apns_server.topic)
    assert (result.outcome, result.retry_after) == (PushOutcome.RETRY, 45)


async def test_403_is_retried_and_alarming(client: ApnsClient, apns_server: ApnsDouble) -> None:
    apns_server.reply(Reply(403, "BadCertificate"))
    result = await client.send_mdm_push(token(), magic(), apns_server.topic)
    assert (result.outcome, result.alarming) == (PushOutcome.RETRY, True)


async def test_a_push_on_another_topic_is_refused(client: ApnsClient, apns_server: ApnsDouble) -> None:
    result = await client.send_mdm_push(token(), magic(), "com.apple.mgmt.External.someone-else")
    assert (result.outcome, result.status, result.reason) == (PushOutcome.FAILED, 400, "TopicDisallowed")
    assert apns_server.delivered == []


async def test_a_malformed_token_is_never_sent(client: ApnsClient, apns_server: ApnsDouble) -> None:
    for bad in ("", "zz" * 32, "ab/../../x", "abc"):
        result = await client.send_mdm_push(bad, magic(), apns_server.topic)
        assert result.outcome is PushOutcome.INVALID_TOKEN
    assert apns_server.received() == []


async def test_a_slow_apns_is_retried_later(apns_server: ApnsDouble, tmp_path: Path) -> None:
    slow = ApnsClient(install(apns_server, tmp_path), base_url=apns_server.url,
                      ca_file=apns_server.ca_file, timeout=httpx.Timeout(0.3))
    try:
        apns_server.reply(Reply(delay=2.0))
        result = await slow.send_mdm_push(token(), magic(), apns_server.topic)
    finally:
        await slow.aclose()
    assert result.outcome is PushOutcome.RETRY
    assert result.status is None and "Timeout" in (result.reason or "")


async def test_a_client_certificate_apple_did_not_issue_is_refused(
    apns_server: ApnsDouble, tmp_path: Path
) -> None:
    impostor = TestAuthority("Not Apple").issue_push_certificate(apns_server.topic)
    certificate = apns_certificate.install(tmp_path / "apns", impostor.identity_pem)
    client = ApnsClient(certificate, base_url=apns_server.url, ca_file=apns_server.ca_file)
    try:
        result = await client.send_mdm_push(token(), magic(), apns_server.topic)
    finally:
        await client.aclose()
    assert result.outcome is PushOutcome.RETRY and result.status is None
    assert apns_server.received() == []


async def test_a_client_without_a_certificate_is_refused_by_tls(apns_server: ApnsDouble) -> None:
    context = ssl.create_default_context(cafile=str(apns_server.ca_file))
    async with httpx.AsyncClient(verify=context, http1=False, http2=True) as anonymous:
        with pytest.raises(httpx.HTTPError):
            await anonymous.post(f"{apns_server.url}/3/device/{token()}", content=b'{"mdm":"x"}',
                                 headers={"apns-topic": apns_server.topic, "apns-push-type": "mdm"})
    assert apns_server.received() == []


async def test_quince_checks_who_it_talks_to(apns_server: ApnsDouble, tmp_path: Path) -> None:
    """Without the test CA, the double's server certificate is not trusted: nothing is sent."""
    client = ApnsClient(install(apns_server, tmp_path), base_url=apns_server.url)
    try:
        result = await client.send_mdm_push(token(), magic(), apns_server.topic)
    finally:
        await client.aclose()
    assert result.outcome is PushOutcome.RETRY and result.alarming
    assert apns_server.received() == []


async def test_the_client_follows_the_installed_certificate(apns_server: ApnsDouble, tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", apns_url=apns_server.url, apns_ca_file=apns_server.ca_file)
    clients = ApnsClients(settings)
    try:
        assert await clients.get() is None
        install(apns_server, settings.var_dir)
        first = await clients.get()
        assert first is not None and first is await clients.get()
        assert (await first.send_mdm_push(token(), magic(), first.topic)).outcome is PushOutcome.DELIVERED

        renewed = apns_server.apple_ca.issue_push_certificate(apns_server.topic)
        apns_certificate.install(settings.apns_dir, renewed.identity_pem)
        second = await clients.get()
        assert second is not None and second is not first
        assert second.certificate.fingerprint_sha256 != first.certificate.fingerprint_sha256
        assert (await second.send_mdm_push(token(), magic(), second.topic)).outcome is PushOutcome.DELIVERED
    finally:
        await clients.aclose()
    assert json.loads(apns_server.delivered[-1].body)["mdm"]
