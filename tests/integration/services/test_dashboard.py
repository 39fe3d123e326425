"""The console dashboard's figures (device counts per OG, enrollments per day) and the recorded
enrollment refusals, on stored data."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.enrollment_policy import GroupIdOutOfReach, UnknownGroupId, UserEnrollmentDisabled
from quince.services.devices import dashboard
from quince.services.devices.dashboard import DeviceCounts
from quince.services.directory import users
from quince.services.enrollment import refusals as enrollment_refusals
from quince.services.enrollment import sessions as enrollment
from quince.services.enrollment.sessions import Flow
from quince.services.scope import Scope
from quince.store.models import DeviceRow, EnrollmentRefusalRow, OrgGroupRow
from tests.integration.services.conftest import PASSWORD, Tenant, add_device, scope_at

TTL = timedelta(minutes=30)
TODAY = date(2026, 3, 31)


def _at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), UTC)


async def _device(session: AsyncSession, og_id: int, status: str, *, enrolled_on: date | None = None,
                  superseded_by: int | None = None) -> DeviceRow:
    row = await add_device(session, og_id)
    row.enrollment_status = status
    row.enrolled_at = _at(enrolled_on) if enrolled_on else None
    row.superseded_by_device_id = superseded_by
    await session.flush()
    return row


async def _refusals(session: AsyncSession) -> list[EnrollmentRefusalRow]:
    return list(await session.scalars(select(EnrollmentRefusalRow).order_by(EnrollmentRefusalRow.id)))


async def _path(session: AsyncSession, og_id: int) -> str:
    og = await session.get(OrgGroupRow, og_id)
    assert og is not None
    return og.path


async def test_a_refused_enrollment_start_records_one_refusal_with_what_the_user_was_told(
    session: AsyncSession, tenant: Tenant
) -> None:
    alice = await users.find_by_username(session, "alice")
    assert alice is not None
    now = datetime(2026, 3, 30, 9, 15, tzinfo=UTC)
    outcome = await enrollment.start(session, alice, flow=Flow.WEB, group_id=" ignored-by-mapping ",
                                     ttl=TTL, now=now)
    assert isinstance(outcome, UserEnrollmentDisabled)
    await session.commit()
    [row] = await _refusals(session)
    assert (row.username, row.user_id, row.flow) == ("alice", tenant.alice, "web")
    assert row.entered_group_id == "ignored-by-mapping"
    assert row.reason == "UserEnrollmentDisabled"
    assert row.message == outcome.message and "'Sales EU'" in row.message
    # User Enrollment is off at the decided target (Sales EU, alice's mapping): the refusal is its.
    assert (row.og_id, row.og_path) == (tenant.sales_eu, await _path(session, tenant.sales_eu))
    assert row.created_at.replace(tzinfo=UTC) == now
    assert await session.scalar(select(DeviceRow.id)) is None  # still no placeholder


async def test_a_group_id_the_user_may_not_use_is_recorded_at_the_users_own_og(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    carol = await users.add(session, scope, username="carol", email="carol@acme.example",
                            og_id=tenant.sales, password=PASSWORD)
    out_of_reach = await enrollment.start(session, carol, flow=Flow.ACCOUNT, group_id="beta", ttl=TTL)
    unknown = await enrollment.start(session, carol, flow=Flow.ACCOUNT, group_id="nope", ttl=TTL)
    assert isinstance(out_of_reach, GroupIdOutOfReach) and isinstance(unknown, UnknownGroupId)
    first, second = await _refusals(session)
    sales = await _path(session, tenant.sales)
    assert (first.reason, first.entered_group_id, first.og_id, first.og_path) == (
        "GroupIdOutOfReach", "beta", tenant.sales, sales)
    assert (second.reason, second.og_path, second.message) == ("UnknownGroupId", sales, unknown.message)
    # Beta's admins never see an Acme user's attempt; Acme's do.
    assert await enrollment_refusals.recent(session, await scope_at(session, tenant.beta)) == []
    listed = await enrollment_refusals.recent(session, await scope_at(session, tenant.acme))
    assert [(item.refusal.reason, item.og_name) for item in listed] == [
        ("UnknownGroupId", "Sales"), ("GroupIdOutOfReach", "Sales")]


async def test_recent_refusals_are_the_newest_twenty_of_the_subtree(
    session: AsyncSession, tenant: Tenant
) -> None:
    alice = await users.find_by_username(session, "alice")
    assert alice is not None
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for n in range(23):
        await enrollment.start(session, alice, flow=Flow.WEB, group_id=None, ttl=TTL,
                               now=start + timedelta(minutes=n))
    await session.commit()
    listed = await enrollment_refusals.recent(session, await scope_at(session, tenant.sales))
    assert len(listed) == 20
    assert listed[0].refusal.created_at.replace(tzinfo=UTC) == start + timedelta(minutes=22)
    assert listed[-1].refusal.created_at.replace(tzinfo=UTC) == start + timedelta(minutes=3)
    assert await enrollment_refusals.recent(session, await scope_at(session, tenant.support)) == []


async def test_device_counts_give_the_og_itself_each_child_with_its_subtree_and_the_total(
    session: AsyncSession, tenant: Tenant
) -> None:
    await _device(session, tenant.acme, "Enrolled", enrolled_on=TODAY)
    await _device(session, tenant.sales, "Enrolled", enrolled_on=TODAY)
    successor = await _device(session, tenant.sales_eu, "EnrollmentInProgress")
    await _device(session, tenant.sales_eu, "EnrollmentInProgress", superseded_by=successor.id)
    await _device(session, tenant.sales_eu, "EnrollmentInProgress", superseded_by=successor.id)
    await _device(session, tenant.sales_eu, "Enrolled", enrolled_on=TODAY)
    await _device(session, tenant.sales_eu, "Unenrolled", enrolled_on=TODAY)  # in no column
    await _device(session, tenant.beta, "Enrolled", enrolled_on=TODAY)  # another tenant
    await session.commit()
    counts = await dashboard.device_counts(session, await scope_at(session, tenant.acme))
    assert (counts.own.og.id, counts.own.subtree, counts.own.counts) == (
        tenant.acme, False, DeviceCounts(enrolled=1))
    assert [(row.og.name, row.subtree, row.counts) for row in counts.children] == [
        ("Sales", True, DeviceCounts(enrolled=2, in_progress=1, abandoned=2)),
        ("Support", True, DeviceCounts()),
    ]
    assert counts.total == DeviceCounts(enrolled=3, in_progress=1, abandoned=2)
    sales = await dashboard.device_counts(session, await scope_at(session, tenant.sales))
    assert sales.own.counts == DeviceCounts(enrolled=1)
    assert [(row.og.id, row.counts) for row in sales.children] == [
        (tenant.sales_eu, DeviceCounts(enrolled=1, in_progress=1, abandoned=2))]
    leaf = await dashboard.device_counts(session, await scope_at(session, tenant.support))
    assert (leaf.children, leaf.total) == ([], DeviceCounts())


async def test_enrollments_per_day_cover_thirty_days_of_the_subtree_oldest_first(
    session: AsyncSession, tenant: Tenant
) -> None:
    for days_ago, og_id in ((0, tenant.sales), (0, tenant.sales_eu), (3, tenant.acme), (29, tenant.support),
                            (30, tenant.acme), (-1, tenant.acme), (0, tenant.beta)):
        await _device(session, og_id, "Enrolled", enrolled_on=TODAY - timedelta(days=days_ago))
    late = await _device(session, tenant.sales, "Enrolled")
    late.enrolled_at = datetime.combine(TODAY, time(23, 59, 59), UTC)
    await _device(session, tenant.sales, "EnrollmentInProgress")  # not enrolled: no enrolled_at
    await session.commit()
    days = await dashboard.enrollments_per_day(session, await scope_at(session, tenant.acme), today=TODAY)
    assert len(days) == 30 and days[0].day == TODAY - timedelta(days=29) and days[-1].day == TODAY
    per_day = {d.day: d.enrollments for d in days if d.enrollments}
    assert per_day == {TODAY: 3, TODAY - timedelta(days=3): 1, TODAY - timedelta(days=29): 1}
    assert dashboard.busiest(days) == dashboard.DayCount(TODAY, 3)
    sales = await dashboard.enrollments_per_day(session, await scope_at(session, tenant.sales), today=TODAY)
    assert {d.day: d.enrollments for d in sales if d.enrollments} == {TODAY: 3}
    beta_ops = await scope_at(session, tenant.beta_ops)
    empty = await dashboard.enrollments_per_day(session, beta_ops, today=TODAY)
    assert sum(d.enrollments for d in empty) == 0 and dashboard.busiest(empty) is None
