"""The MDM channel over real HTTP: strict device authentication, the check-in lifecycle of the
placeholder record (DESIGN.md rules 2-4, 9), and the command queue."""

from __future__ import annotations

import base64
import json
import logging
import plistlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quince.apple.errors import ForbiddenForUserEnrollment
from quince.config import Settings
from quince.logs import JsonLines
from quince.services.directory import og_settings, org_groups, users
from quince.services.mdm import commands
from quince.services.mdm.enterprise_wipe import enterprise_wipe
from quince.services.scope import Scope
from quince.store.models import (
    CommandRow,
    DeviceCertificateRow,
    DeviceMessageRow,
    DeviceRow,
    EnrollmentSecretRow,
    EnrollmentSessionRow,
)
from tests.fixtures.live_server import free_port, serving
from tests.integration.mdm.support import (
    CHECKIN,
    CONTENT_TYPES,
    SERVER,
    Device,
    enroll_device,
    new_identity,
)


@dataclass
class World:
    one: Device
    two: Device


@pytest.fixture
async def world(session: AsyncSession, scope: Scope, live_server: str, live_settings: Settings) -> World:
    acme = await org_groups.create(session, scope, scope.og_id, name="Acme", group_id="acme",
                                   og_type="Customer")
    await og_settings.override(session, scope, acme.id, "user_enrollment_enabled", True)
    maria = await users.add(session, scope, username="maria", email="maria@acme.example",
                            og_id=acme.id, password="Maria-pass-1")
    tom = await users.add(session, scope, username="tom", email="tom@acme.example",
                          og_id=acme.id, password="Tom-pass-123")
    await session.commit()
    return World(await enroll_device(session, live_settings, live_server, maria),
                 await enroll_device(session, live_settings, live_server, tom))


async def _device(session: AsyncSession, device: Device) -> DeviceRow:
    session.expire_all()
    row = await session.get(DeviceRow, device.device_id)
    assert row is not None
    return row


async def _enrolled(device: Device) -> None:
    assert (await device.authenticate()).status_code == 200
    assert (await device.token_update()).status_code == 200


async def test_authenticate_fills_the_placeholder_and_keeps_it_in_progress(
    session: AsyncSession, world: World
) -> None:
    answer = await world.one.authenticate()
    assert answer.status_code == 200
    row = await _device(session, world.one)
    assert row.udid == world.one.enrollment_id  # rule 3: the Enrollment ID is the Udid
    assert (row.os_version, row.build_version, row.product_name) == ("18.2.1", "22C161", "iPhone16,2")
    assert row.enrollment_status == "EnrollmentInProgress"
    assert row.certificate_id is not None
    assert row.id == world.one.device_id  # the same record, not a new one (rule 2)


async def test_the_first_token_update_enrolls_the_device_and_completes_the_session(
    session: AsyncSession, world: World
) -> None:
    await _enrolled(world.one)
    row = await _device(session, world.one)
    assert row.enrollment_status == "Enrolled"
    assert row.push_token == bytes(range(32)).hex()
    assert row.push_magic == "magic-" + world.one.enrollment_id[:8]
    assert (row.ownership, row.is_user_enrolled, row.license_type_eligibility) == ("E", True, 2)
    enrollment = await session.get(EnrollmentSessionRow, world.one.session_id)
    assert enrollment is not None and enrollment.status == "Completed"
    assert await session.scalar(select(func.count()).select_from(DeviceRow)) == 2  # no new record


async def test_every_message_is_kept_raw(session: AsyncSession, world: World) -> None:
    await _enrolled(world.one)
    rows = list(await session.scalars(select(DeviceMessageRow).order_by(DeviceMessageRow.id)))
    assert [r.message_type for r in rows] == ["Authenticate", "TokenUpdate"]
    assert plistlib.loads(rows[0].raw)["EnrollmentID"] == world.one.enrollment_id


async def test_checkout_unenrolls_and_keeps_the_record(session: AsyncSession, world: World) -> None:
    await _enrolled(world.one)
    answer = await world.one.put(CHECKIN, {"MessageType": "CheckOut", "EnrollmentID": world.one.enrollment_id,
                                           "Topic": world.one.topic})
    assert answer.status_code == 200
    row = await _device(session, world.one)
    assert row.enrollment_status == "Unenrolled"
    assert row.udid == world.one.enrollment_id


