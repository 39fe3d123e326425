"""Importing enrollment users from a CSV file, idempotently, one transaction per batch.

Each row is parsed and validated on its own (pure, no database), then valid rows are written in
batches: a row names a new user (created), an existing user whose stored fields match (left
untouched) or one whose fields differ (updated). Bad rows are reported by line number and the file
goes on, so a rerun of the same file changes nothing.
"""

from __future__ import annotations

import asyncio
import csv
import os
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from quince.domain.errors import Conflict, InvalidInput, NotFound, QuinceError
from quince.domain.org_groups import group_id_key
from quince.domain.users import (
    username_key,
    validate_email,
    validate_person_name,
    validate_username,
)
from quince.services.access import passwords
from quince.services.directory import org_groups, users
from quince.services.scope import Scope
from quince.store import users as user_store
from quince.store.database import Db
from quince.store.errors import DatabaseError
from quince.store.models import EnrollmentUserRow, OrgGroupRow

COLUMNS = (
    "username", "email", "password", "managed_apple_id", "first_name", "last_name", "group_id", "active",
)
REQUIRED_COLUMNS = ("username", "email", "group_id")
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
# A field longer than any column allows is a broken file (an unclosed quote swallows the rest).
_MAX_FIELD_CHARS = 4096
_TRUE = {"true", "yes", "y", "1", "active"}
_FALSE = {"false", "no", "n", "0", "inactive"}


class ImportFileError(InvalidInput):
    """The file as a whole cannot be imported (size, encoding, header); no row was read."""

    def __init__(self, message: str) -> None:
        super().__init__("File", message)


@dataclass(frozen=True)
class ImportRow:
    """One valid row. None means the cell was empty or its column absent: keep what is stored
    (a new user gets the default)."""

    line: int
    username: str
    email: str
    group_id: str
    password: str | None = None
    managed_apple_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    active: bool | None = None


@dataclass(frozen=True)
class RowError:
    line: int
    username: str | None
    reason: str


@dataclass(frozen=True)
class ParsedFile:
    rows: list[ImportRow]
    errors: list[RowError]

    @property
    def total(self) -> int:
        return len(self.rows) + len(self.errors)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.errors)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed


Progress = Callable[[int, int], None]
"""Called as progress(rows_done, rows_total) after each batch."""


# -- parsing: pure ------------------------------------------------------------------------------


def _header(raw: list[str]) -> list[str]:
    names = [h.strip().lower() for h in raw]
    unknown = [h for h in names if h not in COLUMNS]
    if unknown:
        raise ImportFileError(
            f"Unknown column(s) {', '.join(repr(u) for u in unknown)} in the header; "
            f"the columns are {', '.join(COLUMNS)}."
        )
    repeated = sorted({h for h in names if names.count(h) > 1})
    if repeated:
        raise ImportFileError(f"Column(s) {', '.join(repeated)} appear more than once in the header.")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise ImportFileError(
            f"The header lacks the required column(s) {', '.join(missing)} "
            f"(required: {', '.join(REQUIRED_COLUMNS)})."
        )
    return names


def _parse_active(raw: str) -> bool | None:
    word = raw.strip().lower()
    if not word:
        return None
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise InvalidInput("active", f"active must be true or false, not {raw!r}.")


def parse_row(line: int, values: dict[str, str]) -> ImportRow:
    """Validate one row's cells; raise InvalidInput naming the first broken field."""

    def cell(name: str) -> str:
        return values.get(name, "").strip()

    for name in REQUIRED_COLUMNS:
        if not cell(name):
            raise InvalidInput(name, f"The {name} column is required but empty.")
    for name, value in values.items():
        if len(value) > _MAX_FIELD_CHARS:
            raise InvalidInput(name, f"{name} is longer than {_MAX_FIELD_CHARS} characters.")
    password = values.get("password", "")
    return ImportRow(
        line=line,
        username=validate_username(cell("username")),
        email=validate_email(cell("email")),
        group_id=cell("group_id"),
        # Passwords are taken as written: spaces at either end are part of them.
        password=passwords.validate(password) if password else None,
        managed_apple_id=(
            validate_email(cell("managed_apple_id"), "managed_apple_id")
            if cell("managed_apple_id") else None
        ),
        first_name=validate_person_name(cell("first_name"), "first_name") if cell("first_name") else None,
        last_name=validate_person_name(cell("last_name"), "last_name") if cell("last_name") else None,
        active=_parse_active(cell("active")),
    )


