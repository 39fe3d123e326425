"""Reading and writing OG settings with inheritance and child permissions enforced."""

from __future__ import annotations

from dataclasses import dataclass

from quince.domain import og_settings as rules
from quince.domain.errors import InvalidInput
from quince.domain.og_settings import ChildPermission, Override, ResolvedSetting
from quince.domain.org_groups import OrgGroup
from quince.services.directory import org_groups
from quince.services.directory.org_tree import load_overrides, load_tree
from quince.services.scope import Scope
from quince.store import concurrency
from quince.store import og_settings as setting_store
from quince.store.database import Db


@dataclass(frozen=True)
class SettingView:
    """A setting as an administrator sees it at one OG."""

    og: OrgGroup
    definition: rules.SettingDefinition
    resolved: ResolvedSetting
    source: OrgGroup


async def read(session: Db, scope: Scope, og_id: int) -> list[SettingView]:
    await org_groups.get(session, scope, og_id)
    tree, overrides = await load_tree(session), await load_overrides(session)
    return [
        SettingView(tree.get(og_id), rules.SETTINGS[r.key], r, tree.get(r.source_og_id))
        for r in rules.resolve_all(tree, overrides, og_id)
    ]


async def read_one(session: Db, scope: Scope, og_id: int, key: str) -> SettingView:
    rules.definition(key)
    return next(v for v in await read(session, scope, og_id) if v.definition.key == key)


def parse_child_permission(raw: str | None) -> ChildPermission:
    if raw is None:
        return ChildPermission.INHERIT_OR_OVERRIDE
    for member in ChildPermission:
        if raw.replace(" ", "").replace("_", "").casefold() == member.value.casefold():
            return member
    allowed = ", ".join(m.value for m in ChildPermission)
    raise InvalidInput("ChildPermission", f"ChildPermission must be one of {allowed}, not {raw!r}.")


async def override(
    session: Db,
    scope: Scope,
    og_id: int,
    key: str,
    value: object,
    child_permission: str | None = None,
) -> SettingView:
    """Set `key` at the OG itself; an OverrideOnly permission gives inheriting children a copy.

    Without `child_permission`, an existing override keeps its permission (changing a locked
    value must not unlock it); a new override gets InheritOrOverride. Changes of the tree and its
    settings take turns (the checks read the parents, the copies go to the children).
    """
    scope.require_write()
    await concurrency.exclusive(session, concurrency.Section.ORG_TREE)
    definition = rules.definition(key)
    parsed = definition.parse(value)
    await org_groups.get(session, scope, og_id)
    tree, overrides = await load_tree(session), await load_overrides(session)
    existing = overrides.get(og_id, {}).get(key)
    permission = (
        existing.child_permission
        if child_permission is None and existing is not None
        else parse_child_permission(child_permission)
    )
    rules.check_override_allowed(tree, overrides, og_id, key)
    await setting_store.put(session, og_id, key, Override(parsed, permission))
    overrides.setdefault(og_id, {})[key] = Override(parsed, permission)
    for child_id, copy in rules.overrides_for_children(tree, overrides, og_id, key).items():
        await setting_store.put(session, child_id, key, copy)
    return await read_one(session, scope, og_id, key)


async def inherit(session: Db, scope: Scope, og_id: int, key: str) -> SettingView:
    """Drop the OG's own value of `key` so it follows its parent again (dropping it twice is
    the same as once)."""
    scope.require_write()
    await concurrency.exclusive(session, concurrency.Section.ORG_TREE)
    rules.definition(key)
    await org_groups.get(session, scope, og_id)
    tree, overrides = await load_tree(session), await load_overrides(session)
    rules.check_inherit_allowed(tree, overrides, og_id, key)
    await setting_store.drop(session, og_id, key)
    return await read_one(session, scope, og_id, key)
