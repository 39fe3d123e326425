"""The console dashboard over HTTP: device counts per OG, enrollments per day (chart and table),
recent enrollment refusals, all scoped to the chosen OG."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.enrollment_policy import EnrollmentRefusal
from quince.services.directory import users
from quince.services.enrollment import sessions as enrollment
from quince.services.enrollment.sessions import Flow
from tests.integration.console.support import NOW, Fleet, add_device, enrolled, sign_in

_CELL = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)
_TAG = re.compile(r"<[^>]+>")


def _rows(page: str, table_class: str) -> list[list[str]]:
    """The text of each row's cells in the table with this class."""
    table = re.search(rf'<table class="{table_class}">(.*?)</table>', page, re.S)
    assert table, f"no table {table_class}"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)
    return [[" ".join(html.unescape(_TAG.sub("", cell)).split()) for cell in _CELL.findall(row)]
            for row in rows]


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), UTC)


@pytest.fixture
async def busy(session: AsyncSession, fleet: Fleet) -> Fleet:
    """The fleet plus devices enrolled on other days: three at Acme itself five days ago, one in
    Field five days ago, one in Sales 40 days ago (outside the chart), two in Beta today; and a
    second abandoned placeholder in Sales EU."""
    today = datetime.now(UTC).date()
    for og_id, day in ((fleet.acme, today - timedelta(days=5),), (fleet.acme, today - timedelta(days=5)),
                       (fleet.acme, today - timedelta(days=5)), (fleet.field, today - timedelta(days=5)),
                       (fleet.sales, today - timedelta(days=40)), (fleet.beta, today), (fleet.beta, today)):
        await add_device(session, og_id, None, **enrolled(enrolled_at=_noon(day), is_user_enrolled=False,
                                                          ownership="C"))
    await add_device(session, fleet.sales_eu, None, superseded_by_device_id=fleet.bob_placeholder)
    await session.commit()
    return fleet


async def _refuse(session: AsyncSession, username: str, group_id: str | None = None) -> EnrollmentRefusal:
    user = await users.find_by_username(session, username)
    assert user is not None
    outcome = await enrollment.start(session, user, flow=Flow.ACCOUNT, group_id=group_id,
                                     ttl=timedelta(minutes=30))
    assert isinstance(outcome, EnrollmentRefusal)
    await session.commit()
    return outcome


