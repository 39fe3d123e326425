"""`quince users`: enrollment users, and importing them from CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from quince.cli.runtime import console, emit, fail, plain, print_json, progress_bar, run, settings
from quince.cli.views import (
    GroupIds,
    JsonOption,
    PasswordStdinOption,
    all_pages,
    read_password,
    user_dict,
)
from quince.domain.errors import QuinceError
from quince.services.directory import org_groups, users
from quince.services.directory.user_import import importer as user_import
from quince.services.scope import Scope
from quince.store.database import Db

app = typer.Typer(no_args_is_help=True, help="Enrollment users: the people who enroll devices.")

UserRef = Annotated[str, typer.Argument(help="Username (or numeric id) of the user.")]
PasswordOption = Annotated[str | None, typer.Option(
    "--password", help="Password for web sign-in at enrollment (at least 8 characters)."
)]


def _print_user(data: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None)
    for key in ("UserName", "FirstName", "LastName", "Email", "ManagedAppleId", "Status", "Group",
                "GroupId", "HasPassword", "Id", "Uuid", "CreatedOn", "UpdatedOn"):
        value = data[key]
        if key == "Status":
            value = "active" if value else "inactive"
        table.add_row(f"[bold]{key}[/]", plain(value))
    console.print(table)


async def _show(session: Db, row: Any) -> dict[str, Any]:
    return user_dict(row, await GroupIds.load(session))


@app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Username for sign-in (unique, any case).")],
    email: Annotated[str, typer.Option("--email", help="Email address.")],
    group_id: Annotated[str, typer.Option(
        "--group-id", help="Group ID of the user's enrollment OG (where their devices enroll by default)."
    )],
    password: PasswordOption = None,
    password_stdin: PasswordStdinOption = False,
    managed_apple_id: Annotated[str | None, typer.Option(
        "--managed-apple-id", help="Managed Apple ID (default: the email)."
    )] = None,
    first_name: Annotated[str, typer.Option("--first-name", help="First name.")] = "",
    last_name: Annotated[str, typer.Option("--last-name", help="Last name.")] = "",
    inactive: Annotated[bool, typer.Option("--inactive", help="Create the account inactive.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Add a basic enrollment user."""
    secret = read_password(password, password_stdin, required=False)

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        og = await org_groups.resolve_ref(session, scope, group_id)
        row = await users.add(
            session, scope, username=username, email=email, og_id=og.id, password=secret,
            managed_apple_id=managed_apple_id, first_name=first_name, last_name=last_name,
            active=not inactive,
        )
        return await _show(session, row)

    data = run(work, commit=True)
    if as_json:
        print_json(data)
        return
    console.print(
        f"Added user [bold]{plain(data['UserName'])}[/] at {plain(data['Group'])} "
        f"({plain(data['GroupId'])}), "
        f"managed Apple ID {plain(data['ManagedAppleId'])}"
        + ("" if data["HasPassword"] else "; no password yet, so they cannot sign in") + ".",
        highlight=False,
    )


@app.command("list")
def list_(
    group_id: Annotated[str | None, typer.Option(
        "--group-id", help="Only users whose enrollment OG is this one."
    )] = None,
    search: Annotated[str | None, typer.Option(
        "--search", help="Part of the username, email, managed Apple ID or name."
    )] = None,
    as_json: JsonOption = False,
) -> None:
    """Enrollment users, sorted by username."""

    async def work(session: Db, scope: Scope) -> list[dict[str, Any]]:
        og_id = (await org_groups.resolve_ref(session, scope, group_id)).id if group_id else None
        rows = await all_pages(lambda page: users.search(session, scope, page, og_id=og_id, text=search))
        ids = await GroupIds.load(session)
        return [user_dict(r, ids) for r in rows]

    data = run(work)
    if as_json:
        print_json(data)
        return
    table = Table("Username", "Name", "Email", "Managed Apple ID", "Enrollment OG", "Status")
    for u in data:
        table.add_row(
            plain(u["UserName"]), plain(f"{u['FirstName']} {u['LastName']}".strip()), plain(u["Email"]),
            plain(u["ManagedAppleId"]), plain(u["GroupId"]),
            "active" if u["Status"] else "[yellow]inactive[/]",
        )
    console.print(table)
    console.print(f"{len(data)} user(s).")


