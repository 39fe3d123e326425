"""DESIGN.md rule 6: which apps a device takes, and with which Apps and Books licence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quince.domain.app_eligibility import (
    AppKind,
    Eligible,
    LicenseType,
    NotSupported,
    eligibility,
    parse_kind,
    validate_adam_id,
    validate_bundle_id,
    validate_license_counts,
    validate_manifest_url,
)
from quince.domain.errors import InvalidInput


@pytest.mark.parametrize("licensing", [False, True])
def test_a_public_app_is_not_supported_on_a_user_enrolled_device(licensing: bool) -> None:
    result = eligibility(AppKind.PUBLIC, device_is_user_enrolled=True, device_licensing_enabled=licensing)
    assert isinstance(result, NotSupported)
    assert "Public App Store apps cannot be installed on a user-enrolled device" in result.reason
    assert "Apps and Books" in result.reason


@pytest.mark.parametrize("licensing", [False, True])
def test_an_in_house_app_is_not_supported_on_a_user_enrolled_device(licensing: bool) -> None:
    result = eligibility(AppKind.IN_HOUSE, device_is_user_enrolled=True, device_licensing_enabled=licensing)
    assert isinstance(result, NotSupported)
    assert "In-house apps cannot be installed on a user-enrolled device" in result.reason


def test_a_purchased_app_goes_to_a_user_enrolled_device_with_a_user_licence() -> None:
    result = eligibility(AppKind.PURCHASED, device_is_user_enrolled=True, device_licensing_enabled=False)
    assert result == Eligible(LicenseType.USER)


def test_device_based_licensing_still_gives_a_user_enrolled_device_a_user_licence() -> None:
    result = eligibility(AppKind.PURCHASED, device_is_user_enrolled=True, device_licensing_enabled=True)
    assert result == Eligible(LicenseType.USER)


def test_a_device_enrolled_device_gets_a_device_licence_when_the_app_enables_it() -> None:
    result = eligibility(AppKind.PURCHASED, device_is_user_enrolled=False, device_licensing_enabled=True)
    assert result == Eligible(LicenseType.DEVICE)


def test_a_device_enrolled_device_gets_a_user_licence_when_the_app_does_not_enable_it() -> None:
    result = eligibility(AppKind.PURCHASED, device_is_user_enrolled=False, device_licensing_enabled=False)
    assert result == Eligible(LicenseType.USER)


@pytest.mark.parametrize("kind", [AppKind.PUBLIC, AppKind.IN_HOUSE])
def test_public_and_in_house_apps_are_fine_on_a_device_enrolled_device(kind: AppKind) -> None:
    result = eligibility(kind, device_is_user_enrolled=False, device_licensing_enabled=False)
    assert result == Eligible(None)


@given(kind=st.sampled_from(AppKind), licensing=st.booleans())
def test_a_user_enrolled_device_never_gets_a_device_based_licence(kind: AppKind, licensing: bool) -> None:
    result = eligibility(kind, device_is_user_enrolled=True, device_licensing_enabled=licensing)
    if isinstance(result, Eligible):
        assert result.license_type is LicenseType.USER
    else:
        assert kind is not AppKind.PURCHASED and result.reason


@given(kind=st.sampled_from(AppKind), ue=st.booleans(), licensing=st.booleans())
def test_only_public_and_in_house_apps_on_user_enrolled_devices_are_refused(
    kind: AppKind, ue: bool, licensing: bool
) -> None:
    result = eligibility(kind, device_is_user_enrolled=ue, device_licensing_enabled=licensing)
    if kind is AppKind.PURCHASED:
        assert isinstance(result, Eligible)
    assert isinstance(result, NotSupported) == (ue and kind is not AppKind.PURCHASED)


def test_catalog_fields_follow_their_rules() -> None:
    assert parse_kind(" In_House ") is AppKind.IN_HOUSE
    assert validate_bundle_id(" com.example.app ") == "com.example.app"
    assert validate_adam_id("361309726") == "361309726"
    assert validate_manifest_url("https://apps.example.com/m.plist") == "https://apps.example.com/m.plist"
    assert validate_license_counts(10, 3) == (10, 3)
    for bad in (
        lambda: parse_kind("free"),
        lambda: validate_bundle_id("no dots"),
        lambda: validate_adam_id("0123"),
        lambda: validate_adam_id("abc"),
        lambda: validate_manifest_url("http://apps.example.com/m.plist"),
        lambda: validate_manifest_url("https:///m.plist"),
        lambda: validate_license_counts(3, 4),
        lambda: validate_license_counts(-1, 0),
    ):
        with pytest.raises(InvalidInput):
            bad()
