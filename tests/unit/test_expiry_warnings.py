"""The warnings that say what would otherwise fail without a word."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quince.config import Settings
from quince.domain.expiry_warnings import (
    UNCONFIGURED_TOPIC,
    ConfigWarning,
    Severity,
    WarningKind,
    ca_certificate_warning,
    push_certificate_warning,
    push_topic_warning,
    vpp_token_warning,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_no_push_certificate_says_commands_stay_queued() -> None:
    warning = push_certificate_warning(None, NOW)
    assert warning is not None and warning.kind is WarningKind.PUSH_CERTIFICATE
    assert warning.severity is Severity.BROKEN and "stay Queued" in warning.message


def test_an_expired_push_certificate_is_broken_and_one_expiring_within_30_days_is_due_soon() -> None:
    expired = push_certificate_warning(NOW - timedelta(seconds=1), NOW)
    soon = push_certificate_warning(NOW + timedelta(days=29), NOW)
    assert expired is not None and expired.severity is Severity.BROKEN
    assert "expired on 2026-12-04" in expired.message
    assert soon is not None and soon.severity is Severity.SOON and "in 29 days" in soon.message


def test_a_push_certificate_valid_for_30_days_or_more_needs_no_warning() -> None:
    assert push_certificate_warning(NOW + timedelta(days=30), NOW) is None


def test_naive_dates_are_read_as_utc() -> None:
    assert push_certificate_warning((NOW + timedelta(days=1)).replace(tzinfo=None), NOW) is not None


def test_an_og_with_purchased_apps_and_no_token_is_warned() -> None:
    warning = vpp_token_warning("Acme", has_token=False, expires=None, purchased_apps=2, now=NOW)
    assert warning is not None and warning.kind is WarningKind.VPP_TOKEN
    assert "2 purchased app(s)" in warning.message


def test_an_og_without_purchased_apps_needs_no_token() -> None:
    assert vpp_token_warning("Acme", has_token=False, expires=None, purchased_apps=0, now=NOW) is None


def test_an_apps_and_books_token_expired_or_expiring_within_30_days_is_warned() -> None:
    def token(expires: datetime) -> ConfigWarning | None:
        return vpp_token_warning("Acme", has_token=True, expires=expires, purchased_apps=0, now=NOW)

    expired, soon = token(NOW - timedelta(days=1)), token(NOW + timedelta(days=3))
    assert expired is not None and expired.severity is Severity.BROKEN
    assert soon is not None and soon.severity is Severity.SOON and "in 3 days" in soon.message
    assert token(NOW + timedelta(days=31)) is None
    assert vpp_token_warning("Acme", has_token=True, expires=None, purchased_apps=5, now=NOW) is None


def test_the_ca_is_warned_about_90_days_ahead() -> None:
    soon = ca_certificate_warning(NOW + timedelta(days=89), NOW)
    expired = ca_certificate_warning(NOW, NOW)
    assert soon is not None and soon.kind is WarningKind.CA_CERTIFICATE and soon.severity is Severity.SOON
    assert expired is not None and expired.severity is Severity.BROKEN
    assert ca_certificate_warning(NOW + timedelta(days=90), NOW) is None


def test_the_placeholder_push_topic_in_a_profile_means_no_push_certificate() -> None:
    assert Settings.model_fields["apns_topic"].default == UNCONFIGURED_TOPIC
    warning = push_topic_warning(UNCONFIGURED_TOPIC)
    assert warning is not None and warning.kind is WarningKind.PUSH_CERTIFICATE
    assert push_topic_warning("com.apple.mgmt.External.1234") is None
    assert push_topic_warning(None) is None
