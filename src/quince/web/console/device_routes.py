"""The device list (filters, paging, bulk removal of abandoned placeholders) and a device's page
(commands with their results, apps, raw messages), where a UE-allowed command can be queued."""

from __future__ import annotations

import plistlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from quince.apple.plists import load_plist
from quince.domain.errors import InvalidInput, NotFound, QuinceError, ReadOnly
from quince.services.apps import catalog as apps
from quince.services.devices import cleanup as device_cleanup
from quince.services.devices import records as devices
from quince.services.devices.cleanup import RemovalChanged
from quince.services.enrollment import decision as enrollment_decision
from quince.services.enrollment import device_decision
from quince.services.enrollment import preview as enrollment_preview
from quince.services.mdm import commands
from quince.store.errors import IntegrityError
from quince.store.models import (
    AppRow,
    CommandRow,
    DeviceAppRow,
    DeviceMessageRow,
    DeviceRow,
    EnrollmentSessionRow,
    EnrollmentUserRow,
)
from quince.store.paging import Page, PageRequest
from quince.web.console.context import (
    Changer,
    Console,
    ConsoleRoute,
    SignedIn,
    load_console,
    log,
    open_with,
    parse_id,
    parse_page,
    posted,
    query,
    read_only,
    redirect,
    render,
    text,
)
from quince.web.deps import Db

router = APIRouter(route_class=ConsoleRoute)

PAGE_SIZE = 50
# Commands, apps and raw messages on a device's page: the latest ones, with a note when cut.
DETAIL_LIMIT = 50
# A raw plist is shown up to this many characters (with a note when cut).
RAW_LIMIT = 64 * 1024
# A binary plist larger than this is not converted to XML for display.
BINARY_LIMIT = 1024 * 1024
# The commands a user-enrolled device accepts too, offered on every device's page.
QUEUEABLE = (
    "DeviceInformation", "ProfileList", "CertificateList", "SecurityInfo",
    "InstalledApplicationList", "ManagedApplicationList",
)
STATUSES = ("Enrolled", "EnrollmentInProgress", "Unenrolled")
OWNERSHIPS = (("C", "Corporate - Dedicated"), ("E", "Employee Owned"), ("S", "Corporate - Shared"),
              ("Undefined", "Undefined"))
SORTS = (("id", "ID"), ("devicereportedname", "Name"), ("udid", "UDID / Enrollment ID"),
         ("enrollmentstatus", "Status"), ("model", "Model"), ("lastseen", "Last seen"))
LAST_SEEN = tuple((choice.value, choice.label) for choice in devices.LastSeen)
# The list's filters, carried by sort links, the pager and the jump-to-page form.
LIST_PARAMS = ("og", "status", "ownership", "user", "ue", "abandoned", "seen", "q", "sort", "dir")
APP_KINDS = {"purchased": "Apps and Books", "public": "Public", "in_house": "In-house"}
LICENCES = {"user": "User-based", "device": "Device-based"}
CHANNELS = {"checkin": "Check-in", "connect": "Command answer"}
# Keys of a command answer that every answer carries: not "what the device answered".
_ENVELOPE_KEYS = frozenset({
    "Status", "CommandUUID", "UDID", "EnrollmentID", "EnrollmentUserID", "UserID", "UserShortName",
    "UserLongName", "ErrorChain",
})


# --- the device list ----------------------------------------------------------------------------


@router.get("/devices")
async def device_list(request: Request, db: Db, console: SignedIn) -> Response:
    removed = request.query_params.get("removed", "")
    notice = None
    if removed.isascii() and removed.isdigit() and len(removed) < 10:
        count = int(removed)
        notice = f"Removed {count} abandoned placeholder{'' if count == 1 else 's'}."
    return await _list_page(request, db, console, notice=notice)


@dataclass(frozen=True)
class ListItem:
    device: DeviceRow
    name: str
    user: str
    og: str
    ownership: str
    successor: DeviceRow | None


def _list_item(row: DeviceRow, related: devices.Related) -> ListItem:
    user = related.users.get(row.enrollment_user_id) if row.enrollment_user_id is not None else None
    og = related.ogs.get(row.og_id)
    successor = (related.successors.get(row.superseded_by_device_id)
                 if row.superseded_by_device_id is not None else None)
    return ListItem(row, devices.friendly_name(row, user.username if user else None),
                    user.username if user else "", og.name if og else "",
                    dict(OWNERSHIPS).get(devices.effective_ownership(row), devices.effective_ownership(row)),
                    successor)


