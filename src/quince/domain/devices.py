"""Device record rules: enrollment statuses, and what a user-enrolled device always is."""

from __future__ import annotations

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
