"""The production Apps and Books client against the local service, over real HTTP."""

from __future__ import annotations

import logging

import pytest

from quince.apple.vpp.errors import VppError, error_text
from quince.apple.vpp.records import EventState, NewVppUser, VppUserStatus
from quince.clients.vpp import VppClient
from tests.support_vpp import VppDouble


async def test_every_call_carries_the_token_as_bearer(client: VppClient, vpp_server: VppDouble) -> None:
    await client.get_assets()
    received = vpp_server.received("/mdm/v2/assets")
    assert received and received[0].token == vpp_server.token_file_text


async def test_service_config_reads_the_limits_and_is_cached(
    client: VppClient, vpp_server: VppDouble
) -> None:
    vpp_server.limits["maxUsers"] = 7
    config = await client.service_config()
    assert config.limits.max_users == 7
    assert config.limits.max_assets == 25
    assert config.error_codes[9609]
    await client.service_config()
    assert len(vpp_server.received("/mdm/v2/service/config")) == 1  # re-read every 5 minutes only
    # Apple needs no token for it; Quince sends none.
    assert vpp_server.received("/mdm/v2/service/config")[0].token is None


async def test_client_config_names_the_location(client: VppClient, vpp_server: VppDouble) -> None:
    config = await client.client_config()
    assert config.location_name == vpp_server.location_name
    assert config.token_expires_at == vpp_server.expires


async def test_a_managed_apple_id_of_the_organization_is_associated_at_once_without_invitation(
    client: VppClient, vpp_server: VppDouble
) -> None:
    [event] = await client.create_users([NewVppUser("cu-1", "alice@example.com")])
    status = await client.event_status(event)
    assert status.state is EventState.COMPLETE and status.done
    [user] = await client.get_users(["cu-1"])
    assert user.status is VppUserStatus.ASSOCIATED and user.active
    assert user.id_hash
    [create] = vpp_server.received("/mdm/v2/users/create")
    assert create.body == {"users": [{"clientUserId": "cu-1", "managedAppleId": "alice@example.com"}]}
    assert vpp_server.invitations_requested == []


async def test_a_foreign_managed_apple_id_stays_registered(client: VppClient, vpp_server: VppDouble) -> None:
    await client.create_users([NewVppUser("cu-2", "bob@elsewhere.org")])
    [user] = await client.get_users(["cu-2"])
    assert user.status is VppUserStatus.REGISTERED
    assert user.id_hash is None
    assert vpp_server.invitations_requested == []


async def test_users_are_created_in_batches_of_max_users(client: VppClient, vpp_server: VppDouble) -> None:
    vpp_server.limits["maxUsers"] = 2
    users = [NewVppUser(f"cu-{i}", f"user{i}@example.com") for i in range(5)]
    events = await client.create_users(users + users[:1])  # a duplicate is sent once
    assert len(events) == 3
    sizes = [len(r.body["users"]) for r in vpp_server.received("/mdm/v2/users/create")]
    assert sizes == [2, 2, 1]
    assert len(await client.get_users()) == 5


async def test_get_users_follows_pages(client: VppClient, vpp_server: VppDouble) -> None:
    vpp_server.page_size = 2
    for i in range(5):
        vpp_server.add_user(f"u{i}", f"u{i}@example.com")
    users = await client.get_users()
    assert sorted(u.client_user_id for u in users) == [f"u{i}" for i in range(5)]
    assert [r.query.get("pageIndex") for r in vpp_server.received("/mdm/v2/users")] == [None, "1", "2"]


async def test_retired_users_are_left_out_unless_asked(client: VppClient, vpp_server: VppDouble) -> None:
    vpp_server.add_user("gone", status="Retired")
    assert await client.get_users(["gone"]) == []
    [retired] = await client.get_users(["gone"], active_only=False)
    assert retired.status is VppUserStatus.RETIRED and not retired.active


async def test_associate_assigns_user_based_licences(client: VppClient, vpp_server: VppDouble) -> None:
    vpp_server.add_asset("408709785", total=3)
    vpp_server.add_user("cu-1", "alice@example.com")
    [event] = await client.associate_assets(["408709785"], ["cu-1"])
    assert (await client.event_status(event)).state is EventState.COMPLETE
    assert vpp_server.assigned_users("408709785") == ["cu-1"]
    [request] = vpp_server.received("/mdm/v2/assets/associate")
    assert request.body == {"assets": [{"adamId": "408709785", "pricingParam": "STDQ"}],
                            "clientUserIds": ["cu-1"]}
    assert "serialNumbers" not in request.body
    [assignment] = await client.get_assignments(client_user_id="cu-1")
    assert (assignment.adam_id, assignment.client_user_id) == ("408709785", "cu-1")
    assert assignment.serial_number is None

    [event] = await client.disassociate_assets(["408709785"], ["cu-1"])
    assert (await client.event_status(event)).state is EventState.COMPLETE
    assert vpp_server.assigned_users("408709785") == []


async def test_associate_batches_at_the_asset_and_user_limits(
    client: VppClient, vpp_server: VppDouble
) -> None:
    vpp_server.limits.update(maxAssets=2, maxClientUserIds=3)
    adam_ids = [str(1000 + i) for i in range(3)]
    users = [f"cu-{i}" for i in range(4)]
    for adam_id in adam_ids:
        vpp_server.add_asset(adam_id, total=10)
    for user in users:
        vpp_server.add_user(user)
    events = await client.associate_assets(adam_ids, users)
    assert len(events) == 4  # 2 asset batches x 2 user batches
    shapes = [(len(r.body["assets"]), len(r.body["clientUserIds"]))
              for r in vpp_server.received("/mdm/v2/assets/associate")]
    assert shapes == [(2, 3), (2, 1), (1, 3), (1, 1)]
    assert all(r.status == 200 for r in vpp_server.received("/mdm/v2/assets/associate"))
    assert sorted(vpp_server.assigned_users("1002")) == users


