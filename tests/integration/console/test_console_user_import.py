"""CSV user imports from the console over HTTP: the form, a run in the background with its progress
page, per-row and whole-file errors, idempotent reruns, scoping, read-only admins and size limits."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.directory.user_import import runs as user_import_runs
from quince.store.models import EnrollmentUserRow, UserImportRunRow
from tests.integration.console.support import Fleet, csrf_token, sign_in

GOOD_AND_BAD = (
    "username,email,group_id,first_name\n"
    "ivy,ivy@acme.example,sales,Ivy\n"
    "jay,not-an-email,sales,Jay\n"
    "kim,kim@acme.example,field,Kim\n"
    "lee,lee@acme.example,beta,Lee\n"
    "max,max@acme.example,sales-eu,Max\n"
)
WAIT_SECONDS = 30
RUN_URL = re.compile(r"^/console/users/import/(\d+)\?og=(\d+)$")


async def _upload(client: httpx.AsyncClient, og: int, content: bytes | str,
                  filename: str = "people.csv") -> httpx.Response:
    form = await client.get(f"/console/users/import?og={og}")
    assert form.status_code == 200
    body = content.encode() if isinstance(content, str) else content
    return await client.post(f"/console/users/import?og={og}", data={"csrf_token": csrf_token(form.text)},
                             files={"file": (filename, body, "text/csv")})


def _status(page: str) -> str:
    match = re.search(r'class="usr-status-(\w+)"', page)
    assert match, "the page shows no run status"
    return match.group(1)


async def _until_ended(client: httpx.AsyncClient, url: str) -> str:
    """Poll the run page (as its own refresh does) until the run is no longer queued or running."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        page = await client.get(url)
        assert page.status_code == 200
        if _status(page.text) not in ("queued", "running"):
            return page.text
        assert time.monotonic() < deadline, f"the import did not end within {WAIT_SECONDS} s"
        await asyncio.sleep(0.05)


async def _import(client: httpx.AsyncClient, og: int, content: bytes | str) -> str:
    answer = await _upload(client, og, content)
    assert answer.status_code == 303, answer.text
    assert RUN_URL.match(answer.headers["location"]), answer.headers["location"]
    return await _until_ended(client, answer.headers["location"])


def _count(page: str, name: str) -> int:
    match = re.search(rf'id="count-{name}">(\d+)<', page)
    assert match, name
    return int(match.group(1))


def _errors(page: str) -> list[tuple[int, str]]:
    table = page.split('class="usr-errors"', 1)[1] if 'class="usr-errors"' in page else ""
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td></tr>", table)
    return [(int(line), message) for line, message in rows]


async def _users(session: AsyncSession) -> dict[str, int]:
    session.expire_all()
    return {u.username: u.og_id for u in await session.scalars(select(EnrollmentUserRow))}


async def _runs(session: AsyncSession) -> int:
    return (await session.scalar(select(func.count()).select_from(UserImportRunRow))) or 0


async def test_the_import_form_explains_the_columns(client: httpx.AsyncClient, fleet: Fleet) -> None:
    await sign_in(client, "acme-admin")
    page = await client.get(f"/console/users/import?og={fleet.sales}")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    assert 'type="file"' in page.text and "<label for=\"file\">" in page.text
    for column in ("username", "email", "password", "managed_apple_id", "group_id", "active"):
        assert f"<code>{column}</code>" in page.text
    assert "jdoe,jane.doe@example.com,Initial-pass-1,,Jane,Doe,sales,true" in page.text
    assert "No imports into Sales yet." in page.text


