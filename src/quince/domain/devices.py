"""Device record rules: enrollment statuses, what a user-enrolled device always is, and the
placeholder record an enrollment starts with."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from quince.domain.og_settings import Ownership


class EnrollmentStatus(StrEnum):
    """Workspace ONE's enrollment statuses (the ones Quince uses)."""

    ENROLLMENT_IN_PROGRESS = "EnrollmentInProgress"
    ENROLLED = "Enrolled"
    ENTERPRISE_WIPE_PENDING = "EnterpriseWipePending"
    """An Enterprise Wipe (removing management) is queued; the device is still managed until it
    checks out or acknowledges the removal of its enrollment profile."""
    UNENROLLED = "Unenrolled"


# The statuses of a record whose device is still managed: it connects for commands, and its
# record cannot be deleted until the device has left (an Enterprise Wipe first).
_MANAGED = frozenset({EnrollmentStatus.ENROLLED, EnrollmentStatus.ENTERPRISE_WIPE_PENDING})


def still_managed(status: str) -> bool:
    """True while a device of this status is under management: Enrolled, or Enterprise Wipe
    pending (its enrollment profile's removal is queued but not done)."""
    return status in _MANAGED


class PushState(StrEnum):
    """What APNs said about a device's push token the last time Quince pushed to it."""

    OK = "ok"
    INVALID_TOKEN = "invalid_token"  # noqa: S105  (a push state, not a secret)


# Apps and Books licence types: 1 device-based, 2 user-based (DESIGN.md rule 6).
USER_BASED_LICENSE = 2
DEVICE_BASED_LICENSE = 1


def ownership_for(is_user_enrolled: bool, default_ownership: str) -> str:
    """Rule 4: a user-enrolled device is Employee Owned whatever the OG's default says."""
    return Ownership.EMPLOYEE_OWNED.value if is_user_enrolled else default_ownership


def license_type_eligibility(is_user_enrolled: bool) -> int:
    """Rule 6: a user-enrolled device can only ever hold user-based licences."""
    return USER_BASED_LICENSE if is_user_enrolled else 0


class ReportedIdentity(Protocol):
    """Who a device message says it comes from (apple/mdm_messages.py's DeviceIdentity)."""

    @property
    def id(self) -> str: ...

    @property
    def is_user_enrollment(self) -> bool: ...


def udid_for(identity: ReportedIdentity) -> str:
    """Rule 3: what a device record keeps as its `udid`. A user-enrolled device reports no UDID:
    its Enrollment ID is stored there, and every lookup by UDID works with it."""
    return identity.id


def identity_refusal(
    bound_udid: str | None, is_user_enrolled: bool, identity: ReportedIdentity,
) -> str | None:
    """Rule 3 on every device request: why this identity is not the record's device, or None when
    it is. A user-enrolled record answers only to an Enrollment ID, and once bound only to its own."""
    if is_user_enrolled and not identity.is_user_enrollment:
        return "a user-enrolled device must identify by EnrollmentID"
    if bound_udid is not None and bound_udid != udid_for(identity):
        return "identity does not match the certificate's device"
    return None


@dataclass(frozen=True)
class Placeholder:
    """The values of a new placeholder device record (rule 2): what is known before the device
    itself has said anything. Its `udid` (the Enrollment ID, rule 3) comes at the first check-in."""

    og_id: int
    enrollment_user_id: int
    enrollment_status: str
    ownership: str
    is_user_enrolled: bool
    license_type_eligibility: int
    udid: None = None


def placeholder_for(user_id: int, target_og_id: int, default_ownership: str) -> Placeholder:
    """Rule 2: as soon as the user has signed in and the target OG is decided, a device record
    exists: EnrollmentInProgress, user enrolled, Employee Owned (rule 4, `ownership_for`) and
    licence type 2 (rule 6, `license_type_eligibility`), in the target OG, of that user.
    `default_ownership` is the target OG's effective default ownership setting."""
    return Placeholder(
        og_id=target_og_id,
        enrollment_user_id=user_id,
        enrollment_status=EnrollmentStatus.ENROLLMENT_IN_PROGRESS.value,
        ownership=ownership_for(True, default_ownership),
        is_user_enrolled=True,
        license_type_eligibility=license_type_eligibility(True),
    )
