"""A device's page over HTTP: commands with their results and error chains, the device's apps with
their licence and reason, and the raw messages it sent (escaped, converted, cut)."""

from __future__ import annotations

import plistlib
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.directory import user_groups, users
from quince.services.scope import Scope
from quince.store.models import AppRow, CommandRow, DeviceAppRow, DeviceMessageRow, EnrollmentSessionRow
from tests.integration.console.support import ALICE_ENROLLMENT_ID, NOW, Fleet, csrf_token, sign_in

ERROR_CHAIN = [
    {"ErrorCode": 12064, "ErrorDomain": "MCMDMErrorDomain",
     "LocalizedDescription": "Die Anfrage wird nicht unterstützt.",
     "USEnglishDescription": "The request is not supported."},
    {"ErrorCode": 4001, "ErrorDomain": "MCProfileErrorDomain", "LocalizedDescription": "Profile <refused>"},
]


def _answer(status: str, command_uuid: str, **fields: object) -> bytes:
    return plistlib.dumps({"Status": status, "CommandUUID": command_uuid,
                           "EnrollmentID": ALICE_ENROLLMENT_ID, **fields})


@dataclass(frozen=True)
class History:
    answered: int
    failed: int
    format_error: int
    pending: int


@pytest.fixture
async def history(session: AsyncSession, fleet: Fleet) -> History:
    """Alice's iPhone: commands in each state, stored as the MDM channel stores them."""
    device = fleet.alice_iphone
    answered = CommandRow(
        device_id=device, uuid="cmd-answered", request_type="DeviceInformation", status="Acknowledged",
        command={"RequestType": "DeviceInformation", "Queries": ["OSVersion"]},
        queued_by="console:acme-admin", sent_at=NOW, completed_at=NOW,
        result_raw=_answer("Acknowledged", "cmd-answered", QueryResponses={"OSVersion": "18.1"}))
    failed = CommandRow(
        device_id=device, uuid="cmd-failed", request_type="ProfileList", status="Error", command={},
        completed_at=NOW, error_chain=ERROR_CHAIN,
        result_raw=_answer("Error", "cmd-failed", ErrorChain=ERROR_CHAIN))
    # CommandFormatError: Quince keeps the chain only for Error; the page reads it from the raw answer.
    format_error = CommandRow(
        device_id=device, uuid="cmd-format", request_type="SecurityInfo", status="CommandFormatError",
        command={}, completed_at=NOW,
        result_raw=_answer("CommandFormatError", "cmd-format", ErrorChain=[
            {"ErrorCode": 12021, "ErrorDomain": "MDMClientErrorDomain", "LocalizedDescription": "Bad key"}]))
    pending = CommandRow(device_id=device, uuid="cmd-pending", request_type="CertificateList",
                         status="Pending", command={}, sent_at=NOW)
    session.add_all([answered, failed, format_error, pending])
    await session.commit()
    return History(answered.id, failed.id, format_error.id, pending.id)


def _row(page: str, command_id: int) -> str:
    return page.split(f"<tr><td>{command_id}</td>")[1].split("</tr>")[0]


async def test_an_answered_command_shows_what_the_device_answered_and_the_raw_answer(
    client: httpx.AsyncClient, fleet: Fleet, history: History
) -> None:
    await sign_in(client, "acme-admin")
    page = await client.get(f"/console/devices/{fleet.alice_iphone}?og={fleet.sales}")
    assert page.status_code == 200
    row = _row(page.text, history.answered)
    assert "<td>DeviceInformation</td><td>Acknowledged</td>" in row
    assert 'Answered with <span class="mono">QueryResponses</span>' in row
    assert "<details class=\"raw\">" in row and "<summary>Raw answer (" in row
    assert "&lt;key&gt;QueryResponses&lt;/key&gt;" in row and "<key>" not in row  # escaped XML
    assert "&lt;string&gt;18.1&lt;/string&gt;" in row
    assert "No answer yet." in _row(page.text, history.pending)


async def test_a_failed_command_shows_its_error_chain(
    client: httpx.AsyncClient, fleet: Fleet, history: History
) -> None:
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/devices/{fleet.alice_iphone}")).text
    row = _row(page, history.failed)
    assert "<td>ProfileList</td><td>Error</td>" in row and 'class="error-chain"' in row
    first, second = (item.split("</li>")[0] for item in row.split("<li>")[1:3])
    assert ('<span class="mono">MCMDMErrorDomain</span> code 12064: Die Anfrage wird nicht unterstützt.'
            in first)
    assert "(English: The request is not supported.)" in first
    assert "MCProfileErrorDomain</span> code 4001: Profile &lt;refused&gt;" in second
    assert "English" not in second
    chain = _row(page, history.format_error)
    assert "MDMClientErrorDomain</span> code 12021: Bad key" in chain


