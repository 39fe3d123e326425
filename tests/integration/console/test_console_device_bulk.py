"""The device list's search, selection and bulk actions over HTTP: Query and Sync at once,
Enterprise Wipe and Delete record only after a confirmation page; every action scoped to the
admin's OG, refused for read-only admins and past the selection cap."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.services.devices.bulk import MAX_SELECTION
from quince.store.models import CommandRow, DeviceRow
from tests.integration.api.support import snapshot
from tests.integration.console.support import Fleet, csrf_token, sign_in


def _listed(page: str) -> set[int]:
    return {int(n) for n in re.findall(r'name="device" value="(\d+)" form="bulk"', page)}


async def _commands(session: AsyncSession, device_id: int) -> list[CommandRow]:
    session.expire_all()
    return list(await session.scalars(select(CommandRow).where(CommandRow.device_id == device_id)
                                       .order_by(CommandRow.id)))


async def _bulk(client: httpx.AsyncClient, fleet: Fleet, action: str, devices: list[int],
                **extra: str) -> httpx.Response:
    token = csrf_token((await client.get(f"/console/devices?og={fleet.acme}")).text)
    return await client.post(f"/console/devices/bulk?og={fleet.acme}", data={
        "csrf_token": token, "action": action, "device": [str(d) for d in devices], **extra})


async def test_the_search_matches_device_name_username_email_and_enrollment_id_in_any_case(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    iphone = await session.get(DeviceRow, fleet.alice_iphone)
    assert iphone is not None
    iphone.device_name = "Alice's Work 100% Phone"
    await session.commit()
    await sign_in(client, "acme-admin")
    base = f"/console/devices?og={fleet.acme}&q="
    cases = {
        "work 100%": {fleet.alice_iphone},                              # device name, % taken literally
        "ALIC": {fleet.alice_iphone, fleet.alice_abandoned},            # username
        "bob@ACME.example": {fleet.bob_placeholder},                    # email
        "5e1c3f2a-7b1d": {fleet.alice_iphone},                          # Enrollment ID, lower case
        "001a2b3c": {fleet.corporate_ipad},                             # a UDID
        "erin": set(),                                                  # outside the admin's OGs
        "%": {fleet.alice_iphone},                                      # only the name holds a %
        "_": set(),
    }
    for text, expected in cases.items():
        page = await client.get(base + httpx.QueryParams({"q": text})["q"].replace("%", "%25"))
        assert page.status_code == 200, text
        assert _listed(page.text) == expected, text


async def test_the_list_shows_model_names_os_versions_wipe_pending_status_and_page_sizes(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/devices?og={fleet.acme}&size=25")).text
    assert "iPhone 15 Pro Max" in page and "iPhone16,2" in page and "18.1" in page
    assert '<option value="EnterpriseWipePending"' in page
    assert '<option value="25" selected>' in page
    sort_link = re.search(r'href="(/console/devices\?[^"]*sort=udid[^"]*)"', page)
    assert sort_link is not None and "size=25" in sort_link.group(1)
    pending = await client.get(f"/console/devices?og={fleet.acme}&status=EnterpriseWipePending")
    assert pending.status_code == 200 and "0 devices" in pending.text


async def test_bulk_query_queues_device_information_for_each_enrolled_device_and_names_the_others(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    answer = await _bulk(client, fleet, "query", [fleet.alice_iphone, fleet.corporate_ipad,
                                                  fleet.bob_placeholder, fleet.erin_iphone],
                         back="q=a&size=25")
    assert answer.status_code == 303
    target = answer.headers["location"]
    query = parse_qs(urlsplit(target).query)
    assert query["done"] == ["query"] and query["count"] == ["2"] and query["q"] == ["a"]
    for device in (fleet.alice_iphone, fleet.corporate_ipad):
        [queued] = await _commands(session, device)
        assert queued.request_type == "DeviceInformation" and queued.queued_by == "console:acme-admin"
    assert await _commands(session, fleet.bob_placeholder) == []
    assert await _commands(session, fleet.erin_iphone) == []  # another customer's device
    notice = (await client.get(target)).text
    assert "Query queued for 2 devices. Not done for 2:" in notice
    assert f"#{fleet.bob_placeholder} bob" in notice and "not enrolled" in notice
    assert f"<li>#{fleet.erin_iphone}: not found</li>" in notice


async def test_bulk_sync_queues_what_workspace_one_sync_means(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    assert (await _bulk(client, fleet, "sync", [fleet.alice_iphone])).status_code == 303
    assert [c.request_type for c in await _commands(session, fleet.alice_iphone)] == [
        "DeviceInformation", "InstalledApplicationList", "ManagedApplicationList"]


async def test_a_bulk_wipe_lists_each_device_with_its_user_and_does_nothing_until_confirmed(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession, engine: AsyncEngine
) -> None:
    await sign_in(client, "acme-admin")
    before = await snapshot(engine)
    page = await _bulk(client, fleet, "wipe", [fleet.alice_iphone, fleet.bob_placeholder, fleet.erin_iphone])
    assert page.status_code == 200
    assert "Enterprise Wipe: check before going on" in page.text
    assert "alice" in page.text and "5E1C3F2A-7B1D-4C55-9F0E-0A1B2C3D4E5F" in page.text
    assert "Not done: not enrolled" in page.text and "1 selected device is not in Acme" in page.text
    assert "Enterprise Wipe 1 device</button>" in page.text
    assert await snapshot(engine) == before
    done = await _bulk(client, fleet, "wipe", [fleet.alice_iphone, fleet.bob_placeholder, fleet.erin_iphone],
                       confirmed="yes")
    assert done.status_code == 303 and "count=1" in done.headers["location"]
    session.expire_all()
    assert (await session.get(DeviceRow, fleet.alice_iphone)).enrollment_status == "EnterpriseWipePending"  # type: ignore[union-attr]
    assert (await session.get(DeviceRow, fleet.erin_iphone)).enrollment_status == "Enrolled"  # type: ignore[union-attr]
    [removal] = await _commands(session, fleet.alice_iphone)
    assert removal.request_type == "RemoveProfile" and removal.queued_by == "console:acme-admin"


async def test_a_bulk_delete_removes_unmanaged_records_and_says_a_managed_one_needs_a_wipe_first(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession, engine: AsyncEngine
) -> None:
    await sign_in(client, "acme-admin")
    before = await snapshot(engine)
    selection = [fleet.bob_placeholder, fleet.alice_iphone]
    page = await _bulk(client, fleet, "delete", selection)
    assert page.status_code == 200 and "Not done: still managed: wipe first" in page.text
    assert await snapshot(engine) == before
    done = await _bulk(client, fleet, "delete", selection, confirmed="yes")
    notice = (await client.get(done.headers["location"])).text
    assert "Deleted the records of 1 device. Not done for 1:" in notice
    assert "still managed: wipe first" in notice
    session.expire_all()
    remaining = set(await session.scalars(select(DeviceRow.id)))
    assert fleet.bob_placeholder not in remaining and fleet.alice_iphone in remaining


async def test_a_selection_past_the_cap_or_empty_is_refused_and_nothing_is_queued(
    client: httpx.AsyncClient, fleet: Fleet, engine: AsyncEngine
) -> None:
    await sign_in(client, "acme-admin")
    before = await snapshot(engine)
    over = await _bulk(client, fleet, "query", [fleet.alice_iphone] * (MAX_SELECTION + 1))
    assert over.status_code == 400 and f"at most {MAX_SELECTION} devices" in over.text
    assert (await _bulk(client, fleet, "query", [])).status_code == 400
    assert (await _bulk(client, fleet, "erase", [fleet.alice_iphone])).status_code == 400
    assert await snapshot(engine) == before


async def test_a_read_only_admin_sees_no_selection_and_is_refused_a_bulk_action(
    client: httpx.AsyncClient, fleet: Fleet, engine: AsyncEngine
) -> None:
    await sign_in(client, "acme-reader")
    page = (await client.get(f"/console/devices?og={fleet.acme}")).text
    assert 'id="bulk"' not in page and 'name="device"' not in page and "Export CSV" in page
    before = await snapshot(engine)
    for action in ("query", "wipe", "delete"):
        answer = await _bulk(client, fleet, action, [fleet.alice_iphone], confirmed="yes")
        assert answer.status_code == 403, action
    assert await snapshot(engine) == before


async def test_a_bulk_action_without_its_csrf_token_is_refused(
    client: httpx.AsyncClient, fleet: Fleet, engine: AsyncEngine
) -> None:
    await sign_in(client, "acme-admin")
    before = await snapshot(engine)
    answer = await client.post(f"/console/devices/bulk?og={fleet.acme}",
                               data={"action": "query", "device": str(fleet.alice_iphone)})
    assert answer.status_code == 403 and "This page has expired" in answer.text
    assert await snapshot(engine) == before


async def test_a_bulk_action_in_a_child_og_leaves_devices_of_its_siblings_alone(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    token = csrf_token((await client.get(f"/console/devices?og={fleet.sales}")).text)
    answer = await client.post(f"/console/devices/bulk?og={fleet.sales}", data={
        "csrf_token": token, "action": "query",
        "device": [str(fleet.corporate_ipad), str(fleet.alice_iphone)]})
    assert parse_qs(urlsplit(answer.headers["location"]).query)["count"] == ["1"]
    assert await _commands(session, fleet.corporate_ipad) == []  # Field is not below Sales