def parse_csv(lines: Iterable[str], max_rows: int = MAX_ROWS) -> ParsedFile:
    """Parse CSV text (header first) into valid rows and bad rows with their line numbers.

    Raises ImportFileError for a file that cannot be read at all: no header, unknown or missing
    columns, more than `max_rows` rows, or broken CSV quoting.
    """
    reader = csv.reader(lines, strict=True)
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    try:
        header_raw = next(reader, None)
        while header_raw is not None and not any(c.strip() for c in header_raw):
            header_raw = next(reader, None)
        if header_raw is None:
            raise ImportFileError("The file is empty: it needs a header line naming the columns.")
        header = _header(header_raw)
        line = reader.line_num + 1
        for record in reader:
            start, line = line, reader.line_num + 1
            if not any(c.strip() for c in record):
                continue
            if len(rows) + len(errors) >= max_rows:
                raise ImportFileError(
                    f"The file has more than {max_rows} rows; split it into smaller files."
                )
            name = record[0].strip() if header[0] == "username" else None
            if len(record) != len(header):
                errors.append(RowError(
                    start, name,
                    f"The row has {len(record)} fields but the header has {len(header)}.",
                ))
                continue
            values = dict(zip(header, record, strict=True))
            name = values["username"].strip() or None
            try:
                row = parse_row(start, values)
            except QuinceError as exc:
                errors.append(RowError(start, name, exc.message))
                continue
            key = username_key(row.username)
            if key in seen:
                errors.append(RowError(
                    start, row.username,
                    f"Username {row.username!r} already appears on line {seen[key]} of this file.",
                ))
                continue
            seen[key] = start
            rows.append(row)
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV near line {reader.line_num}: {exc}.") from None
    return ParsedFile(rows, errors)


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{n} bytes"


