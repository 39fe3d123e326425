"""A small organization for the sign-in page tests (HTTP and browser), and page helpers."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.directory import og_settings, org_groups, users
from quince.services.scope import Scope
from quince.store.models import DeviceRow, EnrollmentSessionRow, SignInAttemptRow

PASSWORD = "correct-horse-1"
WEB = "/DeviceManagement/Enrollment"
ACCOUNT = "/DeviceManagement/Enrollment/account-driven"


@dataclass(frozen=True)
class Org:
    """Global > Acme (Customer, User Enrollment on) > {Sales > Sales EU, Closed (UE off here),
    Field (select_from_list) > {Field North, Field South}}; Global > Beta (Customer, UE inherited
    off from Global).

    Users (password PASSWORD): alice at Sales; bob at Sales, inactive; carol at Closed; dave at
    Field; erin at Beta.
    """

    acme: int
    sales: int
    sales_eu: int
    closed: int
    field: int
    field_north: int
    field_south: int
    beta: int


async def build_org(session: AsyncSession, scope: Scope) -> Org:
    acme = await org_groups.create(session, scope, scope.og_id, name="Acme", group_id="acme",
                                   og_type="Customer")
    sales = await org_groups.create(session, scope, acme.id, name="Sales", group_id="sales")
    sales_eu = await org_groups.create(session, scope, sales.id, name="Sales EU", group_id="sales-eu")
    closed = await org_groups.create(session, scope, acme.id, name="Closed", group_id="closed")
    field = await org_groups.create(session, scope, acme.id, name="Field", group_id="field")
    north = await org_groups.create(session, scope, field.id, name="Field North", group_id="field-north")
    south = await org_groups.create(session, scope, field.id, name="Field South", group_id="field-south")
    beta = await org_groups.create(session, scope, scope.og_id, name="Beta", group_id="beta",
                                   og_type="Customer")
    await og_settings.override(session, scope, acme.id, "user_enrollment_enabled", True)
    await og_settings.override(session, scope, closed.id, "user_enrollment_enabled", False)
    await og_settings.override(session, scope, field.id, "group_id_assignment_mode", "select_from_list")
    for name, og_id, active in (("alice", sales.id, True), ("bob", sales.id, False),
                                ("carol", closed.id, True), ("dave", field.id, True),
                                ("erin", beta.id, True)):
        await users.add(session, scope, username=name, email=f"{name}@acme.example", og_id=og_id,
                        password=PASSWORD, active=active)
    await session.commit()
    return Org(acme.id, sales.id, sales_eu.id, closed.id, field.id, north.id, south.id, beta.id)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_STATE = re.compile(r'name="state" value="([^"]+)"')
_OUTCOME = re.compile(r'<main id="main" data-outcome="([^"]*)"')
_HEADING = re.compile(r"<h1>(.*?)</h1>", re.S)
_ALERT = re.compile(r'role="alert"[^>]*>\s*<p>(.*?)</p>', re.S)


def csrf_token(page: str) -> str:
    found = _CSRF.search(page)
    assert found, "the page has no CSRF field"
    return html.unescape(found.group(1))


def state_of(page: str) -> str:
    found = _STATE.search(page)
    assert found, "the page has no state field"
    return html.unescape(found.group(1))


def outcome(page: str) -> str:
    found = _OUTCOME.search(page)
    assert found, "not a sign-in page"
    return found.group(1)


def heading(page: str) -> str:
    found = _HEADING.search(page)
    assert found
    return html.unescape(found.group(1)).strip()


def alert(page: str) -> str:
    found = _ALERT.search(page)
    assert found, "the page shows no message"
    return html.unescape(found.group(1)).strip()


async def sign_in(
    client: httpx.AsyncClient,
    path: str,
    email: str,
    password: str = PASSWORD,
    group_id: str = "",
    *,
    query: str = "",
    **extra: str,
) -> httpx.Response:
    """Open the form at `path` (with `query`), then post it as a browser would."""
    form = await client.get(path + query)
    assert form.status_code == 200, form.text
    data = {"csrf_token": csrf_token(form.text), "email": email, "password": password,
            "group_id": group_id, **extra}
    identifier = re.search(r'name="user_identifier" value="([^"]+)"', form.text)
    if identifier:
        data.setdefault("user_identifier", html.unescape(identifier.group(1)))
    return await client.post(path, data=data)


# The server writes through its own connections: always read fresh rows, never the identity map's.
_FRESH = {"populate_existing": True}


async def devices(session: AsyncSession) -> list[DeviceRow]:
    stmt = select(DeviceRow).order_by(DeviceRow.id).execution_options(**_FRESH)
    return list(await session.scalars(stmt))


async def enrollments(session: AsyncSession) -> list[EnrollmentSessionRow]:
    stmt = select(EnrollmentSessionRow).order_by(EnrollmentSessionRow.id).execution_options(**_FRESH)
    return list(await session.scalars(stmt))


async def attempts(session: AsyncSession) -> list[SignInAttemptRow]:
    return list(await session.scalars(select(SignInAttemptRow).execution_options(**_FRESH)))