def _jump_target(raw: str | None) -> int | None:
    """The 1-based page a person typed into "Jump to page"; None when they typed none; 0 when it
    is not a page number at all."""
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 7 else 0


async def _list_page(
    request: Request, db: Db, console: Console, *, status: int = 200,
    notice: str | None = None, cleanup_days: str = str(device_cleanup.DEFAULT_DAYS),
    cleanup_error: str | None = None,
) -> Response:
    """The device list for the request's query, with the removal form as given."""
    q = request.query_params
    params = {name: q.get(name, "").strip()[:128] for name in LIST_PARAMS}
    params["og"] = str(console.og.id)
    sort = params["sort"] if params["sort"] in dict(SORTS) else "id"
    descending = params["dir"] == "desc"
    page_number = parse_page(q.get("page"))
    jump_raw = q.get("goto", "")[:16]
    jump = _jump_target(jump_raw)
    if jump is not None:
        page_number = max(jump - 1, 0)
    error: str | None = None
    jump_error: str | None = None
    rows: list[DeviceRow] = []
    total = 0
    try:
        if params["q"]:
            try:
                rows = [await devices.find_by(db, console.here, "Udid", params["q"])]
            except NotFound:
                rows = []
            total = len(rows)
            page_number = 0
        else:
            last_seen = devices.LastSeen.parse(params["seen"]) if params["seen"] else None

            async def search(number: int) -> Page[DeviceRow]:
                return await devices.search(
                    db, console.here, PageRequest(number, PAGE_SIZE),
                    user=params["user"] or None, ownership=params["ownership"] or None,
                    enrollment_status=params["status"] or None,
                    user_enrolled={"yes": True, "no": False}.get(params["ue"]),
                    abandoned={"yes": True, "no": False}.get(params["abandoned"]),
                    last_seen=last_seen, order_by=sort, descending=descending,
                )

            found = await search(page_number)
            pages = max(1, -(-found.total // PAGE_SIZE))
            if jump is not None and not 1 <= jump <= pages:
                jump_error = (f"There is no page {jump_raw.strip()!r}: enter a page number from 1 to "
                              f"{pages}.")
                page_number = 0 if jump == 0 else pages - 1
                found = await search(page_number)
            rows, total = list(found.items), found.total
    except InvalidInput as exc:
        error = exc.message
    pages = max(1, -(-total // PAGE_SIZE))
    related = await devices.related(db, console.scope, rows)
    items = [_list_item(row, related) for row in rows]
    bad = error is not None or jump_error is not None
    return render(
        request, console, "devices.html", status=400 if bad and status == 200 else status,
        title="Devices", nav="devices", items=items, total=total, page=page_number, pages=pages,
        params=params, sort=sort, descending=descending, sorts=SORTS, statuses=STATUSES,
        ownerships=OWNERSHIPS, last_seen=LAST_SEEN, error=error, notice=notice,
        jump_error=jump_error, jump_value=jump_raw.strip() if jump_error else str(page_number + 1),
        carried=[(name, value) for name, value in params.items() if value],
        cleanup_days=cleanup_days, cleanup_error=cleanup_error, min_days=device_cleanup.MIN_DAYS,
        max_days=device_cleanup.MAX_DAYS, query=lambda **changes: query(params, **changes),
    )


# --- removing abandoned placeholders ----------------------------------------------------------


@router.get("/devices/abandoned/preview")
async def abandoned_preview_address(request: Request, db: Db, console: SignedIn) -> Response:
    """The preview is a POST; typed into the address bar it leads back to the list."""
    return redirect("/console/devices", console)


@router.post("/devices/abandoned/preview")
async def abandoned_preview(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=4))],
    db: Db,
    console: Changer,
) -> Response:
    raw_days = text(form, "days", 16)
    try:
        days = device_cleanup.parse_days(raw_days)
    except InvalidInput as exc:
        log(request, "console.devices", "abandoned_refused", warn=True, admin=console.admin.username,
            og=console.og.id, reason="bad_days")
        return await _list_page(request, db, console, status=400, cleanup_days=raw_days,
                                cleanup_error=exc.message)
    preview = await device_cleanup.preview(db, console.here, days)
    return await _preview_page(request, db, console, preview)


async def _preview_page(request: Request, db: Db, console: Console,
                        preview: device_cleanup.Preview, *, status: int = 200,
                        error: str | None = None) -> Response:
    related = await devices.related(db, console.scope, preview.sample)
    return render(
        request, console, "device_abandoned.html", status=status, title="Remove abandoned placeholders",
        nav="devices", preview=preview, sample=[_list_item(row, related) for row in preview.sample],
        error=error,
    )


@router.post("/devices/abandoned/remove")
async def abandoned_remove(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=4))],
    db: Db,
    console: Changer,
) -> Response:
    raw_days, raw_count = text(form, "days", 16), text(form, "count", 16)
    try:
        days = device_cleanup.parse_days(raw_days)
        if not raw_count.isascii() or not raw_count.isdigit() or len(raw_count) > 9:
            raise InvalidInput("count", "The confirmation does not say how many placeholders to "
                                        "remove: review the removal again.")
    except InvalidInput as exc:
        log(request, "console.devices", "abandoned_refused", warn=True, admin=console.admin.username,
            og=console.og.id, reason="bad_input")
        return await _list_page(request, db, console, status=400, cleanup_days=raw_days,
                                cleanup_error=exc.message)
    expected = int(raw_count)
    try:
        removed = await device_cleanup.remove(db, console.here, days, expected=expected)
    except ReadOnly:
        return read_only(request, console)
    except (RemovalChanged, IntegrityError) as exc:
        # Nothing is kept of a refused removal. A rollback expires what the session loaded,
        # the signed-in admin included: load the console again for the page.
        await db.rollback()
        console = await load_console(request, db)
        if isinstance(exc, RemovalChanged):
            log(request, "console.devices", "abandoned_changed", warn=True,
                admin=console.admin.username, og=console.og.id, days=days, confirmed=exc.confirmed,
                now=exc.now)
            message = exc.message
        else:  # something new refers to one of them (a table this removal does not know)
            log(request, "console.devices", "abandoned_refused", warn=True,
                admin=console.admin.username, og=console.og.id, days=days, reason="integrity")
            message = "Nothing was removed: other records still refer to some of these placeholders."
        preview = await device_cleanup.preview(db, console.here, days)
        return await _preview_page(request, db, console, preview, status=409, error=message)
    await db.commit()
    held = removed.holdings
    log(request, "console.devices", "abandoned_removed", admin=console.admin.username,
        og=console.og.id, days=days, removed=removed.count, sessions=held.sessions,
        certificates=held.certificates, commands=held.commands, messages=held.messages,
        apps=held.apps)
    return redirect("/console/devices", console, removed=removed.count)


