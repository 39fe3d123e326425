"""`quince doctor` reports sign-in names several users share; `quince admin update` changes an
admin and ends their console sessions (docs/security.md)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.access import admin_sessions
from quince.store.models import AdminRow, EnrollmentUserRow
from tests.e2e.cli.conftest import Cli


async def test_doctor_finds_nothing_on_a_clean_install(cli: Cli) -> None:
    await cli.ok("og", "create", "--parent", "Global", "--name", "Acme", "--group-id", "acme",
                 "--type", "Customer")
    await cli.ok("users", "add", "alice", "--email", "alice@acme.example", "--group-id", "acme",
                 "--password", "correct-horse-1")
    assert "No problems found" in (await cli.ok("doctor")).stdout


async def test_doctor_lists_a_shared_email_and_exits_1(cli: Cli, session: AsyncSession) -> None:
    await cli.ok("og", "create", "--parent", "Global", "--name", "Acme", "--group-id", "acme",
                 "--type", "Customer")
    await cli.ok("og", "create", "--parent", "Global", "--name", "Beta", "--group-id", "beta",
                 "--type", "Customer")
    await cli.ok("users", "add", "alice", "--email", "alice@acme.example", "--group-id", "acme")
    beta = await cli.json("og", "show", "beta")
    # As an install upgraded from before names were unique may hold it (the service refuses it).
    session.add(EnrollmentUserRow(username="alice-b", username_key="alice-b", email="ALICE@acme.example",
                                  managed_apple_id="alice-b@beta.example", og_id=beta["Id"]))
    await session.commit()
    result = await cli("doctor", "--json")
    assert result.exit_code == 1
    assert '"name": "alice@acme.example"' in result.stdout and '"tenant": "beta"' in result.stdout
    table = await cli("doctor")
    assert table.exit_code == 1 and "1 sign-in name(s) are shared" in " ".join(table.stdout.split())


async def test_admin_update_changes_the_role_and_ends_the_admins_console_sessions(
    cli: Cli, session: AsyncSession
) -> None:
    await cli.ok("admin", "add", "ops", "--group-id", "Global", "--password", "ops-password-1")
    admin = await session.scalar(select(AdminRow).where(AdminRow.username == "ops"))
    assert admin is not None
    token = await admin_sessions.start(session, admin, timedelta(hours=1))
    await session.commit()
    shown = await cli.json("admin", "update", "ops", "--role", "read-only")
    assert shown["Role"] == "read-only"
    assert await admin_sessions.admin_of(session, token) is None
    await cli.ok("admin", "update", "ops", "--password", "--password-stdin", input="a-new-password-2\n")
    assert "nobody" in await cli.fails("admin", "update", "nobody", "--inactive")
