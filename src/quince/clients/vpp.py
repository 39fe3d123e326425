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

This module is the HTTP side only: what goes over the wire (the typed values, the JSON both ways,
Apple's error table) is `quince.apple.vpp`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

import httpx

from quince.apple.vpp.errors import VppError, error_from_answer
from quince.apple.vpp.json_format import (
    asset_from,
    assignment_from,
    client_config_from,
    event_id_from,
    event_status_from,
    licences_body,
    service_config_from,
    user_from,
    users_create_body,
)
from quince.apple.vpp.records import (
    DEFAULT_PRICING,
    ClientConfig,
    EventStatus,
    NewVppUser,
    ServiceConfig,
    VppAsset,
    VppAssignment,
    VppUser,
)
from quince.clients.retry_after import retry_after_seconds

log = logging.getLogger("quince.vpp")

DEFAULT_URL = "https://vpp.itunes.apple.com/mdm/v2"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
CONFIG_TTL = 300.0  # seconds: Apple says the limits may change and should be re-read every 5 minutes
MAX_PAGES = 10_000  # a guard against a server that keeps answering with a nextPageIndex

T = TypeVar("T")


def token_hash(token: str) -> str:
    """A short, safe name for a token in logs: the start of its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def interpret_error(status: int, headers: httpx.Headers, body: bytes, now: float | None = None) -> VppError:
    """The VppError for an unsuccessful answer (or a 2xx answer that carries an errorNumber)."""
    retry_after = retry_after_seconds(headers.get("retry-after"), time.time() if now is None else now)
    return error_from_answer(status, body, retry_after)


def _query(**values: str | None) -> dict[str, str]:
    """Query parameters: the ones given (None means not asked for)."""
    return {name: value for name, value in values.items() if value is not None}


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
        self._config = service_config_from(data)
        self._config_at = time.monotonic()
        return self._config

    async def client_config(self) -> ClientConfig:
        """The token's location: its name, country and expiry (GET /client/config)."""
        return client_config_from(await self._request("GET", "/client/config"))

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
            body = users_create_body(batch)
            events.append(event_id_from(await self._request("POST", "/users/create", body=body)))
        return events

    async def get_users(
        self, client_user_ids: Sequence[str] | None = None, *, active_only: bool = True
    ) -> list[VppUser]:
        """Users and their status (GET /users): the ones named, or all; active ones only by default."""
        base = {"activeOnly": "true"} if active_only else {}
        if client_user_ids is None:
            return [user_from(u) for u in await self._pages("/users", "users", base)]
        found: list[VppUser] = []
        # Apple filters by one clientUserId per request.
        for client_user_id in _unique(client_user_ids):
            records = await self._pages("/users", "users", {**base, "clientUserId": client_user_id})
            found.extend(user_from(u) for u in records)
        return found

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
            for user_batch in _chunks(users, limits.max_client_user_ids):
                body = licences_body(asset_batch, pricing_param, client_user_ids=user_batch)
                events.append(event_id_from(await self._request("POST", path, body=body)))
            for serial_batch in _chunks(serials, limits.max_serial_numbers):
                body = licences_body(asset_batch, pricing_param, serial_numbers=serial_batch)
                events.append(event_id_from(await self._request("POST", path, body=body)))
        return events

    async def event_status(self, event_id: str) -> EventStatus:
        """Where an asynchronous request stands (GET /status?eventId=): PENDING, COMPLETE or FAILED,
        with Apple's failures (error number, message, the users they concern)."""
        data = await self._request("GET", "/status", params={"eventId": event_id})
        return event_status_from(event_id, data)

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
        return [asset_from(a) for a in await self._pages("/assets", "assets", params) if a.get("adamId")]

    async def get_assignments(
        self,
        *,
        adam_id: str | None = None,
        client_user_id: str | None = None,
        serial_number: str | None = None,
    ) -> list[VppAssignment]:
        """Current licence assignments (GET /assignments, every page)."""
        params = _query(adamId=adam_id, clientUserId=client_user_id, serialNumber=serial_number)
        return [assignment_from(a) for a in await self._pages("/assignments", "assignments", params)]