# --- a device's page -------------------------------------------------------------------------


@dataclass(frozen=True)
class RawPlist:
    """A stored plist as a person can read it: XML text, cut at RAW_LIMIT characters."""

    text: str
    size: int
    """Bytes stored."""
    cut: bool
    binary: bool
    """Stored as a binary plist (shown converted to XML when `readable`)."""
    readable: bool


def raw_plist(raw: bytes | None) -> RawPlist | None:
    """What to show of a stored plist (XML as stored; a binary plist converted to XML)."""
    if raw is None:
        return None
    data = bytes(raw)
    binary = data.startswith(b"bplist")
    if binary:
        if len(data) > BINARY_LIMIT:
            return RawPlist("", len(data), False, True, False)
        try:
            data = plistlib.dumps(load_plist(data, ValueError), fmt=plistlib.FMT_XML, sort_keys=False)
        # Whatever the device stored, a page must still render: plistlib raises many types.
        except Exception:
            return RawPlist("", len(raw), False, True, False)
    shown = data.decode("utf-8", errors="replace")
    return RawPlist(shown[:RAW_LIMIT], len(raw), len(shown) > RAW_LIMIT, binary, True)


@dataclass(frozen=True)
class ChainEntry:
    domain: str
    code: str
    description: str
    english: str
    """The US English description, when it differs from the localized one."""


@dataclass(frozen=True)
class CommandView:
    row: CommandRow
    answer_keys: list[str]
    errors: list[ChainEntry]
    raw: RawPlist | None


def _fields(raw: bytes | None) -> Mapping[str, Any]:
    if not raw or len(raw) > BINARY_LIMIT:
        return {}
    try:
        value = load_plist(bytes(raw), ValueError)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _chain(entries: object) -> list[ChainEntry]:
    out = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        localized = str(entry.get("LocalizedDescription") or "")
        english = str(entry.get("USEnglishDescription") or "")
        code = entry.get("ErrorCode")
        out.append(ChainEntry(str(entry.get("ErrorDomain") or ""), "" if code is None else str(code),
                              localized or english, english if localized and english != localized else ""))
    return out


