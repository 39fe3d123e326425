"""Names several enrollment users share: what `quince doctor` reports on an install upgraded from
a version that let two users (possibly of two tenants) have the same email or managed Apple ID.

Since migration 0010 every sign-in name belongs to one user (`sign_in_names`); a name that was
shared before stays with the user sign-in found then, or with nobody when the old lookup found
several. Such names are listed here so the operator can give each person a name of their own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from quince.domain.errors import OutOfScope
from quince.domain.org_groups import OGType
from quince.domain.users import sign_in_name_key
from quince.services.scope import Scope, operator_scope
from quince.store import org_groups as og_store
from quince.store import sign_in as sign_in_store
from quince.store import users as user_store
from quince.store.database import Db
from quince.store.models import OrgGroupRow


@dataclass(frozen=True)
class Holder:
    user_id: int
    username: str
    field: str
    """Which of the user's fields holds the name: UserName, Email or ManagedAppleId."""
    group_id: str
    tenant: str
    """The Group ID of the user's Customer OG (the tenant), or of the root."""


@dataclass(frozen=True)
class SharedName:
    name: str
    holders: tuple[Holder, ...]
    signs_in: int | None
    """The user id the name signs in today, or None: nobody (sign-in refuses it)."""


async def shared_names(session: Db, scope: Scope) -> list[SharedName]:
    """Every sign-in name two or more users hold, in name order. Install-wide: root only."""
    if scope.og_id != (await operator_scope(session)).og_id:
        raise OutOfScope("Sign-in names span every tenant: only the whole install's operator sees them.")
    ogs = {og.id: og for og in await og_store.all_ogs(session)}
    holders: dict[str, list[Holder]] = defaultdict(list)
    for user in await user_store.all_users(session):
        seen: set[str] = set()
        for field, value in (("UserName", user.username), ("Email", user.email),
                             ("ManagedAppleId", user.managed_apple_id)):
            key = sign_in_name_key(value)
            if key and key not in seen:
                seen.add(key)
                og = ogs[user.og_id]
                holders[key].append(Holder(user.id, user.username, field, og.group_id,
                                           _tenant_of(og, ogs).group_id))
    shared = {key: found for key, found in holders.items() if len(found) > 1}
    owners = await sign_in_store.owners_of_names(session, shared)
    return [SharedName(key, tuple(shared[key]), owners.get(key)) for key in sorted(shared)]


def _tenant_of(og: OrgGroupRow, ogs: dict[int, OrgGroupRow]) -> OrgGroupRow:
    """The nearest Customer OG at or above `og`, else the top of its tree."""
    ids = [int(part) for part in og.path.strip("/").split("/") if part]
    chain = [ogs[i] for i in ids if i in ogs]
    return next((o for o in reversed(chain) if o.type == OGType.CUSTOMER), chain[0] if chain else og)
