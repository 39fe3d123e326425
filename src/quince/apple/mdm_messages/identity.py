"""Who sent a device message: the one typed identity (UDID or EnrollmentID) read at the edge.

Every parsed message is a `DeviceMessage`: its identity, the exact body (`raw`) and the decoded plist
(`fields`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from quince.apple.errors import MalformedMessage
from quince.apple.mdm_messages.fields import ID, text_field


class IdentityKind(StrEnum):
    DEVICE = "device"  # device enrollment, identified by UDID
    USER_ENROLLMENT = "user_enrollment"  # user enrollment, identified by EnrollmentID


@dataclass(frozen=True)
class DeviceIdentity:
    """Who sent a message: the UDID of a device enrollment or the EnrollmentID of a user enrollment.

    Rule: `UDID` if present, else `EnrollmentID`; a message with neither is malformed. A message with
    both is a device enrollment (UDID wins): a user-enrolled device never reports its UDID, so a UDID
    can only come from a device enrollment. `user_id` / `enrollment_user_id` are the macOS user
    channel (and Shared iPad) keys, kept for the record; iOS User Enrollment has no user channel.
    """

    kind: IdentityKind
    id: str
    user_id: str | None = None
    enrollment_user_id: str | None = None

    @property
    def is_user_enrollment(self) -> bool:
        return self.kind is IdentityKind.USER_ENROLLMENT

    @property
    def is_user_channel(self) -> bool:
        return self.user_id is not None or self.enrollment_user_id is not None


@dataclass(frozen=True)
class DeviceMessage:
    """What every parsed device message holds: who sent it, the exact body and the decoded plist."""

    identity: DeviceIdentity
    raw: bytes = field(kw_only=True, repr=False)
    fields: dict[str, Any] = field(kw_only=True, repr=False)


def identity_of(fields: dict[str, Any]) -> DeviceIdentity:
    """The `DeviceIdentity` a message's plist names (`DeviceIdentity` says the rule)."""
    udid = text_field(fields, "UDID", pattern=ID)
    enrollment_id = text_field(fields, "EnrollmentID", pattern=ID)
    user_id = text_field(fields, "UserID", pattern=ID)
    enrollment_user_id = text_field(fields, "EnrollmentUserID", pattern=ID)
    if udid is not None:
        return DeviceIdentity(IdentityKind.DEVICE, udid, user_id, enrollment_user_id)
    if enrollment_id is not None:
        return DeviceIdentity(IdentityKind.USER_ENROLLMENT, enrollment_id, user_id, enrollment_user_id)
    raise MalformedMessage("the message names no device: it has neither UDID nor EnrollmentID")