async def test_an_event_stays_pending_then_fails_with_9609_for_an_unknown_user(
    client: VppClient, vpp_server: VppDouble
) -> None:
    vpp_server.add_asset("408709785")
    vpp_server.event_polls = 2
    [event] = await client.associate_assets(["408709785"], ["nobody"])
    first = await client.event_status(event)
    assert first.state is EventState.PENDING and not first.done
    second = await client.event_status(event)
    assert second.state is EventState.FAILED
    [failure] = second.failures_for_user("nobody")
    assert failure.code == 9609
    assert failure.client_user_ids == ("nobody",)
    assert "registered VPP user" in failure.text


async def test_a_scripted_event_failure_reaches_the_event(client: VppClient, vpp_server: VppDouble) -> None:
    vpp_server.fail_next_event(9632)
    vpp_server.add_asset("1")
    vpp_server.add_user("cu-1")
    [event] = await client.associate_assets(["1"], ["cu-1"])
    status = await client.event_status(event)
    assert status.state is EventState.FAILED
    assert status.failures[0].code == 9632
    assert "several minutes" in status.failures[0].text


async def test_get_assets_reads_counts_across_pages(client: VppClient, vpp_server: VppDouble) -> None:
    vpp_server.page_size = 1
    vpp_server.add_asset("111", total=5, device_assignable=True)
    vpp_server.add_asset("222", total=2)
    vpp_server.add_user("cu-1")
    vpp_server.assign("222", "cu-1")
    assets = {a.adam_id: a for a in await client.get_assets()}
    assert set(assets) == {"111", "222"}
    assert assets["111"].device_assignable and assets["111"].total_count == 5
    assert (assets["222"].assigned_count, assets["222"].available_count) == (1, 1)
    assert assets["222"].pricing_param == "STDQ"
    only = await client.get_assets(device_assignable=True)
    assert [a.adam_id for a in only] == ["111"]


async def test_429_is_retryable_with_retry_after(client: VppClient, vpp_server: VppDouble) -> None:
    vpp_server.fail_next(429, error_number=9646, retry_after="120")
    with pytest.raises(VppError) as caught:
        await client.get_assets()
    error = caught.value
    assert (error.status, error.code, error.retryable, error.retry_after) == (429, 9646, True, 120.0)
    assert "back off" in error.message
    await client.get_assets()  # and then it works


@pytest.mark.parametrize("status", [500, 503])
async def test_5xx_is_retryable(client: VppClient, vpp_server: VppDouble, status: int) -> None:
    vpp_server.outage(status, requests=2, retry_after="30")
    for _ in range(2):
        with pytest.raises(VppError) as caught:
            await client.get_assignments()
        assert caught.value.retryable and caught.value.retry_after == 30.0
    await client.get_assignments()


async def test_an_outage_lasts_until_recovery(client: VppClient, vpp_server: VppDouble) -> None:
    vpp_server.outage(503, retry_after=None)
    for _ in range(3):
        with pytest.raises(VppError) as caught:
            await client.get_users()
        assert caught.value.retryable and caught.value.retry_after is None
    vpp_server.recover()
    assert await client.get_users() == []


async def test_a_revoked_token_is_not_retryable_and_says_what_to_do(
    client: VppClient, vpp_server: VppDouble
) -> None:
    vpp_server.revoke_token()
    with pytest.raises(VppError) as caught:
        await client.get_assets()
    error = caught.value
    assert (error.status, error.code, error.retryable) == (401, 9625, False)
    assert error.token_problem
    assert "quince vpp set-token" in error.message


async def test_an_unknown_token_is_refused(vpp_server: VppDouble) -> None:
    async with VppClient("bm90IGEgdG9rZW4=", base_url=vpp_server.url) as other:
        with pytest.raises(VppError) as caught:
            await other.get_assets()
    assert caught.value.token_problem and not caught.value.retryable


async def test_an_unreachable_service_is_retryable() -> None:
    async with VppClient("dG9rZW4=", base_url="http://127.0.0.1:9/mdm/v2") as nowhere:
        with pytest.raises(VppError) as caught:
            await nowhere.get_assets()
    assert caught.value.retryable and caught.value.status is None


async def test_an_unknown_event_is_9708(client: VppClient) -> None:
    with pytest.raises(VppError) as caught:
        await client.event_status("no-such-event")
    assert caught.value.code == 9708 and not caught.value.retryable


@pytest.mark.parametrize(("code", "words"), [
    (9609, "registered VPP user"),
    (9610, "licence"),
    (9625, "revoked"),
    (9632, "identical"),
    (9635, "another organization"),
    (9621, "expired"),
])
def test_apple_error_codes_read_as_text(code: int, words: str) -> None:
    assert words in error_text(code)


def test_an_unknown_code_keeps_apples_message() -> None:
    assert error_text(9999, "Something new.") == "Something new. (Apple error 9999)"


async def test_the_token_never_reaches_the_log(
    client: VppClient, vpp_server: VppDouble, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    vpp_server.fail_next(500)
    with pytest.raises(VppError):
        await client.get_assets()
    await client.get_assets()
    await client.create_users([NewVppUser("cu-1", "alice@example.com")])
    assert caplog.records
    assert vpp_server.token_file_text not in caplog.text
    assert client.token_hash in caplog.text
