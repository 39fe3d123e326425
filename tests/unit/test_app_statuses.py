"""Device app, Apps and Books user and licence statuses are enums, stored and shown by value."""

from __future__ import annotations

from quince.domain.app_statuses import (
    HELD,
    UNDER_WAY,
    DeviceAppStatus,
    VppLicenseStatus,
    parse_device_app_status,
)


def test_a_stored_status_reads_back_as_its_member_and_an_unknown_one_as_none() -> None:
    assert parse_device_app_status("InstallQueued") is DeviceAppStatus.INSTALL_QUEUED
    assert parse_device_app_status("Sleeping") is None


def test_a_refused_or_failed_or_removed_app_is_not_under_way() -> None:
    assert DeviceAppStatus.INSTALLED in UNDER_WAY
    assert not {DeviceAppStatus.NOT_SUPPORTED, DeviceAppStatus.FAILED, DeviceAppStatus.REMOVED} & UNDER_WAY


def test_a_released_or_failed_licence_is_not_held() -> None:
    assert {VppLicenseStatus.ASSOCIATING, VppLicenseStatus.ASSOCIATED, VppLicenseStatus.RELEASING} == HELD
