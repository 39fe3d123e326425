"""Enrollment users: a user's page, adding and editing users, (de)activating them, and
CSV imports that run in the background while their page shows the progress."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from quince.domain.errors import Conflict, InvalidInput, NotFound, QuinceError
from quince.domain.users import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, USERNAME_MAX_LENGTH
from quince.services.access import passwords
from quince.services.directory import group_links, users
from quince.services.directory.user_import import importer as user_import
from quince.services.directory.user_import import runs as user_import_runs
from quince.services.directory.user_import.importer import ImportFileError
from quince.store.models import (
    EnrollmentUserRow,
    OrgGroupRow,
    UserImportRunRow,
)
from quince.web.console.context import (
    Changer,
    Console,
    ConsoleRoute,
    SignedIn,
    load_console,
    log,
    not_found,
    open_with,
    parse_id,
    posted,
    redirect,
    render,
    settings_of,
    text,
)
from quince.web.deps import Db

router = APIRouter(route_class=ConsoleRoute)

# Cut form fields well past the service's limits, so an over-long value is refused, not shortened.
CUT = 2
# What each form field is called in the services' errors (InvalidInput.field).
FIELDS = {"UserName": "username", "Email": "email", "ManagedAppleId": "managed_apple_id",
          "FirstName": "first_name", "LastName": "last_name", "Password": "password", "og": "og_id"}
NOTICES = {
    "added": "User {name} was added.",
    "updated": "User {name} was saved.",
    "unchanged": "Nothing was changed for user {name}.",
    "deactivated": "User {name} was deactivated: they can no longer sign in to enroll a device. "
                   "Devices already enrolled stay enrolled.",
    "activated": "User {name} was activated: they can sign in to enroll a device again.",
}
EXAMPLE_CSV = (
    "username,email,password,managed_apple_id,first_name,last_name,group_id,active\n"
    "jdoe,jane.doe@example.com,Initial-pass-1,,Jane,Doe,{group_id},true"
)
COLUMN_HELP = {
    "username": "Sign-in name; unique across the install, ignoring case. A row naming an existing "
                "user updates that user.",
    "email": "Email address.",
    "password": "Optional; at least 8 characters. Empty keeps the stored password.",
    "managed_apple_id": "Optional; empty means the email address (for a new user).",
    "first_name": "Optional.",
    "last_name": "Optional.",
    "group_id": "Group ID of the user's organization group: this one or one below it.",
    "active": "Optional: true or false (empty: true for a new user, unchanged otherwise).",
}


def _tasks(request: Request) -> set[asyncio.Task[Any]]:
    """The running import tasks of this app, kept so that they are not garbage-collected."""
    tasks: set[asyncio.Task[Any]] | None = getattr(request.app.state, "user_import_tasks", None)
    if tasks is None:
        tasks = set()
        request.app.state.user_import_tasks = tasks
    return tasks


def og_names(console: Console) -> dict[int, OrgGroupRow]:
    """The OGs the admin may choose, by id (to name a user's OG)."""
    return {row.id: row for row, _ in console.ogs}


def _og_choices(console: Console) -> list[tuple[OrgGroupRow, int]]:
    """The OGs of the chosen OG's subtree, with their depth below it (for the OG select)."""
    base = next((level for row, level in console.ogs if row.id == console.og.id), 0)
    return [(row, level - base) for row, level in console.ogs if row.path.startswith(console.og.path)]


# -- adding and editing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UserForm:
    """What the add and edit forms hold (never the password)."""

    username: str = ""
    email: str = ""
    managed_apple_id: str = ""
    first_name: str = ""
    last_name: str = ""
    og_id: int | None = None
    active: bool = True

    @classmethod
    def of(cls, row: EnrollmentUserRow) -> UserForm:
        return cls(row.username, row.email, row.managed_apple_id, row.first_name, row.last_name,
                   row.og_id, row.active)

    @classmethod
    def read(cls, form: FormData, *, active: bool) -> UserForm:
        return cls(
            text(form, "username", USERNAME_MAX_LENGTH * CUT), text(form, "email", EMAIL_MAX_LENGTH * CUT),
            text(form, "managed_apple_id", EMAIL_MAX_LENGTH * CUT),
            text(form, "first_name", NAME_MAX_LENGTH * CUT), text(form, "last_name", NAME_MAX_LENGTH * CUT),
            parse_id(text(form, "og_id", 16)), active,
        )

    def og(self) -> int:
        if self.og_id is None:
            raise InvalidInput("og", "Choose an organization group.")
        return self.og_id


def _password(form: FormData) -> str | None:
    """The password typed, exactly (spaces are part of it); None when left empty."""
    value = form.get("password", "")
    if not isinstance(value, str) or not value:
        return None
    return value[:passwords.MAX_LENGTH + 1]


def _form_page(request: Request, console: Console, values: UserForm, *, user: EnrollmentUserRow | None,
               status: int = 200, error: QuinceError | None = None) -> Response:
    field = None
    if isinstance(error, InvalidInput):
        field = FIELDS.get(error.field)
    elif isinstance(error, Conflict):
        field = "username"
    title = f"Edit user {user.username}" if user else "Add a user"
    return render(request, console, "user_form.html", status=status, title=title, nav="users",
                  values=values, user=user, og_choices=_og_choices(console),
                  error=error.message if error else None, error_field=field)


def _refusal_status(exc: QuinceError) -> int:
    return 409 if isinstance(exc, Conflict) else 400


@router.get("/users/new")
async def add_form(request: Request, db: Db, console: Changer) -> Response:
    return _form_page(request, console, UserForm(og_id=console.og.id), user=None)


@router.post("/users/new")
async def add_user(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=10))],
    db: Db,
    console: Changer,
) -> Response:
    values = UserForm.read(form, active=form.get("active") == "yes")
    try:
        row = await users.add(
            db, console.here, username=values.username, email=values.email, og_id=values.og(),
            password=_password(form), managed_apple_id=values.managed_apple_id or None,
            first_name=values.first_name, last_name=values.last_name, active=values.active,
        )
    except NotFound:
        return not_found(request, console)
    except QuinceError as exc:
        log(request, "console.users", "add_refused", warn=True, admin=console.admin.username,
            username=values.username, reason=exc.message)
        # add() refuses before it stores anything; nothing to roll back.
        return _form_page(request, console, values, user=None, status=_refusal_status(exc), error=exc)
    await db.commit()
    log(request, "console.users", "added", admin=console.admin.username, user=row.username,
        og=row.og_id)
    return redirect(f"/console/users/{row.id}", console, done="added")


