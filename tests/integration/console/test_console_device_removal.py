"""Enterprise Wipe and Delete record from a device's page over HTTP: each confirmed on a page
naming the device and its user, recorded with who asked, absent and refused for read-only admins,
and not found outside the admin's OGs."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.store.models import CommandRow, DeviceRow
from tests.integration.api.support import snapshot
from tests.integration.console.support import ALICE_ENROLLMENT_ID, Fleet, csrf_token, sign_in


def _paths(fleet: Fleet) -> tuple[str, str]:
    return f"/console/devices/{fleet.alice_iphone}/wipe", f"/console/devices/{fleet.bob_placeholder}/delete"


async def _post(client: httpx.AsyncClient, path: str) -> httpx.Response:
    token = csrf_token((await client.get("/console/devices")).text)
    return await client.post(path, data={"csrf_token": token})


async def test_the_wipe_is_confirmed_on_a_page_naming_the_device_and_user_then_shown_as_pending(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession, engine: AsyncEngine
) -> None:
    await sign_in(client, "acme-admin")
    device_page = (await client.get(f"/console/devices/{fleet.alice_iphone}")).text
    assert f'href="/console/devices/{fleet.alice_iphone}/wipe?og={fleet.acme}"' in device_page
    assert "/delete?" not in device_page  # an enrolled device's record cannot be deleted
    before = await snapshot(engine)
    confirm = await client.get(f"/console/devices/{fleet.alice_iphone}/wipe?og={fleet.acme}")
    assert confirm.status_code == 200
    assert ALICE_ENROLLMENT_ID in confirm.text and "iPhone 15 Pro Max (iPhone16,2)" in confirm.text
    assert "(alice)" in confirm.text and "Enterprise Wipe this device" in confirm.text
    assert await snapshot(engine) == before
    done = await _post(client, f"/console/devices/{fleet.alice_iphone}/wipe?og={fleet.acme}")
    assert done.status_code == 303 and done.headers["location"].endswith("done=wipe")
    session.expire_all()
    device = await session.get(DeviceRow, fleet.alice_iphone)
    assert device is not None and device.enrollment_status == "EnterpriseWipePending"
    [removal] = await session.scalars(select(CommandRow).where(CommandRow.device_id == fleet.alice_iphone))
    assert removal.request_type == "RemoveProfile" and removal.queued_by == "console:acme-admin"
    page = (await client.get(done.headers["location"])).text
    assert "Enterprise Wipe queued" in page
    assert "Enterprise Wipe pending since" in page and "by console:acme-admin" in page
    assert f"/console/devices/{fleet.alice_iphone}/wipe?" not in page  # no second button


async def test_a_device_that_is_not_enrolled_is_not_wiped(
    client: httpx.AsyncClient, fleet: Fleet, engine: AsyncEngine
) -> None:
    await sign_in(client, "acme-admin")
    confirm = (await client.get(f"/console/devices/{fleet.bob_placeholder}/wipe?og={fleet.acme}")).text
    assert "Only an Enrolled device can be wiped" in confirm and "Enterprise Wipe this device" not in confirm
    before = await snapshot(engine)
    answer = await _post(client, f"/console/devices/{fleet.bob_placeholder}/wipe?og={fleet.acme}")
    assert answer.status_code == 409
    assert await snapshot(engine) == before


async def test_an_unmanaged_record_is_deleted_after_confirming_and_a_managed_one_is_kept(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession, engine: AsyncEngine
) -> None:
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/devices/{fleet.bob_placeholder}")).text
    assert f'href="/console/devices/{fleet.bob_placeholder}/delete?og={fleet.acme}"' in page
    confirm = await client.get(f"/console/devices/{fleet.bob_placeholder}/delete?og={fleet.acme}")
    assert confirm.status_code == 200 and "Delete this record" in confirm.text and "(bob)" in confirm.text
    before = await snapshot(engine)
    kept = await _post(client, f"/console/devices/{fleet.alice_iphone}/delete?og={fleet.acme}")
    assert kept.status_code == 409 and "still managed" in kept.text
    assert await snapshot(engine) == before
    done = await _post(client, f"/console/devices/{fleet.bob_placeholder}/delete?og={fleet.acme}")
    assert done.status_code == 303
    assert "Deleted the records of 1 device." in (await client.get(done.headers["location"])).text
    session.expire_all()
    assert fleet.bob_placeholder not in set(await session.scalars(select(DeviceRow.id)))


async def test_a_read_only_admin_sees_neither_button_and_is_refused(
    client: httpx.AsyncClient, fleet: Fleet, engine: AsyncEngine
) -> None:
    await sign_in(client, "acme-reader")
    for device in (fleet.alice_iphone, fleet.bob_placeholder):
        page = (await client.get(f"/console/devices/{device}")).text
        assert "Enterprise Wipe…" not in page and "Delete record…" not in page
    before = await snapshot(engine)
    for path in _paths(fleet):
        assert (await client.get(path)).status_code == 403, path
        assert (await _post(client, path)).status_code == 403, path
    assert await snapshot(engine) == before


async def test_a_device_outside_the_admins_ogs_is_not_found_and_not_touched(
    client: httpx.AsyncClient, fleet: Fleet, engine: AsyncEngine
) -> None:
    await sign_in(client, "beta-admin")
    before = await snapshot(engine)
    for path in _paths(fleet):
        assert (await client.get(path)).status_code == 404, path
        assert (await _post(client, path)).status_code == 404, path
    assert await snapshot(engine) == before


async def test_a_wipe_or_delete_without_its_csrf_token_is_refused(
    client: httpx.AsyncClient, fleet: Fleet, engine: AsyncEngine
) -> None:
    await sign_in(client, "acme-admin")
    before = await snapshot(engine)
    for path in _paths(fleet):
        answer = await client.post(path, data={})
        assert answer.status_code == 403 and "This page has expired" in answer.text
    assert await snapshot(engine) == before


async def test_a_confirmation_page_for_anything_else_is_not_found(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    assert (await client.get(f"/console/devices/{fleet.alice_iphone}/erase")).status_code == 404
