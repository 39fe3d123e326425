"""Admin sign-in for the console: the API's admin accounts, with the same back-off as the API.

Credentials are checked by quince.services.access.admins.authenticate_admin, which the REST API uses
too: failures count once for both faces (docs/security.md).
"""

from __future__ import annotations

from quince.services.access.admins import Role
from quince.services.scope import Scope
from quince.store.models import AdminRow, OrgGroupRow
from quince.web.deps import Db

WRONG_CREDENTIALS = "The username or password is not correct."


async def scope_of(db: Db, admin: AdminRow) -> Scope:
    """The same scope the API gives this admin: their OG's subtree, read-only for read-only admins."""
    og = await db.get(OrgGroupRow, admin.og_id)
    assert og is not None
    return Scope(og_id=og.id, path=og.path, can_write=admin.role == Role.ADMINISTRATOR.value,
                 actor=f"admin {admin.username!r}")
