"""A small organization with admins and devices for the console tests (HTTP and browser)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.access import admins
from quince.services.directory import org_groups, users
from quince.services.scope import Scope
from quince.store.models import DeviceRow, EnrollmentSessionRow

PASSWORD = "console-pass-1"
NOW = datetime.now(UTC).replace(microsecond=0)
ALICE_ENROLLMENT_ID = "5E1C3F2A-7B1D-4C55-9F0E-0A1B2C3D4E5F"
IPAD_UDID = "00008030-001A2B3C4D5E6F70"
TRACE = ["User alice belongs to Sales.", "No Group ID was entered.", "Enrolls at Sales, the OG of the user."]


@dataclass(frozen=True)
class Fleet:
    """Global > Acme > {Sales > Sales EU, Field}; Global > Beta.

    Admins (password PASSWORD): acme-admin and acme-reader (read-only) at Acme, beta-admin at Beta.
    Devices: alice's enrolled user-enrolled iPhone in Sales (with its enrollment decision) and her
    abandoned placeholder it replaced; a device-enrolled corporate iPad in Field; bob's placeholder
    in Sales EU; erin's enrolled iPhone in Beta.
    """

    acme: int
    sales: int
    sales_eu: int
    field: int
    beta: int
    alice_iphone: int
    alice_abandoned: int
    corporate_ipad: int
    bob_placeholder: int
    erin_iphone: int


async def add_device(session: AsyncSession, og_id: int, user_id: int | None, **fields: Any) -> DeviceRow:
    values: dict[str, Any] = {"enrollment_status": "EnrollmentInProgress", "ownership": "E",
                              "is_user_enrolled": True, "license_type_eligibility": 2}
    values.update(fields)
    row = DeviceRow(og_id=og_id, enrollment_user_id=user_id, **values)
    session.add(row)
    await session.flush()
    return row


def enrolled(**fields: Any) -> dict[str, Any]:
    return {"enrollment_status": "Enrolled", "last_seen_at": NOW - timedelta(hours=1),
            "enrolled_at": NOW - timedelta(days=1), "os_version": "18.1", **fields}


async def build_fleet(session: AsyncSession, scope: Scope) -> Fleet:
    acme = await org_groups.create(session, scope, scope.og_id, name="Acme", group_id="acme",
                                   og_type="Customer")
    sales = await org_groups.create(session, scope, acme.id, name="Sales", group_id="sales")
    sales_eu = await org_groups.create(session, scope, sales.id, name="Sales EU", group_id="sales-eu")
    field = await org_groups.create(session, scope, acme.id, name="Field", group_id="field")
    beta = await org_groups.create(session, scope, scope.og_id, name="Beta", group_id="beta",
                                   og_type="Customer")
    for name, og_id, role in (("acme-admin", acme.id, "administrator"),
                              ("acme-reader", acme.id, "read-only"),
                              ("beta-admin", beta.id, "administrator")):
        await admins.add_admin(session, scope, username=name, password=PASSWORD, og_id=og_id, role=role)
    people = {}
    for name, og_id in (("alice", sales.id), ("bob", sales_eu.id), ("erin", beta.id)):
        people[name] = (await users.add(session, scope, username=name, email=f"{name}@acme.example",
                                        og_id=og_id, password=PASSWORD, active=True)).id
    abandoned = await add_device(session, sales.id, people["alice"])
    iphone = await add_device(session, sales.id, people["alice"], **enrolled(
        udid=ALICE_ENROLLMENT_ID, product_name="iPhone16,2", model_name="iPhone"))
    abandoned.superseded_by_device_id = iphone.id
    abandoned.superseded_at = NOW - timedelta(days=1)
    session.add(EnrollmentSessionRow(
        user_id=people["alice"], flow="account", og_id=sales.id, device_id=iphone.id,
        decision_basis="user_og", decision_trace=TRACE, managed_apple_id="alice@acme.example",
        status="completed", expires_at=NOW + timedelta(hours=1),
    ))
    ipad = await add_device(session, field.id, None, **enrolled(
        udid=IPAD_UDID, ownership="C", is_user_enrolled=False, license_type_eligibility=1,
        product_name="iPad13,1"))
    placeholder = await add_device(session, sales_eu.id, people["bob"])
    erin = await add_device(session, beta.id, people["erin"], **enrolled(udid="ENR-ERIN",
                                                                       product_name="iPhone15,3"))
    await session.commit()
    return Fleet(acme.id, sales.id, sales_eu.id, field.id, beta.id, iphone.id, abandoned.id, ipad.id,
                 placeholder.id, erin.id)


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(page: str) -> str:
    match = _TOKEN.search(page)
    assert match, "the page has no CSRF token"
    return html.unescape(match.group(1))


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/console/sign-in")
    return await client.post("/console/sign-in", data={
        "csrf_token": csrf_token(form.text), "username": username, "password": password,
    })
