"""The Apps and Books (VPP) v2 client: Apple's licence service for purchased apps.

Every call carries `Authorization: Bearer <sToken>`, the content of the location token file an
administrator downloaded from Apple Business Manager. Writes (`users/create`, `assets/associate`,
`assets/disassociate`) are asynchronous at Apple: they answer with an `eventId` whose outcome is read
from `GET /status`. Request sizes are capped by the limits `GET /service/config` publishes (re-read
every five minutes, as Apple asks); this client splits larger requests into batches and returns one
event id per batch.

Two promises Quince makes to user-enrolled devices are kept here, by construction:
- users are created with a `managedAppleId` and never with an `email`, so Apple never has a reason
  to invite anyone (Quince never sends the invitation URL either);
- licences go to `clientUserIds` (user-based). `serialNumbers` (device-based) exist for completeness
  but a user-enrolled device has no serial number to give.

Failures raise `VppError` with Apple's error number, a readable text, whether retrying can help and
how long Apple asked us to wait. Retrying is the caller's business (durable jobs): the client never
sleeps. The sToken is never logged; a short hash of it tells tokens apart.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

import httpx

from quince.clients.retry_after import retry_after_seconds
from quince.domain.errors import QuinceError

log = logging.getLogger("quince.vpp")

DEFAULT_URL = "https://vpp.itunes.apple.com/mdm/v2"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
CONFIG_TTL = 300.0  # seconds: Apple says the limits may change and should be re-read every 5 minutes
MAX_PAGES = 10_000  # a guard against a server that keeps answering with a nextPageIndex
DEFAULT_PRICING = "STDQ"

T = TypeVar("T")

# Apple's error numbers, in Quince's words (Apple: "Interpreting error codes", "Handling error
# responses", and the errorCodes list of /service/config). These reach a device's app status.
ERROR_TEXTS: dict[int, str] = {
    9600: "A required argument is missing from the request.",
    9601: "Apple requires a login: the request carried no usable sToken.",
    9602: "Apple rejected an argument of the request as invalid.",
    9603: "Apple's Apps and Books service had an internal error; the request will be retried.",
    9604: "Apple found no result for the request.",
    9609: "Apple cannot find the registered VPP user (it may not have been created yet, or was retired).",
    9610: "Apple cannot find the licence.",
    9616: "The licence is already assigned.",
    9618: "The VPP user has already been retired.",
    9619: "The licence is not associated.",
    9620: "The VPP user has already been deleted.",
    9621: "The Apps and Books token (sToken) has expired: download a new one from Apple Business "
          "Manager and install it with `quince vpp set-token`.",
    9622: "Apple rejected the authentication token.",
    9624: "The licence was refunded and is no longer valid.",
    9625: "Apple has revoked the Apps and Books token (sToken), usually because a newer one was "
          "downloaded: install the current token with `quince vpp set-token`.",
    9626: "The licence is already assigned to a different user.",
    9628: "The app does not allow device-based assignment.",
    9630: "Too many recent 'already assigned' errors for this user and app; wait before trying again.",
    9631: "Too many recent 'already assigned' errors for this user and app; wait before trying again.",
    9632: "Too many recent identical licence requests: Apple asks to wait several minutes before "
          "sending the same request again.",
    9633: "Apple could not recover the data of a batch token.",
    9634: "This Apps and Books service has been removed by Apple.",
    9635: "The Managed Apple Account cannot be found or belongs to another organization than the "
          "Apps and Books token's.",
    9636: "Apple cannot find the registered VPP user.",
    9637: "The Apps and Books token is not allowed to perform this operation.",
    9638: "The content manager account behind the token has no Managed Apple Account organization.",
    9641: "The Apple Account is already associated with another VPP user.",
    9642: "The Apple Account cannot be used yet: its owner must first accept Apple's terms.",
    9643: "The licence is locked by a pending transfer; try again later.",
    9644: "Apple's Apps and Books service is in maintenance; try again later.",
    9645: "This location is managed by Apple's cloud MDM: only reads are allowed.",
    9646: "Too many requests for this organization: Apple asks to back off and retry.",
    9650: "The page index is out of range.",
    9700: "Too many assets in one request.",
    9701: "Too many clientUserIds in one request.",
    9702: "Too many serial numbers in one request.",
    9703: "The request names an asset twice.",
    9704: "The request names a clientUserId twice.",
    9705: "The request names a serial number twice.",
    9706: "The app's licences are not revocable.",
    9707: "The app cannot be assigned to devices.",
    9708: "Apple does not know this event id.",
    9709: "Not enough licences are available for this app.",
    9714: "Too many users in one request.",
    9715: "The request names a user twice.",
    9716: "A VPP user with this clientUserId already exists.",
    9717: "The request holds an invalid email address.",
    9718: "The request names no asset.",
    9719: "The request names neither users nor devices.",
    9720: "The request names no user.",
    9721: "The version id is not valid.",
    9722: "The Authorization header is not of the form 'Bearer <sToken>'.",
    9726: "Apple does not accept this HTTP method here.",
    9727: "Apple does not accept this Content-Type here.",
}

# Errors that go away by themselves: try again later (Apple's advice for each).
RETRYABLE_CODES = frozenset({9603, 9632, 9643, 9644, 9646})
# When Apple gives no Retry-After for these, wait this long rather than the usual backoff.
DEFAULT_WAIT = {9632: 300.0, 9644: 600.0}
# The token is unusable until an administrator installs another.
TOKEN_CODES = frozenset({9601, 9621, 9622, 9625, 9722})


def error_text(code: int | None, message: str | None = None) -> str:
    """A readable sentence for Apple's error number (Apple's own message for unknown numbers)."""
    if code is not None and code in ERROR_TEXTS:
        return ERROR_TEXTS[code]
    if message:
        return message if code is None else f"{message} (Apple error {code})"
    return f"Apple error {code}" if code is not None else "Apple's Apps and Books service failed."


def token_hash(token: str) -> str:
    """A short, safe name for a token in logs: the start of its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


