"""Console pages over HTTP: OG scoping, the device list, device detail, queueing commands."""

from __future__ import annotations

import html

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.store.models import CommandRow
from tests.integration.console.support import (
    ALICE_ENROLLMENT_ID,
    IPAD_UDID,
    TRACE,
    Fleet,
    add_device,
    csrf_token,
    sign_in,
)


async def _commands(session: AsyncSession) -> int:
    return (await session.scalar(select(func.count()).select_from(CommandRow))) or 0


async def test_the_og_selector_lists_only_the_admins_subtree(client: httpx.AsyncClient, fleet: Fleet) -> None:
    await sign_in(client, "acme-admin")
    home = await client.get(f"/console/?og={fleet.sales}")
    assert home.status_code == 200 and "<h1>Sales</h1>" in home.text
    assert "Sales EU (sales-eu)" in home.text and "Field (field)" in home.text
    assert "Beta (beta)" not in home.text


async def test_a_sibling_admin_gets_404_for_ogs_and_devices_outside_their_subtree(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "beta-admin")
    for path in (f"/console/?og={fleet.acme}", f"/console/devices?og={fleet.sales}",
                 f"/console/devices/{fleet.alice_iphone}", "/console/?og=nonsense",
                 "/console/devices/abc", f"/console/devices/{fleet.alice_iphone}?og={fleet.acme}"):
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert "Not found" in answer.text
    assert (await client.get(f"/console/devices/{fleet.erin_iphone}")).status_code == 200


async def test_a_device_outside_the_chosen_og_is_not_found_there(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    assert (await client.get(f"/console/devices/{fleet.corporate_ipad}?og={fleet.sales}")).status_code == 404
    assert (await client.get(f"/console/devices/{fleet.corporate_ipad}?og={fleet.field}")).status_code == 200


async def test_the_device_list_takes_the_og_with_its_children_and_filters(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    sales = (await client.get(f"/console/devices?og={fleet.sales}")).text
    assert "3 devices" in sales
    for device in (fleet.alice_iphone, fleet.alice_abandoned, fleet.bob_placeholder):
        assert f">#{device}</a>" in sales
    assert f">#{fleet.corporate_ipad}</a>" not in sales
    acme = f"/console/devices?og={fleet.acme}"
    assert "1 device<" in (await client.get(f"{acme}&ue=no")).text
    enrolled = (await client.get(f"{acme}&status=Enrolled&ownership=E")).text
    assert "1 device<" in enrolled and f">#{fleet.alice_iphone}</a>" in enrolled
    bob = (await client.get(f"{acme}&user=BOB")).text
    assert "1 device<" in bob and f">#{fleet.bob_placeholder}</a>" in bob
    found = (await client.get(f"{acme}&q={ALICE_ENROLLMENT_ID}")).text
    assert "1 device<" in found and f">#{fleet.alice_iphone}</a>" in found
    assert "1 device<" in (await client.get(f"{acme}&q={IPAD_UDID}")).text
    assert "0 devices" in (await client.get(f"/console/devices?og={fleet.sales}&q={IPAD_UDID}")).text
    bad = await client.get(f"{acme}&status=Bogus")
    assert bad.status_code == 400 and "enrollmentstatus must be one of" in bad.text


async def test_abandoned_placeholders_are_marked_and_link_to_their_replacement(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/devices?og={fleet.sales}")).text
    assert "Abandoned — replaced by" in page
    assert f'href="/console/devices/{fleet.alice_iphone}?og={fleet.sales}">#{fleet.alice_iphone}</a>' in page
    assert page.count("Abandoned — replaced by") == 1


async def test_the_device_list_is_sorted_and_paged_by_fifty(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    for n in range(52):
        await add_device(session, fleet.field, None, udid=f"PAGED-{n:03d}", is_user_enrolled=False,
                         ownership="C")
    await session.commit()
    await sign_in(client, "acme-admin")
    first = (await client.get(f"/console/devices?og={fleet.field}&sort=udid&dir=desc")).text
    assert "53 devices, page 1 of 2" in first and first.count("PAGED-") == 50
    assert first.index("PAGED-051") < first.index("PAGED-050")
    assert 'aria-sort="descending"' in first and 'rel="next"' in first
    second = (await client.get(f"/console/devices?og={fleet.field}&sort=udid&dir=desc&page=1")).text
    assert "page 2 of 2" in second and "PAGED-000" in second and IPAD_UDID in second


async def test_device_detail_shows_extended_properties_decision_trace_and_commands(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/devices/{fleet.alice_iphone}?og={fleet.sales}")).text
    assert "<dt>IsUserEnrolled</dt><dd>true</dd>" in page
    assert "<dt>LicenseTypeEligibility</dt><dd>2</dd>" in page
    assert "Enrollment ID" in page and ALICE_ENROLLMENT_ID in page
    for step in TRACE:
        assert f"<li>{html.escape(step)}</li>" in page
    assert "No commands yet." in page and "Queue command" in page
    ipad = (await client.get(f"/console/devices/{fleet.corporate_ipad}")).text
    assert "<dt>IsUserEnrolled</dt><dd>false</dd>" in ipad and "No enrollment decision" in ipad


async def test_queueing_a_command_shows_it_in_the_history(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/devices/{fleet.alice_iphone}"
    page = await client.get(path)
    answer = await client.post(f"{path}/commands", data={
        "csrf_token": csrf_token(page.text), "request_type": "SecurityInfo",
    })
    assert answer.status_code == 303
    after = (await client.get(answer.headers["location"])).text
    assert "was queued" in after and "<td>SecurityInfo</td><td>Queued</td>" in after
    assert "console:acme-admin" in after
    assert await _commands(session) == 1


async def test_a_forbidden_command_shows_the_reason_and_queues_nothing(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/devices/{fleet.alice_iphone}"
    token = csrf_token((await client.get(path)).text)
    refused = await client.post(f"{path}/commands", data={"csrf_token": token, "request_type": "EraseDevice"})
    assert refused.status_code == 409
    assert "not allowed on a user-enrolled device" in refused.text and 'role="alert"' in refused.text
    placeholder = f"/console/devices/{fleet.bob_placeholder}/commands"
    conflict = await client.post(placeholder, data={"csrf_token": token, "request_type": "DeviceInformation"})
    assert conflict.status_code == 409 and "can be queued only for Enrolled devices" in conflict.text
    assert (await client.post(f"{path}/commands", data={"request_type": "SecurityInfo"})).status_code == 403
    assert await _commands(session) == 0


async def test_a_read_only_admin_sees_no_queue_form_and_cannot_queue(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-reader")
    path = f"/console/devices/{fleet.alice_iphone}"
    page = await client.get(path)
    assert page.status_code == 200 and "Queue command" not in page.text and "read-only" in page.text
    answer = await client.post(f"{path}/commands", data={
        "csrf_token": csrf_token(page.text), "request_type": "DeviceInformation",
    })
    assert answer.status_code == 403 and "read-only" in answer.text
    assert await _commands(session) == 0
