"""The MDM channel's device side: who is talking (strict device authentication) and what its
check-in messages change (DESIGN.md rules 2-4, 9).

A request is accepted only when its signer certificate was issued by Quince's CA through SCEP for
an enrollment session, is within its validity and not revoked; the certificate is bound to the
session's device at Authenticate, and every later request must come from that certificate and name
the same Enrollment ID. Account-driven devices must also present their session's bearer token.
Everything else is refused (403 at the edge; never 401, which tells a device it is unenrolled).
"""

from __future__ import annotations

import plistlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509

from quince.apple.cms import issued_by
from quince.apple.mdm_messages.checkin import (
    HARDWARE_IDENTIFIER_KEYS,
    Authenticate,
    CheckInMessage,
    CheckOut,
    TokenUpdate,
)
from quince.apple.mdm_messages.identity import DeviceIdentity
from quince.domain.devices import identity_refusal, still_managed, udid_for
from quince.domain.errors import QuinceError
from quince.pki.authority import Pki, serial_hex
from quince.services.apps import delivery as app_delivery
from quince.services.enrollment import placeholders
from quince.services.enrollment.sessions import Flow, SecretKind, SessionStatus, secret_hash
from quince.services.mdm import unenrollment
from quince.store import device_binding
from quince.store.database import Db
from quince.store.models import DeviceCertificateRow, DeviceMessageRow, DeviceRow, EnrollmentSessionRow


class DeviceRefused(QuinceError):
    """The request does not come from the device it claims to be; `reason` is for the log only."""

    def __init__(self, reason: str) -> None:
        super().__init__("The request was refused.")
        self.reason = reason


class NotSupported(QuinceError):
    """A check-in Quince does not offer (it advertises no token or declarative service)."""


@dataclass(frozen=True)
class DeviceContext:
    device: DeviceRow
    enrollment: EnrollmentSessionRow
    certificate: DeviceCertificateRow
    username: str | None = None  # the device's enrollment user, for the log


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def authenticate_device(
    db: Db,
    pki: Pki,
    signer: x509.Certificate,
    identity: DeviceIdentity,
    bearer_token: str | None,
    now: datetime | None = None,
) -> DeviceContext:
    """The device this request comes from, or DeviceRefused saying why (for the log)."""
    now = now or _now()
    if not issued_by(signer, pki.ca_certificate):
        raise DeviceRefused("signer certificate not issued by Quince's CA")
    if not signer.not_valid_before_utc <= now <= signer.not_valid_after_utc:
        raise DeviceRefused("signer certificate outside its validity")
    # Everything the request is checked against, in one round trip (docs/performance.md).
    token_hash = secret_hash(bearer_token) if bearer_token and len(bearer_token) <= 512 else None
    found = await device_binding.binding_of(db, serial_hex(signer), token_kind=SecretKind.ACCESS_TOKEN,
                                            token_hash=token_hash, now=now)
    if found is None:
        raise DeviceRefused("signer certificate unknown to Quince")
    certificate, enrollment, device, username, token_id = found
    if certificate.revoked_at is not None:
        raise DeviceRefused("signer certificate revoked")
    if enrollment is None or device is None:
        raise DeviceRefused("certificate without an enrollment")
    if device.certificate_id is not None and device.certificate_id != certificate.id:
        raise DeviceRefused("device is bound to another certificate")
    refusal = identity_refusal(device.udid, device.is_user_enrolled, identity)
    if refusal is not None:
        raise DeviceRefused(refusal)
    if enrollment.flow == Flow.ACCOUNT and token_id is None:
        raise DeviceRefused("missing or foreign bearer token")
    return DeviceContext(device, enrollment, certificate, username)


def _cut(value: str | None, length: int) -> str | None:
    return value[:length] if value else value


def raw_to_keep(device: DeviceRow, message: CheckInMessage) -> bytes:
    """The raw plist to keep; for a user-enrolled device that (against Apple's rules) sent its
    serial number, IMEI or MEID, the plist without them (rule 3)."""
    if device.is_user_enrolled and isinstance(message, Authenticate) and message.hardware_identifiers:
        kept = {k: v for k, v in message.fields.items() if k not in HARDWARE_IDENTIFIER_KEYS}
        return plistlib.dumps(kept)
    return message.raw


async def keep_message(
    db: Db, device: DeviceRow, channel: str, kind: str, raw: bytes,
    command_uuid: str | None = None,
) -> None:
    """Keep the raw plist of every message, next to what was parsed from it."""
    db.add(DeviceMessageRow(
        device_id=device.id, channel=channel, message_type=kind[:48], command_uuid=command_uuid,
        raw=raw, received_at=_now(),
    ))
    device.last_seen_at = _now()
    await db.flush()


async def handle_checkin(db: Db, context: DeviceContext, message: CheckInMessage) -> str:
    """Apply a check-in message; returns the outcome for the log."""
    device, now = context.device, _now()
    if isinstance(message, Authenticate):
        device.certificate_id = context.certificate.id
        device.udid = udid_for(message.identity)
        # Descriptive fields are cut to their columns rather than failing an enrollment.
        device.os_version = _cut(message.os_version, 32) or device.os_version
        device.build_version = _cut(message.build_version, 32) or device.build_version
        device.product_name = _cut(message.product_name, 64) or device.product_name
        device.model = _cut(message.model, 64) or device.model
        device.model_name = _cut(message.model_name, 64) or device.model_name
        device.device_name = _cut(message.device_name, 128) or device.device_name
        device.topic = _cut(message.topic, 255)
        # Rule 3: a user-enrolled device never has its serial, IMEI or MEID stored, even if sent.
        await db.flush()
        return "authenticated"
    if isinstance(message, TokenUpdate):
        if device.certificate_id is None:
            raise DeviceRefused("TokenUpdate before Authenticate")
        device.push_token = message.token.hex()
        device.push_magic = message.push_magic
        device.topic = message.topic
        device.push_state = None
        if not still_managed(device.enrollment_status):
            placeholders.complete(device, now)
            context.enrollment.status = SessionStatus.COMPLETED
            context.enrollment.completed_at = now
            await _extend_access_token(db, context)
            await db.flush()
            # Its automatic apps and its OG's companion app go out now (rules 5-7).
            await app_delivery.on_enrolled(db, device)
            return "enrolled"
        await db.flush()
        return "token_updated"
    if isinstance(message, CheckOut):
        left = await unenrollment.unenroll(db, device, now)
        return "checked_out" if left else "checked_out:already_unenrolled"
    raise NotSupported(f"Quince does not support the {message.message_type} check-in.")


async def _extend_access_token(db: Db, context: DeviceContext) -> None:
    """An account-driven device sends its bearer token on every request for as long as it is
    enrolled: from the first TokenUpdate the token lives as long as the identity certificate."""
    await device_binding.extend_secrets(db, context.enrollment.id, SecretKind.ACCESS_TOKEN,
                                        _aware(context.certificate.not_after))
