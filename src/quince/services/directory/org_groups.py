"""Organization groups: create, read, search, rename, move and delete, within a caller's scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from quince.config import Settings
from quince.domain.errors import (
    Conflict,
    GroupIdTaken,
    InvalidInContext,
    InvalidInput,
    NotFound,
    OrgGroupNotEmpty,
)
from quince.domain.og_settings import SETTINGS, Override, overrides_for_new_child
from quince.domain.org_groups import (
    ROOT_GROUP_ID,
    OGType,
    check_placement,
    group_id_key,
    validate_group_id,
    validate_og_name,
)
from quince.services.directory.org_tree import load_overrides, load_tree
from quince.services.scope import Scope
from quince.store import concurrency
from quince.store import og_settings as setting_store
from quince.store import org_groups as og_store
from quince.store.database import Db
from quince.store.models import OrgGroupRow
from quince.store.paging import Page, PageRequest

OrderBy = Literal["id", "name", "groupid", "type", "createdon"]
ORDER_BY: tuple[str, ...] = tuple(og_store.ORDER_COLUMNS)
"""The `orderby` keys a search takes (any case)."""


@dataclass(frozen=True)
class OGCounts:
    users: int = 0
    admins: int = 0
    devices: int = 0


async def ensure_root(session: Db) -> OrgGroupRow:
    """Create the Global root OG holding every setting's default, if it is not there yet."""
    root = await og_store.root(session)
    if root is not None:
        return root
    root = OrgGroupRow(
        name="Global", group_id=ROOT_GROUP_ID, group_id_key=group_id_key(ROOT_GROUP_ID),
        type=OGType.GLOBAL.value, parent_id=None, path="/",
    )
    session.add(root)
    await session.flush()
    root.path = f"/{root.id}/"
    setting_store.add_new(session, root.id, {key: Override(d.default) for key, d in SETTINGS.items()})
    await session.flush()
    return root


async def get(session: Db, scope: Scope, og_id: int) -> OrgGroupRow:
    """The OG with this id; NotFound if it does not exist or lies outside the scope."""
    row = await session.get(OrgGroupRow, og_id)
    if row is None or not scope.covers(row.path):
        raise NotFound("Organization group", og_id)
    return row


async def get_by_group_id(session: Db, scope: Scope, group_id: str) -> OrgGroupRow:
    row = await og_store.by_group_id_key(session, group_id_key(group_id))
    if row is None or not scope.covers(row.path):
        raise NotFound("Organization group with Group ID", group_id)
    return row


async def get_by_uuid(session: Db, scope: Scope, uuid: str) -> OrgGroupRow:
    row = await og_store.by_uuid(session, uuid)
    if row is None or not scope.covers(row.path):
        raise NotFound("Organization group", uuid)
    return row


async def resolve_ref(session: Db, scope: Scope, ref: str | int) -> OrgGroupRow:
    """An OG named by numeric id or by Group ID (what people type at the CLI)."""
    if isinstance(ref, int) or ref.isdigit():
        try:
            return await get(session, scope, int(ref))
        except NotFound:
            if isinstance(ref, int):
                raise
    return await get_by_group_id(session, scope, str(ref))


async def search(
    session: Db,
    scope: Scope,
    page: PageRequest,
    *,
    name: str | None = None,
    og_type: str | None = None,
    group_id: str | None = None,
    order_by: str = "name",
    descending: bool = False,
) -> Page[OrgGroupRow]:
    """OGs in scope: `name` matches part of the name, `group_id` is exact (any case)."""
    column = og_store.ORDER_COLUMNS.get(order_by.lower())
    if column is None:
        raise InvalidInput("orderby", f"orderby must be one of {', '.join(og_store.ORDER_COLUMNS)}.")
    return await og_store.search(
        session, scope.path, page, name=name, og_type=og_type,
        group_id_key=group_id_key(group_id) if group_id else None,
        order_column=column, descending=descending,
    )


async def counts(session: Db, og_ids: list[int]) -> dict[int, OGCounts]:
    """How many users, admins and devices sit directly at each OG."""
    found = await og_store.counts_at(session, og_ids)
    return {i: OGCounts(**c) for i, c in found.items()}


async def _check_group_id_free(
    session: Db, scope: Scope, group_id: str, own_id: int | None
) -> None:
    holder = await og_store.by_group_id_key(session, group_id_key(group_id))
    if holder is not None and holder.id != own_id:
        raise GroupIdTaken(group_id, holder.name if scope.covers(holder.path) else None)


async def create(
    session: Db,
    scope: Scope,
    parent_id: int,
    *,
    name: str,
    group_id: str,
    og_type: str = OGType.CONTAINER.value,
    country: str | None = None,
    locale: str | None = None,
) -> OrgGroupRow:
    """A new OG below `parent_id`; starts with the overrides an OverrideOnly parent demands."""
    scope.require_write()
    await concurrency.exclusive(session, concurrency.Section.ORG_TREE)
    parent = await get(session, scope, parent_id)
    name = validate_og_name(name)
    validate_group_id(group_id)
    kind = _parse_type(og_type)
    tree = await load_tree(session)
    check_placement(tree, parent.id, kind)
    await _check_group_id_free(session, scope, group_id, None)
    row = OrgGroupRow(
        name=name, group_id=group_id, group_id_key=group_id_key(group_id), type=kind.value,
        parent_id=parent.id, path=parent.path, country=country, locale=locale,
    )
    session.add(row)
    await session.flush()
    row.path = f"{parent.path}{row.id}/"
    copies = overrides_for_new_child(tree, await load_overrides(session), parent.id)
    setting_store.add_new(session, row.id, copies)
    await session.flush()
    return row


