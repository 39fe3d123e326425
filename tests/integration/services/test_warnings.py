"""The warnings gathered for an OG from the configuration and the stored tokens and apps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from quince.clients import apns_certificate
from quince.config import Settings
from quince.domain.expiry_warnings import Severity, WarningKind
from quince.services import warnings
from quince.store.models import AppRow, OrgGroupRow, VppTokenRow
from tests.integration.services.conftest import Tenant
from tests.support_apns import TestAuthority, new_topic

NOW = datetime.now(UTC)


def _settings(tmp_path: Path) -> Settings:
    return Settings(database_url="sqlite+aiosqlite://", var_dir=tmp_path)


def _install_push_certificate(settings: Settings, expires: datetime) -> None:
    issued = TestAuthority("Apple test").issue_push_certificate(new_topic(), not_after=expires)
    apns_certificate.install(settings.apns_dir, issued.identity_pem)


async def _og(session: AsyncSession, og_id: int) -> OrgGroupRow:
    row = await session.get(OrgGroupRow, og_id)
    assert row is not None
    return row


def _purchased_app(og_id: int) -> AppRow:
    return AppRow(og_id=og_id, kind="purchased", name="Numbers", bundle_id="com.apple.Numbers",
                  adam_id="361304891", total_licenses=10)


def _token(og_id: int, expires: datetime | None) -> VppTokenRow:
    return VppTokenRow(og_id=og_id, token_encrypted=b"x", token_sha256=str(og_id) * 8, expires_at=expires)


async def test_no_push_certificate_is_warned_and_a_valid_one_is_not(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    missing = warnings.push_warning(settings)
    assert missing is not None and missing.severity is Severity.BROKEN
    _install_push_certificate(settings, NOW + timedelta(days=200))
    assert warnings.push_warning(settings) is None


async def test_a_push_certificate_expiring_within_30_days_is_warned(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _install_push_certificate(settings, NOW + timedelta(days=10))
    warning = warnings.push_warning(settings)
    assert warning is not None and warning.severity is Severity.SOON


async def test_purchased_apps_without_a_token_are_warned_at_their_og_and_below(
    session: AsyncSession, tenant: Tenant
) -> None:
    session.add(_purchased_app(tenant.acme))
    await session.flush()
    for og_id in (tenant.acme, tenant.sales):
        found = await warnings.vpp_warnings(session, await _og(session, og_id), NOW)
        assert [w.kind for w in found] == [WarningKind.VPP_TOKEN]
    assert await warnings.vpp_warnings(session, await _og(session, tenant.beta), NOW) == []


async def test_an_expiring_token_is_warned_above_and_where_it_serves(
    session: AsyncSession, tenant: Tenant
) -> None:
    session.add(_token(tenant.sales, NOW + timedelta(days=5)))
    session.add(_token(tenant.beta, NOW + timedelta(days=300)))
    await session.flush()
    at_acme = await warnings.vpp_warnings(session, await _og(session, tenant.acme), NOW)
    at_sales_eu = await warnings.vpp_warnings(session, await _og(session, tenant.sales_eu), NOW)
    assert len(at_acme) == 1 and "Sales" in at_acme[0].message and at_acme[0].severity is Severity.SOON
    assert len(at_sales_eu) == 1 and at_sales_eu[0].message == at_acme[0].message
    assert await warnings.vpp_warnings(session, await _og(session, tenant.beta), NOW) == []


async def test_every_warning_at_an_og(session: AsyncSession, tenant: Tenant, tmp_path: Path) -> None:
    session.add(_token(tenant.acme, NOW - timedelta(days=1)))
    await session.flush()
    found = await warnings.at(session, await _og(session, tenant.acme), _settings(tmp_path),
                              ca_expires=NOW + timedelta(days=30), now=NOW)
    assert [w.kind for w in found] == [WarningKind.PUSH_CERTIFICATE, WarningKind.VPP_TOKEN,
                                       WarningKind.CA_CERTIFICATE]
