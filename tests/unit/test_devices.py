"""Device record rules: DESIGN.md rules 2 (the placeholder), 4 and 6/9 for user-enrolled devices."""

from __future__ import annotations

import pytest

from quince.domain.devices import (
    USER_BASED_LICENSE,
    EnrollmentStatus,
    license_type_eligibility,
    ownership_for,
    placeholder_for,
    still_managed,
)
from quince.domain.og_settings import Ownership


@pytest.mark.parametrize("default", [o.value for o in Ownership])
def test_a_user_enrolled_device_is_employee_owned_whatever_the_og_default(default: str) -> None:
    assert ownership_for(True, default) == "E"


@pytest.mark.parametrize("default", ["C", "S", "Undefined"])
def test_a_device_enrolled_device_takes_the_og_default_ownership(default: str) -> None:
    assert ownership_for(False, default) == default


def test_a_user_enrolled_device_is_only_eligible_for_user_based_licences() -> None:
    assert license_type_eligibility(True) == USER_BASED_LICENSE == 2
    assert license_type_eligibility(False) != 2


@pytest.mark.parametrize("default", [o.value for o in Ownership])
def test_the_placeholder_is_in_progress_user_enrolled_employee_owned_with_user_based_licences(
    default: str,
) -> None:
    record = placeholder_for(user_id=7, target_og_id=3, default_ownership=default)
    assert record.enrollment_status == EnrollmentStatus.ENROLLMENT_IN_PROGRESS == "EnrollmentInProgress"
    assert record.is_user_enrolled is True
    assert record.ownership == Ownership.EMPLOYEE_OWNED == "E"
    assert record.license_type_eligibility == USER_BASED_LICENSE == 2
    assert (record.og_id, record.enrollment_user_id) == (3, 7)


def test_the_placeholder_has_no_enrollment_id_until_the_device_checks_in() -> None:
    assert placeholder_for(user_id=1, target_og_id=1, default_ownership="C").udid is None


@pytest.mark.parametrize(("status", "managed"), [
    (EnrollmentStatus.ENROLLED, True), (EnrollmentStatus.ENTERPRISE_WIPE_PENDING, True),
    (EnrollmentStatus.ENROLLMENT_IN_PROGRESS, False), (EnrollmentStatus.UNENROLLED, False),
])
def test_a_device_is_managed_until_its_enterprise_wipe_has_unenrolled_it(
    status: EnrollmentStatus, managed: bool
) -> None:
    assert still_managed(status) is managed
