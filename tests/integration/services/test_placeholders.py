"""The placeholder record of DESIGN.md rule 2 under concurrent changes, on stored data: a newer
sign-in supersedes only records that never completed, a superseded placeholder that completes is
enrolled and no longer abandoned, and the clean-up of abandoned placeholders never removes a
device that completed enrollment, even one completing while the clean-up runs."""

from __future__ import annotations

import plistlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.apple.mdm_messages import parse_checkin
from quince.services import checkin, enrollment, og_settings, placeholders, users
from quince.services.checkin import DeviceContext
from quince.services.enrollment import EnrollmentStarted, Flow
from quince.services.scope import Scope
from quince.store.database import make_sessionmaker
from quince.store.models import DeviceCertificateRow, DeviceRow, EnrollmentSessionRow
from tests.integration.services.conftest import Tenant

NOW = datetime.now(UTC)


@pytest.fixture
async def enabled(session: AsyncSession, scope: Scope, tenant: Tenant) -> Tenant:
    await og_settings.override(session, scope, tenant.acme, "user_enrollment_enabled", True)
    await session.commit()
    return tenant


async def _sign_in(session: AsyncSession) -> EnrollmentStarted:
    alice = await users.find_by_username(session, "alice")
    assert alice is not None
    started = await enrollment.start(session, alice, flow=Flow.ACCOUNT, group_id=None,
                                     ttl=timedelta(minutes=30))
    assert isinstance(started, EnrollmentStarted)
    await session.commit()
    return started


async def _stored_in_transaction(session: AsyncSession, device_id: int) -> DeviceRow:
    row = await session.scalar(select(DeviceRow).where(DeviceRow.id == device_id))
    assert row is not None
    return row


async def _stored(session: AsyncSession, device_id: int) -> DeviceRow:
    """The row as stored now (a fresh transaction)."""
    await session.rollback()
    session.expire_all()
    return await _stored_in_transaction(session, device_id)


async def test_signing_in_again_supersedes_only_placeholders_that_never_completed(
    session: AsyncSession, enabled: Tenant
) -> None:
    async def sign_in_and_complete(status: str) -> int:
        device_id = (await _sign_in(session)).device.id
        row = await _stored(session, device_id)
        placeholders.complete(row, NOW)
        row.enrollment_status = status  # Unenrolled: it completed, then checked out
        await session.commit()
        return device_id

    enrolled = await sign_in_and_complete("Enrolled")
    checked_out = await sign_in_and_complete("Unenrolled")
    waiting = (await _sign_in(session)).device.id

    newest = await _sign_in(session)

    assert newest.superseded == (waiting,)
    for device_id in (enrolled, checked_out):
        assert (await _stored(session, device_id)).superseded_by_device_id is None


async def test_a_sign_in_superseding_a_placeholder_while_its_device_completes_leaves_it_enrolled(
    engine: AsyncEngine, session: AsyncSession, enabled: Tenant
) -> None:
    """The TokenUpdate read its device before the newer sign-in marked it; completing it still
    clears the mark that its session never saw."""
    first = await _sign_in(session)
    certificate = DeviceCertificateRow(  # what SCEP and Authenticate left
        serial="0ddba11", fingerprint_sha256="c" * 64, subject="CN=iPhone", session_id=first.enrollment.id,
        not_before=NOW - timedelta(minutes=5), not_after=NOW + timedelta(days=365), pem="-----")
    session.add(certificate)
    await session.flush()
    placeholder = await _stored_in_transaction(session, first.device.id)
    placeholder.certificate_id, placeholder.udid = certificate.id, "EID-IPHONE"
    await session.commit()
    token_update = parse_checkin(plistlib.dumps({
        "MessageType": "TokenUpdate", "EnrollmentID": "EID-IPHONE", "Topic": "com.apple.mgmt.test",
        "Token": bytes(32), "PushMagic": "MAGIC"}))
    async with make_sessionmaker(engine)() as device_side:
        context = DeviceContext(
            device=await _stored_in_transaction(device_side, first.device.id),
            enrollment=await device_side.get_one(EnrollmentSessionRow, first.enrollment.id),
            certificate=await device_side.get_one(DeviceCertificateRow, certificate.id),
        )
        assert context.device.superseded_by_device_id is None

        second = await _sign_in(session)  # the iPad's sign-in, committed meanwhile
        assert second.superseded == (first.device.id,)

        assert await checkin.handle_checkin(device_side, context, token_update) == "enrolled"
        await device_side.commit()

    stored = await _stored(session, first.device.id)
    assert stored.enrollment_status == "Enrolled"
    assert (stored.superseded_by_device_id, stored.superseded_at) == (None, None)


async def _device(session: AsyncSession, og_id: int, user_id: int, **fields: Any) -> int:
    values: dict[str, Any] = {"enrollment_status": "EnrollmentInProgress", "ownership": "E",
                              "is_user_enrolled": True, "license_type_eligibility": 2,
                              "created_at": NOW - timedelta(days=60), **fields}
    row = DeviceRow(og_id=og_id, enrollment_user_id=user_id, **values)
    session.add(row)
    await session.flush()
    return row.id


