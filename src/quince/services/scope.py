"""Who is asking: the OG subtree a caller may see and whether it may change things."""

from __future__ import annotations

from dataclasses import dataclass

from quince.domain.errors import NotFound, ReadOnly
from quince.store import org_groups as og_store
from quince.store.database import Db
from quince.store.org_groups import SubtreeIds


@dataclass(frozen=True)
class Scope:
    og_id: int
    path: str
    can_write: bool
    actor: str

    def covers(self, path: str) -> bool:
        """True when an OG with this materialized path lies in the caller's subtree."""
        return path.startswith(self.path)

    def og_ids(self) -> SubtreeIds:
        """The ids of the OGs in the caller's subtree, for `column.in_(scope.og_ids())` filters."""
        return og_store.og_ids_within(self.path)

    def require_write(self) -> None:
        if not self.can_write:
            raise ReadOnly(f"{self.actor} has a read-only role and cannot change anything.")


async def operator_scope(session: Db, actor: str = "local operator") -> Scope:
    """The whole install, writable: for the CLI, run by whoever holds the server's var/ dir."""
    root = await og_store.root(session)
    if root is None:
        raise NotFound("Organization group", "Global")
    return Scope(og_id=root.id, path=root.path, can_write=True, actor=actor)
