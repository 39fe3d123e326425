"""The Apps and Books client on httpx.MockTransport: the requests each call makes (the token,
the bodies, batches at Apple's limits, pages) and what Apple's answers and errors become for
the caller. (tests/integration/vpp/test_vpp_client.py talks to the local Apps and Books service
over a real socket.) Only the client's public API is used: VppClient, VppError, NewVppUser."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from quince.clients.vpp import NewVppUser, VppClient, VppError

TOKEN = "eyJ0b2tlbiI6InN0b2tlbiJ9"  # an sToken is the base64 text of the downloaded file
URL = "https://vpp.itunes.apple.com/mdm/v2"
Handler = Callable[[httpx.Request], httpx.Response]


def config(max_assets: int = 25, max_users: int = 100, max_client_user_ids: int = 1000) -> dict[str, Any]:
    return {
        "limits": {"maxAssets": max_assets, "maxUsers": max_users,
                   "maxClientUserIds": max_client_user_ids, "maxSerialNumbers": 1000},
        "errorCodes": [{"errorNumber": 9609, "errorMessage": "Registered user not found"}],
        "urls": {"invitationEmail": "https://vpp.itunes.apple.com/invitation/%inviteCode%"},
    }


class AppsAndBooks:
    """A scripted Apps and Books service: `answers[path]` answers each request to that path (the
    last one again when several are queued and used up); every request is kept."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answers: dict[str, list[Handler]] = {"/service/config": [reply(config())]}
        self.events = 0

    def on(self, path: str, *handlers: Handler) -> None:
        self.answers[path] = list(handlers)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/mdm/v2")
        queued = self.answers.get(path)
        if queued:
            return (queued.pop(0) if len(queued) > 1 else queued[0])(request)
        if request.method == "POST":  # a write Apple accepted: an event to poll
            self.events += 1
            return httpx.Response(200, json={"eventId": f"event-{self.events}"})
        return httpx.Response(404, json={"errorNumber": 9604, "errorMessage": "No results found"})

    def sent(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == f"/mdm/v2{path}"]


def reply(data: object, status: int = 200, **headers: str) -> Handler:
    return lambda request: httpx.Response(status, json=data, headers=headers)


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


@pytest.fixture
def apple() -> AppsAndBooks:
    return AppsAndBooks()


@pytest.fixture
async def client(apple: AppsAndBooks) -> AsyncIterator[VppClient]:
    async with VppClient(f"  {TOKEN}\n", transport=httpx.MockTransport(apple.handle)) as c:
        yield c


async def test_every_call_carries_the_token_as_bearer_but_the_public_service_config(
    client: VppClient, apple: AppsAndBooks
) -> None:
    apple.on("/client/config", reply({"locationName": "Acme HQ", "countryISO2ACode": "FR", "uId": "42",
                                      "tokenExpirationDate": "2031-01-15T10:00:00-0700"}))
    location = await client.client_config()
    await client.service_config()

    config_request, location_request = apple.sent("/service/config")[0], apple.sent("/client/config")[0]
    assert str(location_request.url) == f"{URL}/client/config"
    assert location_request.headers["authorization"] == f"Bearer {TOKEN}"
    assert "authorization" not in config_request.headers
    for request in (config_request, location_request):
        assert request.headers["accept"] == "application/json"
        assert request.headers["user-agent"] == "Quince-MDM"
    assert (location.location_name, location.country, location.uid) == ("Acme HQ", "FR", "42")
    assert location.token_expires_at == datetime(2031, 1, 15, 17, 0, tzinfo=UTC)


async def test_users_are_created_with_their_managed_apple_account_in_batches_of_max_users(
    client: VppClient, apple: AppsAndBooks
) -> None:
    apple.on("/service/config", reply(config(max_users=2)))
    users = [NewVppUser(f"cu-{n}", f"user{n}@appleid.acme.example") for n in (1, 2, 3, 1, 4)]

    events = await client.create_users(users)

    sent = [body(r) for r in apple.sent("/users/create")]
    assert sent == [
        {"users": [{"clientUserId": "cu-1", "managedAppleId": "user1@appleid.acme.example"},
                   {"clientUserId": "cu-2", "managedAppleId": "user2@appleid.acme.example"}]},
        {"users": [{"clientUserId": "cu-3", "managedAppleId": "user3@appleid.acme.example"},
                   {"clientUserId": "cu-4", "managedAppleId": "user4@appleid.acme.example"}]},
    ]
    assert "email" not in json.dumps(sent)  # what Apple sends invitations to: never given
    assert events == ["event-1", "event-2"]