class VppError(QuinceError):
    """Apple's Apps and Books service refused or failed a request."""

    def __init__(
        self,
        code: int | None,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after
        """Seconds to wait before trying again, when Apple said (Retry-After) or Quince knows."""
        self.status = status
        """The HTTP status, None when Apple could not be reached."""

    @property
    def token_problem(self) -> bool:
        """The sToken is expired, revoked or refused: nothing works until a new one is installed."""
        return self.code in TOKEN_CODES or self.status == 401

    def __repr__(self) -> str:
        return (f"VppError(code={self.code}, status={self.status}, retryable={self.retryable}, "
                f"retry_after={self.retry_after}, message={self.message!r})")


# --- Typed results -----------------------------------------------------------------------------


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


# --- Parsing -----------------------------------------------------------------------------------


def parse_apple_date(value: object) -> datetime | None:
    """Apple's dates: ISO 8601, with an offset like +0000 or -0700."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _query(**values: str | None) -> dict[str, str]:
    """Query parameters: the ones given (None means not asked for)."""
    return {name: value for name, value in values.items() if value is not None}


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


def interpret_error(status: int, headers: httpx.Headers, body: bytes, now: float | None = None) -> VppError:
    """The VppError for an unsuccessful answer (or a 2xx answer that carries an errorNumber)."""
    data: Any = None
    try:
        data = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        data = None
    code = data.get("errorNumber") if isinstance(data, dict) else None
    code = code if isinstance(code, int) else None
    apple_message = data.get("errorMessage") if isinstance(data, dict) else None
    retry_after = retry_after_seconds(headers.get("retry-after"), time.time() if now is None else now)
    retryable = status == 429 or status >= 500 or code in RETRYABLE_CODES
    if retryable and retry_after is None and code in DEFAULT_WAIT:
        retry_after = DEFAULT_WAIT[code]
    if code is None and not isinstance(apple_message, str):
        message = f"Apple's Apps and Books service answered HTTP {status}."
        if status == 429:
            message = "Apple's Apps and Books service is rate limiting Quince (HTTP 429)."
        elif status >= 500:
            message = f"Apple's Apps and Books service is unavailable (HTTP {status})."
    else:
        message = error_text(code, apple_message if isinstance(apple_message, str) else None)
    return VppError(code, message, retryable=retryable, retry_after=retry_after, status=status)


def _chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    size = max(1, size)
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def _unique(items: Sequence[str]) -> list[str]:
    # Apple refuses duplicates (9703-9705, 9715): send each once, in the caller's order.
    return list(dict.fromkeys(items))


# --- The client --------------------------------------------------------------------------------


class VppClient:
    """One location token's view of the Apps and Books v2 service."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_URL,
        timeout: httpx.Timeout = TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        config_ttl: float = CONFIG_TTL,
    ) -> None:
        self._token = token.strip()
        self.token_hash = token_hash(self._token)
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
            headers={"Accept": "application/json", "User-Agent": "Quince-MDM"},
        )
        self._config: ServiceConfig | None = None
        self._config_at = 0.0
        self._config_ttl = config_ttl

    async def __aenter__(self) -> VppClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # Transport ---------------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        authenticated: bool = True,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._token}"} if authenticated else {}
        try:
            response = await self._http.request(method, path, params=params, json=body, headers=headers)
        except httpx.HTTPError as exc:
            reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
            log.warning("vpp %s %s (token %s) not sent: %s", method, path, self.token_hash, reason)
            raise VppError(None, f"Apple's Apps and Books service could not be reached: {reason}.",
                           retryable=True) from exc
        data: Any = None
        if response.is_success:
            try:
                data = response.json()
            except ValueError:
                data = None
        if not response.is_success or not isinstance(data, dict) or isinstance(data.get("errorNumber"), int):
            error = interpret_error(response.status_code, response.headers, response.content)
            if response.is_success and error.code is None:
                error = VppError(None, "Apple's Apps and Books service sent an answer Quince cannot read.",
                                 retryable=True, status=response.status_code)
            log.warning("vpp %s %s (token %s): HTTP %s, error %s: %s", method, path, self.token_hash,
                        response.status_code, error.code, error.message)
            raise error
        log.debug("vpp %s %s (token %s): HTTP %s", method, path, self.token_hash, response.status_code)
        return data

    async def _pages(self, path: str, key: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """Every record of a paginated GET, following nextPageIndex."""
        records: list[dict[str, Any]] = []
        page: int | None = 0
        seen = 0
        while page is not None:
            query = dict(params)
            if page:
                query["pageIndex"] = str(page)
            data = await self._request("GET", path, params=query)
            items = data.get(key)
            if isinstance(items, list):
                records.extend(i for i in items if isinstance(i, dict))
            following = data.get("nextPageIndex")
            seen += 1
            page = following if isinstance(following, int) and following > page and seen < MAX_PAGES else None
        return records

    # Configuration -----------------------------------------------------------------------------

    async def service_config(self, *, refresh: bool = False) -> ServiceConfig:
        """Limits, error messages and URLs (GET /service/config; no token needed), cached 5 minutes."""
        if not refresh and self._config is not None and time.monotonic() - self._config_at < self._config_ttl:
            return self._config
        data = await self._request("GET", "/service/config", authenticated=False)
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
        self._config = ServiceConfig(limits=limits, error_codes=codes, invitation_url=invitation)
        self._config_at = time.monotonic()
        return self._config

    async def client_config(self) -> ClientConfig:
        """The token's location: its name, country and expiry (GET /client/config)."""
        data = await self._request("GET", "/client/config")
        return ClientConfig(
            location_name=_str(data.get("locationName")),
            country=_str(data.get("countryISO2ACode")),
            token_expires_at=parse_apple_date(data.get("tokenExpirationDate")),
            uid=_str(data.get("uId")),
        )

    # Users -------------------------------------------------------------------------------------

    async def create_users(self, users: Sequence[NewVppUser]) -> list[str]:
        """Create VPP users with their Managed Apple Accounts (POST /users/create), at most maxUsers
        per request; one event id per request. A Managed Apple Account of the token's organization
        is associated at once; no email is ever sent, so no invitation can follow."""
        unique = list({u.client_user_id: u for u in users}.values())
        if not unique:
            return []
        limits = (await self.service_config()).limits
        events = []
        for batch in _chunks(unique, limits.max_users):
            body = {"users": [{"clientUserId": u.client_user_id, "managedAppleId": u.managed_apple_id}
                              for u in batch]}
            events.append(self._event_id(await self._request("POST", "/users/create", body=body)))
        return events

    async def get_users(
        self, client_user_ids: Sequence[str] | None = None, *, active_only: bool = True
    ) -> list[VppUser]:
        """Users and their status (GET /users): the ones named, or all; active ones only by default."""
        base = {"activeOnly": "true"} if active_only else {}
        if client_user_ids is None:
            return [self._user(u) for u in await self._pages("/users", "users", base)]
        found: list[VppUser] = []
        # Apple filters by one clientUserId per request.
        for client_user_id in _unique(client_user_ids):
            records = await self._pages("/users", "users", {**base, "clientUserId": client_user_id})
            found.extend(self._user(u) for u in records)
        return found

    @staticmethod
    def _user(data: Mapping[str, Any]) -> VppUser:
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

    # Licences ----------------------------------------------------------------------------------

    async def associate_assets(
        self,
        adam_ids: Sequence[str],
        client_user_ids: Sequence[str] = (),
        *,
        serial_numbers: Sequence[str] = (),
        pricing_param: str = DEFAULT_PRICING,
    ) -> list[str]:
        """Assign licences (POST /assets/associate), batched at maxAssets x maxClientUserIds; one
        event id per request. `client_user_ids` makes user-based licences, the only kind a
        user-enrolled device can use; `serial_numbers` (device-based) is never used for one."""
        return await self._manage("/assets/associate", adam_ids, client_user_ids, serial_numbers,
                                  pricing_param)

    async def disassociate_assets(
        self,
        adam_ids: Sequence[str],
        client_user_ids: Sequence[str] = (),
        *,
        serial_numbers: Sequence[str] = (),
        pricing_param: str = DEFAULT_PRICING,
    ) -> list[str]:
        """Release licences (POST /assets/disassociate), batched like `associate_assets`."""
        return await self._manage("/assets/disassociate", adam_ids, client_user_ids, serial_numbers,
                                  pricing_param)

    async def _manage(
        self, path: str, adam_ids: Sequence[str], client_user_ids: Sequence[str],
        serial_numbers: Sequence[str], pricing_param: str,
    ) -> list[str]:
        assets, users, serials = _unique(adam_ids), _unique(client_user_ids), _unique(serial_numbers)
        if not assets or not (users or serials):
            return []
        limits = (await self.service_config()).limits
        events = []
        for asset_batch in _chunks(assets, limits.max_assets):
            asset_list = [{"adamId": a, "pricingParam": pricing_param} for a in asset_batch]
            for user_batch in _chunks(users, limits.max_client_user_ids):
                body = {"assets": asset_list, "clientUserIds": user_batch}
                events.append(self._event_id(await self._request("POST", path, body=body)))
            for serial_batch in _chunks(serials, limits.max_serial_numbers):
                body = {"assets": asset_list, "serialNumbers": serial_batch}
                events.append(self._event_id(await self._request("POST", path, body=body)))
        return events

    @staticmethod
    def _event_id(data: Mapping[str, Any]) -> str:
        event_id = _str(data.get("eventId"))
        if event_id is None:
            raise VppError(None, "Apple's Apps and Books service accepted the request but sent no event id.",
                           retryable=True)
        return event_id

    async def event_status(self, event_id: str) -> EventStatus:
        """Where an asynchronous request stands (GET /status?eventId=): PENDING, COMPLETE or FAILED,
        with Apple's failures (error number, message, the users they concern)."""
        data = await self._request("GET", "/status", params={"eventId": event_id})
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

    # Inventory ---------------------------------------------------------------------------------

    async def get_assets(
        self,
        *,
        adam_id: str | None = None,
        product_type: str | None = None,
        device_assignable: bool | None = None,
        pricing_param: str | None = None,
    ) -> list[VppAsset]:
        """The location's purchased apps and books with licence counts (GET /assets, every page)."""
        params = _query(adamId=adam_id, productType=product_type, pricingParam=pricing_param,
                        deviceAssignable=None if device_assignable is None
                        else "true" if device_assignable else "false")
        return [
            VppAsset(
                adam_id=str(a.get("adamId") or ""),
                pricing_param=str(a.get("pricingParam") or DEFAULT_PRICING),
                product_type=_str(a.get("productType")),
                device_assignable=bool(a.get("deviceAssignable")),
                revocable=bool(a.get("revocable")),
                total_count=_int(a.get("totalCount")),
                assigned_count=_int(a.get("assignedCount")),
                available_count=_int(a.get("availableCount")),
                retired_count=_int(a.get("retiredCount")),
                supported_platforms=_strings(a.get("supportedPlatforms")),
            )
            for a in await self._pages("/assets", "assets", params)
            if a.get("adamId")
        ]

    async def get_assignments(
        self,
        *,
        adam_id: str | None = None,
        client_user_id: str | None = None,
        serial_number: str | None = None,
    ) -> list[VppAssignment]:
        """Current licence assignments (GET /assignments, every page)."""
        params = _query(adamId=adam_id, clientUserId=client_user_id, serialNumber=serial_number)
        return [
            VppAssignment(
                adam_id=str(a.get("adamId") or ""),
                pricing_param=str(a.get("pricingParam") or DEFAULT_PRICING),
                client_user_id=_str(a.get("clientUserId")),
                serial_number=_str(a.get("serialNumber")),
            )
            for a in await self._pages("/assignments", "assignments", params)
        ]
