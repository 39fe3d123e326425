"""What would fail without a word, said before it does: a missing or expiring APNs push
certificate (commands stay Queued: no device is woken), a missing or expiring Apps and Books token
(purchased apps never install), and Quince's CA nearing its end (device identities stop renewing).

Pure rules on dates; `services/warnings.py` gathers the dates from the configuration and the
database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

PUSH_NOTICE = timedelta(days=30)
VPP_NOTICE = timedelta(days=30)
CA_NOTICE = timedelta(days=90)


class WarningKind(StrEnum):
    PUSH_CERTIFICATE = "push_certificate"
    VPP_TOKEN = "vpp_token"  # noqa: S105 (a kind of warning, not a secret)
    CA_CERTIFICATE = "ca_certificate"


class Severity(StrEnum):
    SOON = "soon"
    """Something to do before a date."""
    BROKEN = "broken"
    """Already failing."""


@dataclass(frozen=True)
class ConfigWarning:
    """One thing an administrator must fix, in words for them."""

    kind: WarningKind
    severity: Severity
    message: str


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _days(delta: timedelta) -> str:
    days = max(delta.days, 0)
    return "today" if days == 0 else f"in {days} day{'' if days == 1 else 's'}"


def _by_date(kind: WarningKind, expires: datetime, now: datetime, notice: timedelta, *, expired: str,
             soon: str) -> ConfigWarning | None:
    """BROKEN once `expires` has passed, SOON within `notice` of it, else None. The messages take
    `{date}` (the expiry day) and `soon` also `{when}` ("in 3 days")."""
    expires = _aware(expires)
    if expires <= now:
        return ConfigWarning(kind, Severity.BROKEN, expired.format(date=f"{expires:%Y-%m-%d}"))
    if expires - now < notice:
        return ConfigWarning(kind, Severity.SOON, soon.format(date=f"{expires:%Y-%m-%d}",
                                                               when=_days(expires - now)))
    return None


def push_certificate_warning(expires: datetime | None, now: datetime) -> ConfigWarning | None:
    """No push certificate, or one that expired or expires within 30 days (`None`: none installed)."""
    kind = WarningKind.PUSH_CERTIFICATE
    if expires is None:
        return ConfigWarning(kind, Severity.BROKEN,
                             "No APNs push certificate is installed: queued commands stay Queued, because "
                             "no device is told to connect. Install one with `quince apns set-cert`.")
    return _by_date(
        kind, expires, now, PUSH_NOTICE,
        expired="The APNs push certificate expired on {date}: queued commands stay Queued. Renew it in "
                "Apple's Push Certificates Portal (same topic) and install it with `quince apns set-cert`.",
        soon="The APNs push certificate expires {when} ({date}). Renew it in Apple's Push Certificates "
             "Portal (same topic), then run `quince apns set-cert`.",
    )


def vpp_token_warning(og_name: str, *, has_token: bool, expires: datetime | None, purchased_apps: int,
                      now: datetime) -> ConfigWarning | None:
    """An OG with purchased apps and no Apps and Books token, or a token expired or expiring
    within 30 days."""
    kind = WarningKind.VPP_TOKEN
    if not has_token:
        if not purchased_apps:
            return None
        return ConfigWarning(kind, Severity.BROKEN,
                             f"{og_name} has {purchased_apps} purchased app(s) but no Apps and Books token: "
                             "they cannot be licensed or installed. Set one with `quince vpp set-token`.")
    if expires is None:
        return None
    renew = "Download a new one from Apple Business Manager and set it with `quince vpp set-token`."
    name = og_name.replace("{", "{{").replace("}", "}}")
    return _by_date(
        kind, expires, now, VPP_NOTICE,
        expired=f"The Apps and Books token of {name} expired on {{date}}: purchased apps cannot be "
                f"licensed. {renew}",
        soon=f"The Apps and Books token of {name} expires {{when}} ({{date}}). {renew}",
    )


def ca_certificate_warning(expires: datetime, now: datetime) -> ConfigWarning | None:
    """Quince's CA expired or expiring within 90 days."""
    return _by_date(
        WarningKind.CA_CERTIFICATE, expires, now, CA_NOTICE,
        expired="Quince's CA certificate expired on {date}: devices cannot get or renew their identity "
                "certificates, and enrollments fail.",
        soon="Quince's CA certificate expires {when} ({date}): enrolled devices will have to enroll again "
             "under a new CA. Plan the change (see `quince pki show`).",
    )


UNCONFIGURED_TOPIC = "com.apple.mgmt.External.quince-unconfigured"
"""The push topic profiles name while no push certificate is installed (QUINCE_APNS_TOPIC's default)."""


def push_topic_warning(topic: str | None) -> ConfigWarning | None:
    """What an enrollment profile's topic tells a device (or the simulator) about the server: the
    placeholder topic means no push certificate is installed."""
    if topic != UNCONFIGURED_TOPIC:
        return None
    return push_certificate_warning(None, datetime.now(UTC))