@pytest.mark.parametrize("path", ["/assets/associate", "/assets/disassociate"])
async def test_licences_go_to_client_user_ids_in_batches_at_the_asset_and_user_limits(
    client: VppClient, apple: AppsAndBooks, path: str
) -> None:
    apple.on("/service/config", reply(config(max_assets=2, max_client_user_ids=2)))
    manage = client.associate_assets if path == "/assets/associate" else client.disassociate_assets

    events = await manage(["111", "222", "111", "333"], ["cu-1", "cu-2", "cu-3", "cu-2"])

    def assets(*adam_ids: str) -> list[dict[str, str]]:
        return [{"adamId": a, "pricingParam": "STDQ"} for a in adam_ids]

    assert [body(r) for r in apple.sent(path)] == [
        {"assets": assets("111", "222"), "clientUserIds": ["cu-1", "cu-2"]},
        {"assets": assets("111", "222"), "clientUserIds": ["cu-3"]},
        {"assets": assets("333"), "clientUserIds": ["cu-1", "cu-2"]},
        {"assets": assets("333"), "clientUserIds": ["cu-3"]},
    ]
    assert len(events) == 4


async def test_nothing_to_assign_sends_nothing(client: VppClient, apple: AppsAndBooks) -> None:
    assert await client.associate_assets(["111"], []) == []
    assert await client.create_users([]) == []
    assert apple.requests == []


async def test_pages_are_followed_until_apple_stops_giving_a_later_page(
    client: VppClient, apple: AppsAndBooks
) -> None:
    def user(n: int) -> dict[str, str]:
        return {"clientUserId": f"cu-{n}", "status": "Associated", "idHash": f"h{n}"}

    apple.on("/users",
             reply({"users": [user(1), user(2)], "nextPageIndex": 1}),
             reply({"users": [user(3)], "nextPageIndex": 2}),
             reply({"users": [user(4)], "nextPageIndex": 2}))  # not a later page: the end

    found = await client.get_users()

    assert [u.client_user_id for u in found] == ["cu-1", "cu-2", "cu-3", "cu-4"]
    assert [dict(r.url.params) for r in apple.sent("/users")] == [
        {"activeOnly": "true"}, {"activeOnly": "true", "pageIndex": "1"},
        {"activeOnly": "true", "pageIndex": "2"},
    ]


async def test_an_events_failures_name_the_users_they_concern(client: VppClient, apple: AppsAndBooks) -> None:
    apple.on("/status", reply({
        "eventStatus": "FAILED", "eventType": "ASSOCIATE", "numCompleted": 1, "numRequested": 2,
        "failures": [{"errorNumber": 9609, "errorMessage": "Registered user not found",
                      "errorInfo": {"clientUserIds": ["cu-2"], "assets": [{"adamId": "111"}]}}],
    }))

    status = await client.event_status("event-7")

    assert dict(apple.sent("/status")[0].url.params) == {"eventId": "event-7"}
    assert status.done and status.state == "FAILED"
    assert (status.num_completed, status.num_requested) == (1, 2)
    assert status.failures_for_user("cu-1") == []
    [failure] = status.failures_for_user("cu-2")
    assert failure.code == 9609 and "registered VPP user" in failure.text


async def test_an_unknown_event_state_is_still_pending(client: VppClient, apple: AppsAndBooks) -> None:
    apple.on("/status", reply({"eventStatus": "SOMETHING_NEW"}))
    assert not (await client.event_status("event-1")).done


