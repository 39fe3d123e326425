"""Console pages over HTTP: OG scoping, the device list (filters, last seen, paging, removing
abandoned placeholders), device detail, queueing commands."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.devices import cleanup as device_cleanup
from quince.store.models import (
    AppRow,
    CommandRow,
    DeviceAppRow,
    DeviceCertificateRow,
    DeviceMessageRow,
    DeviceRow,
    EnrollmentSecretRow,
    EnrollmentSessionRow,
)
from tests.integration.console.support import (
    ALICE_ENROLLMENT_ID,
    IPAD_UDID,
    NOW,
    TRACE,
    Fleet,
    add_device,
    csrf_token,
    sign_in,
)


async def _commands(session: AsyncSession) -> int:
    return (await session.scalar(select(func.count()).select_from(CommandRow))) or 0


async def test_the_og_selector_lists_only_the_admins_subtree(client: httpx.AsyncClient, fleet: Fleet) -> None:
    await sign_in(client, "acme-admin")
    home = await client.get(f"/console/?og={fleet.sales}")
    assert home.status_code == 200 and "<h1>Sales</h1>" in home.text
    assert "Sales EU (sales-eu)" in home.text and "Field (field)" in home.text
    assert "Beta (beta)" not in home.text


async def test_a_sibling_admin_gets_404_for_ogs_and_devices_outside_their_subtree(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "beta-admin")
    for path in (f"/console/?og={fleet.acme}", f"/console/devices?og={fleet.sales}",
                 f"/console/devices/{fleet.alice_iphone}", "/console/?og=nonsense",
                 "/console/devices/abc", f"/console/devices/{fleet.alice_iphone}?og={fleet.acme}"):
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert "Not found" in answer.text
    assert (await client.get(f"/console/devices/{fleet.erin_iphone}")).status_code == 200


async def test_a_device_outside_the_chosen_og_is_not_found_there(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    assert (await client.get(f"/console/devices/{fleet.corporate_ipad}?og={fleet.sales}")).status_code == 404
    assert (await client.get(f"/console/devices/{fleet.corporate_ipad}?og={fleet.field}")).status_code == 200


async def test_the_device_list_takes_the_og_with_its_children_and_filters(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    sales = (await client.get(f"/console/devices?og={fleet.sales}")).text
    assert "3 devices" in sales
    for device in (fleet.alice_iphone, fleet.alice_abandoned, fleet.bob_placeholder):
        assert f">#{device}</a>" in sales
    assert f">#{fleet.corporate_ipad}</a>" not in sales
    acme = f"/console/devices?og={fleet.acme}"
    assert "1 device<" in (await client.get(f"{acme}&ue=no")).text
    enrolled = (await client.get(f"{acme}&status=Enrolled&ownership=E")).text
    assert "1 device<" in enrolled and f">#{fleet.alice_iphone}</a>" in enrolled
    bob = (await client.get(f"{acme}&user=BOB")).text
    assert "1 device<" in bob and f">#{fleet.bob_placeholder}</a>" in bob
    found = (await client.get(f"{acme}&q={ALICE_ENROLLMENT_ID}")).text
    assert "1 device<" in found and f">#{fleet.alice_iphone}</a>" in found
    assert "1 device<" in (await client.get(f"{acme}&q={IPAD_UDID}")).text
    assert "0 devices" in (await client.get(f"/console/devices?og={fleet.sales}&q={IPAD_UDID}")).text
    bad = await client.get(f"{acme}&status=Bogus")
    assert bad.status_code == 400 and "enrollmentstatus must be one of" in bad.text


async def test_abandoned_placeholders_are_marked_and_link_to_their_replacement(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/devices?og={fleet.sales}")).text
    assert "Abandoned — replaced by" in page
    assert f'href="/console/devices/{fleet.alice_iphone}?og={fleet.sales}">#{fleet.alice_iphone}</a>' in page
    assert page.count("Abandoned — replaced by") == 1


async def test_the_device_list_is_sorted_and_paged_by_fifty(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    for n in range(52):
        await add_device(session, fleet.field, None, udid=f"PAGED-{n:03d}", is_user_enrolled=False,
                         ownership="C")
    await session.commit()
    await sign_in(client, "acme-admin")
    first = (await client.get(f"/console/devices?og={fleet.field}&sort=udid&dir=desc")).text
    assert "53 devices, page 1 of 2" in first and first.count("PAGED-") == 50
    assert first.index("PAGED-051") < first.index("PAGED-050")
    assert 'aria-sort="descending"' in first and 'rel="next"' in first
    second = (await client.get(f"/console/devices?og={fleet.field}&sort=udid&dir=desc&page=1")).text
    assert "page 2 of 2" in second and "PAGED-000" in second and IPAD_UDID in second


async def test_device_detail_shows_extended_properties_decision_trace_and_commands(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/devices/{fleet.alice_iphone}?og={fleet.sales}")).text
    assert "<dt>IsUserEnrolled</dt><dd>true</dd>" in page
    assert "<dt>LicenseTypeEligibility</dt><dd>2</dd>" in page
    assert "Enrollment ID" in page and ALICE_ENROLLMENT_ID in page
    for step in TRACE:
        assert f"<li>{html.escape(step)}</li>" in page
    assert "No commands yet." in page and "Queue command" in page
    ipad = (await client.get(f"/console/devices/{fleet.corporate_ipad}")).text
    assert "<dt>IsUserEnrolled</dt><dd>false</dd>" in ipad and "No enrollment decision" in ipad


async def test_queueing_a_command_shows_it_in_the_history(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/devices/{fleet.alice_iphone}"
    page = await client.get(path)
    answer = await client.post(f"{path}/commands", data={
        "csrf_token": csrf_token(page.text), "request_type": "SecurityInfo",
    })
    assert answer.status_code == 303
    after = (await client.get(answer.headers["location"])).text
    assert "was queued" in after and "<td>SecurityInfo</td><td>Queued</td>" in after
    assert "console:acme-admin" in after
    assert await _commands(session) == 1


async def test_a_forbidden_command_shows_the_reason_and_queues_nothing(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/devices/{fleet.alice_iphone}"
    token = csrf_token((await client.get(path)).text)
    refused = await client.post(f"{path}/commands", data={"csrf_token": token, "request_type": "EraseDevice"})
    assert refused.status_code == 409
    assert "not allowed on a user-enrolled device" in refused.text and 'role="alert"' in refused.text
    placeholder = f"/console/devices/{fleet.bob_placeholder}/commands"
    conflict = await client.post(placeholder, data={"csrf_token": token, "request_type": "DeviceInformation"})
    assert conflict.status_code == 409 and "can be queued only for Enrolled devices" in conflict.text
    assert (await client.post(f"{path}/commands", data={"request_type": "SecurityInfo"})).status_code == 403
    assert await _commands(session) == 0


async def test_a_read_only_admin_sees_no_queue_form_and_cannot_queue(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-reader")
    path = f"/console/devices/{fleet.alice_iphone}"
    page = await client.get(path)
    assert page.status_code == 200 and "Queue command" not in page.text and "read-only" in page.text
    answer = await client.post(f"{path}/commands", data={
        "csrf_token": csrf_token(page.text), "request_type": "DeviceInformation",
    })
    assert answer.status_code == 403 and "read-only" in answer.text
    assert await _commands(session) == 0


# --- the "Last seen" filter ---------------------------------------------------------------------


def _listed(page: str) -> set[int]:
    """The ids of the devices in a page's table (the link in each row's first cell)."""
    return {int(n) for n in re.findall(
        r'<tr[^>]*>\s*(?:<td class="select">[^\n]*</td>\s*)?<td><a href="/console/devices/(\d+)\?', page)}


async def test_the_last_seen_filter_picks_devices_by_when_they_were_last_seen(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    ages = {"3d": timedelta(days=3), "20d": timedelta(days=20), "60d": timedelta(days=60)}
    seen = {}
    for label, age in ages.items():
        seen[label] = (await add_device(session, fleet.field, None, udid=f"SEEN-{label}",
                                        is_user_enrolled=False, ownership="C", enrollment_status="Enrolled",
                                        last_seen_at=NOW - age)).id
    await session.commit()
    await sign_in(client, "acme-admin")
    recent = {fleet.alice_iphone, fleet.corporate_ipad}  # seen an hour ago
    never = {fleet.alice_abandoned, fleet.bob_placeholder}
    expected = {
        "": recent | never | set(seen.values()),
        "24h": recent,
        "7d": recent | {seen["3d"]},
        "30d": recent | {seen["3d"], seen["20d"]},
        "over-30d": {seen["60d"]},
        "never": never,
    }
    for choice, devices in expected.items():
        page = await client.get(f"/console/devices?og={fleet.acme}&seen={choice}")
        assert page.status_code == 200, choice
        assert _listed(page.text) == devices, choice
        assert f"{len(devices)} device" in page.text
        if choice:
            assert f'<option value="{choice}" selected>' in page.text
    # It combines with the other filters, and the sort and page links keep it.
    both = (await client.get(f"/console/devices?og={fleet.acme}&seen=30d&ue=no")).text
    assert _listed(both) == {fleet.corporate_ipad, seen["3d"], seen["20d"]}
    assert "seen=30d" in both.split('<table class="devices"')[1].split("</thead>")[0]


async def test_an_unknown_last_seen_choice_is_a_clear_error(client: httpx.AsyncClient, fleet: Fleet) -> None:
    await sign_in(client, "acme-admin")
    bad = await client.get(f"/console/devices?og={fleet.acme}&seen=yesterday")
    assert bad.status_code == 400 and 'role="alert"' in bad.text
    assert "Last seen must be one of" in bad.text and "In the last 24 hours" in bad.text


# --- jumping to a page --------------------------------------------------------------------------


@pytest.fixture
async def many(session: AsyncSession, fleet: Fleet) -> int:
    """120 corporate devices in Field (bulk-inserted): with the iPad, 121 devices on 3 pages."""
    await session.execute(insert(DeviceRow), [
        {"og_id": fleet.field, "udid": f"BULK-{n:03d}", "enrollment_status": "Enrolled", "ownership": "C",
         "is_user_enrolled": False, "license_type_eligibility": 0, "last_seen_at": NOW - timedelta(hours=2)}
        for n in range(120)
    ])
    await session.commit()
    return 121


async def test_jump_to_page_goes_to_the_page_and_keeps_the_filters(
    client: httpx.AsyncClient, fleet: Fleet, many: int
) -> None:
    await sign_in(client, "acme-admin")
    base = f"/console/devices?og={fleet.field}&ue=no&seen=24h&sort=udid&dir=desc"
    first = (await client.get(base)).text
    assert f"{many} devices, page 1 of 3" in first
    form = first.split('<form class="jump"')[1].split("</form>")[0]
    assert "<label for=\"goto\">Page</label>" in form
    assert 'type="number" id="goto" name="goto" min="1" max="3" value="1"' in form
    for name, value in (("og", str(fleet.field)), ("ue", "no"), ("seen", "24h"), ("sort", "udid"),
                        ("dir", "desc")):
        assert f'<input type="hidden" name="{name}" value="{value}">' in form
    third = await client.get(f"{base}&goto=3")
    assert third.status_code == 200 and "page 3 of 3" in third.text
    # sorted by UDID descending: BULK-119 ... BULK-000, then the iPad's UDID (which sorts first)
    assert "BULK-019" in third.text and "BULK-020" not in third.text
    assert 'value="3"' in third.text.split('<form class="jump"')[1]
    previous = re.search(r'rel="prev" href="([^"]+)"', third.text)
    assert previous
    assert "page=1" in html.unescape(previous.group(1)) and "seen=24h" in html.unescape(previous.group(1))


async def test_jumping_to_a_page_that_does_not_exist_says_so(
    client: httpx.AsyncClient, fleet: Fleet, many: int
) -> None:
    await sign_in(client, "acme-admin")
    base = f"/console/devices?og={fleet.field}"
    past = await client.get(f"{base}&goto=9")
    assert past.status_code == 400 and 'role="alert"' in past.text
    assert "There is no page &#39;9&#39;: enter a page number from 1 to 3." in past.text
    assert "page 3 of 3" in past.text and 'value="9"' in past.text  # the last page; the input kept
    for typed in ("0", "abc", "-2"):
        answer = await client.get(f"{base}&goto={typed}")
        assert answer.status_code == 400 and "enter a page number from 1 to 3" in answer.text, typed
        assert "page 1 of 3" in answer.text


# --- removing abandoned placeholders ------------------------------------------------------------


@dataclass(frozen=True)
class Abandoned:
    """Bob's two old abandoned placeholders in Sales EU (one holding a session, a certificate, a
    command, a message and an app status), and records that must survive a removal in Sales."""

    old: int
    older: int
    session_id: int
    field_predecessor: int  # in Field (outside Sales), superseded by `old`
    recent: int  # superseded 5 days ago
    current_old: int  # an old placeholder nobody superseded
    enrolled_after: int  # superseded, then completed its enrollment anyway
    beta_old: int


@pytest.fixture
async def abandoned(session: AsyncSession, fleet: Fleet) -> Abandoned:
    bob = (await session.get(DeviceRow, fleet.bob_placeholder))
    assert bob is not None and bob.enrollment_user_id is not None
    user = bob.enrollment_user_id

    async def placeholder(og_id: int, days: int | None, successor: int | None, **fields: object) -> DeviceRow:
        values: dict[str, object] = {
            "created_at": NOW - timedelta(days=(days or 0) + 1), "superseded_by_device_id": successor,
            "superseded_at": NOW - timedelta(days=days) if days is not None else None, **fields}
        return await add_device(session, og_id, user, **values)

    old = await placeholder(fleet.sales_eu, 40, fleet.bob_placeholder)
    older = await placeholder(fleet.sales_eu, 50, old.id)
    field_predecessor = await placeholder(fleet.field, 45, old.id)
    recent = await placeholder(fleet.sales, 5, fleet.alice_iphone)
    current_old = await placeholder(fleet.sales, None, None, created_at=NOW - timedelta(days=100))
    enrolled_after = await placeholder(fleet.sales, 60, fleet.alice_iphone, enrollment_status="Enrolled",
                                       udid="ENROLLED-LATE")
    erin = await session.get(DeviceRow, fleet.erin_iphone)
    assert erin is not None
    beta_old = await add_device(session, fleet.beta, erin.enrollment_user_id, superseded_by_device_id=erin.id,
                                superseded_at=NOW - timedelta(days=90))
    enrollment = EnrollmentSessionRow(
        user_id=user, flow="web", og_id=fleet.sales_eu, device_id=old.id, decision_basis="user_og",
        decision_trace=["Enrolls at Sales EU."], managed_apple_id="bob@acme.example", status="signed_in",
        expires_at=NOW - timedelta(days=39))
    session.add(enrollment)
    await session.flush()
    session.add(EnrollmentSecretRow(kind="scep_challenge", secret_hash="a" * 64, session_id=enrollment.id,
                                    expires_at=NOW - timedelta(days=39)))
    certificate = DeviceCertificateRow(
        serial="0badc0de", fingerprint_sha256="b" * 64, subject="CN=old", session_id=enrollment.id,
        not_before=NOW - timedelta(days=41), not_after=NOW + timedelta(days=300), pem="-----")
    session.add(certificate)
    await session.flush()
    old.certificate_id = certificate.id
    app = AppRow(og_id=fleet.acme, kind="purchased", name="Work Mail", bundle_id="com.example.mail",
                 adam_id="123")
    session.add(app)
    await session.flush()
    session.add_all([
        CommandRow(device_id=old.id, request_type="DeviceInformation", command={}, status="Queued"),
        DeviceMessageRow(device_id=old.id, channel="checkin", message_type="Authenticate", raw=b"<plist/>"),
        DeviceAppRow(device_id=old.id, app_id=app.id, status="WaitingForVppUser", reason="waiting"),
    ])
    await session.commit()
    return Abandoned(old.id, older.id, enrollment.id, field_predecessor.id, recent.id, current_old.id,
                     enrolled_after.id, beta_old.id)


async def _device_ids(session: AsyncSession) -> set[int]:
    session.expire_all()
    await session.rollback()
    return set(await session.scalars(select(DeviceRow.id)))


async def _count(session: AsyncSession, model: type) -> int:
    return (await session.scalar(select(func.count()).select_from(model))) or 0


async def test_an_admin_sees_the_removal_form_with_thirty_days_by_default(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/devices?og={fleet.sales}")).text
    form = page.split('<form class="cleanup-form"')[1].split("</form>")[0]
    assert f'action="/console/devices/abandoned/preview?og={fleet.sales}"' in form
    assert '<label for="abandoned-days">Remove abandoned placeholders older than</label>' in form
    assert 'name="days" min="1" max="3650" value="30"' in form


async def test_the_preview_counts_old_abandoned_placeholders_of_the_chosen_subtree_and_shows_them(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, abandoned: Abandoned
) -> None:
    await sign_in(client, "acme-admin")
    token = csrf_token((await client.get(f"/console/devices?og={fleet.sales}")).text)
    before = await _device_ids(session)
    page = await client.post(f"/console/devices/abandoned/preview?og={fleet.sales}",
                             data={"csrf_token": token, "days": "30"})
    assert page.status_code == 200
    assert "<strong>2</strong> abandoned placeholders in" in page.text
    assert "<strong>Sales</strong>" in page.text
    assert "1 enrollment session " in page.text and "1 device identity certificate " in page.text
    assert "1 command, 1 raw message and 1 app status" in page.text
    sample = page.text.split('<table class="abandoned-sample">')[1]
    assert _listed(sample) == {abandoned.old, abandoned.older}
    assert sample.index(f">#{abandoned.older}<") < sample.index(f">#{abandoned.old}<")  # oldest first
    form = page.text.split('<form class="abandoned-confirm"')[1].split("</form>")[0]
    assert '<input type="hidden" name="days" value="30">' in form
    assert '<input type="hidden" name="count" value="2">' in form and "Remove 2 placeholders" in form
    assert await _device_ids(session) == before  # a preview changes nothing
    # With 3 days, the recent one counts as well; in all of Acme, the one in Field too.
    three = await client.post(f"/console/devices/abandoned/preview?og={fleet.sales}",
                              data={"csrf_token": token, "days": "3"})
    assert "<strong>3</strong> abandoned placeholders" in three.text  # alice's (1 day) is younger
    assert _listed(three.text) == {abandoned.old, abandoned.older, abandoned.recent}
    acme = await client.post(f"/console/devices/abandoned/preview?og={fleet.acme}",
                             data={"csrf_token": token, "days": "30"})
    assert "<strong>3</strong> abandoned placeholders" in acme.text
    assert _listed(acme.text) == {abandoned.old, abandoned.older, abandoned.field_predecessor}
    none = await client.post(f"/console/devices/abandoned/preview?og={fleet.sales}",
                             data={"csrf_token": token, "days": "3650"})
    assert none.status_code == 200 and "nothing to remove" in none.text
    assert "abandoned-confirm" not in none.text


async def test_confirming_removes_exactly_those_placeholders_and_what_they_hold(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, abandoned: Abandoned
) -> None:
    await sign_in(client, "acme-admin")
    token = csrf_token((await client.get(f"/console/devices?og={fleet.sales}")).text)
    before = await _device_ids(session)
    answer = await client.post(f"/console/devices/abandoned/remove?og={fleet.sales}",
                               data={"csrf_token": token, "days": "30", "count": "2"})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/console/devices?og={fleet.sales}&removed=2"
    landed = (await client.get(answer.headers["location"])).text
    assert 'role="status"><p>Removed 2 abandoned placeholders.</p>' in landed
    assert await _device_ids(session) == before - {abandoned.old, abandoned.older}
    for model in (EnrollmentSecretRow, DeviceCertificateRow, CommandRow, DeviceMessageRow, DeviceAppRow):
        assert await _count(session, model) == 0, model.__name__
    assert await session.get(EnrollmentSessionRow, abandoned.session_id) is None
    assert await _count(session, EnrollmentSessionRow) == 1  # alice's, of her enrolled iPhone
    assert await _count(session, AppRow) == 1
    # The placeholder outside Sales that `old` had superseded now points at old's own successor.
    kept = await session.get(DeviceRow, abandoned.field_predecessor)
    assert kept is not None and kept.superseded_by_device_id == fleet.bob_placeholder


async def test_a_count_that_changed_since_the_preview_removes_nothing_and_shows_the_new_count(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, abandoned: Abandoned
) -> None:
    await sign_in(client, "acme-admin")
    token = csrf_token((await client.get(f"/console/devices?og={fleet.sales}")).text)
    before = await _device_ids(session)
    answer = await client.post(f"/console/devices/abandoned/remove?og={fleet.sales}",
                               data={"csrf_token": token, "days": "30", "count": "3"})
    assert answer.status_code == 409 and 'role="alert"' in answer.text
    assert "changed since you reviewed it (was 3, now 2): nothing was removed" in answer.text
    assert '<input type="hidden" name="count" value="2">' in answer.text
    assert await _device_ids(session) == before


@pytest.mark.parametrize("days", ["0", "3651", "abc", "", "12.5", "-1"])
async def test_an_invalid_number_of_days_is_refused_with_the_input_kept(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, abandoned: Abandoned, days: str
) -> None:
    await sign_in(client, "acme-admin")
    token = csrf_token((await client.get(f"/console/devices?og={fleet.sales}")).text)
    before = await _device_ids(session)
    for step, extra in (("preview", {}), ("remove", {"count": "2"})):
        answer = await client.post(f"/console/devices/abandoned/{step}?og={fleet.sales}",
                                   data={"csrf_token": token, "days": days, **extra})
        assert answer.status_code == 400, step
        assert "Enter the age as a whole number of days from 1 to 3650" in answer.text
        assert f'name="days" min="1" max="3650" value="{html.escape(days)}"' in answer.text
        assert 'aria-invalid="true"' in answer.text
    bad_count = await client.post(f"/console/devices/abandoned/remove?og={fleet.sales}",
                                  data={"csrf_token": token, "days": "30", "count": "two"})
    assert bad_count.status_code == 400 and "review the removal again" in bad_count.text
    assert await _device_ids(session) == before


async def test_a_read_only_admin_has_no_removal_form_and_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, abandoned: Abandoned
) -> None:
    await sign_in(client, "acme-reader")
    page = await client.get(f"/console/devices?og={fleet.sales}")
    assert page.status_code == 200 and "cleanup-form" not in page.text
    assert "Remove abandoned placeholders" not in page.text
    token = csrf_token(page.text)  # the sign-out form's
    before = await _device_ids(session)
    for step in ("preview", "remove"):
        answer = await client.post(f"/console/devices/abandoned/{step}?og={fleet.sales}",
                                   data={"csrf_token": token, "days": "30", "count": "2"})
        assert answer.status_code == 403 and "read-only" in answer.text, step
    assert await _device_ids(session) == before


async def test_removal_without_the_csrf_token_or_out_of_scope_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, abandoned: Abandoned
) -> None:
    await sign_in(client, "acme-admin")
    before = await _device_ids(session)
    for step in ("preview", "remove"):
        answer = await client.post(f"/console/devices/abandoned/{step}?og={fleet.sales}",
                                   data={"days": "30", "count": "2"})
        assert answer.status_code == 403 and "This page has expired" in answer.text, step
    await client.post("/console/sign-out", data={"csrf_token": csrf_token(
        (await client.get("/console/")).text)})
    await sign_in(client, "beta-admin")
    token = csrf_token((await client.get("/console/devices")).text)
    for step in ("preview", "remove"):
        answer = await client.post(f"/console/devices/abandoned/{step}?og={fleet.sales}",
                                   data={"csrf_token": token, "days": "30", "count": "2"})
        assert answer.status_code == 404, step
    # In their own subtree, beta-admin removes Beta's old placeholder only.
    answer = await client.post(f"/console/devices/abandoned/remove?og={fleet.beta}",
                               data={"csrf_token": token, "days": "30", "count": "1"})
    assert answer.status_code == 303
    assert await _device_ids(session) == before - {abandoned.beta_old}


async def test_a_removal_that_fails_halfway_leaves_everything_as_it_was(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, abandoned: Abandoned,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*_args: object) -> None:
        # By now the commands, messages, sessions and certificates are deleted (not committed).
        raise IntegrityError("DELETE FROM devices", {}, Exception("a new reference"))

    monkeypatch.setattr(device_cleanup, "_repoint_predecessors", refuse)
    await sign_in(client, "acme-admin")
    token = csrf_token((await client.get(f"/console/devices?og={fleet.sales}")).text)
    before = await _device_ids(session)
    answer = await client.post(f"/console/devices/abandoned/remove?og={fleet.sales}",
                               data={"csrf_token": token, "days": "30", "count": "2"})
    assert answer.status_code == 409 and "Nothing was removed" in answer.text
    assert "acme-admin" in answer.text  # the page is whole after the rollback
    assert await _device_ids(session) == before
    for model in (EnrollmentSecretRow, DeviceCertificateRow, CommandRow, DeviceMessageRow, DeviceAppRow):
        assert await _count(session, model) == 1, model.__name__
    assert await session.get(EnrollmentSessionRow, abandoned.session_id) is not None


async def test_the_preview_address_opened_directly_leads_back_to_the_list(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    answer = await client.get(f"/console/devices/abandoned/preview?og={fleet.sales}")
    assert answer.status_code == 303 and answer.headers["location"] == f"/console/devices?og={fleet.sales}"


async def test_abandoned_placeholders_can_be_listed_alone_or_hidden(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    only = await client.get(f"/console/devices?og={fleet.acme}&abandoned=yes")
    assert "1 device<" in only.text and f">#{fleet.alice_abandoned}<" in only.text
    hidden = await client.get(f"/console/devices?og={fleet.acme}&abandoned=no")
    assert "3 devices<" in hidden.text and f">#{fleet.alice_abandoned}<" not in hidden.text
    assert 'value="no" selected' in hidden.text  # the filter shows what is applied