async def test_the_dashboard_counts_devices_for_the_og_itself_each_child_and_the_total(
    client: httpx.AsyncClient, busy: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    page = await client.get("/console/")
    assert page.status_code == 200 and "<h1>Acme</h1>" in page.text
    assert _rows(page.text, "dash-counts") == [
        ["Organization group", "Enrolled", "In progress", "Abandoned"],
        ["Acme (this group only)", "3", "0", "0"],
        ["Field (and below)", "2", "0", "0"],
        ["Sales (and below)", "2", "1", "2"],
        ["Total", "7", "1", "2"],
    ]
    # Enrolled figures open the device list with that filter; children open their own dashboard.
    assert f'href="/console/devices?og={busy.field}&amp;status=Enrolled">2</a>' in page.text
    assert f'href="/console/devices?og={busy.acme}&amp;status=Enrolled">7</a>' in page.text
    assert f'href="/console/?og={busy.sales}">Sales</a>' in page.text
    listed = await client.get(f"/console/devices?og={busy.acme}&status=Enrolled")
    assert "7 devices" in listed.text
    # In progress and abandoned figures open the list of exactly those placeholders.
    in_progress = f"/console/devices?og={busy.sales}&amp;status=EnrollmentInProgress&amp;abandoned=no"
    abandoned = f"/console/devices?og={busy.sales}&amp;status=EnrollmentInProgress&amp;abandoned=yes"
    assert f'href="{in_progress}">1</a>' in page.text and f'href="{abandoned}">2</a>' in page.text
    for link, count in ((in_progress, "1 device<"), (abandoned, "2 devices<")):
        listed = await client.get(link.replace("&amp;", "&"))
        assert count in listed.text
    only_abandoned = await client.get(abandoned.replace("&amp;", "&"))
    assert only_abandoned.text.count('class="abandoned"') == 2


async def test_at_a_child_og_the_rows_are_its_own_and_its_childrens(
    client: httpx.AsyncClient, busy: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    page = await client.get(f"/console/?og={busy.sales}")
    assert page.status_code == 200 and "<h1>Sales</h1>" in page.text
    assert _rows(page.text, "dash-counts")[1:] == [
        ["Sales (this group only)", "2", "0", "1"],
        ["Sales EU (and below)", "0", "1", "1"],
        ["Total", "2", "1", "2"],
    ]
    leaf = await client.get(f"/console/?og={busy.field}")
    assert _rows(leaf.text, "dash-counts")[1:] == [["Field (this group only)", "2", "0", "0"],
                                                    ["Total", "2", "0", "0"]]
    # With no child, the OG's own figures are the whole subtree's, so they link too.
    assert leaf.text.count(f'href="/console/devices?og={busy.field}&amp;status=Enrolled">2</a>') == 2


async def test_enrollments_per_day_are_charted_and_tabled_for_thirty_days(
    client: httpx.AsyncClient, busy: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    page = (await client.get("/console/")).text
    today = datetime.now(UTC).date()
    rows = _rows(page, "dash-per-day")
    assert rows[0] == ["Day (UTC)", "Enrollments"] and len(rows) == 31
    per_day = {row[0]: int(row[1]) for row in rows[1:]}
    assert next(iter(per_day)) == f"{today:%a %d %b %Y}"  # newest first
    yesterday = (NOW - timedelta(days=1)).date()  # the fleet's enrolled devices
    expected = {f"{today - timedelta(days=5):%a %d %b %Y}": 4, f"{yesterday:%a %d %b %Y}": 2}
    assert {day: count for day, count in per_day.items() if count} == expected
    svg = re.search(r"<svg[^>]*>.*?</svg>", page, re.S)
    assert svg is not None
    assert 'role="img"' in svg.group(0)
    assert 'aria-label="Enrollments per day in Acme and below' in svg.group(0)
    assert "6 in total, most on" in svg.group(0)
    titles = re.findall(r"<title>(.*?)</title>", svg.group(0))
    assert len(titles) == 30 and f"{today - timedelta(days=5):%a %d %b %Y}: 4 enrollments" in titles
    assert f"{today:%a %d %b %Y}: 0 enrollments" in titles
    assert "style=" not in page and "<script>" not in page
    beta = (await client.get(f"/console/?og={busy.beta}"))
    assert beta.status_code == 404


async def test_recent_refusals_are_listed_for_the_subtree_only(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    alice = await _refuse(session, "alice", "typed-by-alice")
    await _refuse(session, "erin")
    await sign_in(client, "acme-admin")
    page = (await client.get("/console/")).text
    rows = _rows(page, "dash-refusals")
    assert rows[0] == ["When (UTC)", "User", "Flow", "Group ID entered", "Organization group", "Reason",
                       "Message shown"]
    assert len(rows) == 2
    assert rows[1][1:] == ["alice", "Account-driven", "typed-by-alice", "Sales", "Unknown Group ID",
                           alice.message]
    assert "erin" not in page
    field = (await client.get(f"/console/?og={fleet.field}")).text
    assert "No enrollment was refused in Field or below." in field
    client.cookies.clear()
    await sign_in(client, "beta-admin")
    beta = (await client.get("/console/")).text
    assert [row[1] for row in _rows(beta, "dash-refusals")[1:]] == ["erin"]
    assert "User Enrollment not enabled" in beta and "alice" not in beta


async def test_a_read_only_admin_sees_the_dashboard_with_no_form_but_sign_out(
    client: httpx.AsyncClient, busy: Fleet
) -> None:
    await sign_in(client, "acme-reader")
    page = await client.get("/console/")
    assert page.status_code == 200 and "<h1>Acme</h1>" in page.text
    assert page.text.count('method="post"') == 1 and 'action="/console/sign-out"' in page.text


async def test_an_og_outside_the_admins_subtree_is_not_found(client: httpx.AsyncClient, fleet: Fleet) -> None:
    await sign_in(client, "beta-admin")
    for og_id in (fleet.acme, fleet.sales_eu, "x"):
        answer = await client.get(f"/console/?og={og_id}")
        assert answer.status_code == 404 and "Not found" in answer.text


async def test_the_dashboard_warns_that_without_a_push_certificate_commands_stay_queued(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-reader")
    page = await client.get(f"/console/?og={fleet.acme}")
    device = await client.get(f"/console/devices/{fleet.alice_iphone}?og={fleet.acme}")
    assert 'data-warning="push_certificate"' in page.text and "stay Queued" in page.text
    assert 'data-warning="push_certificate"' in device.text