async def test_get_token_is_answered_not_supported(world: World) -> None:
    await _enrolled(world.one)
    answer = await world.one.put(CHECKIN, {"MessageType": "GetToken", "EnrollmentID": world.one.enrollment_id,
                                           "TokenServiceType": "com.apple.maid"})
    assert answer.status_code == 400
    assert "not support" in answer.text


# --- device authentication -------------------------------------------------------------------


async def test_a_request_without_signature_is_refused_with_403(world: World) -> None:
    assert (await world.one.authenticate(signature="")).status_code == 403


async def test_a_signature_replayed_over_another_body_is_refused(world: World) -> None:
    other = plistlib.dumps({"MessageType": "Authenticate", "EnrollmentID": "someone-else"})
    replayed = world.one.headers(other)["Mdm-Signature"]
    assert (await world.one.authenticate(signature=replayed)).status_code == 403


async def test_a_certificate_from_a_foreign_ca_is_refused(world: World) -> None:
    foreign_ca, foreign_key = new_identity(cn="Evil CA")
    cert, key = new_identity(foreign_ca, foreign_key)
    assert (await world.one.authenticate(cert=cert, key=key)).status_code == 403
    self_signed, own_key = new_identity()
    assert (await world.one.authenticate(cert=self_signed, key=own_key)).status_code == 403


async def test_swapped_certificates_between_devices_are_refused(
    session: AsyncSession, world: World
) -> None:
    await _enrolled(world.one)
    await _enrolled(world.two)
    # Device two's certificate (and token) with device one's Enrollment ID.
    answer = await world.one.authenticate(cert=world.two.cert, key=world.two.key, token=world.two.token)
    assert answer.status_code == 403
    # Device one's certificate with device two's token.
    assert (await world.one.authenticate(token=world.two.token)).status_code == 403
    row = await _device(session, world.one)
    assert row.udid == world.one.enrollment_id


async def test_an_account_driven_device_must_send_its_own_bearer_token(world: World) -> None:
    assert (await world.one.authenticate(token=None)).status_code == 403
    assert (await world.one.authenticate(token="forged-token")).status_code == 403
    assert (await world.one.authenticate()).status_code == 200


async def test_a_revoked_certificate_is_refused(session: AsyncSession, world: World) -> None:
    await _enrolled(world.one)
    cert = await session.scalar(select(DeviceCertificateRow).where(
        DeviceCertificateRow.session_id == world.one.session_id))
    assert cert is not None
    cert.revoked_at = func.now()
    await session.commit()
    assert (await world.one.report("Idle")).status_code == 403


