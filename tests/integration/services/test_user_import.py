"""Importing enrollment users from CSV: valid rows land in batches, bad rows are reported by line,
and a rerun of the same file changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.access import passwords
from quince.services.directory import org_groups, users
from quince.services.directory.user_import import importer as user_import
from quince.services.directory.user_import.importer import ImportFileError, Progress, RowError, parse_csv
from quince.services.scope import Scope
from quince.store.models import EnrollmentUserRow

HEADER = "username,email,password,managed_apple_id,first_name,last_name,group_id,active\n"


@pytest.fixture
async def acme(session: AsyncSession, scope: Scope) -> int:
    acme = await org_groups.create(session, scope, scope.og_id, name="Acme", group_id="acme",
                                   og_type="Customer")
    await org_groups.create(session, scope, acme.id, name="Sales", group_id="acme-sales")
    await session.commit()
    return acme.id


async def _import(
    session: AsyncSession,
    scope: Scope,
    text: str,
    *,
    batch_size: int = 500,
    progress: Progress | None = None,
    commit: Callable[[], Awaitable[None]] | None = None,
) -> user_import.ImportReport:
    parsed = parse_csv(text.splitlines(keepends=True))
    return await user_import.import_users(
        session, scope, parsed, batch_size=batch_size, progress=progress, commit=commit
    )


async def _stored(session: AsyncSession) -> dict[str, EnrollmentUserRow]:
    session.expire_all()
    return {u.username: u for u in await session.scalars(select(EnrollmentUserRow))}


def _fingerprint(stored: dict[str, EnrollmentUserRow]) -> dict[str, tuple[object, ...]]:
    return {
        name: (u.updated_at, u.password_hash, u.email, u.managed_apple_id, u.first_name, u.last_name,
               u.active, u.og_id)
        for name, u in stored.items()
    }


GOOD = HEADER + (
    "ivy,ivy@acme.example,Ivy-pass-123,,Ivy,Irwin,acme-sales,true\n"
    "jack,jack@acme.example,,jack@appleid.acme.example,Jack,Jones,ACME,no\n"
    "kim,kim@acme.example,Kim-pass-123,,,,acme,\n"
)


async def test_a_good_file_creates_every_user_with_its_fields(
    session: AsyncSession, scope: Scope, acme: int
) -> None:
    report = await _import(session, scope, GOOD)
    assert (report.created, report.updated, report.unchanged, report.failed) == (3, 0, 0, 0)
    stored = await _stored(session)
    ivy, jack, kim = stored["ivy"], stored["jack"], stored["kim"]
    assert (ivy.first_name, ivy.last_name, ivy.active) == ("Ivy", "Irwin", True)
    assert ivy.managed_apple_id == "ivy@acme.example"
    assert passwords.verify_password(ivy.password_hash, "Ivy-pass-123")
    assert jack.managed_apple_id == "jack@appleid.acme.example"
    assert jack.active is False and jack.password_hash is None
    assert jack.og_id == acme and kim.og_id == acme


async def test_bad_rows_are_reported_by_line_and_reason_while_good_rows_land(
    session: AsyncSession, scope: Scope, acme: int
) -> None:
    text = HEADER + (
        "ivy,ivy@acme.example,,,,,acme,\n"            # line 2: good
        "bad user,x@acme.example,,,,,acme,\n"         # line 3
        "kim,not-an-email,,,,,acme,\n"                # line 4
        "lee,lee@acme.example,,,,,no-such-og,\n"      # line 5
        "IVY,ivy2@acme.example,,,,,acme,\n"           # line 6: duplicate of line 2
        "mo,mo@acme.example,short,,,,acme,\n"         # line 7
        '"nia","nia@acme.example",,,"Nia","Line\n'    # lines 8-9: a quoted newline
        'break",acme,\n'
        "pat,pat@acme.example,,,,,acme,maybe\n"       # line 10
        "quinn,quinn@acme.example,acme\n"             # line 11: too few fields
        ",nobody@acme.example,,,,,acme,\n"            # line 12: no username
        "rae,rae@acme.example,,,,,acme,\n"            # line 13: good
    )
    report = await _import(session, scope, text)
    assert (report.created, report.failed) == (2, 9)
    assert [(e.line, e.username) for e in report.errors] == [
        (3, "bad user"), (4, "kim"), (5, "lee"), (6, "IVY"), (7, "mo"), (8, "nia"), (10, "pat"),
        (11, "quinn"), (12, None),
    ]
    reasons = {e.line: e.reason for e in report.errors}
    assert "must not contain spaces" in reasons[3]
    assert "'not-an-email' is not an email address" in reasons[4]
    assert reasons[5] == "No organization group has Group ID 'no-such-og'."
    assert reasons[6] == "Username 'IVY' already appears on line 2 of this file."
    assert "at least 8 characters" in reasons[7]
    assert "last_name must not contain control characters" in reasons[8]
    assert reasons[10] == "active must be true or false, not 'maybe'."
    assert reasons[11] == "The row has 3 fields but the header has 8."
    assert reasons[12] == "The username column is required but empty."
    assert set(await _stored(session)) == {"ivy", "rae"}


async def test_a_rerun_of_the_same_file_changes_nothing(
    session: AsyncSession, scope: Scope, acme: int
) -> None:
    await _import(session, scope, GOOD)
    before = _fingerprint(await _stored(session))
    report = await _import(session, scope, GOOD)
    assert (report.created, report.updated, report.unchanged, report.failed) == (0, 0, 3, 0)
    after = _fingerprint(await _stored(session))
    assert after == before


async def test_a_row_with_different_fields_updates_only_that_user(
    session: AsyncSession, scope: Scope, acme: int
) -> None:
    await _import(session, scope, GOOD)
    before = await _stored(session)
    ivy_hash, kim_hash = before["ivy"].password_hash, before["kim"].password_hash
    jack_updated = before["jack"].updated_at
    changed = GOOD.replace("Ivy,Irwin,acme-sales,true", "Ivy,Irving,acme-sales,true").replace(
        "kim,kim@acme.example,Kim-pass-123", "kim,kim@acme.example,Kim-new-pass-1"
    )
    report = await _import(session, scope, changed)
    assert (report.created, report.updated, report.unchanged) == (0, 2, 1)
    after = await _stored(session)
    assert after["ivy"].last_name == "Irving"
    assert after["ivy"].password_hash == ivy_hash
    assert after["kim"].password_hash != kim_hash
    assert passwords.verify_password(after["kim"].password_hash, "Kim-new-pass-1")
    assert after["jack"].updated_at == jack_updated


async def test_empty_optional_cells_keep_what_is_stored(
    session: AsyncSession, scope: Scope, acme: int
) -> None:
    await _import(session, scope, GOOD)
    report = await _import(session, scope, "username,email,group_id\njack,jack@acme.example,acme\n")
    assert report.unchanged == 1
    jack = (await _stored(session))["jack"]
    assert (jack.first_name, jack.active) == ("Jack", False)
    assert jack.managed_apple_id == "jack@appleid.acme.example"


async def test_rows_are_written_in_batches_with_progress_after_each(
    session: AsyncSession, scope: Scope, acme: int
) -> None:
    rows = "".join(f"u{i},u{i}@acme.example,acme\n" for i in range(5))
    seen: list[tuple[int, int]] = []
    report = await _import(session, scope, "username,email,group_id\n" + rows + "bad,bad,acme\n",
                           batch_size=2, progress=lambda done, total: seen.append((done, total)))
    assert (report.created, report.failed) == (5, 1)
    assert seen == [(3, 6), (5, 6), (6, 6)]
    assert len(await _stored(session)) == 5


async def test_a_batch_the_database_refuses_is_reported_and_the_other_batches_stay(
    session: AsyncSession, scope: Scope, acme: int
) -> None:
    commits = 0

    async def commit() -> None:
        nonlocal commits
        commits += 1
        if commits == 2:
            raise OperationalError("COMMIT", {}, Exception("database is locked"))
        await session.commit()

    rows = "".join(f"u{i},u{i}@acme.example,acme\n" for i in range(5))
    report = await _import(session, scope, "username,email,group_id\n" + rows, batch_size=2, commit=commit)
    assert report.created == 3
    assert [(e.line, e.username) for e in report.errors] == [(4, "u2"), (5, "u3")]
    assert "The database refused this batch" in report.errors[0].reason
    assert set(await _stored(session)) == {"u0", "u1", "u4"}


async def test_a_scope_below_the_target_og_reports_the_row(
    session: AsyncSession, scope: Scope, acme: int
) -> None:
    sales = await org_groups.get_by_group_id(session, scope, "acme-sales")
    narrow = Scope(og_id=sales.id, path=sales.path, can_write=True, actor="admin 'sales'")
    report = await _import(session, narrow, "username,email,group_id\nivy,ivy@acme.example,acme\n"
                                            "kim,kim@acme.example,acme-sales\n")
    assert report.created == 1
    assert report.errors == [RowError(2, "ivy", "No organization group has Group ID 'acme'.")]


async def test_an_existing_user_outside_the_scope_is_not_touched(
    session: AsyncSession, scope: Scope, acme: int
) -> None:
    await users.add(session, scope, username="ivy", email="ivy@acme.example", og_id=acme)
    await session.commit()
    sales = await org_groups.get_by_group_id(session, scope, "acme-sales")
    narrow = Scope(og_id=sales.id, path=sales.path, can_write=True, actor="admin 'sales'")
    report = await _import(session, narrow, "username,email,group_id\nivy,ivy@evil.example,acme-sales\n")
    assert report.errors == [RowError(2, "ivy", "Username 'ivy' cannot be used; choose another.")]
    assert (await _stored(session))["ivy"].email == "ivy@acme.example"


async def test_a_username_of_another_tenant_reads_like_one_taken_while_the_import_ran(
    session: AsyncSession, scope: Scope, acme: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    beta = await org_groups.create(session, scope, scope.og_id, name="Beta", group_id="beta",
                                   og_type="Customer")
    beta_id = beta.id
    await users.add(session, scope, username="erin", email="erin@beta.example", og_id=beta_id)
    await session.commit()
    acme_row = await org_groups.get(session, scope, acme)
    acme_admin = Scope(og_id=acme, path=acme_row.path, can_write=True, actor="admin 'acme'")
    row = "username,email,group_id\nerin,erin@acme.example,acme\n"
    elsewhere = (await _import(session, acme_admin, row)).errors

    # The install-wide operator, whose batch looked before someone else took the name.
    async def nobody_yet(self: object, rows: object) -> dict[str, EnrollmentUserRow]:
        return {}

    monkeypatch.setattr(user_import._Batch, "existing", nobody_yet)
    taken_meanwhile = (await _import(session, scope, row)).errors
    refused = [RowError(2, "erin", "Username 'erin' cannot be used; choose another.")]
    assert elsewhere == taken_meanwhile == refused
    assert "Beta" not in elsewhere[0].reason and "organization group" not in elsewhere[0].reason
    stored = (await _stored(session))["erin"]
    assert (stored.email, stored.og_id) == ("erin@beta.example", beta_id)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty"),
        ("username,email,group_id,department\n", "Unknown column(s) 'department'"),
        ("username,email\n", "lacks the required column(s) group_id"),
        ("username,email,group_id,email\n", "email appear more than once"),
        ('username,email,group_id\n"ivy,ivy@acme.example,acme\n', "not valid CSV"),
    ],
)
def test_a_file_that_cannot_be_read_as_a_whole_is_refused(text: str, message: str) -> None:
    with pytest.raises(ImportFileError) as refused:
        parse_csv(text.splitlines(keepends=True))
    assert message in refused.value.message


def test_header_names_ignore_case_spaces_and_column_order() -> None:
    parsed = parse_csv([" Group_ID , EMAIL,username\n", "acme,ivy@acme.example,ivy\n"])
    assert [(r.username, r.email, r.group_id) for r in parsed.rows] == [("ivy", "ivy@acme.example", "acme")]


def test_blank_lines_are_skipped_and_do_not_shift_line_numbers() -> None:
    parsed = parse_csv(["username,email,group_id\n", "\n", "ivy,bad,acme\n"])
    assert parsed.errors[0].line == 3


def test_more_rows_than_allowed_are_refused() -> None:
    lines = ["username,email,group_id\n"] + [f"u{i},u{i}@acme.example,acme\n" for i in range(4)]
    with pytest.raises(ImportFileError, match="more than 3 rows"):
        parse_csv(lines, max_rows=3)


def test_read_csv_refuses_a_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text("username,email,group_id\n" + "x" * 2000)
    with pytest.raises(ImportFileError, match="files up to 1000 bytes"):
        user_import.read_csv(path, max_bytes=1000)


def test_read_csv_refuses_text_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes("username,email,group_id\nj\u00f6rg,j@acme.example,acme\n".encode("latin-1"))
    with pytest.raises(ImportFileError, match="not UTF-8"):
        user_import.read_csv(path)


def test_read_csv_accepts_the_byte_order_mark_excel_writes(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes("username,email,group_id\r\nj\u00f6rg,j@acme.example,acme\r\n".encode("utf-8-sig"))
    assert [r.username for r in user_import.read_csv(path).rows] == ["j\u00f6rg"]