def _parse_type(raw: str) -> OGType:
    for member in OGType:
        if raw.strip().casefold() == member.value.casefold():
            return member
    allowed = ", ".join(m.value for m in OGType if m is not OGType.GLOBAL)
    raise InvalidInput("LocationGroupType", f"LocationGroupType must be one of {allowed}, not {raw!r}.")


async def holdings(session: Db, og_id: int) -> dict[str, int]:
    """What an OG holds that stops it from being moved or deleted."""
    return await og_store.holdings(session, og_id)


async def update(
    session: Db,
    scope: Scope,
    og_id: int,
    *,
    name: str | None = None,
    group_id: str | None = None,
    og_type: str | None = None,
    parent_id: int | None = None,
    country: str | None = None,
    locale: str | None = None,
) -> OrgGroupRow:
    """Change an OG's fields; moving it (a new parent) is only allowed while it holds nothing.

    Changes of the tree take turns: two empty OGs moved under each other at the same moment
    would otherwise both pass the checks and make a loop cut off from the tree."""
    scope.require_write()
    await concurrency.exclusive(session, concurrency.Section.ORG_TREE)
    row = await get(session, scope, og_id)
    if name is not None:
        row.name = validate_og_name(name)
    if group_id is not None and group_id != row.group_id:
        if row.parent_id is None:
            raise Conflict("The Group ID of the root organization group cannot change.")
        validate_group_id(group_id)
        await _check_group_id_free(session, scope, group_id, row.id)
        row.group_id, row.group_id_key = group_id, group_id_key(group_id)
    moving = parent_id is not None and parent_id != row.parent_id
    new_type = _parse_type(og_type) if og_type is not None else OGType(row.type)
    if moving or new_type.value != row.type:
        await _move_or_retype(session, scope, row, parent_id if moving else row.parent_id, new_type)
    if country is not None:
        row.country = country
    if locale is not None:
        row.locale = locale
    await session.flush()
    return row


async def _move_or_retype(
    session: Db, scope: Scope, row: OrgGroupRow, parent_id: int | None, kind: OGType
) -> None:
    if row.parent_id is None or row.id == scope.og_id:
        raise Conflict(
            f"Organization group {row.name!r} is the top of your organization groups "
            "and cannot be moved or retyped."
        )
    held = await holdings(session, row.id)
    if any(held.values()):
        raise OrgGroupNotEmpty(row.name, "move or retype", held)
    assert parent_id is not None
    if parent_id == row.id:
        raise InvalidInContext("ParentId", "An organization group cannot be its own parent.")
    parent = await get(session, scope, parent_id)
    tree = await load_tree(session)
    check_placement(tree, parent.id, kind)
    row.parent_id, row.path, row.type = parent.id, f"{parent.path}{row.id}/", kind.value
    # A moved OG is a new child of its new parent: it gets the copies an OverrideOnly demands.
    overrides = await load_overrides(session)
    own = overrides.get(row.id, {})
    copies = overrides_for_new_child(tree, overrides, parent.id)
    setting_store.add_new(session, row.id, {key: copy for key, copy in copies.items() if key not in own})


async def delete(session: Db, scope: Scope, og_id: int) -> None:
    """Delete an OG that holds nothing; its own settings go with it."""
    scope.require_write()
    await concurrency.exclusive(session, concurrency.Section.ORG_TREE)
    row = await get(session, scope, og_id)
    if row.parent_id is None or row.id == scope.og_id:
        raise Conflict(
            f"Organization group {row.name!r} is the top of your organization groups "
            "and cannot be deleted."
        )
    held = await holdings(session, row.id)
    if any(held.values()):
        raise OrgGroupNotEmpty(row.name, "delete", held)
    await session.delete(row)
    await session.flush()


async def subtree(session: Db, scope: Scope, og_id: int) -> list[tuple[OrgGroupRow, int]]:
    """The OG and all OGs below it, depth first, each with its level below og_id."""
    top = await get(session, scope, og_id)
    rows = {r.id: r for r in await og_store.rows_within(session, top.path)}
    tree = await load_tree(session)
    return [(rows[og.id], level) for og, level in tree.descendants(top.id)]


async def parent_of(session: Db, row: OrgGroupRow) -> OrgGroupRow | None:
    return None if row.parent_id is None else await session.get(OrgGroupRow, row.parent_id)


async def organization_name(db: Db, settings: Settings) -> str:
    """The organization the enrollment sign-in pages name: QUINCE_ORGANIZATION_NAME when it is set,
    else the install's one Customer OG (a single-tenant install), else the default ("Quince")."""
    if "organization_name" in settings.model_fields_set:
        return settings.organization_name
    customers = await og_store.names_of_type(db, OGType.CUSTOMER.value, 2)
    return customers[0] if len(customers) == 1 else settings.organization_name
