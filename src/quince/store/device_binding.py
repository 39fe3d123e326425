"""Queries behind device authentication: what an identity certificate is bound to (its enrollment
session, device, user and the session's access token), read in one round trip on every device
request, and the access token's lifetime once the device has enrolled."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quince.store.models import (
    DeviceCertificateRow,
    DeviceRow,
    EnrollmentSecretRow,
    EnrollmentSessionRow,
    EnrollmentUserRow,
)


class Binding(NamedTuple):
    certificate: DeviceCertificateRow
    enrollment: EnrollmentSessionRow | None
    device: DeviceRow | None
    username: str | None
    token_id: int | None
    """The session's unexpired access token whose hash was given, if any."""


# Read fresh every time (nothing is cached, so a revocation or a new binding counts from the next
# request): the certificate row by serial; its enrollment session and device (outer joins, so a
# missing one is refused with its own reason); the device's user name for the log; and the id of
# the session's unexpired access token whose hash is the bearer token's. Without a usable token,
# token_hash is NULL, which equals nothing, so the id is NULL. Built once (building it takes about
# 0.1 ms).
_BINDING = (
    select(DeviceCertificateRow, EnrollmentSessionRow, DeviceRow, EnrollmentUserRow.username,
           EnrollmentSecretRow.id)
    .outerjoin(EnrollmentSessionRow, EnrollmentSessionRow.id == DeviceCertificateRow.session_id)
    .outerjoin(DeviceRow, DeviceRow.id == EnrollmentSessionRow.device_id)
    .outerjoin(EnrollmentUserRow, EnrollmentUserRow.id == DeviceRow.enrollment_user_id)
    # secret_hash is unique: at most one token row, so this join never multiplies rows.
    .outerjoin(EnrollmentSecretRow, and_(
        EnrollmentSecretRow.session_id == EnrollmentSessionRow.id,
        EnrollmentSecretRow.kind == bindparam("token_kind"),
        EnrollmentSecretRow.secret_hash == bindparam("token_hash"),
        EnrollmentSecretRow.expires_at > bindparam("now"),
    ))
    .where(DeviceCertificateRow.serial == bindparam("serial"))
)


async def binding_of(
    db: AsyncSession, serial: str, *, token_kind: str, token_hash: str | None, now: datetime,
) -> Binding | None:
    """Everything a device message is checked against, in one query: the certificate with this
    serial and what it is bound to, with the id of the access token (secrets of kind `token_kind`)
    whose hash is `token_hash` and which has not expired at `now`. None for an unknown serial."""
    params = {"serial": serial, "token_kind": token_kind, "token_hash": token_hash, "now": now}
    found = (await db.execute(_BINDING, params)).first()
    return None if found is None else Binding(*found)


async def extend_secrets(db: AsyncSession, session_id: int, kind: str, expires_at: datetime) -> None:
    """The session's secrets of this kind now expire at `expires_at`."""
    await db.execute(
        update(EnrollmentSecretRow)
        .where(EnrollmentSecretRow.session_id == session_id, EnrollmentSecretRow.kind == kind)
        .values(expires_at=expires_at)
    )
