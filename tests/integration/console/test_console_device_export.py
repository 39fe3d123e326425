"""The device list as CSV over HTTP: the filtered devices of every page, the admin's OGs only,
and cells a spreadsheet would run as formulas neutralised."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from quince.store.models import DeviceRow
from tests.integration.console.support import ALICE_ENROLLMENT_ID, Fleet, sign_in


def _rows(answer: httpx.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(answer.text)))


async def test_the_export_is_the_filtered_list_as_csv_with_a_dated_name(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    answer = await client.get(f"/console/devices/export.csv?og={fleet.acme}&status=Enrolled&size=25&page=3")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert answer.headers["content-disposition"] == f'attachment; filename="devices-{today}.csv"'
    rows = _rows(answer)
    assert {int(r["Device ID"]) for r in rows} == {fleet.alice_iphone, fleet.corporate_ipad}
    alice = next(r for r in rows if int(r["Device ID"]) == fleet.alice_iphone)
    assert alice["Enrollment ID / UDID"] == ALICE_ENROLLMENT_ID and alice["User"] == "alice"
    assert alice["Model"] == "iPhone16,2" and alice["Model name"] == "iPhone 15 Pro Max"
    assert alice["User email"] == "alice@acme.example" and alice["Organization group"] == "Sales"
    assert alice["OS version"] == "18.1" and alice["Organization group ID"] == str(fleet.sales)
    everything = _rows(await client.get(f"/console/devices/export.csv?og={fleet.acme}"))
    assert fleet.erin_iphone not in {int(r["Device ID"]) for r in everything}  # another customer
    assert len(everything) == 4


async def test_cells_a_spreadsheet_would_run_as_formulas_are_quoted(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    names = {fleet.alice_iphone: '=HYPERLINK("http://evil.example","x")', fleet.corporate_ipad: "+1+2",
             fleet.bob_placeholder: "-3", fleet.alice_abandoned: "@SUM(A1)"}
    for device_id, name in names.items():
        row = await session.get(DeviceRow, device_id)
        assert row is not None
        row.udid = name
    await session.commit()
    await sign_in(client, "acme-admin")
    rows = _rows(await client.get(f"/console/devices/export.csv?og={fleet.acme}"))
    assert {int(r["Device ID"]): r["Enrollment ID / UDID"] for r in rows} == {
        device_id: "'" + name for device_id, name in names.items()}


async def test_a_read_only_admin_may_export_and_another_customer_gets_404(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-reader")
    assert (await client.get(f"/console/devices/export.csv?og={fleet.sales}")).status_code == 200
    await sign_in(client, "beta-admin")
    assert (await client.get(f"/console/devices/export.csv?og={fleet.acme}")).status_code == 404
