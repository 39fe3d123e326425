"""A local Apps and Books (VPP) v2 service for tests: Apple's JSON API over real HTTP.

A small Starlette app served by uvicorn in its own thread, on a free port, with in-memory state:
users (a `managedAppleId` in the organization's domain is Associated at once, anything else is only
Registered), assets with licence counts, assignments, and asynchronous events that stay PENDING
for a configurable number of status polls before they COMPLETE or FAIL with Apple's error numbers.
It checks what Apple checks (the bearer token, request limits, duplicates) and can be scripted to
fail: 429 with Retry-After, 500, an outage of 503s for N requests or until `recover()`, a revoked
token (9625). Every request is recorded, so a test can prove no invitation was ever asked for: no
`email` in `users/create`, no visit to the invitation URL.

Quince's production client talks to it unchanged; only QUINCE_VPP_URL differs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DEFAULT_LIMITS = {
    "maxAssets": 25, "maxUsers": 100, "maxNotificationLength": 512, "maxRevokeClientUserIds": 100,
    "maxClientUserIds": 1000, "maxSerialNumbers": 1000, "maxRevokeSerialNumbers": 100,
}
ERROR_MESSAGES = {
    9601: "Login required.",
    9602: "Invalid argument.",
    9603: "Internal error.",
    9609: "Unable to find the registered user.",
    9621: "The token has expired.",
    9625: "The server has revoked the sToken.",
    9632: "Too many recent calls with an identical request.",
    9646: "There are too many requests for the current Organization.",
    9700: "Max assets limit on request has been passed.",
    9701: "Max clientUserIds limit on request has been passed.",
    9702: "Max serialNumbers limit on request has been passed.",
    9703: "Duplicate assets found in request.",
    9704: "Duplicate clientUserIds found in request.",
    9707: "Asset in request is not device assignable.",
    9708: "EventId could not be found.",
    9709: "There are not enough licenses available.",
    9714: "The number of users exceeds the maximum.",
    9715: "This request contains duplicate users.",
    9716: "A registered user already exists with the specified clientUserId.",
    9718: "This request doesn't contain an asset.",
    9719: "Either clientUserIds or serialNumbers are required arguments.",
    9720: "Users are a required argument.",
    9722: "This request contains an invalid authorization header.",
}


def _apple_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def make_token_file(org_name: str = "Example Corp", *, expires: datetime | None = None) -> str:
    """The content of an sToken file as Apple Business Manager hands it out."""
    expires = expires or datetime.now(UTC) + timedelta(days=365)
    payload = {"token": base64.b64encode(uuid.uuid4().bytes * 3).decode(), "expDate": _apple_date(expires),
               "orgName": org_name}
    return base64.b64encode(json.dumps(payload).encode()).decode()


@dataclass(frozen=True)
class Received:
    """One request the double received, and its answer."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int

    @property
    def token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[len("Bearer "):] if auth.startswith("Bearer ") else None


@dataclass(frozen=True)
class Failure:
    """A scripted answer instead of the real one."""

    status: int
    error_number: int | None = None
    retry_after: str | None = None


@dataclass
class DoubleUser:
    client_user_id: str
    status: str
    managed_apple_id: str | None
    email: str | None
    id_hash: str | None = None
    invite_code: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"clientUserId": self.client_user_id, "status": self.status}
        if self.email:
            out["email"] = self.email
        if self.id_hash:
            out["idHash"] = self.id_hash
        if self.invite_code:
            out["inviteCode"] = self.invite_code
        return out


@dataclass
class DoubleAsset:
    adam_id: str
    total: int
    device_assignable: bool = False
    pricing_param: str = "STDQ"
    product_type: str = "App"
    revocable: bool = True


@dataclass
class DoubleEvent:
    event_id: str
    event_type: str
    num_requested: int
    polls_left: int
    apply: Any  # () -> list[failure dict]: the effect, run when the event completes
    forced_failure: tuple[int, str] | None = None
    client_user_ids: tuple[str, ...] = ()
    state: str = "PENDING"
    failures: list[dict[str, Any]] = field(default_factory=list)