async def _console_and_user(
    console: Console, db: Db, user_ref: str, *, change: bool = False
) -> tuple[Console, EnrollmentUserRow]:
    """The signed-in console and a user of its chosen OG's subtree; else PageNotFound."""
    return console, await open_with(console, user_ref,
                           lambda console, user_id: users.get(db, console.here, user_id), change=change)


def _changes(row: EnrollmentUserRow, values: UserForm, password: str | None) -> users.UserChanges:
    """Only what the form changed: an untouched Managed Apple ID that was the email address
    follows a new email address (the service does that when the field is left out)."""
    apple_id = values.managed_apple_id or values.email
    return users.UserChanges(
        username=values.username if values.username != row.username else None,
        email=values.email if values.email != row.email else None,
        managed_apple_id=apple_id if apple_id != row.managed_apple_id else None,
        first_name=values.first_name if values.first_name != row.first_name else None,
        last_name=values.last_name if values.last_name != row.last_name else None,
        og_id=values.og() if values.og() != row.og_id else None,
        password=password,
    )


@router.get("/users/{user_ref}/edit")
async def edit_form(request: Request, db: Db, console: SignedIn, user_ref: str) -> Response:
    console, row = await _console_and_user(console, db, user_ref, change=True)
    return _form_page(request, console, UserForm.of(row), user=row)


@router.post("/users/{user_ref}/edit")
async def edit_user(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=10))],
    db: Db,
    console: SignedIn,
    user_ref: str,
) -> Response:
    console, row = await _console_and_user(console, db, user_ref, change=True)
    values = UserForm.read(form, active=row.active)
    try:
        changes = _changes(row, values, _password(form))
        if changes == users.UserChanges():
            return redirect(f"/console/users/{row.id}", console, done="unchanged")
        await users.update(db, console.here, row.id, changes)
    except QuinceError as exc:
        # update() may have changed some fields before refusing: drop them all, then reload
        # what the page shows (a rollback expires every loaded row).
        admin = console.admin.username
        await db.rollback()
        log(request, "console.users", "update_refused", warn=True, admin=admin, user=user_ref,
            reason=exc.message)
        console, row = await _console_and_user(await load_console(request, db), db, user_ref)
        if isinstance(exc, NotFound):
            return not_found(request, console)
        return _form_page(request, console, values, user=row, status=_refusal_status(exc), error=exc)
    await db.commit()
    log(request, "console.users", "updated", admin=console.admin.username, user=row.username,
        fields=",".join(k for k, v in vars(changes).items() if v is not None and k != "password")
        + (",password" if changes.password else ""))
    return redirect(f"/console/users/{row.id}", console, done="updated")


async def _set_active(request: Request, db: Db, console: Console, user_ref: str, active: bool) -> Response:
    console, row = await _console_and_user(console, db, user_ref, change=True)
    await users.update(db, console.here, row.id, users.UserChanges(active=active))
    await db.commit()
    outcome = "activated" if active else "deactivated"
    log(request, "console.users", outcome, admin=console.admin.username, user=row.username)
    return redirect(f"/console/users/{row.id}", console, done=outcome)


