"""The SCEP responder over real HTTP: GetCACaps, GetCACert, and PKIOperation with single-use,
expiring challenges bound to one enrollment session (issue 3, "PKI and SCEP")."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from quince.logs import JsonLines
from quince.pki.authority import Pki
from tests import support_scep as client
from tests.integration.scep.conftest import NewChallenge, NewEnrollment, Stored

SCEP = client.SCEP_PATH


@pytest.fixture
async def http(live_server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as c:
        yield c


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _pki_operation(http: httpx.AsyncClient, pending: client.PendingRequest) -> httpx.Response:
    response = await http.post(
        SCEP, params={"operation": "PKIOperation"}, content=pending.message,
        headers={"Content-Type": "application/x-pki-message"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-pki-message"
    return response


async def test_get_ca_caps_lists_post_sha256_aes_and_the_standard(http: httpx.AsyncClient) -> None:
    response = await http.get(SCEP, params={"operation": "GetCACaps"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    caps = response.text.splitlines()
    assert {"POSTPKIOperation", "SHA-256", "AES", "SCEPStandard"} <= set(caps)
    assert "Renewal" not in caps


async def test_get_ca_cert_is_the_ca_certificate(http: httpx.AsyncClient, server_pki: Pki) -> None:
    response = await http.get(SCEP, params={"operation": "GetCACert", "message": "0"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-x509-ca-cert"
    assert x509.load_der_x509_certificate(response.content) == server_pki.ca_certificate


async def test_a_device_gets_a_certificate_recorded_with_its_enrollment(
    live_server: str, server_pki: Pki, new_enrollment: NewEnrollment, new_challenge: NewChallenge,
    stored: Stored,
) -> None:
    enrollment = await new_enrollment()
    challenge = await new_challenge(enrollment)
    key, certificate = await client.scep_enroll_async(live_server, challenge, common_name="Device 1")
    certificate.verify_directly_issued_by(server_pki.ca_certificate)
    assert certificate.public_key().public_numbers() == key.public_key().public_numbers()
    (row,) = await stored.certificates(enrollment.session_id)
    assert row.serial == format(certificate.serial_number, "x")
    assert row.fingerprint_sha256 == certificate.fingerprint(hashes.SHA256()).hex()
    # Quince names the certificate after the enrollment, not as the CSR asked ("CN=Device 1").
    assert certificate.subject == server_pki.device_subject(enrollment.session_uuid)
    assert row.subject == f"CN=Quince enrollment {enrollment.session_uuid},O={server_pki.organization}"
    assert row.pem == certificate.public_bytes(serialization.Encoding.PEM).decode()
    assert _utc(row.not_after) == certificate.not_valid_after_utc
    assert _utc(row.not_before) == certificate.not_valid_before_utc
    (secret,) = await stored.challenges(enrollment.session_id)
    assert secret.used_at is not None
    assert secret.secret_hash != challenge and challenge not in secret.secret_hash
    assert (await stored.session(enrollment.session_id)).status == "CertificateIssued"


async def test_a_csr_naming_the_ca_gets_a_leaf_named_after_its_enrollment(
    live_server: str, server_pki: Pki, new_enrollment: NewEnrollment, new_challenge: NewChallenge,
    stored: Stored,
) -> None:
    enrollment = await new_enrollment()
    ca_subject = [[[attribute.rfc4514_attribute_name, str(attribute.value)]]
                  for attribute in server_pki.ca_certificate.subject]
    key, certificate = await client.scep_enroll_async(
        live_server, await new_challenge(enrollment), common_name=ca_subject)
    certificate.verify_directly_issued_by(server_pki.ca_certificate)
    assert certificate.subject != certificate.issuer
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        f"Quince enrollment {enrollment.session_uuid}")
    assert certificate.public_key().public_numbers() == key.public_key().public_numbers()
    (row,) = await stored.certificates(enrollment.session_id)
    assert row.subject == certificate.subject.rfc4514_string()
    assert row.subject != server_pki.ca_certificate.subject.rfc4514_string()


async def test_a_pki_operation_also_works_with_get_and_a_base64_message(
    http: httpx.AsyncClient, server_pki: Pki, new_enrollment: NewEnrollment, new_challenge: NewChallenge,
    stored: Stored,
) -> None:
    enrollment = await new_enrollment()
    pending = client.build_pkcs_req(server_pki.ca_certificate, await new_challenge(enrollment))
    response = await http.get(SCEP, params=client.get_query_message(pending.message))
    assert response.status_code == 200
    reply = client.read_cert_rep(response.content, server_pki.ca_certificate, pending)
    assert reply.status == "0"
    assert len(await stored.certificates(enrollment.session_id)) == 1


async def _refused(
    http: httpx.AsyncClient, pki: Pki, challenge: str | None
) -> client.CertRep:
    pending = client.build_pkcs_req(pki.ca_certificate, challenge)
    reply = client.read_cert_rep((await _pki_operation(http, pending)).content, pki.ca_certificate, pending)
    assert (reply.status, reply.fail_info) == ("2", client.BAD_REQUEST)
    assert reply.certificates == []
    return reply


async def test_a_wrong_challenge_gets_bad_request_and_nothing_is_issued(
    http: httpx.AsyncClient, server_pki: Pki, new_enrollment: NewEnrollment, new_challenge: NewChallenge,
    stored: Stored,
) -> None:
    enrollment = await new_enrollment()
    await new_challenge(enrollment)
    before = await stored.certificate_count()
    await _refused(http, server_pki, "0123456789abcdef0123456789abcdef")
    await _refused(http, server_pki, None)
    assert await stored.certificate_count() == before
    assert all(s.used_at is None for s in await stored.challenges(enrollment.session_id))


async def test_a_reused_challenge_gets_bad_request_and_nothing_more_is_issued(
    live_server: str, http: httpx.AsyncClient, server_pki: Pki, new_enrollment: NewEnrollment,
    new_challenge: NewChallenge, stored: Stored,
) -> None:
    enrollment = await new_enrollment()
    challenge = await new_challenge(enrollment)
    await client.scep_enroll_async(live_server, challenge)
    await _refused(http, server_pki, challenge)
    with pytest.raises(client.ScepFailure) as failure:
        await client.scep_enroll_async(live_server, challenge)
    assert failure.value.fail_info == client.BAD_REQUEST
    assert len(await stored.certificates(enrollment.session_id)) == 1


async def test_two_racing_requests_with_one_challenge_get_one_certificate(
    http: httpx.AsyncClient, server_pki: Pki, new_enrollment: NewEnrollment, new_challenge: NewChallenge,
    stored: Stored,
) -> None:
    enrollment = await new_enrollment()
    challenge = await new_challenge(enrollment)
    requests = [client.build_pkcs_req(server_pki.ca_certificate, challenge) for _ in range(2)]
    responses = await asyncio.gather(*(_pki_operation(http, pending) for pending in requests))
    replies = [client.read_cert_rep(r.content, server_pki.ca_certificate, pending)
               for r, pending in zip(responses, requests, strict=True)]
    assert sorted(reply.status for reply in replies) == ["0", "2"]
    assert len(await stored.certificates(enrollment.session_id)) == 1


async def test_an_expired_challenge_gets_bad_request_and_nothing_is_issued(
    http: httpx.AsyncClient, server_pki: Pki, new_enrollment: NewEnrollment, new_challenge: NewChallenge,
    stored: Stored,
) -> None:
    enrollment = await new_enrollment()
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    challenge = await new_challenge(enrollment, ttl=timedelta(minutes=30), now=an_hour_ago)
    await _refused(http, server_pki, challenge)
    assert await stored.certificates(enrollment.session_id) == []
    (secret,) = await stored.challenges(enrollment.session_id)
    assert secret.used_at is None


async def test_each_challenge_belongs_to_its_own_enrollment(
    live_server: str, new_enrollment: NewEnrollment, new_challenge: NewChallenge, stored: Stored,
) -> None:
    first, second = await new_enrollment(), await new_enrollment()
    await new_challenge(first)
    _key, certificate = await client.scep_enroll_async(live_server, await new_challenge(second))
    assert await stored.certificates(first.session_id) == []
    (row,) = await stored.certificates(second.session_id)
    assert row.serial == format(certificate.serial_number, "x")


async def test_a_weak_key_is_refused_without_spending_the_challenge(
    live_server: str, http: httpx.AsyncClient, server_pki: Pki, new_enrollment: NewEnrollment,
    new_challenge: NewChallenge, stored: Stored,
) -> None:
    enrollment = await new_enrollment()
    challenge = await new_challenge(enrollment)
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (the point)
    pending = client.build_pkcs_req(server_pki.ca_certificate, challenge, key=weak)
    reply = client.read_cert_rep((await _pki_operation(http, pending)).content,
                                 server_pki.ca_certificate, pending)
    assert (reply.status, reply.fail_info) == ("2", client.BAD_REQUEST)
    await client.scep_enroll_async(live_server, challenge)  # the same challenge still works once
    assert len(await stored.certificates(enrollment.session_id)) == 1


@pytest.mark.parametrize(("method", "params", "body", "status"), [
    ("GET", {"operation": "Nope"}, None, 400),
    ("GET", {}, None, 400),
    ("POST", {"operation": "GetCACert"}, b"x", 400),
    ("POST", {"operation": "PKIOperation"}, b"not a pki message", 400),
    ("GET", {"operation": "PKIOperation", "message": "%%% not base64"}, None, 400),
    ("POST", {"operation": "PKIOperation"}, b"\x30" * (64 * 1024 + 1), 413),
])
async def test_requests_that_are_not_scep_are_refused_plainly(
    http: httpx.AsyncClient, method: str, params: dict[str, str], body: bytes | None, status: int
) -> None:
    response = await http.request(method, SCEP, params=params, content=body)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/plain")


async def test_each_operation_is_logged_with_its_enrollment_but_never_the_challenge(
    live_server: str, http: httpx.AsyncClient, server_pki: Pki, new_enrollment: NewEnrollment,
    new_challenge: NewChallenge, caplog: pytest.LogCaptureFixture,
) -> None:
    enrollment = await new_enrollment()
    challenge = await new_challenge(enrollment)
    with caplog.at_level(logging.INFO, logger="quince.DeviceServices"):
        await client.scep_enroll_async(live_server, challenge)
        await _refused(http, server_pki, challenge)
        await _refused(http, server_pki, "ffffffffffffffffffffffffffffffff")
    lines = [json.loads(JsonLines().format(r)) for r in caplog.records if r.name == "quince.DeviceServices"]
    operations = [line for line in lines if line["event"] == "scep.pki_operation"]
    assert [line["outcome"] for line in operations[-3:]] == [
        "issued", "refused:challenge_used", "refused:unknown_challenge",
    ]
    issued, reused, unknown = operations[-3:]
    assert issued["enrollment"] == reused["enrollment"] == enrollment.session_uuid
    assert issued["device"] == enrollment.device_uuid
    assert issued["user"].startswith("scep-")
    assert issued["serial"] and issued["request_id"]
    assert reused["level"] == unknown["level"] == "WARNING"
    assert reused["fail_info"] == "BAD_REQUEST" and "enrollment" not in unknown
    assert any(line["event"] == "scep.get_ca_cert" for line in lines)
    text = "\n".join(JsonLines().format(r) for r in caplog.records)
    assert challenge not in text and "ffffffffffffffffffffffffffffffff" not in text
