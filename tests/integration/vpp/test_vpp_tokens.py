"""Apps and Books tokens: stored encrypted, set per OG, inherited down the tree, never shown."""

from __future__ import annotations

import base64
import json
import logging
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.errors import Conflict, InvalidInput, NotFound
from quince.services.apps import vpp_tokens
from quince.services.apps.vpp_tokens import VppTokenError
from quince.services.directory import org_groups
from quince.services.scope import Scope
from quince.store.models import EnrollmentUserRow, OrgGroupRow, VppTokenRow, VppUserRow
from tests.support_vpp import VppDouble, make_token_file


async def tree(session: AsyncSession, scope: Scope) -> tuple[OrgGroupRow, OrgGroupRow, OrgGroupRow]:
    acme = await org_groups.create(session, scope, scope.og_id, name="Acme", group_id="acme",
                                   og_type="Customer")
    sales = await org_groups.create(session, scope, acme.id, name="Sales", group_id="sales")
    eu = await org_groups.create(session, scope, sales.id, name="Sales EU", group_id="sales-eu")
    return acme, sales, eu


def test_the_token_file_is_base64_json_with_token_expiry_and_organization(vpp_server: VppDouble) -> None:
    parsed = vpp_tokens.parse_token_file(vpp_server.token_file_text + "\n")
    assert parsed.token == vpp_server.token_file_text  # the whole file is the bearer token
    assert parsed.organization_name == "Example Corp"
    assert parsed.expires_at == vpp_server.expires


@pytest.mark.parametrize("text", ["", "not base64 !!", base64.b64encode(b"[1, 2]").decode(),
                                  base64.b64encode(json.dumps({"orgName": "x"}).encode()).decode()])
def test_a_file_that_is_not_a_token_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        vpp_tokens.parse_token_file(text)


async def test_set_token_stores_it_encrypted_with_a_private_key(
    session: AsyncSession, scope: Scope, var_dir: Path, vpp_server: VppDouble
) -> None:
    acme, _, _ = await tree(session, scope)
    row = await vpp_tokens.set_token(session, scope, acme.id, vpp_server.token_file_text, var_dir=var_dir)
    await session.commit()
    assert vpp_server.token_file_text.encode() not in row.token_encrypted
    inner = json.loads(base64.b64decode(vpp_server.token_file_text))["token"]
    assert inner.encode() not in row.token_encrypted
    assert row.organization_name == "Example Corp"
    assert row.expires_at is not None
    key = var_dir / "vpp.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32
    effective = await vpp_tokens.effective_token(session, acme.id, var_dir=var_dir)
    assert effective is not None
    got_row, plaintext = effective
    assert plaintext == vpp_server.token_file_text and got_row.id == row.id


async def test_the_nearest_og_with_a_token_wins(
    session: AsyncSession, scope: Scope, var_dir: Path
) -> None:
    acme, sales, eu = await tree(session, scope)
    assert await vpp_tokens.effective_token(session, eu.id, var_dir=var_dir) is None
    acme_token, sales_token = make_token_file("Acme"), make_token_file("Acme Sales")
    await vpp_tokens.set_token(session, scope, acme.id, acme_token, var_dir=var_dir)
    eu_token = await vpp_tokens.effective_token(session, eu.id, var_dir=var_dir)
    assert eu_token is not None and eu_token.token == acme_token and eu_token.row.og_id == acme.id

    await vpp_tokens.set_token(session, scope, sales.id, sales_token, var_dir=var_dir)
    eu_token = await vpp_tokens.effective_token(session, eu.id, var_dir=var_dir)
    assert eu_token is not None and eu_token.token == sales_token
    info = await vpp_tokens.token_info(session, scope, eu.id)
    assert info is not None and info.inherited and info.source_group_id == "sales"
    assert info.organization_name == "Acme Sales"
    here = await vpp_tokens.token_info(session, scope, sales.id)
    assert here is not None and not here.inherited
    assert await vpp_tokens.token_info(session, scope, scope.og_id) is None  # nothing at Global

    await vpp_tokens.remove_token(session, scope, sales.id)
    eu_token = await vpp_tokens.effective_token(session, eu.id, var_dir=var_dir)
    assert eu_token is not None and eu_token.token == acme_token


