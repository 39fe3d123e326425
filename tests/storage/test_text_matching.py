"""Text search: part of a field, ignoring case, with the search text taken literally. SQLAlchemy's
icontains(autoescape=True) is `lower(column) LIKE '%' || lower(:text) || '%' ESCAPE '/'`; what
lower() folds is the database's business, and there SQLite and PostgreSQL differ."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.devices import records as devices
from quince.services.directory import users
from quince.services.scope import Scope
from quince.store.models import DeviceRow
from quince.store.paging import PageRequest


async def _found(session: AsyncSession, scope: Scope, text: str) -> list[str]:
    """The first names of the users a search for `text` finds."""
    page = await users.search(session, scope, PageRequest(), text=text, order_by="firstname")
    return [u.first_name for u in page.items]


async def _add(session: AsyncSession, scope: Scope, *first_names: str) -> None:
    for n, first_name in enumerate(first_names):
        await users.add(session, scope, username=f"user{n}", email=f"user{n}@example.test",
                        og_id=scope.og_id, first_name=first_name)
    await session.flush()


async def test_search_ignores_ascii_case_and_takes_percent_underscore_and_slash_literally(
    session: AsyncSession, scope: Scope
) -> None:
    await _add(session, scope, "Sales_EU", "salesXeu", "50%-off", "500-off", "a/b", "ab")
    assert await _found(session, scope, "SALES_eu") == ["Sales_EU"]
    assert await _found(session, scope, "50%") == ["50%-off"]
    assert await _found(session, scope, "a/b") == ["a/b"]
    assert await _found(session, scope, "_") == ["Sales_EU"]


async def test_search_folds_the_case_of_non_ascii_letters_on_postgresql_only(
    session: AsyncSession, scope: Scope, dialect: str
) -> None:
    # SQLite's built-in lower() folds ASCII letters only (no ICU): "émile" does not find "Émile".
    await _add(session, scope, "Émile")
    assert await _found(session, scope, "Émile") == ["Émile"]
    assert await _found(session, scope, "émile") == (["Émile"] if dialect == "postgresql" else [])


async def _devices_found(session: AsyncSession, scope: Scope, text: str) -> list[str]:
    """The names of the devices the device list's search for `text` finds."""
    page = await devices.search(session, scope, PageRequest(), text=text, order_by="devicereportedname")
    return [str(d.device_name) for d in page.items]


async def test_the_device_search_matches_name_udid_username_and_email_literally_in_any_case(
    session: AsyncSession, scope: Scope
) -> None:
    owner = await users.add(session, scope, username="Carol_M", email="carol@Example.test", og_id=scope.og_id)
    session.add_all([
        DeviceRow(og_id=scope.og_id, enrollment_status="Enrolled", ownership="E", device_name="Work 50%",
                  udid="AB-CD"),
        DeviceRow(og_id=scope.og_id, enrollment_status="Enrolled", ownership="E", device_name="Spare",
                  udid="EF_GH", enrollment_user_id=owner.id),
        DeviceRow(og_id=scope.og_id, enrollment_status="Enrolled", ownership="E", device_name="Other",
                  udid="EFXGH"),
    ])
    await session.flush()
    assert await _devices_found(session, scope, "work 5") == ["Work 50%"]
    assert await _devices_found(session, scope, "50%") == ["Work 50%"]
    assert await _devices_found(session, scope, "ab-cd") == ["Work 50%"]
    assert await _devices_found(session, scope, "f_g") == ["Spare"]
    assert await _devices_found(session, scope, "CAROL_m") == ["Spare"]
    assert await _devices_found(session, scope, "EXAMPLE.TEST") == ["Spare"]