async def test_an_expired_bearer_token_is_refused(session: AsyncSession, world: World) -> None:
    await _enrolled(world.one)
    await session.execute(update(EnrollmentSecretRow)
                          .where(EnrollmentSecretRow.session_id == world.one.session_id)
                          .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    await session.commit()
    assert (await world.one.report("Idle")).status_code == 403


async def test_each_device_message_is_logged_with_its_device_and_user(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="quince.DeviceServices"):
        await _enrolled(world.one)
        assert (await world.one.report("Idle")).status_code == 200
    lines = [json.loads(JsonLines().format(r)) for r in caplog.records if r.name == "quince.DeviceServices"]
    events = {line["event"]: line for line in lines}
    for name in ("checkin.Authenticate", "checkin.TokenUpdate", "connect.idle"):
        assert events[name]["user"] == "maria", name
        assert events[name]["udid"] == world.one.enrollment_id, name


async def test_malformed_messages_are_a_400_never_a_500(world: World) -> None:
    async with httpx.AsyncClient(base_url=world.one.base_url) as client:
        for body in (b"", b"not a plist", plistlib.dumps(["a", "list"]), plistlib.dumps({"Status": "Idle"})):
            answer = await client.put(CHECKIN, content=body, headers=world.one.headers(body))
            assert answer.status_code == 400, body


# --- Content-Type (docs/mdm-channel.md) -------------------------------------------------------


async def _put_as(
    device: Device, path: str, fields: dict[str, object], content_type: str | None
) -> httpx.Response:
    body = plistlib.dumps(fields)
    headers = device.headers(body, path=path)
    if content_type is None:
        del headers["Content-Type"]
    else:
        headers["Content-Type"] = content_type
    async with httpx.AsyncClient(base_url=device.base_url) as client:
        return await client.put(path, content=body, headers=headers)


def _authenticate_fields(device: Device) -> dict[str, object]:
    return {"MessageType": "Authenticate", "EnrollmentID": device.enrollment_id, "Topic": device.topic}


@pytest.mark.parametrize("content_type", [
    "application/x-apple-aspen-mdm-checkin",
    "Application/X-Apple-Aspen-MDM-Checkin",
    "application/x-apple-aspen-mdm-checkin; charset=utf-8",
])
async def test_a_check_in_is_accepted_with_its_content_type_whatever_the_case_and_parameters(
    world: World, content_type: str
) -> None:
    answer = await _put_as(world.one, CHECKIN, _authenticate_fields(world.one), content_type)
    assert answer.status_code == 200


async def test_a_report_is_accepted_with_its_content_type_whatever_the_case_and_parameters(
    world: World,
) -> None:
    await _enrolled(world.one)
    idle = {"EnrollmentID": world.one.enrollment_id, "Status": "Idle"}
    for content_type in ("application/x-apple-aspen-mdm", "APPLICATION/X-APPLE-ASPEN-MDM ; charset=UTF-8"):
        assert (await _put_as(world.one, SERVER, idle, content_type)).status_code == 200, content_type


@pytest.mark.parametrize("content_type", [
    None, "", "application/xml", "text/plain", "application/x-apple-aspen-mdm",
    "application/x-apple-aspen-mdm-checkin-extra",
])
async def test_a_check_in_of_another_content_type_is_refused_with_415_and_logged(
    session: AsyncSession, world: World, caplog: pytest.LogCaptureFixture, content_type: str | None
) -> None:
    with caplog.at_level(logging.INFO, logger="quince.DeviceServices"):
        answer = await _put_as(world.one, CHECKIN, _authenticate_fields(world.one), content_type)
    assert answer.status_code == 415
    assert answer.headers["accept"] == "application/x-apple-aspen-mdm-checkin"
    assert "application/x-apple-aspen-mdm-checkin" in answer.text
    (line,) = [json.loads(JsonLines().format(r)) for r in caplog.records if r.name == "quince.DeviceServices"]
    assert (line["event"], line["outcome"], line["level"]) == (
        "checkin", "refused:unsupported_media_type", "WARNING")
    assert line["content_type"] == (content_type or "")
    row = await _device(session, world.one)
    assert row.udid is None and row.certificate_id is None  # nothing was done with it
    assert await session.scalar(select(func.count()).select_from(DeviceMessageRow)) == 0


async def test_a_report_of_another_content_type_is_refused_with_415(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    await _enrolled(world.one)
    row = (await _queue(session, scope, world.one, "ProfileList")).id
    idle = {"EnrollmentID": world.one.enrollment_id, "Status": "Idle"}
    for content_type in (None, "application/x-apple-aspen-mdm-checkin", "application/x-plist"):
        answer = await _put_as(world.one, SERVER, idle, content_type)
        assert answer.status_code == 415, content_type
        assert answer.headers["accept"] == "application/x-apple-aspen-mdm"
    session.expire_all()
    queued = await session.get(CommandRow, row)
    assert queued is not None and queued.status == "Queued"  # never sent


# --- commands ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Queued:
    uuid: str
    id: int


async def _queue(session: AsyncSession, scope: Scope, device: Device, request_type: str,
                 **keys: object) -> Queued:
    session.expire_all()  # the device changed through HTTP since this session last read it
    row = await commands.queue(session, scope, device.device_id, request_type, keys,
                               queued_by="test")
    await session.commit()
    return Queued(row.uuid, row.id)


async def test_an_idle_device_with_nothing_queued_gets_an_empty_reply(world: World) -> None:
    await _enrolled(world.one)
    answer = await world.one.report("Idle")
    assert answer.status_code == 200
    assert answer.content == b""


async def test_commands_are_delivered_first_in_first_out_and_acknowledged(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    await _enrolled(world.one)
    first = await _queue(session, scope, world.one, "ProfileList")
    second = await _queue(session, scope, world.one, "CertificateList")
    got = plistlib.loads((await world.one.report("Idle")).content)
    assert got["CommandUUID"] == first.uuid
    assert got["Command"]["RequestType"] == "ProfileList"
    got = plistlib.loads((await world.one.report("Acknowledged", first.uuid, ProfileList=[])).content)
    assert got["CommandUUID"] == second.uuid
    last = await world.one.report("Acknowledged", second.uuid, CertificateList=[])
    assert last.content == b""
    session.expire_all()
    statuses = [r.status for r in await session.scalars(select(CommandRow).order_by(CommandRow.id))]
    assert statuses == ["Acknowledged", "Acknowledged"]


async def test_not_now_requeues_the_command_for_a_later_connect(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    await _enrolled(world.one)
    row = await _queue(session, scope, world.one, "SecurityInfo")
    sent = plistlib.loads((await world.one.report("Idle")).content)
    after_not_now = await world.one.report("NotNow", sent["CommandUUID"])
    assert after_not_now.content == b""  # not offered again in the same exchange
    again = plistlib.loads((await world.one.report("Idle")).content)
    assert again["CommandUUID"] == row.uuid
    await world.one.report("Acknowledged", row.uuid, SecurityInfo={})
    session.expire_all()
    done = await session.get(CommandRow, row.id)
    assert done is not None and done.status == "Acknowledged" and done.attempts == 2


async def test_errors_keep_their_error_chain_and_duplicate_reports_change_nothing(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    await _enrolled(world.one)
    row = await _queue(session, scope, world.one, "ProfileList")
    await world.one.report("Idle")
    chain = [{"ErrorCode": 12021, "ErrorDomain": "MCMDMErrorDomain",
              "LocalizedDescription": "Nope", "USEnglishDescription": "Nope"}]
    await world.one.report("Error", row.uuid, ErrorChain=chain)
    await world.one.report("Acknowledged", row.uuid)  # a late duplicate
    session.expire_all()
    done = await session.get(CommandRow, row.id)
    assert done is not None
    assert done.status == "Error"
    assert done.error_chain is not None and done.error_chain[0]["ErrorCode"] == 12021


async def test_a_command_forbidden_under_user_enrollment_is_refused_before_queueing(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    await _enrolled(world.one)
    session.expire_all()
    with pytest.raises(ForbiddenForUserEnrollment) as refused:
        await commands.queue(session, scope, world.one.device_id, "EraseDevice", {})
    assert "EraseDevice" in refused.value.message
    await session.rollback()
    assert await session.scalar(select(func.count()).select_from(CommandRow)) == 0


async def test_device_information_results_land_in_the_inventory_without_hardware_ids(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    await _enrolled(world.one)
    row = await _queue(session, scope, world.one, "DeviceInformation", Queries=["OSVersion", "ModelName"])
    await world.one.report("Idle")
    await world.one.report("Acknowledged", row.uuid, QueryResponses={
        "OSVersion": "18.2.1", "ModelName": "iPhone", "SerialNumber": "SHOULD-NOT-STICK",
    })
    device = await _device(session, world.one)
    assert device.inventory is not None
    assert "SHOULD-NOT-STICK" not in repr(device.inventory)
    assert "18.2.1" in repr(device.inventory)


# --- the device channel's body cap (QUINCE_DEVICE_MAX_BODY_BYTES, 8 MiB) ------------------------

MiB = 1024 * 1024


def _app_list_report(device: Device, command_uuid: str, size: int) -> bytes:
    """An Acknowledged InstalledApplicationList of at least `size` bytes, as a phone with
    thousands of apps sends it."""
    apps = [{"Identifier": f"com.example.app{n}", "Name": f"App {n} " + "x" * 200, "Version": "1.0",
             "ShortVersion": "1.0", "BundleSize": 1000 + n} for n in range(size // 300 + 1)]
    fields: dict[str, Any] = {"EnrollmentID": device.enrollment_id, "Status": "Acknowledged",
                              "CommandUUID": command_uuid, "InstalledApplicationList": apps}
    body = plistlib.dumps(fields)
    assert len(body) >= size
    return body


async def _stream(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 65_536):
        yield body[start:start + 65_536]


async def _send(device: Device, body: bytes, *, chunked: bool) -> httpx.Response:
    async with httpx.AsyncClient(base_url=device.base_url, timeout=60) as client:
        return await client.put(SERVER, content=_stream(body) if chunked else body,
                                headers=device.headers(body, path=SERVER))


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_2_mib_command_report_is_accepted_and_recorded(
    session: AsyncSession, scope: Scope, world: World, chunked: bool
) -> None:
    await _enrolled(world.one)
    row = await _queue(session, scope, world.one, "InstalledApplicationList")
    assert plistlib.loads((await world.one.report("Idle")).content)["CommandUUID"] == row.uuid
    body = _app_list_report(world.one, row.uuid, 2 * MiB)
    answer = await _send(world.one, body, chunked=chunked)
    assert answer.status_code == 200, answer.text
    session.expire_all()
    done = await session.get(CommandRow, row.id)
    assert done is not None and done.status == "Acknowledged"
    assert done.result_raw is not None and len(done.result_raw) == len(body)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_command_report_over_8_mib_is_refused_with_413(
    session: AsyncSession, scope: Scope, world: World, chunked: bool
) -> None:
    await _enrolled(world.one)
    row = await _queue(session, scope, world.one, "InstalledApplicationList")
    await world.one.report("Idle")
    answer = await _send(world.one, _app_list_report(world.one, row.uuid, 8 * MiB + 1), chunked=chunked)
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("text/plain")
    session.expire_all()
    pending = await session.get(CommandRow, row.id)
    assert pending is not None and pending.status == "Pending"  # sent, not answered: sent again


# --- a certificate forwarded by a TLS proxy (RFC 9440), off by default -----------------------


def _client_cert_header(device: Device) -> str:
    der = device.cert.public_bytes(serialization.Encoding.DER)
    return ":" + base64.b64encode(der).decode() + ":"


async def test_a_forwarded_client_certificate_is_ignored_unless_configured(world: World) -> None:
    body = plistlib.dumps({"MessageType": "Authenticate", "EnrollmentID": world.one.enrollment_id,
                           "Topic": world.one.topic})
    async with httpx.AsyncClient(base_url=world.one.base_url) as client:
        answer = await client.put(CHECKIN, content=body, headers={
            "Client-Cert": _client_cert_header(world.one), "Authorization": f"Bearer {world.one.token}",
            "Content-Type": CONTENT_TYPES[CHECKIN],
        })
    assert answer.status_code == 403


async def test_a_trusted_proxy_may_forward_the_device_certificate_when_configured(
    world: World, live_settings: Settings, migrated_engine: object
) -> None:
    settings = live_settings.model_copy(update={
        "trust_client_cert_header": True, "trusted_proxies": "127.0.0.1",
        "public_url": f"http://127.0.0.1:{free_port()}",
    })
    body = plistlib.dumps({"MessageType": "Authenticate", "EnrollmentID": world.one.enrollment_id,
                           "Topic": world.one.topic})
    headers = {"Client-Cert": _client_cert_header(world.one), "Authorization": f"Bearer {world.one.token}",
               "Content-Type": CONTENT_TYPES[CHECKIN]}
    with serving(settings) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            accepted = await client.put(CHECKIN, content=body, headers=headers)
            forged_cert, _ = new_identity()
            forged = await client.put(CHECKIN, content=body, headers={
                **headers, "Client-Cert": ":" + base64.b64encode(
                    forged_cert.public_bytes(serialization.Encoding.DER)).decode() + ":"})
    assert accepted.status_code == 200
    assert forged.status_code == 403


async def test_a_device_acknowledging_its_enterprise_wipe_is_unenrolled_and_a_late_check_out_changes_nothing(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    await _enrolled(world.one)
    session.expire_all()
    wipe = await enterprise_wipe(session, scope, world.one.device_id, actor="helpdesk")
    await session.commit()
    # While the wipe is pending the device still connects, and a TokenUpdate does not re-enroll it.
    assert (await world.one.token_update()).status_code == 200
    assert (await _device(session, world.one)).enrollment_status == "EnterpriseWipePending"
    sent = plistlib.loads((await world.one.report("Idle")).content)
    assert sent["CommandUUID"] == wipe.command_uuid
    assert sent["Command"] == {"RequestType": "RemoveProfile",
                               "Identifier": "org.quince.enrollment.enrollment"}

    assert (await world.one.report("Acknowledged", wipe.command_uuid)).status_code == 200

    row = await _device(session, world.one)
    assert row.enrollment_status == "Unenrolled" and row.unenrolled_at is not None
    left_at = row.unenrolled_at
    checked_out = await world.one.put(CHECKIN, {
        "MessageType": "CheckOut", "EnrollmentID": world.one.enrollment_id, "Topic": world.one.topic})
    assert checked_out.status_code == 200
    assert (await _device(session, world.one)).unenrolled_at == left_at
