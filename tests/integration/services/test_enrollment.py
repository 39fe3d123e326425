"""Enrollment sessions and placeholder device records (DESIGN.md rules 1, 2, 4), on stored data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.enrollment_policy import UserEnrollmentDisabled
from quince.domain.sign_in_backoff import BackOff
from quince.services.access.sign_in_throttle import Throttle, Throttled
from quince.services.directory import og_settings, users
from quince.services.enrollment import sessions as enrollment
from quince.services.enrollment.sessions import (
    EnrollmentStarted,
    Flow,
    SecretKind,
    WrongCredentials,
)
from quince.services.scope import Scope
from quince.store.models import DeviceRow, EnrollmentSessionRow
from tests.integration.services.conftest import PASSWORD, Tenant, snapshot

TTL = timedelta(minutes=30)
LIMITS = Throttle(
    per_account=BackOff(3, timedelta(seconds=1), timedelta(minutes=15)),
    per_address=BackOff(5, timedelta(seconds=1), timedelta(seconds=60)),
    window=timedelta(minutes=60),
)


@pytest.fixture
async def enabled(session: AsyncSession, scope: Scope, tenant: Tenant) -> Tenant:
    """User Enrollment on at Acme, default ownership Corporate there."""
    await og_settings.override(session, scope, tenant.acme, "user_enrollment_enabled", True)
    await og_settings.override(session, scope, tenant.acme, "default_ownership", "C")
    await session.commit()
    return tenant


async def _start(session: AsyncSession, tenant: Tenant, flow: Flow = Flow.ACCOUNT) -> EnrollmentStarted:
    alice = await users.find_by_username(session, "alice")
    assert alice is not None
    started = await enrollment.start(session, alice, flow=flow, group_id=None, ttl=TTL,
                                     user_identifier="alice@acme.example", client_address="10.0.0.9")
    assert isinstance(started, EnrollmentStarted)
    await session.commit()
    return started


async def test_a_successful_sign_in_creates_a_session_and_a_placeholder_device(
    session: AsyncSession, enabled: Tenant
) -> None:
    started = await _start(session, enabled)
    device = await session.get(DeviceRow, started.device.id)
    assert device is not None
    assert device.enrollment_status == "EnrollmentInProgress"
    assert device.og_id == enabled.sales_eu  # alice's Sellers mapping wins
    assert device.enrollment_user_id == enabled.alice
    assert device.udid is None
    assert device.is_user_enrolled is True
    assert device.license_type_eligibility == 2
    row = await session.get(EnrollmentSessionRow, started.enrollment.id)
    assert row is not None
    assert (row.flow, row.og_id, row.device_id, row.status) == (
        "account", enabled.sales_eu, device.id, "SignedIn"
    )
    assert row.decision_basis == "UserGroupMapping"
    assert row.decision_trace[-1] == "Decision: enroll into 'Sales EU' (Group ID sales-eu)."
    assert row.managed_apple_id == "alice@acme.example"
    assert row.user_identifier == "alice@acme.example"


async def test_a_user_enrolled_placeholder_is_employee_owned_whatever_the_og_default(
    session: AsyncSession, enabled: Tenant
) -> None:
    started = await _start(session, enabled)
    assert started.device.ownership == "E"


async def test_signing_in_again_creates_a_new_placeholder_and_the_old_one_stays_superseded(
    session: AsyncSession, enabled: Tenant
) -> None:
    first = await _start(session, enabled)
    second = await _start(session, enabled, Flow.WEB)
    old_id, new_id = first.device.id, second.device.id
    assert new_id != old_id
    assert second.enrollment.id != first.enrollment.id
    assert second.superseded == (old_id,)
    session.expire_all()
    old = await session.get(DeviceRow, old_id)
    assert old is not None
    assert old.superseded_by_device_id == new_id
    assert old.superseded_at is not None
    assert old.enrollment_status == "EnrollmentInProgress"  # it stays in the device list
    devices = await enrollment.devices_of(session, enabled.alice)
    assert [d.id for d in devices] == [old_id, new_id]
    new = await session.get(DeviceRow, new_id)
    assert new is not None and new.superseded_by_device_id is None


async def test_a_refused_enrollment_creates_nothing_but_the_refusal_record(
    session: AsyncSession, tenant: Tenant
) -> None:
    alice = await users.find_by_username(session, "alice")
    assert alice is not None
    before = await snapshot(session)
    outcome = await enrollment.start(session, alice, flow=Flow.WEB, group_id=None, ttl=TTL)
    assert isinstance(outcome, UserEnrollmentDisabled)
    after = await snapshot(session)
    assert len(after.pop("enrollment_refusals")) == 1 and before.pop("enrollment_refusals") == []
    assert after == before


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    session: AsyncSession, enabled: Tenant
) -> None:
    with pytest.raises(WrongCredentials) as wrong_password:
        await enrollment.authenticate(session, "alice@acme.example", "not-it-at-all", "10.0.0.1", LIMITS)
    with pytest.raises(WrongCredentials) as unknown_user:
        await enrollment.authenticate(session, "nobody@acme.example", PASSWORD, "10.0.0.1", LIMITS)
    assert wrong_password.value.message == unknown_user.value.message


async def test_the_user_is_found_by_managed_apple_id_email_or_username_ignoring_case(
    session: AsyncSession, scope: Scope, enabled: Tenant
) -> None:
    await users.add(session, scope, username="bob", email="bob@acme.example", og_id=enabled.sales,
                    password=PASSWORD, managed_apple_id="Bob.B@appleid.acme.example")
    for identifier in ("bob.b@APPLEID.acme.example", "BOB@acme.example", "Bob"):
        user = await enrollment.authenticate(session, identifier, PASSWORD, "10.0.0.2", LIMITS)
        assert user.username == "bob"


async def test_failures_of_one_account_from_one_address_make_that_address_wait_even_with_the_right_password(
    session: AsyncSession, enabled: Tenant
) -> None:
    for n in range(LIMITS.per_account.free_failures):
        with pytest.raises(WrongCredentials):
            await enrollment.authenticate(session, "alice@acme.example", f"wrong-{n}-pw", "10.1.0.1", LIMITS)
    with pytest.raises(Throttled) as paused:
        await enrollment.authenticate(session, "ALICE@acme.example", PASSWORD, "10.1.0.1", LIMITS)
    assert paused.value.seconds == 1  # a back-off, not a wall: the first wait is a second


async def test_the_right_password_from_another_address_gets_in_whatever_failed_elsewhere(
    session: AsyncSession, enabled: Tenant
) -> None:
    for n in range(LIMITS.per_account.free_failures * 3):
        with pytest.raises((WrongCredentials, Throttled)):
            await enrollment.authenticate(session, "alice@acme.example", f"guess-{n}-pw", "10.6.6.6", LIMITS)
    user = await enrollment.authenticate(session, "alice@acme.example", PASSWORD, "10.2.0.1", LIMITS)
    assert user.username == "alice"


async def test_each_failure_beyond_the_free_ones_doubles_the_wait_up_to_its_ceiling(
    session: AsyncSession, enabled: Tenant
) -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    for n in range(LIMITS.per_account.free_failures):
        with pytest.raises(WrongCredentials):
            await enrollment.authenticate(session, "alice", f"wrong-{n}-pw", "10.1.1.1", LIMITS, now=now)
    waits = []
    for n in range(5):
        with pytest.raises(Throttled) as paused:
            await enrollment.authenticate(session, "alice", PASSWORD, "10.1.1.1", LIMITS, now=now)
        waits.append(paused.value.seconds)
        now += timedelta(seconds=paused.value.seconds)  # sit the wait out, then fail once more
        with pytest.raises(WrongCredentials):
            await enrollment.authenticate(session, "alice", f"again-{n}-pw", "10.1.1.1", LIMITS, now=now)
    assert waits == [1, 2, 4, 8, 16]


async def test_failures_count_per_account_whichever_name_was_typed(
    session: AsyncSession, enabled: Tenant
) -> None:
    names = ["alice", "ALICE@acme.example", "alice@acme.example"]
    for name in names[: LIMITS.per_account.free_failures]:
        with pytest.raises(WrongCredentials):
            await enrollment.authenticate(session, name, "wrong-pw-xyz", "10.3.0.1", LIMITS)
    with pytest.raises(Throttled):
        await enrollment.authenticate(session, "alice", PASSWORD, "10.3.0.1", LIMITS)


async def test_a_success_forgives_the_failures_before_it_from_the_same_address(
    session: AsyncSession, enabled: Tenant
) -> None:
    for round_ in range(3):
        for n in range(LIMITS.per_account.free_failures - 1):
            with pytest.raises(WrongCredentials):
                await enrollment.authenticate(session, "alice", f"typo-{round_}-{n}", "10.4.0.1", LIMITS)
        user = await enrollment.authenticate(session, "alice", PASSWORD, "10.4.0.1", LIMITS)
        assert user.id == enabled.alice


async def test_many_failures_from_one_address_slow_it_briefly_instead_of_locking_everyone_behind_it_out(
    session: AsyncSession, enabled: Tenant
) -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    for n in range(LIMITS.per_address.free_failures + 20):
        with pytest.raises((WrongCredentials, Throttled)):
            await enrollment.authenticate(session, f"user{n}@acme.example", "wrong-pw-1", "10.9.9.9",
                                          LIMITS, now=now)
    with pytest.raises(Throttled) as paused:
        await enrollment.authenticate(session, "alice@acme.example", PASSWORD, "10.9.9.9", LIMITS, now=now)
    assert paused.value.seconds <= LIMITS.per_address.max_wait.total_seconds()
    later = now + LIMITS.per_address.max_wait
    user = await enrollment.authenticate(session, "alice@acme.example", PASSWORD, "10.9.9.9", LIMITS,
                                         now=later)
    assert user.username == "alice"
    other = await enrollment.authenticate(session, "alice@acme.example", PASSWORD, "10.9.9.8", LIMITS,
                                          now=now)
    assert other.username == "alice"


async def test_the_access_token_finds_its_session_until_it_expires(
    session: AsyncSession, enabled: Tenant
) -> None:
    started = await _start(session, enabled)
    found = await enrollment.redeem_secret(session, SecretKind.ACCESS_TOKEN, started.secret, consume=False)
    assert found is not None and found.id == started.enrollment.id
    again = await enrollment.redeem_secret(session, SecretKind.ACCESS_TOKEN, started.secret, consume=False)
    assert again is not None
    later = started.enrollment.expires_at + timedelta(seconds=1)
    assert await enrollment.redeem_secret(
        session, SecretKind.ACCESS_TOKEN, started.secret, consume=False, now=later
    ) is None
    assert await enrollment.redeem_secret(session, SecretKind.ACCESS_TOKEN, "forged", consume=False) is None
    # A token of one kind is not accepted as another.
    assert await enrollment.redeem_secret(
        session, SecretKind.PROFILE_DOWNLOAD, started.secret, consume=True
    ) is None


async def test_the_profile_download_token_works_once(session: AsyncSession, enabled: Tenant) -> None:
    started = await _start(session, enabled, Flow.WEB)
    first = await enrollment.redeem_secret(session, SecretKind.PROFILE_DOWNLOAD, started.secret, consume=True)
    assert first is not None and first.id == started.enrollment.id
    await session.commit()
    assert await enrollment.redeem_secret(
        session, SecretKind.PROFILE_DOWNLOAD, started.secret, consume=True
    ) is None


async def test_secrets_are_stored_only_as_hashes(session: AsyncSession, enabled: Tenant) -> None:
    started = await _start(session, enabled)
    dump = repr(await snapshot(session))
    assert started.secret not in dump
    assert enrollment.secret_hash(started.secret) in dump
    assert await session.scalar(select(func.count()).select_from(EnrollmentSessionRow)) == 1


async def test_discovery_serves_a_domain_of_some_users_managed_apple_id_or_email(
    session: AsyncSession, scope: Scope, enabled: Tenant
) -> None:
    await users.add(session, scope, username="carol", email="carol@mail.acme.example",
                    og_id=enabled.sales, managed_apple_id="carol@appleid.acme.example")
    assert await enrollment.serves_domain(session, "acme.example")  # alice's email
    assert await enrollment.serves_domain(session, "APPLEID.acme.example")
    assert await enrollment.serves_domain(session, "mail.acme.example")
    assert not await enrollment.serves_domain(session, "example")  # only whole domains
    assert not await enrollment.serves_domain(session, "evil.example")
    assert not await enrollment.serves_domain(session, "%")
