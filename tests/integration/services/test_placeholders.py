"""The placeholder record of DESIGN.md rule 2 under concurrent changes, on stored data: a newer
sign-in supersedes only records that never completed, a superseded placeholder that completes is
enrolled and no longer abandoned, and the clean-up of abandoned placeholders never removes a
device that completed enrollment, even one completing while the clean-up runs."""

from __future__ import annotations

import asyncio
import plistlib
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.apple.mdm_messages.checkin import parse_checkin
from quince.services.devices import cleanup as device_cleanup
from quince.services.devices.cleanup import RemovalChanged
from quince.services.directory import og_settings, users
from quince.services.enrollment import placeholders
from quince.services.enrollment import sessions as enrollment
from quince.services.enrollment.sessions import EnrollmentStarted, Flow
from quince.services.mdm import checkin
from quince.services.mdm.checkin import DeviceContext
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


async def test_the_clean_up_never_removes_a_device_that_completed_even_one_still_marked_superseded(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    """Records an older release left marked although their device completed, in every status a
    completed record can have, stay; the placeholder that never completed goes."""
    newest = await _device(session, tenant.sales, tenant.alice)
    old = {"superseded_by_device_id": newest, "superseded_at": NOW - timedelta(days=40)}
    abandoned = await _device(session, tenant.sales, tenant.alice, **old)
    completed = [
        await _device(session, tenant.sales, tenant.alice, enrollment_status="Enrolled",
                      enrolled_at=NOW - timedelta(days=39), udid="ENR-1", **old),
        await _device(session, tenant.sales, tenant.alice, enrollment_status="Unenrolled",
                      enrolled_at=NOW - timedelta(days=39), unenrolled_at=NOW, udid="ENR-2", **old),
        await _device(session, tenant.sales, tenant.alice, enrolled_at=NOW - timedelta(days=39),
                      udid="ENR-3", **old),
    ]
    await session.commit()

    preview = await device_cleanup.preview(session, scope, 30)
    assert (preview.count, [d.id for d in preview.sample]) == (1, [abandoned])
    removed = await device_cleanup.remove(session, scope, 30, expected=1)
    await session.commit()

    assert removed.count == 1
    left = set(await session.scalars(select(DeviceRow.id)))
    assert left == {newest, *completed}


async def test_a_placeholder_completing_while_the_clean_up_runs_is_never_removed(
    engine: AsyncEngine, session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    """The device completes right after the clean-up chose its rows. PostgreSQL holds those rows
    (the completion waits, so the placeholder is removed as it still is one); SQLite cannot, so the
    clean-up checks again as it writes and removes nothing."""
    newest = await _device(session, tenant.sales, tenant.alice)
    device_id = await _device(session, tenant.sales, tenant.alice, superseded_by_device_id=newest,
                              superseded_at=NOW - timedelta(days=40))
    await session.commit()
    url = engine.url
    outcome: list[str] = []

    def complete_elsewhere() -> str:
        """The device's TokenUpdate, on its own connection."""
        if url.get_backend_name() == "sqlite":
            with sqlite3.connect(str(url.database), timeout=5) as conn:
                conn.execute("UPDATE devices SET enrollment_status = 'Enrolled', enrolled_at = ?, "
                             "superseded_by_device_id = NULL, superseded_at = NULL WHERE id = ?",
                             (NOW.isoformat(), device_id))
            return "completed"

        async def on_postgresql() -> str:
            dsn = make_url(str(url.render_as_string(hide_password=False))).set(drivername="postgresql")
            conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
            try:
                await conn.execute("SET lock_timeout = '300ms'")
                await conn.execute("UPDATE devices SET enrollment_status = 'Enrolled', enrolled_at = now(), "
                                   "superseded_by_device_id = NULL, superseded_at = NULL WHERE id = $1",
                                   device_id)
                return "completed"
            except asyncpg.exceptions.LockNotAvailableError:
                return "waited"
            finally:
                await conn.close()

        return asyncio.run(on_postgresql())

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not outcome and statement.lstrip().upper().startswith("SELECT DEVICES.ID, DEVICES.SUPERSEDED_BY"):
            with ThreadPoolExecutor(1) as pool:
                outcome.append(pool.submit(complete_elsewhere).result())

    event.listen(engine.sync_engine, "after_cursor_execute", after)
    try:
        if url.get_backend_name() == "sqlite":
            with pytest.raises(RemovalChanged):
                await device_cleanup.remove(session, scope, 30, expected=1)
        else:
            assert (await device_cleanup.remove(session, scope, 30, expected=1)).count == 1
        await session.rollback() if url.get_backend_name() == "sqlite" else await session.commit()
    finally:
        event.remove(engine.sync_engine, "after_cursor_execute", after)

    session.expire_all()
    stored = await session.scalar(select(DeviceRow).where(DeviceRow.id == device_id))
    if outcome == ["completed"]:
        assert stored is not None and stored.enrollment_status == "Enrolled"  # kept, whole
    else:
        assert outcome == ["waited"] and stored is None  # removed while still a placeholder
    assert await session.scalar(select(DeviceRow.id).where(DeviceRow.id == newest)) == newest
