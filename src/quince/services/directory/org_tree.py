"""Loading the OG tree and its setting overrides into the pure domain types (`store/org_groups.py`
reads them as columns, so always as stored now)."""

from __future__ import annotations

from quince.domain.og_settings import Override
from quince.domain.org_groups import OrgTree
from quince.store import org_groups as og_store
from quince.store.database import Db


async def load_tree(session: Db) -> OrgTree:
    return await og_store.tree(session)


async def load_overrides(session: Db) -> dict[int, dict[str, Override]]:
    return await og_store.overrides(session)
