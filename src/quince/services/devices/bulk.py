"""Actions on a selection of device records, as the console's device list sends them: Query,
Sync, Enterprise Wipe and Delete record, each device on its own (one that cannot take the action
is a failure with its reason; the others go ahead). Does not commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from quince.domain.devices import EnrollmentStatus, still_managed
from quince.domain.errors import InvalidInput, QuinceError
from quince.services.devices import deletion
from quince.services.mdm import enterprise_wipe, ws1_commands
from quince.services.scope import Scope
from quince.store import device_search
from quince.store.database import Db
from quince.store.models import DeviceRow

MAX_SELECTION = 500
"""The most devices one bulk action takes."""


class BulkAction(StrEnum):
    QUERY = "query"
    SYNC = "sync"
    WIPE = "wipe"
    DELETE = "delete"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def destructive(self) -> bool:
        """Confirmed on a page listing each device before anything happens."""
        return self in (BulkAction.WIPE, BulkAction.DELETE)


_LABELS = {BulkAction.QUERY: "Query", BulkAction.SYNC: "Sync", BulkAction.WIPE: "Enterprise Wipe",
           BulkAction.DELETE: "Delete record"}
# What Query and Sync queue: Workspace ONE's command names (services/mdm/ws1_commands.py).
_WS1_NAMES = {BulkAction.QUERY: "DeviceInformation", BulkAction.SYNC: "SyncDevice"}


class Failure(StrEnum):
    """Why a selected device did not take the action."""

    NOT_FOUND = "not-found"
    NOT_ENROLLED = "not-enrolled"
    STILL_MANAGED = "still-managed"
    REFUSED = "refused"

    @property
    def reason(self) -> str:
        return _REASONS[self]


_REASONS = {Failure.NOT_FOUND: "not found", Failure.NOT_ENROLLED: "not enrolled",
            Failure.STILL_MANAGED: "still managed: wipe first", Failure.REFUSED: "refused"}


@dataclass(frozen=True)
class Outcome:
    done: int
    failures: list[tuple[int, Failure]] = field(default_factory=list)


def require_selection(device_ids: Sequence[int]) -> None:
    """InvalidInput for an empty selection or one past MAX_SELECTION."""
    if not device_ids:
        raise InvalidInput("device", "Select at least one device.")
    if len(device_ids) > MAX_SELECTION:
        raise InvalidInput("device", f"Select at most {MAX_SELECTION} devices at a time "
                                     f"({len(device_ids)} were selected): nothing was done.")


async def selected(db: Db, scope: Scope, device_ids: Sequence[int]) -> list[DeviceRow]:
    """The selected devices inside the scope, in the order given (others are left out)."""
    found = await device_search.devices_in_subtree_by_id(db, scope.path, device_ids)
    return [found[i] for i in dict.fromkeys(device_ids) if i in found]


def refusal(action: BulkAction, device: DeviceRow) -> Failure | None:
    """Why this device cannot take the action, seen from its record; None when it can."""
    if action is BulkAction.DELETE:
        return Failure.STILL_MANAGED if still_managed(device.enrollment_status) else None
    allowed = {EnrollmentStatus.ENROLLED.value}
    if action is BulkAction.WIPE:
        allowed.add(EnrollmentStatus.ENTERPRISE_WIPE_PENDING.value)  # asked again: pushed again
    return None if device.enrollment_status in allowed else Failure.NOT_ENROLLED


async def apply(db: Db, scope: Scope, action: BulkAction, device_ids: Sequence[int], *,
                actor: str) -> Outcome:
    """The action for each selected device. A command refused for one device queues nothing for
    it. A record that became managed while it was being deleted raises StillManaged: the caller
    rolls back, and nothing is deleted."""
    scope.require_write()
    require_selection(device_ids)
    found = await device_search.devices_in_subtree_by_id(db, scope.path, device_ids)
    # Each refusal is read before anything happens: deleting a record forgets the loaded rows.
    plan = [(device_id, Failure.NOT_FOUND if device_id not in found else refusal(action, found[device_id]))
            for device_id in dict.fromkeys(device_ids)]
    done, failures = 0, []
    for device_id, failure in plan:
        if failure is None:
            failure = await _one(db, scope, action, device_id, actor)
        if failure is None:
            done += 1
        else:
            failures.append((device_id, failure))
    return Outcome(done, failures)


async def _one(db: Db, scope: Scope, action: BulkAction, device_id: int, actor: str) -> Failure | None:
    if action is BulkAction.DELETE:
        await deletion.delete_record(db, scope, device_id)
        return None
    try:
        if action is BulkAction.WIPE:
            await enterprise_wipe.enterprise_wipe(db, scope, device_id, actor=actor)
        else:
            await ws1_commands.send(db, scope, device_id, _WS1_NAMES[action], actor=actor)
    except QuinceError:  # refused before anything was queued for it
        return Failure.REFUSED
    return None