SmallForm = Annotated[FormData, Depends(posted(max_fields=2))]


@router.post("/users/{user_ref}/deactivate")
async def deactivate(request: Request, form: SmallForm, db: Db, console: SignedIn, user_ref: str) -> Response:
    return await _set_active(request, db, console, user_ref, False)


@router.post("/users/{user_ref}/activate")
async def activate(request: Request, form: SmallForm, db: Db, console: SignedIn, user_ref: str) -> Response:
    return await _set_active(request, db, console, user_ref, True)


# -- importing -------------------------------------------------------------------------------------


async def _import_page(request: Request, db: Db, console: Console, *, status: int = 200,
                       error: str | None = None) -> Response:
    limit = user_import_runs.upload_limit(settings_of(request).console_upload_max_bytes)
    return render(
        request, console, "user_import.html", status=status, title="Import users", nav="users",
        columns=[(name, name in user_import.REQUIRED_COLUMNS, COLUMN_HELP[name])
                 for name in user_import.COLUMNS],
        example=EXAMPLE_CSV.format(group_id=console.og.group_id), limit=user_import_runs.size_text(limit),
        runs=await user_import_runs.recent(db, console.here), status_of=user_import_runs.status_of,
        og_names=og_names(console), error=error,
    )


@router.get("/users/import")
async def import_form(request: Request, db: Db, console: SignedIn) -> Response:
    return await _import_page(request, db, console)


@router.post("/users/import")
async def import_start(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=4, max_files=1))],
    db: Db,
    console: Changer,
) -> Response:
    # Only text fields are held to read_form's part size; the file is spooled to disk and bounded
    # by the app's body limit for this path (settings.console_upload_max_bytes) and the check below.
    settings = settings_of(request)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not (upload.filename or upload.size):
        return await _import_page(request, db, console, status=400,
                                  error="Choose a CSV file to import.")
    limit = user_import_runs.upload_limit(settings.console_upload_max_bytes)
    data = await upload.read(limit + 1)
    try:
        user_import_runs.check_size(len(data), limit)
    except ImportFileError as exc:
        log(request, "console.users", "import_refused", warn=True, admin=console.admin.username,
            reason="too large")
        return await _import_page(request, db, console, status=413, error=exc.message)
    run = await user_import_runs.start(db, console.here, og_id=console.og.id,
                                       started_by=console.admin.username, filename=upload.filename or "")
    await db.commit()
    admin = console.admin.username

    def finished(ended: UserImportRunRow | None) -> None:
        if ended is None:
            log(request, "console.users", "import_lost", warn=True, admin=admin, run=run.id)
            return
        log(request, "console.users", f"import_{ended.status}", warn=ended.status != "finished",
            admin=admin, run=ended.id, created=ended.created_count, updated=ended.updated_count,
            unchanged=ended.unchanged_count, errors=ended.error_count, message=ended.message)

    user_import_runs.launch(_tasks(request), request.app.state.sessionmaker, console.here, run.id, data,
                            batch_size=settings.import_batch_size, on_done=finished)
    log(request, "console.users", "import_started", admin=admin, run=run.id, og=console.og.group_id,
        filename=run.filename, size=len(data))
    return redirect(f"/console/users/import/{run.id}", console)


@router.get("/users/import/{run_ref}")
async def import_run(request: Request, db: Db, console: SignedIn, run_ref: str) -> Response:
    run = await open_with(console, run_ref,
                          lambda console, run_id: user_import_runs.get(db, console.scope, run_id))
    status = user_import_runs.status_of(run)
    return render(
        request, console, "user_import_run.html", title=f"Import #{run.id}", nav="users", run=run,
        run_status=status, active=status in user_import_runs.ACTIVE,
        run_og=og_names(console).get(run.og_id),
        percent=100 * run.done_rows // run.total_rows if run.total_rows else 0,
        interrupted_message=user_import_runs.INTERRUPTED_MESSAGE,
        self_url=f"/console/users/import/{run.id}?og={console.og.id}",
        more_errors=max(0, run.error_count - len(run.errors)),
    )


# -- a user's page ---------------------------------------------------------------------------------


@router.get("/users/{user_ref}")
async def user_detail(request: Request, db: Db, console: SignedIn, user_ref: str) -> Response:
    console, row = await _console_and_user(console, db, user_ref)
    # The user's groups the admin may see: a group can sit above the user's OG.
    groups = await group_links.groups_of_user(db, console.scope, row.id)
    done = request.query_params.get("done", "")
    notice = NOTICES[done].format(name=row.username) if done in NOTICES else None
    return render(
        request, console, "user.html", title=f"User {row.username}", nav="users", user=row,
        user_og=og_names(console).get(row.og_id), groups=groups, og_names=og_names(console),
        top_og=console.scope.og_id, notice=notice,
    )