async def test_an_import_runs_in_the_background_and_reports_rows_by_line(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    page = await _import(client, fleet.acme, GOOD_AND_BAD)
    assert _status(page) == "finished"
    assert (_count(page, "created"), _count(page, "updated"), _count(page, "unchanged"),
            _count(page, "errors")) == (3, 0, 0, 2)
    assert '<progress id="usr-bar" max="5" value="5">100%</progress>' in page
    errors = _errors(page)
    assert [line for line, _ in errors] == [3, 5]
    assert "not an email address" in errors[0][1]
    assert "No organization group has Group ID &#39;beta&#39;" in errors[1][1]  # outside the admin's OGs
    assert "hx-trigger" not in page and "Refresh" not in page  # an ended run stops refreshing
    stored = await _users(session)
    assert (stored["ivy"], stored["kim"], stored["max"]) == (fleet.sales, fleet.field, fleet.sales_eu)
    assert "jay" not in stored and "lee" not in stored
    listing = (await client.get(f"/console/users/import?og={fleet.acme}")).text
    assert "people.csv" in listing and "Finished" in listing


async def test_importing_the_same_file_again_changes_nothing(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    first = await _import(client, fleet.acme, GOOD_AND_BAD)
    assert _count(first, "created") == 3
    again = await _import(client, fleet.acme, GOOD_AND_BAD)
    assert _status(again) == "finished"
    assert (_count(again, "created"), _count(again, "updated"), _count(again, "unchanged"),
            _count(again, "errors")) == (0, 0, 3, 2)
    assert len(await _users(session)) == 3 + 3  # alice, bob, erin and the three imported


async def test_a_bad_header_fails_the_run_with_its_message(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    page = await _import(client, fleet.acme, "user,mail,group\nivy,ivy@acme.example,sales\n")
    assert _status(page) == "failed"
    assert "Unknown column(s) &#39;user&#39;" in page and "Nothing was imported from this file." in page
    missing = await _import(client, fleet.acme, "username,email\nivy,ivy@acme.example\n")
    assert _status(missing) == "failed" and "lacks the required column(s) group_id" in missing
    assert "ivy" not in await _users(session)


async def test_a_file_that_is_not_utf8_fails_with_a_clear_message(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    latin1 = "username,email,group_id\nj\u00f6rg,joerg@acme.example,sales\n".encode("latin-1")
    page = await _import(client, fleet.acme, latin1)
    assert _status(page) == "failed"
    assert "The file is not UTF-8 text (line 2" in page and "CSV UTF-8" in page
    assert "j\u00f6rg" not in await _users(session)


async def test_an_excel_byte_order_mark_is_fine(client: httpx.AsyncClient, fleet: Fleet) -> None:
    await sign_in(client, "acme-admin")
    excel = b"\xef\xbb\xbfusername,email,group_id\r\nivy,ivy@acme.example,sales\r\n"
    page = await _import(client, fleet.acme, excel)
    assert _status(page) == "finished" and _count(page, "created") == 1


async def test_a_group_id_outside_the_chosen_og_is_a_row_error(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    page = await _import(client, fleet.sales, (
        "username,email,group_id\n"
        "ivy,ivy@acme.example,sales-eu\n"
        "kim,kim@acme.example,field\n"  # an OG of the admin, but not below the chosen Sales
        "bob,bob@acme.example,sales\n"  # moves bob from Sales EU to Sales
    ))
    assert _status(page) == "finished"
    assert (_count(page, "created"), _count(page, "updated"), _count(page, "errors")) == (1, 1, 1)
    assert _errors(page) == [(3, "No organization group has Group ID &#39;field&#39;.")]
    stored = await _users(session)
    assert "kim" not in stored and stored["bob"] == fleet.sales


async def test_a_username_held_outside_the_chosen_og_is_refused_without_saying_where(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    # erin lives in Beta, another customer; alice in Sales, one of the admin's own OGs but not
    # below the chosen Field. Both rows read the same: nothing says that, or where, they exist.
    page = await _import(client, fleet.field, (
        "username,email,group_id\n"
        "erin,erin@acme.example,field\n"
        "alice,alice@acme.example,field\n"
    ))
    assert _status(page) == "finished"
    assert _errors(page) == [(2, "Username &#39;erin&#39; cannot be used; choose another."),
                             (3, "Username &#39;alice&#39; cannot be used; choose another.")]
    assert "Beta" not in page and "outside" not in page
    stored = await _users(session)
    assert (stored["erin"], stored["alice"]) == (fleet.beta, fleet.sales)


async def test_a_run_is_visible_only_to_admins_whose_ogs_hold_it(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    answer = await _upload(client, fleet.sales, GOOD_AND_BAD)
    run_url = answer.headers["location"]
    await _until_ended(client, run_url)
    run_id = RUN_URL.match(run_url).group(1)  # type: ignore[union-attr]
    await sign_in(client, "acme-reader")
    assert (await client.get(f"/console/users/import/{run_id}")).status_code == 200
    await sign_in(client, "beta-admin")
    assert (await client.get(f"/console/users/import/{run_id}")).status_code == 404
    assert (await client.get("/console/users/import/abc")).status_code == 404
    assert (await client.get("/console/users/import/999999")).status_code == 404


async def test_a_running_import_refreshes_itself_and_offers_a_refresh_link(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    run = UserImportRunRow(og_id=fleet.acme, started_by="acme-admin", filename="big.csv", status="running",
                           total_rows=2000, done_rows=500, error_count=1, updated_at=datetime.now(UTC),
                           errors=[[7, "The email column is required but empty."]])
    session.add(run)
    await session.commit()
    await sign_in(client, "acme-admin")
    url = f"/console/users/import/{run.id}?og={fleet.acme}"
    page = (await client.get(url)).text
    assert _status(page) == "running" and "500 of 2000 rows (25%)" in page
    assert '<progress id="usr-bar" max="2000" value="500">25%</progress>' in page
    section = re.search(r'<section id="usr-progress"[^>]*>', page)
    assert section is not None
    for attribute in (f'hx-get="{url}"', 'hx-trigger="every 2s"', 'hx-select="#usr-progress"'):
        assert attribute in section.group(0)
    assert f'<a href="{url}">Refresh</a>' in page
    assert _errors(page) == [(7, "The email column is required but empty.")]


async def test_a_run_that_stopped_moving_is_shown_as_interrupted(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    run = UserImportRunRow(og_id=fleet.acme, started_by="acme-admin", filename="big.csv", status="running",
                           total_rows=2000, done_rows=500, errors=[], updated_at=datetime.now(UTC))
    session.add(run)
    await session.commit()
    await session.execute(update(UserImportRunRow).where(UserImportRunRow.id == run.id).values(
        updated_at=datetime.now(UTC) - user_import_runs.STALE_AFTER - timedelta(seconds=5)))
    await session.commit()
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/users/import/{run.id}?og={fleet.acme}")).text
    assert _status(page) == "interrupted" and "it is idempotent" in page
    assert "hx-trigger" not in page


async def test_a_read_only_admin_gets_no_import_form_and_403(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-reader")
    listing = await client.get(f"/console/users/import?og={fleet.acme}")
    assert listing.status_code == 200 and 'type="file"' not in listing.text
    assert "read-only access" in listing.text
    answer = await client.post(f"/console/users/import?og={fleet.acme}",
                               data={"csrf_token": csrf_token(listing.text)},
                               files={"file": ("people.csv", GOOD_AND_BAD.encode(), "text/csv")})
    assert answer.status_code == 403
    assert await _runs(session) == 0 and "ivy" not in await _users(session)


async def test_an_upload_without_a_file_or_the_csrf_token_is_refused(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    token = csrf_token((await client.get("/console/users/import")).text)
    empty = await client.post("/console/users/import", data={"csrf_token": token},
                              files={"file": ("", b"", "application/octet-stream")})
    assert empty.status_code == 400 and "Choose a CSV file to import." in empty.text
    no_token = await client.post("/console/users/import", data={},
                                 files={"file": ("people.csv", GOOD_AND_BAD.encode(), "text/csv")})
    assert no_token.status_code == 403 and "This page has expired" in no_token.text
    assert await _runs(session) == 0


async def test_a_file_that_is_too_large_gets_a_clear_page(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test server runs in this process: a smaller limit stands in for a 50 MB file.
    monkeypatch.setattr(user_import_runs, "MAX_FILE_BYTES", 64)
    await sign_in(client, "acme-admin")
    answer = await _upload(client, fleet.acme, GOOD_AND_BAD)
    assert answer.status_code == 413
    assert "The file is larger than 64 bytes" in answer.text and "Split it into smaller files" in answer.text
    assert 'type="file"' in answer.text  # the form again, to choose another file
    assert await _runs(session) == 0 and "ivy" not in await _users(session)


async def test_a_file_larger_than_the_api_body_limit_is_accepted(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    # 1.5 MB (blank lines are skipped): the upload path has its own, larger body limit.
    await sign_in(client, "acme-admin")
    padded = "username,email,group_id\nivy,ivy@acme.example,sales\n" + "\n" * 1_500_000
    page = await _import(client, fleet.acme, padded)
    assert _status(page) == "finished" and _count(page, "created") == 1
    assert "ivy" in await _users(session)