@app.command("show")
def show(ref: UserRef, as_json: JsonOption = False) -> None:
    """One enrollment user."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        return await _show(session, await users.resolve_ref(session, scope, ref))

    data = run(work)
    if as_json:
        print_json(data)
    else:
        _print_user(data)


def _change(ref: str, changes: users.UserChanges, as_json: bool, verb: str) -> None:
    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        row = await users.resolve_ref(session, scope, ref)
        return await _show(session, await users.update(session, scope, row.id, changes))

    data = run(work, commit=True)
    emit(data, as_json, f"{verb} user [bold]{plain(data['UserName'])}[/].")


@app.command("update")
def update(
    ref: UserRef,
    username: Annotated[str | None, typer.Option("--username", help="New username.")] = None,
    email: Annotated[str | None, typer.Option(
        "--email", help="New email (a managed Apple ID that equalled the old email follows it)."
    )] = None,
    group_id: Annotated[str | None, typer.Option(
        "--group-id", help="Move the user to this enrollment OG."
    )] = None,
    password: PasswordOption = None,
    password_stdin: PasswordStdinOption = False,
    managed_apple_id: Annotated[str | None, typer.Option(
        "--managed-apple-id", help="New managed Apple ID."
    )] = None,
    first_name: Annotated[str | None, typer.Option("--first-name", help="New first name.")] = None,
    last_name: Annotated[str | None, typer.Option("--last-name", help="New last name.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a user's fields; options not given stay as they are."""
    secret = read_password(password, password_stdin, required=False)

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        row = await users.resolve_ref(session, scope, ref)
        og_id = (await org_groups.resolve_ref(session, scope, group_id)).id if group_id else None
        changes = users.UserChanges(
            username=username, email=email, managed_apple_id=managed_apple_id,
            first_name=first_name, last_name=last_name, password=secret, og_id=og_id,
        )
        return await _show(session, await users.update(session, scope, row.id, changes))

    data = run(work, commit=True)
    emit(data, as_json, f"Updated user [bold]{plain(data['UserName'])}[/].")


@app.command("deactivate")
def deactivate(ref: UserRef, as_json: JsonOption = False) -> None:
    """Make a user inactive: they can no longer enroll devices."""
    _change(ref, users.UserChanges(active=False), as_json, "Deactivated")


@app.command("activate")
def activate(ref: UserRef, as_json: JsonOption = False) -> None:
    """Make an inactive user active again."""
    _change(ref, users.UserChanges(active=True), as_json, "Activated")


@app.command("delete")
def delete(ref: UserRef, as_json: JsonOption = False) -> None:
    """Delete a user who has no device records (otherwise deactivate them)."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        row = await users.resolve_ref(session, scope, ref)
        data = await _show(session, row)
        await users.delete(session, scope, row.id)
        return data

    data = run(work, commit=True)
    emit({"Deleted": data}, as_json, f"Deleted user [bold]{plain(data['UserName'])}[/].")


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(
        help="CSV file with a header: username,email,password,managed_apple_id,first_name,"
        "last_name,group_id,active (username, email and group_id required).",
    )],
    as_json: JsonOption = False,
) -> None:
    """Import users from CSV: new rows are created, changed rows updated, identical rows left alone.

    Bad rows are reported by line number and skipped; the rest is imported in batches (one
    transaction each, QUINCE_IMPORT_BATCH_SIZE rows). Exits 1 when any row failed.
    """
    try:
        parsed = user_import.read_csv(path)
    except QuinceError as exc:
        fail(exc.message)
    batch_size = settings().import_batch_size

    progress = progress_bar("Importing users", quiet=as_json)

    async def work(session: Db, scope: Scope) -> user_import.ImportReport:
        task = progress.add_task("import", total=parsed.total)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        with progress:
            return await user_import.import_users(
                session, scope, parsed, batch_size=batch_size, progress=advance
            )

    report = run(work)
    if as_json:
        print_json({
            "Created": report.created, "Updated": report.updated, "Unchanged": report.unchanged,
            "Failed": report.failed, "Total": report.total,
            "Errors": [{"Line": e.line, "UserName": e.username, "Reason": e.reason} for e in report.errors],
        })
    else:
        console.print(
            f"{report.total} row(s): [green]{report.created} created[/], {report.updated} updated, "
            f"{report.unchanged} unchanged, "
            + (f"[red]{report.failed} failed[/]." if report.failed else "0 failed."),
            highlight=False,
        )
        if report.errors:
            table = Table("Line", "Username", "Reason", title="Rows not imported")
            for e in report.errors:
                table.add_row(str(e.line), plain(e.username or ""), plain(e.reason))
            console.print(table)
    if report.failed:
        raise typer.Exit(1)