async def test_a_read_only_admin_sees_results_and_raw_messages_too(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, history: History
) -> None:
    session.add(DeviceMessageRow(device_id=fleet.alice_iphone, channel="checkin", message_type="TokenUpdate",
                                 raw=plistlib.dumps({"MessageType": "TokenUpdate"})))
    await session.commit()
    await sign_in(client, "acme-reader")
    page = (await client.get(f"/console/devices/{fleet.alice_iphone}")).text
    assert "code 12064" in page and "Answered with" in page and "TokenUpdate" in page
    assert "Queue command" not in page


async def test_apps_show_their_licence_status_and_reason(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    mail = AppRow(og_id=fleet.acme, kind="purchased", name="Work Mail", bundle_id="com.example.mail",
                  adam_id="1")
    maps = AppRow(og_id=fleet.acme, kind="public", name="Maps Plus", bundle_id="com.example.maps",
                  adam_id="2")
    tool = AppRow(og_id=fleet.acme, kind="in_house", name="Field Tool", bundle_id="com.example.tool",
                  manifest_url="https://apps.example/tool.plist")
    notes = AppRow(og_id=fleet.acme, kind="purchased", name="Notes Pro", bundle_id="com.example.notes",
                   adam_id="3")
    session.add_all([mail, maps, tool, notes])
    await session.flush()
    device = fleet.alice_iphone
    session.add_all([
        DeviceAppRow(device_id=device, app_id=mail.id, status="Installed", license_type="user",
                     reason="The device installed the app as a managed app."),
        DeviceAppRow(device_id=device, app_id=maps.id, status="NotSupported",
                     reason="Public apps are not supported on User Enrollment."),
        DeviceAppRow(device_id=device, app_id=tool.id, status="NotSupported",
                     reason="In-house apps are not supported on User Enrollment."),
        DeviceAppRow(device_id=device, app_id=notes.id, status="Failed", license_type="user",
                     reason="The device could not install the app (Error: The app <is> not available)."),
    ])
    await session.commit()
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/devices/{device}")).text
    table = page.split('<table class="device-apps">')[1].split("</table>")[0]
    names = ("Field Tool", "Maps Plus", "Notes Pro", "Work Mail")  # by name
    assert [table.index(name) for name in names] == sorted(table.index(name) for name in names)
    mail_row = table.split("Work Mail")[1].split("</tr>")[0]
    assert "<td>Apps and Books</td>" in mail_row and "<td>User-based</td>" in mail_row
    assert "<td>Installed</td>" in mail_row and "installed the app as a managed app" in mail_row
    maps_row = table.split("Maps Plus")[1].split("</tr>")[0]
    assert "<td>Public</td>" in maps_row and "<td>—</td>" in maps_row
    assert "<td>NotSupported</td>" in maps_row and "not supported on User Enrollment" in maps_row
    assert "<td>In-house</td>" in table.split("Field Tool")[1].split("</tr>")[0]
    assert "(Error: The app &lt;is&gt; not available)" in table
    empty = (await client.get(f"/console/devices/{fleet.corporate_ipad}")).text
    assert "No app has been assigned to this device." in empty


async def test_raw_messages_show_type_time_and_escaped_plist_newest_first(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    device = fleet.alice_iphone
    authenticate = plistlib.dumps({"MessageType": "Authenticate", "EnrollmentID": ALICE_ENROLLMENT_ID,
                                   "DeviceName": "<script>alert(1)</script>"})
    token_update = plistlib.dumps({"MessageType": "TokenUpdate", "PushMagic": "magic-123"},
                                  fmt=plistlib.FMT_BINARY)
    session.add_all([
        DeviceMessageRow(device_id=device, channel="checkin", message_type="Authenticate", raw=authenticate,
                         received_at=NOW - timedelta(minutes=10)),
        DeviceMessageRow(device_id=device, channel="checkin", message_type="TokenUpdate", raw=token_update,
                         received_at=NOW - timedelta(minutes=9)),
        DeviceMessageRow(device_id=device, channel="connect", message_type="Acknowledged",
                         command_uuid="cmd-answered", raw=_answer("Acknowledged", "cmd-answered"),
                         received_at=NOW - timedelta(minutes=8)),
        DeviceMessageRow(device_id=device, channel="checkin", message_type="Authenticate",
                         raw=b"bplist00-this-is-not-really-a-plist", received_at=NOW - timedelta(minutes=11)),
    ])
    await session.commit()
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/devices/{device}")).text
    table = page.split('<table class="messages">')[1].split("</table>")[0]
    # The XML as stored (where the name reads &lt;script&gt;), escaped once more for the page.
    assert "<script>alert" not in page and "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;" in table
    assert table.index("Command answer") < table.index("TokenUpdate") < table.index("Authenticate")
    assert (NOW - timedelta(minutes=9)).strftime("%Y-%m-%d %H:%M:%S") in table
    assert "cmd-answered" in table
    # A binary plist is shown as XML; one that cannot be read is named with its size.
    token_row = next(row for row in table.split("<tr>") if "TokenUpdate" in row)
    assert f"binary plist, {len(token_update):,} bytes" in token_row
    assert "&lt;key&gt;PushMagic&lt;/key&gt;" in token_row and "magic-123" in token_row
    assert "binary, 35 bytes (not shown)" in table
    assert "Showing the latest" not in page


async def test_an_oversized_raw_message_is_cut_with_a_note_and_only_the_latest_fifty_are_shown(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    device = fleet.alice_iphone
    huge = plistlib.dumps({"MessageType": "Authenticate", "Padding": "x" * 100_000, "Tail": "END-MARK"})
    session.add(DeviceMessageRow(device_id=device, channel="checkin", message_type="Authenticate", raw=huge,
                                 received_at=NOW))
    session.add_all([
        DeviceMessageRow(device_id=device, channel="connect", message_type="Idle", raw=b"<plist/>",
                         received_at=NOW - timedelta(minutes=n + 1))
        for n in range(54)
    ])
    await session.commit()
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/devices/{device}")).text
    assert "Showing the latest 50 of 55 messages." in page
    row = page.split('<table class="messages">')[1].split("</tr>")[1]
    assert f"Authenticate ({len(huge):,} bytes)" in row
    assert "Cut: only the first 65,536 characters are shown." in row and "END-MARK" not in row
    assert row.count("x" * 1000) >= 60
    assert page.split('<table class="messages">')[1].count("<tr>") == 51  # header + 50 rows


async def test_the_device_page_of_another_subtree_is_not_found_and_queueing_needs_the_token(
    client: httpx.AsyncClient, fleet: Fleet, history: History
) -> None:
    await sign_in(client, "beta-admin")
    assert (await client.get(f"/console/devices/{fleet.alice_iphone}")).status_code == 404
    token = csrf_token((await client.get(f"/console/devices/{fleet.erin_iphone}")).text)
    refused = await client.post(f"/console/devices/{fleet.alice_iphone}/commands",
                                data={"csrf_token": token, "request_type": "SecurityInfo"})
    assert refused.status_code == 404
    expired = await client.post(f"/console/devices/{fleet.erin_iphone}/commands",
                                data={"request_type": "SecurityInfo"})
    assert expired.status_code == 403 and "This page has expired" in expired.text


async def test_the_decision_trace_names_no_group_of_another_tenant(
    client: httpx.AsyncClient, session: AsyncSession, scope: Scope, fleet: Fleet
) -> None:
    # A wider admin put alice in a group of Beta's that maps there: her trace mentions both.
    crew = await user_groups.create(session, scope, name="Beta Crew", og_id=fleet.beta)
    alice = await users.get_by_username(session, scope, "alice")
    await user_groups.add_member(session, scope, crew.id, alice.id)
    await user_groups.add_mapping(session, scope, crew.id, fleet.beta, 2)
    decision = await session.scalar(
        select(EnrollmentSessionRow).where(EnrollmentSessionRow.device_id == fleet.alice_iphone))
    assert decision is not None
    decision.decision_trace = [
        "User 'alice' is active; enrollment organization group is 'Sales' (Group ID sales).",
        "2 user-group mapping(s) match the user: 'Beta Crew' -> 'Beta' (Group ID beta) rank 2.",
        "Decision: enroll into 'Sales' (Group ID sales).",
    ]
    await session.commit()
    await sign_in(client, "acme-admin")
    page = await client.get(f"/console/devices/{fleet.alice_iphone}?og={fleet.acme}")
    assert page.status_code == 200
    assert "Beta" not in page.text and "beta" not in page.text
    assert "a user group outside the groups you manage" in page.text
    assert "an organization group outside the groups you manage" in page.text
    assert "&#39;Sales&#39; (Group ID sales)" in page.text  # what the admin may see stays