async def test_setting_a_token_again_replaces_it(session: AsyncSession, scope: Scope, var_dir: Path) -> None:
    acme, _, _ = await tree(session, scope)
    await vpp_tokens.set_token(session, scope, acme.id, make_token_file("Old"), var_dir=var_dir)
    newer = make_token_file("New")
    await vpp_tokens.set_token(session, scope, acme.id, newer, var_dir=var_dir)
    rows = list(await session.scalars(select(VppTokenRow)))
    assert len(rows) == 1 and rows[0].organization_name == "New"
    token = await vpp_tokens.effective_token(session, acme.id, var_dir=var_dir)
    assert token is not None and token.token == newer


async def test_an_expired_token_is_refused(session: AsyncSession, scope: Scope, var_dir: Path) -> None:
    acme, _, _ = await tree(session, scope)
    old = make_token_file(expires=datetime.now(UTC) - timedelta(days=1))
    with pytest.raises(InvalidInput, match="expired"):
        await vpp_tokens.set_token(session, scope, acme.id, old, var_dir=var_dir)


async def test_one_token_cannot_serve_two_ogs(session: AsyncSession, scope: Scope, var_dir: Path) -> None:
    acme, sales, _ = await tree(session, scope)
    token = make_token_file()
    await vpp_tokens.set_token(session, scope, acme.id, token, var_dir=var_dir)
    with pytest.raises(Conflict, match="'acme'"):
        await vpp_tokens.set_token(session, scope, sales.id, token, var_dir=var_dir)


async def test_removing_a_token_with_vpp_users_needs_force(
    session: AsyncSession, scope: Scope, var_dir: Path
) -> None:
    acme, _, _ = await tree(session, scope)
    row = await vpp_tokens.set_token(session, scope, acme.id, make_token_file(), var_dir=var_dir)
    user = EnrollmentUserRow(og_id=acme.id, username="alice", username_key="alice", email="alice@example.com",
                             managed_apple_id="alice@example.com")
    session.add(user)
    await session.flush()
    session.add(VppUserRow(token_id=row.id, enrollment_user_id=user.id, managed_apple_id="alice@example.com",
                           status="Associated"))
    await session.flush()
    with pytest.raises(Conflict, match="--force"):
        await vpp_tokens.remove_token(session, scope, acme.id)
    assert await vpp_tokens.remove_token(session, scope, acme.id, force=True) == 1
    await session.commit()
    assert list(await session.scalars(select(VppUserRow))) == []
    with pytest.raises(NotFound):
        await vpp_tokens.remove_token(session, scope, acme.id)


async def test_a_token_cannot_be_read_with_another_key(
    session: AsyncSession, scope: Scope, var_dir: Path, tmp_path: Path
) -> None:
    acme, _, _ = await tree(session, scope)
    await vpp_tokens.set_token(session, scope, acme.id, make_token_file(), var_dir=var_dir)
    with pytest.raises(VppTokenError, match="set the token again"):
        await vpp_tokens.effective_token(session, acme.id, var_dir=tmp_path / "other-var")


async def test_the_token_never_reaches_the_log(
    session: AsyncSession, scope: Scope, var_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    acme, _, _ = await tree(session, scope)
    token = make_token_file()
    await vpp_tokens.set_token(session, scope, acme.id, token, var_dir=var_dir)
    await vpp_tokens.effective_token(session, acme.id, var_dir=var_dir)
    await vpp_tokens.remove_token(session, scope, acme.id)
    inner = json.loads(base64.b64decode(token))["token"]
    assert "vpp token" in caplog.text
    assert token not in caplog.text and inner not in caplog.text


async def test_a_token_expiry_with_an_offset_is_stored_as_the_same_instant(
    session: AsyncSession, scope: Scope, var_dir: Path
) -> None:
    acme, _, _ = await tree(session, scope)
    payload = {"token": base64.b64encode(b"x" * 48).decode(), "expDate": "2031-03-01T10:00:00-0700",
               "orgName": "Pacific Corp"}
    token_file = base64.b64encode(json.dumps(payload).encode()).decode()
    await vpp_tokens.set_token(session, scope, acme.id, token_file, var_dir=var_dir)
    await session.commit()
    session.expunge_all()
    stored = await session.scalar(select(VppTokenRow.expires_at))
    assert stored is not None
    # SQLite keeps only the wall-clock time: it must be UTC's, not Apple's local -07:00 one.
    assert stored.replace(tzinfo=stored.tzinfo or UTC) == datetime(2031, 3, 1, 17, 0, tzinfo=UTC)