def read_csv(path: Path, max_bytes: int = MAX_FILE_BYTES, max_rows: int = MAX_ROWS) -> ParsedFile:
    """Read and parse a UTF-8 CSV file (a byte-order mark, as Excel writes, is fine)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImportFileError(f"Cannot read {str(path)!r}: {exc.strerror or exc}.") from None
    if not path.is_file():
        raise ImportFileError(f"{str(path)!r} is not a file.")
    if size > max_bytes:
        raise ImportFileError(
            f"{str(path)!r} is {_size(size)}; files up to {_size(max_bytes)} can be imported. "
            "Split it into smaller files."
        )
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            return parse_csv(stream, max_rows)
    except UnicodeDecodeError:
        raise ImportFileError(f"{str(path)!r} is not UTF-8 text; save it as CSV UTF-8.") from None
    except OSError as exc:
        raise ImportFileError(f"Cannot read {str(path)!r}: {exc.strerror or exc}.") from None


# -- writing: one transaction per batch --------------------------------------------------------


def _new_hash(current_hash: str | None, password: str | None) -> str | None:
    """The hash to store for `password`, or None when nothing changes (no password given, or the
    stored hash already matches it)."""
    if password is None or passwords.verify_password(current_hash, password):
        return None
    return passwords.hash_password(password)


def username_unavailable(username: str) -> InvalidInput:
    """The one refusal for a username this import may not take, whatever the reason: it never
    says that a user holds it elsewhere, nor where (usernames are unique across tenants)."""
    return InvalidInput("username", f"Username {username!r} cannot be used; choose another.")


class _Batch:
    """Writes one batch of rows into the session (not committing)."""

    def __init__(self, session: Db, scope: Scope, pool: ThreadPoolExecutor,
                 ogs: dict[str, OrgGroupRow | QuinceError]) -> None:
        self.session, self.scope, self.pool, self.ogs = session, scope, pool, ogs

    async def og(self, group_id: str) -> OrgGroupRow:
        key = group_id_key(group_id)
        if key not in self.ogs:
            try:
                self.ogs[key] = await org_groups.get_by_group_id(self.session, self.scope, group_id)
            except NotFound:
                self.ogs[key] = InvalidInput(
                    "group_id", f"No organization group has Group ID {group_id!r}."
                )
        found = self.ogs[key]
        if isinstance(found, QuinceError):
            raise found
        return found

    async def existing(self, rows: Sequence[ImportRow]) -> dict[str, EnrollmentUserRow]:
        keys = [username_key(r.username) for r in rows]
        found = await user_store.users_by_name_keys(self.session, keys)
        return {u.username_key: u for u in found}

    async def write(self, rows: Sequence[ImportRow], report: ImportReport) -> None:
        stored = await self.existing(rows)
        loop = asyncio.get_running_loop()
        # argon2 is deliberately slow and releases the GIL: hash and verify a batch in parallel.
        hashes = await asyncio.gather(*(
            loop.run_in_executor(
                self.pool, _new_hash,
                stored[username_key(r.username)].password_hash
                if username_key(r.username) in stored else None,
                r.password,
            )
            for r in rows
        ))
        for row, new_hash in zip(rows, hashes, strict=True):
            try:
                outcome = await self.write_one(row, stored.get(username_key(row.username)), new_hash)
            except QuinceError as exc:
                report.errors.append(RowError(row.line, row.username, exc.message))
                continue
            setattr(report, outcome, getattr(report, outcome) + 1)

    async def write_one(
        self, row: ImportRow, user: EnrollmentUserRow | None, new_hash: str | None
    ) -> str:
        og = await self.og(row.group_id)
        if user is None:
            try:
                created = await users.add(
                    self.session, self.scope, username=row.username, email=row.email, og_id=og.id,
                    managed_apple_id=row.managed_apple_id, first_name=row.first_name or "",
                    last_name=row.last_name or "", active=True if row.active is None else row.active,
                )
            except Conflict:  # taken since this batch looked (another import, an admin, anyone)
                raise username_unavailable(row.username) from None
            created.password_hash = new_hash
            return "created"
        try:
            user = await users.get(self.session, self.scope, user.id)
        except NotFound:
            raise username_unavailable(row.username) from None
        changes = users.UserChanges(
            username=row.username, email=row.email, managed_apple_id=row.managed_apple_id,
            first_name=row.first_name, last_name=row.last_name, active=row.active, og_id=og.id,
        )
        if not users.differs(user, changes) and new_hash is None:
            return "unchanged"
        user = await users.update(self.session, self.scope, user.id, changes)
        if new_hash is not None:
            user.password_hash = new_hash
        await self.session.flush()
        return "updated"


async def import_users(
    session: Db,
    scope: Scope,
    parsed: ParsedFile,
    *,
    batch_size: int = 500,
    progress: Progress | None = None,
    commit: Callable[[], Awaitable[None]] | None = None,
) -> ImportReport:
    """Write the parsed rows, committing after every `batch_size` rows.

    Unlike other services this one ends its own transactions (through `commit`, by default
    `session.commit`): a 50,000-row file must not be one transaction. A batch the database
    refuses is rolled back and its rows are reported as failed; earlier batches stay.
    """
    scope.require_write()
    report = ImportReport(errors=list(parsed.errors))
    commit = commit or session.commit
    done, total = len(parsed.errors), parsed.total
    ogs: dict[str, OrgGroupRow | QuinceError] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 1))) as pool:
        batch_writer = _Batch(session, scope, pool, ogs)
        for start in range(0, len(parsed.rows), batch_size):
            batch = parsed.rows[start:start + batch_size]
            before = ImportReport(report.created, report.updated, report.unchanged, list(report.errors))
            try:
                await batch_writer.write(batch, report)
                await commit()
            except DatabaseError as exc:
                await session.rollback()
                ogs.clear()
                reason = f"The database refused this batch ({type(exc).__name__}); nothing in it was saved."
                report = before
                report.errors.extend(RowError(r.line, r.username, reason) for r in batch)
            done += len(batch)
            if progress is not None:
                progress(done, total)
    if progress is not None and not parsed.rows:
        progress(done, total)
    report.errors.sort(key=lambda e: e.line)
    return report
