"""The logs page: download a support bundle of the DeviceManagement and DeviceServices logs,
filtered to a user, a device, an enrollment and a time range (what `quince logs collect` makes).

Log lines are not stored per organization group, so only an admin of the whole install (the root
OG) may take a bundle without naming a user, device or enrollment; everyone else must name one
that lies in the chosen OG's subtree, which narrows the lines to their own people and devices.
Reading logs changes nothing, so read-only admins may download too.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from quince.domain.errors import QuinceError
from quince.log_bundles import BadFilter, Filters, Summary, collect, parse_since
from quince.services import log_subjects
from quince.services.devices import records as devices
from quince.services.directory import users
from quince.store.models import DeviceRow, OrgGroupRow
from quince.web.console import pages
from quince.web.console.context import (
    Console,
    ConsoleRoute,
    SignedIn,
    log,
    posted,
    render,
    settings_of,
    text,
)
from quince.web.deps import Db

router = APIRouter(route_class=ConsoleRoute)

LOG_CHOICES = (
    ("all", "Both logs"),
    ("devicemanagement", "DeviceManagement: the enrollment sign-in pages"),
    ("deviceservices", "DeviceServices: the enrollment profile and everything devices do afterwards"),
)
FIELDS = ("log", "user", "device", "enrollment", "since", "until")
MAX_CHARS = 128


@dataclass(frozen=True)
class BundleFilters(Filters):
    """`log_bundles.Filters` with what the console adds: an end time, and a device matched by
    every name the logs give it (its record's UUID, its UDID or Enrollment ID)."""

    until: datetime | None = None
    device_names: tuple[str, ...] = ()

    def matches(self, entry: dict[str, object]) -> bool:
        if self.device_names and not {str(entry.get("device", "")), str(entry.get("udid", ""))} & set(
            self.device_names
        ):
            return False
        if self.until is not None:
            try:
                when = datetime.fromisoformat(str(entry.get("time", "")))
            except ValueError:
                return False
            if (when if when.tzinfo else when.replace(tzinfo=UTC)) > self.until:
                return False
        return super().matches(entry)


@dataclass
class Checked:
    """The form as understood: the filters to apply, or what is wrong with each field."""

    values: dict[str, str]
    whole_install: bool
    errors: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    device_names: tuple[str, ...] = ()
    enrollment: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _where(console: Console) -> str:
    return f"{console.og.name} or below"


def _time(raw: str, label: str, checked: Checked, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        moment = parse_since(raw)
    except BadFilter:
        checked.errors[name] = (
            f"{label}: {raw!r} is neither a date and time like 2026-01-31 09:00 (UTC) nor a "
            "duration ago like 2h, 30m or 1d."
        )
        return None
    except (OverflowError, ValueError):
        checked.errors[name] = f"{label}: {raw!r} is out of range."
        return None
    return moment


async def _device_names(db: Db, console: Console, raw: str) -> tuple[str, ...] | None:
    """The UUID and UDID / Enrollment ID of the device `raw` names in the chosen OG's subtree."""
    try:
        row: DeviceRow | None = await devices.find_by(db, console.here, "Udid", raw)
    except QuinceError:
        row = await log_subjects.device_by_uuid(db, console.here, raw)
    if row is None:
        return None
    return tuple(name for name in (row.uuid, row.udid) if name)


async def _enrollment(db: Db, console: Console, raw: str) -> str | None:
    """The UUID of the enrollment session `raw` names, when its OG is in the chosen subtree."""
    return await log_subjects.enrollment_uuid(db, console.here, raw)


async def _whole_install(db: Db, console: Console) -> bool:
    """True for an admin of the root OG, who may read every line of the logs."""
    top = await db.get(OrgGroupRow, console.scope.og_id)
    return top is not None and top.parent_id is None


async def check(db: Db, console: Console, values: dict[str, str]) -> Checked:
    checked = Checked(values, await _whole_install(db, console))
    if values["log"] not in dict(LOG_CHOICES):
        checked.errors["log"] = "Choose which log to download."
    if values["user"]:
        try:
            checked.user = (await users.get_by_username(db, console.here, values["user"])).username
        except QuinceError:
            checked.errors["user"] = f"There is no user {values['user']!r} in {_where(console)}."
    if values["device"]:
        names = await _device_names(db, console, values["device"])
        if names is None:
            checked.errors["device"] = (
                f"There is no device with UDID, Enrollment ID or UUID {values['device']!r} in "
                f"{_where(console)}."
            )
        else:
            checked.device_names = names
    if values["enrollment"]:
        checked.enrollment = await _enrollment(db, console, values["enrollment"])
        if checked.enrollment is None:
            checked.errors["enrollment"] = (
                f"There is no enrollment {values['enrollment']!r} in {_where(console)}."
            )
    checked.since = _time(values["since"], "From", checked, "since")
    checked.until = _time(values["until"], "Until", checked, "until")
    if checked.since and checked.until and checked.until < checked.since:
        checked.errors["until"] = "Until must not be earlier than From."
    named = values["user"] or values["device"] or values["enrollment"]
    if not named and not checked.whole_install:
        checked.errors["scope"] = (
            f"Name a user, a device or an enrollment in {_where(console)}: logs are not kept per "
            "organization group, so only an admin of the whole install may take them unfiltered."
        )
    return checked


def _page(request: Request, console: Console, values: dict[str, str], whole_install: bool, *,
          errors: dict[str, str] | None = None) -> Response:
    return render(request, console, "logs.html", status=400 if errors else 200, title="Logs",
                  nav="logs", values=values, errors=errors or {}, choices=LOG_CHOICES,
                  whole_install=whole_install)


def _make_bundle(log_dir: Path, which: str, filters: BundleFilters) -> tuple[Path, Summary]:
    """The bundle in a temporary file only Quince's user can read (the response deletes it)."""
    handle, name = tempfile.mkstemp(prefix="quince-logs-", suffix=".zip")
    os.close(handle)
    bundle = Path(name)
    try:
        return bundle, collect(log_dir, which, filters, bundle)
    except BaseException:
        bundle.unlink(missing_ok=True)
        raise


def _values(source: dict[str, str]) -> dict[str, str]:
    values = {name: source.get(name, "").strip()[:MAX_CHARS] for name in FIELDS}
    values["log"] = values["log"] or "all"
    return values


@router.get("/logs")
async def logs_page(request: Request, db: Db, console: SignedIn) -> Response:
    # Other pages may link here with a filter filled in (?user=alice).
    values = _values(dict(request.query_params))
    return _page(request, console, values, await _whole_install(db, console))


@router.post("/logs/bundle")
async def download_bundle(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=len(FIELDS) + 2))],
    db: Db,
    console: SignedIn,
) -> Response:
    values = _values({name: text(form, name, MAX_CHARS) for name in FIELDS})
    checked = await check(db, console, values)
    if checked.errors:
        log(request, "console.logs", "refused", warn=True, admin=console.admin.username,
            problems=sorted(checked.errors))
        return _page(request, console, values, checked.whole_install, errors=checked.errors)
    filters = BundleFilters(user=checked.user, enrollment=checked.enrollment, since=checked.since,
                            until=checked.until, device_names=checked.device_names)
    log_dir = settings_of(request).log_dir
    bundle, summary = await run_in_threadpool(_make_bundle, log_dir, values["log"], filters)
    log(request, "console.logs", "bundle_downloaded", admin=console.admin.username, log=values["log"],
        filter_user=checked.user, filter_device=values["device"] or None,
        filter_enrollment=checked.enrollment, since=checked.since.isoformat() if checked.since else None,
        until=checked.until.isoformat() if checked.until else None, lines=sum(summary.files.values()))
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    response = FileResponse(bundle, media_type="application/zip",
                            filename=f"quince-logs-{values['log']}-{stamp}.zip",
                            background=BackgroundTask(bundle.unlink, missing_ok=True))
    return pages.with_page_headers(response)  # never cached, like every console page
