"""Apps and Books JSON, both ways: the request bodies Quince sends, and Apple's answers read into records.

Answers are read leniently (a missing or mistyped field becomes a default), as Apple adds fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from quince.apple.vpp.errors import VppError
from quince.apple.vpp.records import (
    DEFAULT_PRICING,
    ClientConfig,
    EventState,
    EventStatus,
    Limits,
    NewVppUser,
    ServiceConfig,
    VppAsset,
    VppAssignment,
    VppFailure,
    VppUser,
    VppUserStatus,
)

# --- Requests ----------------------------------------------------------------------------------


def users_create_body(users: Sequence[NewVppUser]) -> dict[str, Any]:
    """The body of POST /users/create: each user with its Managed Apple Account, never an email."""
    return {"users": [{"clientUserId": u.client_user_id, "managedAppleId": u.managed_apple_id}
                      for u in users]}


def licences_body(
    adam_ids: Sequence[str], pricing_param: str, *, client_user_ids: Sequence[str] = (),
    serial_numbers: Sequence[str] = (),
) -> dict[str, Any]:
    """The body of POST /assets/associate or /assets/disassociate: the assets, and the users
    (user-based licences) or the devices (device-based) they go to or leave."""
    body: dict[str, Any] = {"assets": [{"adamId": a, "pricingParam": pricing_param} for a in adam_ids]}
    if client_user_ids:
        body["clientUserIds"] = list(client_user_ids)
    if serial_numbers:
        body["serialNumbers"] = list(serial_numbers)
    return body


# --- Answers -----------------------------------------------------------------------------------


def parse_apple_date(value: object) -> datetime | None:
    """Apple's dates: ISO 8601, with an offset like +0000 or -0700, read as UTC. Kept in its own
    offset, the time would be stored wrong by that many hours where the database drops offsets
    (SQLite keeps the wall-clock time only)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def service_config_from(data: Mapping[str, Any]) -> ServiceConfig:
    """GET /service/config: the request limits (Apple's documented ones where missing), error
    messages and URLs."""
    raw = data.get("limits")
    raw = raw if isinstance(raw, dict) else {}
    default = Limits()
    limits = Limits(
        max_assets=_int(raw.get("maxAssets"), default.max_assets) or default.max_assets,
        max_users=_int(raw.get("maxUsers"), default.max_users) or default.max_users,
        max_client_user_ids=_int(raw.get("maxClientUserIds"), default.max_client_user_ids)
        or default.max_client_user_ids,
        max_serial_numbers=_int(raw.get("maxSerialNumbers"), default.max_serial_numbers)
        or default.max_serial_numbers,
    )
    codes = {
        e["errorNumber"]: str(e.get("errorMessage") or "")
        for e in data.get("errorCodes") or []
        if isinstance(e, dict) and isinstance(e.get("errorNumber"), int)
    }
    urls = data.get("urls")
    invitation = _str(urls.get("invitationEmail")) if isinstance(urls, dict) else None
    return ServiceConfig(limits=limits, error_codes=codes, invitation_url=invitation)


def client_config_from(data: Mapping[str, Any]) -> ClientConfig:
    """GET /client/config: the token's location, country and expiry."""
    return ClientConfig(
        location_name=_str(data.get("locationName")),
        country=_str(data.get("countryISO2ACode")),
        token_expires_at=parse_apple_date(data.get("tokenExpirationDate")),
        uid=_str(data.get("uId")),
    )


def user_from(data: Mapping[str, Any]) -> VppUser:
    """One record of GET /users; a status Apple adds later reads as UNKNOWN."""
    try:
        status = VppUserStatus(str(data.get("status")))
    except ValueError:
        status = VppUserStatus.UNKNOWN
    return VppUser(
        client_user_id=str(data.get("clientUserId") or ""),
        status=status,
        id_hash=_str(data.get("idHash")),
        managed_apple_id=_str(data.get("managedAppleId")),
    )


def event_id_from(data: Mapping[str, Any]) -> str:
    """The eventId of an accepted write; a retryable VppError if Apple sent none."""
    event_id = _str(data.get("eventId"))
    if event_id is None:
        raise VppError(None, "Apple's Apps and Books service accepted the request but sent no event id.",
                       retryable=True)
    return event_id


def event_status_from(event_id: str, data: Mapping[str, Any]) -> EventStatus:
    """GET /status: where an event stands, with Apple's failures (an unknown state is PENDING)."""
    try:
        state = EventState(str(data.get("eventStatus")))
    except ValueError:
        state = EventState.PENDING  # an unknown state is not yet a result
    failures = tuple(_failure(f) for f in data.get("failures") or [] if isinstance(f, dict))
    return EventStatus(
        event_id=event_id, state=state, event_type=_str(data.get("eventType")),
        num_completed=_int(data.get("numCompleted")), num_requested=_int(data.get("numRequested")),
        failures=failures,
    )


def asset_from(data: Mapping[str, Any]) -> VppAsset:
    """One record of GET /assets, with its licence counts."""
    return VppAsset(
        adam_id=str(data.get("adamId") or ""),
        pricing_param=str(data.get("pricingParam") or DEFAULT_PRICING),
        product_type=_str(data.get("productType")),
        device_assignable=bool(data.get("deviceAssignable")),
        revocable=bool(data.get("revocable")),
        total_count=_int(data.get("totalCount")),
        assigned_count=_int(data.get("assignedCount")),
        available_count=_int(data.get("availableCount")),
        retired_count=_int(data.get("retiredCount")),
        supported_platforms=_strings(data.get("supportedPlatforms")),
    )


def assignment_from(data: Mapping[str, Any]) -> VppAssignment:
    """One record of GET /assignments."""
    return VppAssignment(
        adam_id=str(data.get("adamId") or ""),
        pricing_param=str(data.get("pricingParam") or DEFAULT_PRICING),
        client_user_id=_str(data.get("clientUserId")),
        serial_number=_str(data.get("serialNumber")),
    )


def _int(value: object, default: int = 0) -> int:
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return default


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(v) for v in value if isinstance(v, (str, int)))


def _failure(data: Mapping[str, Any]) -> VppFailure:
    info = data.get("errorInfo")
    info = info if isinstance(info, Mapping) else {}
    assets = info.get("assets")
    adam_ids = tuple(str(a.get("adamId")) for a in assets if isinstance(a, Mapping) and a.get("adamId")) \
        if isinstance(assets, list) else ()
    code = data.get("errorNumber")
    return VppFailure(
        code=code if isinstance(code, int) else None,
        message=str(data.get("errorMessage") or ""),
        client_user_ids=_strings(info.get("clientUserIds")),
        serial_numbers=_strings(info.get("serialNumbers")),
        adam_ids=adam_ids,
    )