@pytest.mark.parametrize(("status", "apple_says", "headers", "code", "retryable", "wait", "words"), [
    (429, {}, {"retry-after": "30"}, None, True, (30, 30), "rate limiting"),
    (503, {}, {"retry-after": "in ten minutes"}, None, True, (590, 600), "unavailable (HTTP 503)"),
    (500, None, {}, None, True, None, "unavailable (HTTP 500)"),
    # Apple also answers 200 with an errorNumber; 9632 and 9644 have a wait of their own.
    (200, {"errorNumber": 9632, "errorMessage": "Too many"}, {}, 9632, True, (300, 300), "identical"),
    (503, {"errorNumber": 9644}, {}, 9644, True, (600, 600), "maintenance"),
    (400, {"errorNumber": 9602, "errorMessage": "Invalid argument"}, {}, 9602, False, None, "invalid"),
    (400, {"errorNumber": 9999, "errorMessage": "Something new."}, {}, 9999, False, None,
     "Something new. (Apple error 9999)"),
])
async def test_apples_errors_say_whether_and_when_to_retry(
    client: VppClient, apple: AppsAndBooks, status: int, apple_says: dict[str, object] | None,
    headers: dict[str, str], code: int | None, retryable: bool, wait: tuple[float, float] | None,
    words: str,
) -> None:
    if headers.get("retry-after") == "in ten minutes":  # as an HTTP date
        headers = {"retry-after": format_datetime(datetime.now(UTC) + timedelta(minutes=10), usegmt=True)}
    content = b"" if apple_says is None else json.dumps(apple_says).encode()
    apple.on("/assets", lambda request: httpx.Response(status, content=content, headers=headers))
    with pytest.raises(VppError) as caught:
        await client.get_assets()
    error = caught.value
    assert (error.status, error.code, error.retryable) == (status, code, retryable)
    assert not error.token_problem
    if wait is None:
        assert error.retry_after is None
    else:
        assert error.retry_after is not None and wait[0] <= error.retry_after <= wait[1]
    assert words in error.message


@pytest.mark.parametrize("answer", [
    reply({"errorNumber": 9625, "errorMessage": "Token revoked"}, 400),
    reply({"errorNumber": 9621}),
    reply({}, 401),
])
async def test_a_token_apple_no_longer_accepts_is_not_retried_and_says_what_to_do(
    client: VppClient, apple: AppsAndBooks, answer: Handler
) -> None:
    apple.on("/client/config", answer)
    with pytest.raises(VppError) as caught:
        await client.client_config()
    assert caught.value.token_problem and not caught.value.retryable


@pytest.mark.parametrize("content", [b"<html>Service Unavailable</html>", b"[]", b""])
async def test_a_success_quince_cannot_read_is_retryable(
    client: VppClient, apple: AppsAndBooks, content: bytes
) -> None:
    apple.on("/assets", lambda request: httpx.Response(200, content=content))
    with pytest.raises(VppError) as caught:
        await client.get_assets()
    assert (caught.value.status, caught.value.retryable) == (200, True)
    assert "cannot read" in caught.value.message


async def test_an_accepted_write_without_an_event_id_is_retryable(
    client: VppClient, apple: AppsAndBooks
) -> None:
    apple.on("/users/create", reply({"tokenExpirationDate": "2031-01-01T00:00:00+0000"}))
    with pytest.raises(VppError) as caught:
        await client.create_users([NewVppUser("cu-1", "user1@appleid.acme.example")])
    assert caught.value.retryable and "no event id" in caught.value.message


async def test_an_unreachable_service_is_retryable_and_has_no_status(
    client: VppClient, apple: AppsAndBooks
) -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Name or service not known")

    apple.on("/assets", unreachable)
    with pytest.raises(VppError) as caught:
        await client.get_assets()
    assert (caught.value.status, caught.value.code, caught.value.retryable) == (None, None, True)
    assert "could not be reached: ConnectError: Name or service not known" in caught.value.message


async def test_the_service_config_is_read_once_then_again_when_asked_or_stale(apple: AppsAndBooks) -> None:
    async with VppClient(TOKEN, transport=httpx.MockTransport(apple.handle)) as cached:
        await cached.create_users([NewVppUser("cu-1", "a@appleid.example")])
        await cached.associate_assets(["111"], ["cu-1"])
        assert len(apple.sent("/service/config")) == 1
        await cached.service_config(refresh=True)
        assert len(apple.sent("/service/config")) == 2
    async with VppClient(TOKEN, transport=httpx.MockTransport(apple.handle), config_ttl=0) as stale:
        await stale.service_config()
        await stale.service_config()
    assert len(apple.sent("/service/config")) == 4
