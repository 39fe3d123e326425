"""How a device reads on the console's pages: a row of the device list (with its user, OG,
ownership and successor), a stored plist as text, a command's answer and a raw message."""

from __future__ import annotations

import plistlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from quince.apple.plists import load_plist
from quince.domain.apple_models import marketing_name
from quince.services.devices import bulk
from quince.services.devices import records as devices
from quince.store.models import CommandRow, DeviceMessageRow, DeviceRow
from quince.web.console.context import Console, parse_id
from quince.web.deps import Db

# A raw plist is shown up to this many characters (with a note when cut).
RAW_LIMIT = 64 * 1024
# A binary plist larger than this is not converted to XML for display.
BINARY_LIMIT = 1024 * 1024
OWNERSHIPS = (("C", "Corporate - Dedicated"), ("E", "Employee Owned"), ("S", "Corporate - Shared"),
              ("Undefined", "Undefined"))
# Keys of a command answer that every answer carries: not "what the device answered".
_ENVELOPE_KEYS = frozenset({
    "Status", "CommandUUID", "UDID", "EnrollmentID", "EnrollmentUserID", "UserID", "UserShortName",
    "UserLongName", "ErrorChain",
})


@dataclass(frozen=True)
class ListItem:
    device: DeviceRow
    name: str
    user: str
    og: str
    ownership: str
    successor: DeviceRow | None
    model: str
    """The model's marketing name ("iPhone 15 Pro"), or '' when the identifier is not known."""


def list_item(row: DeviceRow, related: devices.Related) -> ListItem:
    user = related.users.get(row.enrollment_user_id) if row.enrollment_user_id is not None else None
    og = related.ogs.get(row.og_id)
    successor = (related.successors.get(row.superseded_by_device_id)
                 if row.superseded_by_device_id is not None else None)
    return ListItem(row, devices.friendly_name(row, user.username if user else None),
                    user.username if user else "", og.name if og else "",
                    dict(OWNERSHIPS).get(devices.effective_ownership(row), devices.effective_ownership(row)),
                    successor, marketing_name(row.product_name) or "")


@dataclass(frozen=True)
class BulkNotice:
    """What a bulk action did, as the device list tells it after the redirect."""

    text: str
    failures: list[tuple[str, str]]
    """Each device that did not take it (#id and name) with the reason."""


def bulk_query(outcome: bulk.Outcome, action: bulk.BulkAction) -> dict[str, str | int]:
    """The redirect's query parameters telling what a bulk action did (read by `bulk_notice`)."""
    return {"done": action.value, "count": outcome.done,
            "failed": ",".join(f"{device_id}:{failure.value}" for device_id, failure in outcome.failures)}


async def bulk_notice(request: Request, db: Db, console: Console) -> BulkNotice | None:
    """The notice for `?done=<action>&count=N&failed=<id>:<reason>,...`; None without one."""
    q = request.query_params
    try:
        action = bulk.BulkAction(q.get("done", ""))
    except ValueError:
        return None
    count = parse_id(q.get("count")) or 0
    failed: list[tuple[int, bulk.Failure]] = []
    for part in q.get("failed", "").split(",")[:bulk.MAX_SELECTION]:
        raw_id, _, raw_reason = part.partition(":")
        device_id = parse_id(raw_id)
        if device_id is not None and raw_reason in {f.value for f in bulk.Failure}:
            failed.append((device_id, bulk.Failure(raw_reason)))
    rows = {row.id: row for row in await bulk.selected(db, console.here, [i for i, _ in failed])}
    related = await devices.related(db, console.scope, list(rows.values()))
    devices_done = f"{count} device{'' if count == 1 else 's'}"
    text = (f"Deleted the records of {devices_done}." if action is bulk.BulkAction.DELETE
            else f"{action.label} queued for {devices_done}.")
    if failed:
        text += f" Not done for {len(failed)}:"
    return BulkNotice(text, [
        (f"#{i} {list_item(rows[i], related).name}" if i in rows else f"#{i}", failure.reason)
        for i, failure in failed])


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


def command_view(row: CommandRow) -> CommandView:
    fields = _fields(row.result_raw)
    keys = sorted(k for k in fields if k not in _ENVELOPE_KEYS) if row.status == "Acknowledged" else []
    chain = row.error_chain if row.error_chain is not None else fields.get("ErrorChain")
    return CommandView(row, keys, _chain(chain), raw_plist(row.result_raw))


@dataclass(frozen=True)
class MessageView:
    row: DeviceMessageRow
    channel: str
    raw: RawPlist

