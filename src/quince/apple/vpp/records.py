"""The Apps and Books (VPP) v2 service's values, typed: limits, users, assets, assignments, events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from quince.apple.vpp.errors import error_text

DEFAULT_PRICING = "STDQ"


@dataclass(frozen=True)
class Limits:
    """Request size limits from /service/config (Apple's documented values as defaults)."""

    max_assets: int = 25
    max_users: int = 100
    max_client_user_ids: int = 1000
    max_serial_numbers: int = 1000


@dataclass(frozen=True)
class ServiceConfig:
    limits: Limits
    error_codes: Mapping[int, str]
    """Apple's own messages by error number."""
    invitation_url: str | None
    """Apple's invitation template. Quince never uses it: user-enrolled users are never invited."""


@dataclass(frozen=True)
class ClientConfig:
    """What Apple says about the token's location (GET /client/config)."""

    location_name: str | None
    country: str | None
    token_expires_at: datetime | None
    uid: str | None


@dataclass(frozen=True)
class NewVppUser:
    """A user to create: always with the Managed Apple Account, never an email address (an email
    is what invitations are sent to, and Quince never invites)."""

    client_user_id: str
    managed_apple_id: str


class VppUserStatus(StrEnum):
    REGISTERED = "Registered"  # no Apple Account yet
    ASSOCIATED = "Associated"  # linked to an Apple Account (has an idHash)
    RETIRED = "Retired"
    DELETED = "Deleted"  # legacy: retired and replaced by a new user with the same clientUserId
    UNKNOWN = "Unknown"


@dataclass(frozen=True)
class VppUser:
    client_user_id: str
    status: VppUserStatus
    id_hash: str | None = None
    managed_apple_id: str | None = None

    @property
    def active(self) -> bool:
        return self.status in (VppUserStatus.REGISTERED, VppUserStatus.ASSOCIATED)


@dataclass(frozen=True)
class VppAsset:
    adam_id: str
    pricing_param: str
    product_type: str | None
    device_assignable: bool
    revocable: bool
    total_count: int
    assigned_count: int
    available_count: int
    retired_count: int
    supported_platforms: tuple[str, ...] = ()


@dataclass(frozen=True)
class VppAssignment:
    adam_id: str
    pricing_param: str
    client_user_id: str | None = None
    serial_number: str | None = None


class EventState(StrEnum):
    PENDING = "PENDING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"


@dataclass(frozen=True)
class VppFailure:
    """One failure inside an event, with the users, devices or assets it concerns."""

    code: int | None
    message: str
    client_user_ids: tuple[str, ...] = ()
    serial_numbers: tuple[str, ...] = ()
    adam_ids: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """Readable, for a device's app status."""
        return error_text(self.code, self.message)


@dataclass(frozen=True)
class EventStatus:
    event_id: str
    state: EventState
    event_type: str | None
    num_completed: int
    num_requested: int
    failures: tuple[VppFailure, ...] = field(default_factory=tuple)

    @property
    def done(self) -> bool:
        return self.state is not EventState.PENDING

    def failures_for_user(self, client_user_id: str) -> list[VppFailure]:
        """The failures that name this user (or name nobody, so may concern everyone)."""
        return [f for f in self.failures
                if client_user_id in f.client_user_ids or not (f.client_user_ids or f.serial_numbers)]
