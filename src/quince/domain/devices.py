"""Device record rules: enrollment statuses, what a user-enrolled device always is, and the
placeholder record an enrollment starts with."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from quince.domain.og_settings import Ownership


class EnrollmentStatus(StrEnum):
    """Workspace ONE's enrollment statuses (the ones Quince uses)."""

    ENROLLMENT_IN_PROGRESS = "EnrollmentInProgress"
    ENROLLED = "Enrolled"
    UNENROLLED = "Unenrolled"


# Apps and Books licence types: 1 device-based, 2 user-based (DESIGN.md rule 6).
USER_BASED_LICENSE = 2
DEVICE_BASED_LICENSE = 1


def ownership_for(is_user_enrolled: bool, default_ownership: str) -> str:
    """Rule 4: a user-enrolled device is Employee Owned whatever the OG's default says."""
    return Ownership.EMPLOYEE_OWNED.value if is_user_enrolled else default_ownership


def license_type_eligibility(is_user_enrolled: bool) -> int:
    """Rule 6: a user-enrolled device can only ever hold user-based licences."""
    return USER_BASED_LICENSE if is_user_enrolled else 0


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