class VppDouble:
    """The local Apps and Books service. `url`, `token_file_text`, `requests` and the scripting
    methods are what tests use."""

    def __init__(self, *, org_name: str = "Example Corp",
                 org_domains: tuple[str, ...] = ("example.com",)) -> None:
        self.org_name = org_name
        self.org_domains = tuple(d.lower() for d in org_domains)
        self.location_name = f"{org_name} HQ"
        self.expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=365)
        self.token_file_text = make_token_file(org_name, expires=self.expires)
        self.valid_tokens = {self.token_file_text}
        self.revoked_tokens: set[str] = set()
        self.limits = dict(DEFAULT_LIMITS)
        self.page_size = 100
        self.event_polls = 0
        """Status polls an event stays PENDING before it completes (its effect applies then)."""
        self.users: list[DoubleUser] = []
        self.assets: dict[str, DoubleAsset] = {}
        self.assignments: list[tuple[str, str | None, str | None]] = []  # adamId, clientUserId, serial
        self.events: dict[str, DoubleEvent] = {}
        self.requests: list[Received] = []
        self.version = 0
        self._lock = threading.RLock()
        self._script: deque[Failure] = deque()
        self._outage: Failure | None = None
        self._outage_left: int | None = None
        self._event_failures: deque[tuple[int, str]] = deque()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # Scripting and inspection ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mdm/v2"

    @property
    def invitation_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/invite?inviteCode=%25inviteCode%25"

    def environment(self) -> dict[str, str]:
        """QUINCE_* variables that point Quince at this service."""
        return {"QUINCE_VPP_URL": self.url}

    def add_asset(self, adam_id: str, total: int = 10, *, device_assignable: bool = False,
                  pricing_param: str = "STDQ", product_type: str = "App") -> DoubleAsset:
        with self._lock:
            asset = DoubleAsset(adam_id, total, device_assignable, pricing_param, product_type)
            self.assets[adam_id] = asset
            self.version += 1
            return asset

    def remove_asset(self, adam_id: str) -> None:
        with self._lock:
            self.assets.pop(adam_id, None)

    def add_user(self, client_user_id: str, managed_apple_id: str | None = None, *,
                 status: str = "Associated") -> DoubleUser:
        """A user that already exists at Apple (created by an earlier run, or another MDM)."""
        with self._lock:
            user = DoubleUser(client_user_id, status, managed_apple_id, None,
                              id_hash=self._id_hash(managed_apple_id or client_user_id)
                              if status == "Associated" else None)
            self.users.append(user)
            return user

    def assign(self, adam_id: str, client_user_id: str) -> None:
        with self._lock:
            self.assignments.append((adam_id, client_user_id, None))

    def fail_next(self, status: int, count: int = 1, *, error_number: int | None = None,
                  retry_after: str | None = None) -> None:
        """Answer the next `count` requests (to any endpoint) with this failure."""
        with self._lock:
            self._script.extend([Failure(status, error_number, retry_after)] * count)

    def outage(self, status: int = 503, *, requests: int | None = None,
               retry_after: str | None = "1") -> None:
        """Fail every request (or the next `requests`) with `status` until `recover()`."""
        with self._lock:
            self._outage = Failure(status, 9603 if status >= 500 else None, retry_after)
            self._outage_left = requests

    def recover(self) -> None:
        with self._lock:
            self._outage = None
            self._outage_left = None
            self._script.clear()

    def revoke_token(self, token: str | None = None) -> None:
        """Apple revoked the token (a newer one was downloaded): 401 with 9625 from now on."""
        with self._lock:
            self.revoked_tokens.add(token or self.token_file_text)

    def fail_next_event(self, error_number: int = 9609, message: str | None = None) -> None:
        """The next event submitted ends FAILED with this error (for all the users it names)."""
        with self._lock:
            self._event_failures.append((error_number, message or ERROR_MESSAGES.get(error_number, "Error")))

    def received(self, path: str | None = None, method: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.requests
                    if (path is None or r.path == path) and (method is None or r.method == method)]

    def user(self, client_user_id: str) -> DoubleUser | None:
        with self._lock:
            active = [u for u in self.users if u.client_user_id == client_user_id and u.status != "Retired"]
            return active[0] if active else None

    def assigned_users(self, adam_id: str) -> list[str]:
        with self._lock:
            return [c for a, c, _ in self.assignments if a == adam_id and c is not None]

    @property
    def invitations_requested(self) -> list[Received]:
        """Every request that could have led to an invitation: an email given to users/create or
        users/update, or a visit to the invitation URL."""
        with self._lock:
            return [r for r in self.requests if r.path == "/invite" or self._gives_email(r)]

    @staticmethod
    def _gives_email(r: Received) -> bool:
        if r.path not in ("/mdm/v2/users/create", "/mdm/v2/users/update") or not isinstance(r.body, dict):
            return False
        return any(isinstance(u, dict) and "email" in u for u in r.body.get("users") or [])

    # Lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        app = Starlette(routes=[
            Route("/mdm/v2/service/config", self._service_config, methods=["GET"]),
            Route("/mdm/v2/client/config", self._client_config, methods=["GET"]),
            Route("/mdm/v2/users/create", self._users_create, methods=["POST"]),
            Route("/mdm/v2/users", self._users, methods=["GET"]),
            Route("/mdm/v2/assets", self._assets, methods=["GET"]),
            Route("/mdm/v2/assignments", self._assignments, methods=["GET"]),
            Route("/mdm/v2/assets/associate", self._associate, methods=["POST"]),
            Route("/mdm/v2/assets/disassociate", self._disassociate, methods=["POST"]),
            Route("/mdm/v2/status", self._status, methods=["GET"]),
            Route("/invite", self._invite, methods=["GET"]),
        ])
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                     log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="vpp-double")
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Apps and Books test double did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    # The protocol -------------------------------------------------------------------------------

    @staticmethod
    def _id_hash(value: str) -> str:
        return base64.b64encode(hashlib.sha256(value.encode()).digest()).decode()[:28]

    def _error(self, status: int, number: int | None, retry_after: str | None = None) -> Response:
        headers = {"Retry-After": retry_after} if retry_after else None
        if number is None:
            return Response(status_code=status, headers=headers)
        return JSONResponse({"errorNumber": number, "errorMessage": ERROR_MESSAGES.get(number, "Error.")},
                            status_code=status, headers=headers)

    async def _handle(self, request: Request, authenticated: bool, work: Any) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self._lock:
            response = self._scripted()
            if response is None and authenticated:
                response = self._check_token(request)
            if response is None:
                response = work(request, body)
            self.requests.append(Received(
                method=request.method, path=request.url.path, query=dict(request.query_params),
                headers={k.lower(): v for k, v in request.headers.items()}, body=body,
                status=response.status_code,
            ))
        return response

    def _scripted(self) -> Response | None:
        if self._outage is not None:
            failure = self._outage
            if self._outage_left is not None:
                self._outage_left -= 1
                if self._outage_left <= 0:
                    self._outage = None
                    self._outage_left = None
            return self._error(failure.status, failure.error_number, failure.retry_after)
        if self._script:
            failure = self._script.popleft()
            return self._error(failure.status, failure.error_number, failure.retry_after)
        return None

    def _check_token(self, request: Request) -> Response | None:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return self._error(401, 9722)
        token = auth[len("Bearer "):]
        if token in self.revoked_tokens:
            return self._error(401, 9625)
        if token not in self.valid_tokens:
            return self._error(401, 9601)
        if self.expires <= datetime.now(UTC):
            return self._error(401, 9621)
        return None

    def _envelope(self, **extra: Any) -> dict[str, Any]:
        return {"tokenExpirationDate": _apple_date(self.expires), "uId": "2049025000431439", **extra}

    def _page(self, key: str, records: list[dict[str, Any]], request: Request) -> Response:
        try:
            index = int(request.query_params.get("pageIndex", "0"))
        except ValueError:
            index = -1
        pages = max(1, -(-len(records) // self.page_size))
        if index < 0 or index >= pages:
            return self._error(400, 9650)
        chunk = records[index * self.page_size:(index + 1) * self.page_size]
        data = self._envelope(**{key: chunk}, currentPageIndex=index, size=len(chunk), totalPages=pages,
                              versionId=f"version-{self.version}")
        if index + 1 < pages:
            data["nextPageIndex"] = index + 1
        return JSONResponse(data)

    def _new_event(self, event_type: str, requested: int, apply: Any,
                   client_user_ids: list[str]) -> Response:
        event = DoubleEvent(str(uuid.uuid4()), event_type, requested, self.event_polls, apply,
                            self._event_failures.popleft() if self._event_failures else None,
                            tuple(client_user_ids))
        self.events[event.event_id] = event
        if event.polls_left <= 0:
            self._complete(event)
        return JSONResponse(self._envelope(eventId=event.event_id))

    def _complete(self, event: DoubleEvent) -> None:
        if event.forced_failure is not None:
            number, message = event.forced_failure
            event.failures = [{"errorNumber": number, "errorMessage": message,
                               "errorInfo": {"clientUserIds": list(event.client_user_ids)}}]
        else:
            event.failures = event.apply()
            self.version += 1
        event.state = "FAILED" if event.failures else "COMPLETE"

    async def _service_config(self, request: Request) -> Response:
        def work(_: Request, __: Any) -> Response:
            return JSONResponse({
                "errorCodes": [{"errorNumber": n, "errorMessage": m}
                               for n, m in sorted(ERROR_MESSAGES.items())],
                "limits": self.limits,
                "notificationTypes": ["ASSET_MANAGEMENT", "USER_MANAGEMENT", "USER_ASSOCIATED",
                                      "ASSET_COUNT"],
                "urls": {"invitationEmail": self.invitation_url, "getAssets": f"{self.url}/assets"},
            })
        return await self._handle(request, False, work)

    async def _client_config(self, request: Request) -> Response:
        def work(_: Request, __: Any) -> Response:
            return JSONResponse(self._envelope(locationName=self.location_name, countryISO2ACode="US",
                                               defaultPlatform="volumestore"))
        return await self._handle(request, True, work)

    async def _invite(self, request: Request) -> Response:
        return await self._handle(request, False, lambda _r, _b: Response("invited", status_code=200))

    async def _users_create(self, request: Request) -> Response:
        def work(_: Request, body: Any) -> Response:
            users = body.get("users") if isinstance(body, dict) else None
            if not isinstance(users, list) or not users:
                return self._error(400, 9720)
            if len(users) > self.limits["maxUsers"]:
                return self._error(400, 9714)
            ids = [u.get("clientUserId") for u in users if isinstance(u, dict)]
            if len(ids) != len(users) or not all(isinstance(i, str) and i for i in ids):
                return self._error(400, 9602)
            if len(set(ids)) != len(ids):
                return self._error(400, 9715)

            def apply() -> list[dict[str, Any]]:
                taken = []
                for u in users:
                    if self.user(u["clientUserId"]) is not None:
                        taken.append(u["clientUserId"])
                        continue
                    managed = u.get("managedAppleId")
                    domain = managed.rsplit("@", 1)[-1].lower() if isinstance(managed, str) else ""
                    if managed and domain in self.org_domains:
                        self.users.append(DoubleUser(u["clientUserId"], "Associated", managed, u.get("email"),
                                                     id_hash=self._id_hash(managed)))
                    else:
                        self.users.append(DoubleUser(u["clientUserId"], "Registered", managed, u.get("email"),
                                                     invite_code=uuid.uuid4().hex))
                if taken:
                    return [{"errorNumber": 9716, "errorMessage": ERROR_MESSAGES[9716],
                             "errorInfo": {"clientUserIds": taken}}]
                return []
            return self._new_event("CREATE", len(users), apply, [str(i) for i in ids])
        return await self._handle(request, True, work)

    async def _users(self, request: Request) -> Response:
        def work(req: Request, _: Any) -> Response:
            q = req.query_params
            users = self.users
            if q.get("clientUserId"):
                users = [u for u in users if u.client_user_id == q["clientUserId"]]
            if q.get("activeOnly") == "true":
                users = [u for u in users if u.status in ("Registered", "Associated")]
            if q.get("retiredOnly") == "true":
                users = [u for u in users if u.status == "Retired"]
            return self._page("users", [u.as_json() for u in users], req)
        return await self._handle(request, True, work)

    def _assigned_count(self, adam_id: str) -> int:
        return sum(1 for a, _, _ in self.assignments if a == adam_id)

    async def _assets(self, request: Request) -> Response:
        def work(req: Request, _: Any) -> Response:
            q = req.query_params
            records = []
            for a in self.assets.values():
                if q.get("adamId") and a.adam_id != q["adamId"]:
                    continue
                if q.get("productType") and a.product_type != q["productType"]:
                    continue
                if q.get("pricingParam") and a.pricing_param != q["pricingParam"]:
                    continue
                if q.get("deviceAssignable") and str(a.device_assignable).lower() != q["deviceAssignable"]:
                    continue
                assigned = self._assigned_count(a.adam_id)
                records.append({
                    "adamId": a.adam_id, "assignedCount": assigned, "availableCount": a.total - assigned,
                    "deviceAssignable": a.device_assignable, "pricingParam": a.pricing_param,
                    "productType": a.product_type, "retiredCount": 0, "revocable": a.revocable,
                    "supportedPlatforms": ["iOS", "macOS"], "totalCount": a.total,
                })
            return self._page("assets", records, req)
        return await self._handle(request, True, work)

    async def _assignments(self, request: Request) -> Response:
        def work(req: Request, _: Any) -> Response:
            q = req.query_params
            records = []
            for adam_id, client_user_id, serial in self.assignments:
                if q.get("adamId") and adam_id != q["adamId"]:
                    continue
                if q.get("clientUserId") and client_user_id != q["clientUserId"]:
                    continue
                if q.get("serialNumber") and serial != q["serialNumber"]:
                    continue
                record = {"adamId": adam_id, "pricingParam": self.assets[adam_id].pricing_param
                          if adam_id in self.assets else "STDQ"}
                if client_user_id:
                    record["clientUserId"] = client_user_id
                if serial:
                    record["serialNumber"] = serial
                records.append(record)
            return self._page("assignments", records, req)
        return await self._handle(request, True, work)

    def _manage_check(self, body: Any) -> tuple[Response | None, list[str], list[str], list[str]]:
        if not isinstance(body, dict):
            return self._error(400, 9718), [], [], []
        assets = [a.get("adamId") for a in body.get("assets") or [] if isinstance(a, dict)]
        users = [str(u) for u in body.get("clientUserIds") or []]
        serials = [str(s) for s in body.get("serialNumbers") or []]
        if not assets:
            return self._error(400, 9718), [], [], []
        if not users and not serials:
            return self._error(400, 9719), [], [], []
        if len(assets) > self.limits["maxAssets"]:
            return self._error(400, 9700), [], [], []
        if len(users) > self.limits["maxClientUserIds"]:
            return self._error(400, 9701), [], [], []
        if len(serials) > self.limits["maxSerialNumbers"]:
            return self._error(400, 9702), [], [], []
        if len(set(assets)) != len(assets):
            return self._error(400, 9703), [], [], []
        if len(set(users)) != len(users):
            return self._error(400, 9704), [], [], []
        if serials and any(a in self.assets and not self.assets[a].device_assignable for a in assets):
            return self._error(400, 9707), [], [], []
        return None, [str(a) for a in assets], users, serials

    async def _associate(self, request: Request) -> Response:
        def work(_: Request, body: Any) -> Response:
            refusal, assets, users, serials = self._manage_check(body)
            if refusal is not None:
                return refusal

            def apply() -> list[dict[str, Any]]:
                failures = []
                unknown = [u for u in users if self.user(u) is None]
                if unknown:
                    failures.append({"errorNumber": 9609, "errorMessage": ERROR_MESSAGES[9609],
                                     "errorInfo": {"clientUserIds": unknown}})
                short = []
                for adam_id in assets:
                    asset = self.assets.get(adam_id)
                    for who, serial in [(u, None) for u in users if u not in unknown] + \
                            [(None, s) for s in serials]:
                        if (adam_id, who, serial) in self.assignments:
                            continue  # assigning twice is a no-op
                        if asset is None or self._assigned_count(adam_id) >= asset.total:
                            short.append(adam_id)
                            continue
                        self.assignments.append((adam_id, who, serial))
                if short:
                    failures.append({"errorNumber": 9709, "errorMessage": ERROR_MESSAGES[9709],
                                     "errorInfo": {"assets": [{"adamId": a} for a in dict.fromkeys(short)]}})
                return failures
            return self._new_event("ASSOCIATE", len(assets) * (len(users) + len(serials)), apply, users)
        return await self._handle(request, True, work)

    async def _disassociate(self, request: Request) -> Response:
        def work(_: Request, body: Any) -> Response:
            refusal, assets, users, serials = self._manage_check(body)
            if refusal is not None:
                return refusal

            def apply() -> list[dict[str, Any]]:
                self.assignments = [
                    (a, c, s) for a, c, s in self.assignments
                    if not (a in assets
                            and ((c is not None and c in users) or (s is not None and s in serials)))
                ]
                return []
            return self._new_event("DISASSOCIATE", len(assets) * (len(users) + len(serials)), apply,
                                   users)
        return await self._handle(request, True, work)

    async def _status(self, request: Request) -> Response:
        def work(req: Request, _: Any) -> Response:
            event = self.events.get(req.query_params.get("eventId", ""))
            if event is None:
                return self._error(400, 9708)
            if event.state == "PENDING":
                event.polls_left -= 1
                if event.polls_left <= 0:
                    self._complete(event)
            data = self._envelope(eventStatus=event.state, eventType=event.event_type,
                                  numRequested=event.num_requested,
                                  numCompleted=event.num_requested if event.state == "COMPLETE" else 0)
            if event.failures and event.state != "PENDING":
                data["failures"] = event.failures
            return JSONResponse(data)
        return await self._handle(request, True, work)


@pytest.fixture
def vpp_server() -> Iterator[VppDouble]:
    """A running local Apps and Books service (see VppDouble): url, token_file_text, requests,
    add_asset/add_user/assign, fail_next/outage/recover/revoke_token/fail_next_event, event_polls,
    limits, page_size, invitations_requested."""
    double = VppDouble()
    double.start()
    try:
        yield double
    finally:
        double.stop()
