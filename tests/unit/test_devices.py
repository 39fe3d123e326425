"""Device record rules: DESIGN.md rules 4 and 6/9 for user-enrolled devices."""

from __future__ import annotations

import pytest

from quince.domain.devices import USER_BASED_LICENSE, license_type_eligibility, ownership_for
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