def _command_view(row: CommandRow) -> CommandView:
    fields = _fields(row.result_raw)
    keys = sorted(k for k in fields if k not in _ENVELOPE_KEYS) if row.status == "Acknowledged" else []
    chain = row.error_chain if row.error_chain is not None else fields.get("ErrorChain")
    return CommandView(row, keys, _chain(chain), raw_plist(row.result_raw))


@dataclass(frozen=True)
class MessageView:
    row: DeviceMessageRow
    channel: str
    raw: RawPlist


async def _trace_as_seen(db: Db, console: Console, decision: EnrollmentSessionRow | None,
                         user: EnrollmentUserRow | None) -> list[str]:
    """The stored decision trace with the organization groups and user groups of other tenants
    replaced, as the enrollment preview shows it (a matching mapping may point anywhere)."""
    if decision is None:
        return []
    groups = {m.user_group_id: m.user_group_name
              for m in await enrollment_decision.mappings_for(db, user.id)} if user else {}
    seen = await enrollment_preview.visibility(db, console.scope, groups)
    redact = seen.redactor("\n".join(decision.decision_trace), keep=[repr(user.username)] if user else [])
    return [redact(line) for line in decision.decision_trace]


async def _device_page(request: Request, db: Db, console: Console, device: DeviceRow, *,
                       status: int = 200, error: str | None = None, notice: str | None = None) -> Response:
    related = await devices.related(db, console.scope, [device])
    item = _list_item(device, related)
    user: EnrollmentUserRow | None = related.users.get(device.enrollment_user_id) \
        if device.enrollment_user_id is not None else None
    decision = await device_decision.for_device(db, device.id)
    trace = await _trace_as_seen(db, console, decision, user)
    latest = PageRequest(0, DETAIL_LIMIT)
    history = await devices.command_history(db, console.scope, device.id, latest)
    device_apps: Page[tuple[DeviceAppRow, AppRow]] = await apps.device_apps(
        db, console.scope, device.id, latest)
    messages = await devices.messages(db, console.scope, device.id, latest)
    return render(
        request, console, "device.html", status=status, title=f"Device {device.id}", nav="devices",
        item=item, device=device, user=user, properties=devices.extended_properties(device),
        decision=decision, trace=trace, history=history,
        command_views=[_command_view(c) for c in history.items],
        device_apps=device_apps, app_kinds=APP_KINDS, licences=LICENCES, messages=messages,
        message_views=[MessageView(m, CHANNELS.get(m.channel, m.channel), raw_plist(m.raw) or
                                   RawPlist("", 0, False, False, True)) for m in messages.items],
        detail_limit=DETAIL_LIMIT, raw_limit=RAW_LIMIT, queueable=QUEUEABLE, error=error, notice=notice,
    )


async def _console_and_device(
    console: Console, db: Db, device_ref: str, *, change: bool = False
) -> tuple[Console, DeviceRow]:
    """The signed-in console and a device of its chosen OG; else PageNotFound."""
    return console, await open_with(console, device_ref,
                           lambda console, device_id: devices.get(db, console.here, device_id), change=change)


@router.get("/devices/{device_ref}")
async def device_detail(request: Request, db: Db, console: SignedIn, device_ref: str) -> Response:
    console, device = await _console_and_device(console, db, device_ref)
    queued = parse_id(request.query_params.get("queued"))
    notice = f"Command {queued} was queued." if queued else None
    return await _device_page(request, db, console, device, notice=notice)


@router.post("/devices/{device_ref}/commands")
async def queue_command(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=4))],
    db: Db,
    console: SignedIn,
    device_ref: str,
) -> Response:
    console, device = await _console_and_device(console, db, device_ref, change=True)
    request_type = text(form, "request_type", 64)
    try:
        if not request_type:
            raise InvalidInput("request_type", "Choose a command to queue.")
        row = await commands.queue(db, console.scope, device.id, request_type, {},
                                   queued_by=console.actor)
    # queue() refuses before it adds anything, so there is nothing to roll back here.
    except QuinceError as exc:
        log(request, "console.command", "refused", warn=True, admin=console.admin.username,
            device=device.uuid, request_type=request_type)
        return await _device_page(request, db, console, device, status=409, error=exc.message)
    await db.commit()
    log(request, "console.command", "queued", admin=console.admin.username, device=device.uuid,
        request_type=row.request_type)
    return redirect(f"/console/devices/{device.id}", console, queued=row.id)
