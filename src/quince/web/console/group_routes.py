"""Organization groups: the tree below the chosen OG (add a child, edit, delete) and the chosen
OG's settings (inherit or override, with child permissions respected)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from quince.domain import og_settings as rules
from quince.domain.errors import InvalidInput, InvalidPlacement, NotFound, QuinceError, ReadOnly
from quince.domain.og_settings import ChildPermission, CurrentSetting
from quince.domain.org_groups import GROUP_ID_MAX_LENGTH, NAME_MAX_LENGTH, OGType, OrgGroup, check_placement
from quince.services.directory import og_settings, org_groups
from quince.services.directory.og_settings import SettingView
from quince.services.directory.org_tree import load_overrides, load_tree
from quince.store.models import OrgGroupRow
from quince.web.console.context import (
    Changer,
    Console,
    ConsoleRoute,
    SignedIn,
    load_console,
    log,
    parse_id,
    posted,
    read_only,
    redirect,
    render,
    text,
)
from quince.web.deps import Db

router = APIRouter(route_class=ConsoleRoute)

# Form fields are cut a little above the service's limits, so an over-long entry gets the
# service's message instead of being silently shortened.
NAME_CHARS = NAME_MAX_LENGTH + 20
GROUP_ID_CHARS = GROUP_ID_MAX_LENGTH + 20
VALUE_CHARS = 300
NEW_TYPES = tuple(t.value for t in OGType if t is not OGType.GLOBAL)
_GROUP_ID_SHAPE = re.compile(r"[A-Za-z0-9._-]{1,64}")

# What people read for each setting key (the domain holds keys and descriptions only).
LABELS = {
    "user_enrollment_enabled": "User Enrollment enabled",
    "group_id_assignment_mode": "Group ID assignment on the sign-in page",
    "companion_app_bundle_id": "Companion app bundle ID",
    "vpp_release_license_on_unenroll": "Release Apps and Books licences on unenroll",
    "default_ownership": "Default ownership",
}
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "group_id_assignment_mode": {"free_text": "Typed freely", "select_from_list": "Picked from a list"},
    "default_ownership": {"C": "Corporate - Dedicated", "E": "Employee Owned", "S": "Corporate - Shared",
                          "Undefined": "Undefined"},
}
PERMISSION_NAMES = {
    ChildPermission.INHERIT_OR_OVERRIDE: "Inherit or override",
    ChildPermission.INHERIT_ONLY: "Inherit only",
    ChildPermission.OVERRIDE_ONLY: "Override only",
}
PERMISSIONS = tuple((permission.value, name) for permission, name in PERMISSION_NAMES.items())


# --- The tree ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeItem:
    og: OrgGroupRow
    level: int
    parent_name: str
    users: int
    admins: int
    devices: int
    devices_below: int
    """Devices in this OG and every OG below it."""


async def _tree(db: Db, console: Console) -> list[TreeItem]:
    """The chosen OG and everything below it, depth first, with their counts."""
    rows = await org_groups.subtree(db, console.scope, console.og.id)
    counts = await org_groups.counts(db, [row.id for row, _ in rows])
    names = {row.id: row.name for row, _ in rows}
    below = {row.id: counts[row.id].devices for row, _ in rows}
    # Depth first means every OG comes after its parent: adding up in reverse fills the totals.
    for row, level in reversed(rows):
        if level > 0 and row.parent_id in below:
            below[row.parent_id] += below[row.id]
    return [
        TreeItem(row, level, names.get(row.parent_id, "") if row.parent_id else "",
                 counts[row.id].users, counts[row.id].admins, counts[row.id].devices, below[row.id])
        for row, level in rows
    ]


async def _child_types(db: Db, parent_id: int) -> list[str]:
    """The OG types a new child of `parent_id` may have (the others would be refused)."""
    tree = await load_tree(db)
    allowed = []
    for name in NEW_TYPES:
        try:
            check_placement(tree, parent_id, OGType(name))
        except InvalidPlacement:
            continue
        allowed.append(name)
    return allowed


def _is_top(console: Console) -> bool:
    """The admin's own top OG (or the root): it can be neither deleted nor moved."""
    return console.og.parent_id is None or console.og.id == console.scope.og_id


async def _groups_page(request: Request, db: Db, console: Console, *, status: int = 200,
                       error: str | None = None, failed: str = "", values: dict[str, str] | None = None,
                       notice: str | None = None) -> Response:
    parent = None
    if not _is_top(console) and console.og.parent_id is not None:
        parent = await org_groups.get(db, console.scope, console.og.parent_id)
    kept = values or {}
    edit = {"name": console.og.name, "group_id": console.og.group_id}
    create = {"name": "", "group_id": "", "type": OGType.CONTAINER.value}
    (edit if failed == "edit" else create if failed == "create" else {}).update(kept)
    return render(
        request, console, "groups.html", status=status, title=f"Organization groups: {console.og.name}",
        nav="groups", items=await _tree(db, console), parent=parent, error=error, failed=failed,
        notice=notice, edit=edit, create=create, child_types=await _child_types(db, console.og.id),
        can_delete=not _is_top(console),
    )


async def _notice(db: Db, console: Console, params: Any) -> str | None:
    done = params.get("done")
    og = console.og
    if done == "updated":
        return f"The changes to {og.name!r} (Group ID {og.group_id}) were saved."
    if done == "created":
        child_id = parse_id(params.get("child"))
        try:
            child = await org_groups.get(db, console.here, child_id) if child_id else None
        except NotFound:
            child = None
        if child is not None:
            return (f"Organization group {child.name!r} (Group ID {child.group_id}) was added "
                    f"below {og.name!r}.")
    if done == "deleted":
        gone = params.get("gone", "")
        if _GROUP_ID_SHAPE.fullmatch(gone):
            return f"The organization group with Group ID {gone} was deleted."
    return None


@router.get("/groups")
async def groups(request: Request, db: Db, console: SignedIn) -> Response:
    notice = await _notice(db, console, request.query_params)
    return await _groups_page(request, db, console, notice=notice)


async def _refused(request: Request, db: Db, exc: QuinceError, action: str,
                   values: dict[str, str]) -> Response:
    """Undo a refused change and show the groups page again with the error and the input kept."""
    await db.rollback()
    # The rollback expired every loaded row: load the console again before rendering.
    console = await load_console(request, db)
    status = 400 if isinstance(exc, InvalidInput | InvalidPlacement) else 409
    log(request, "console.groups", "refused", warn=True, admin=console.admin.username, action=action,
        og=console.og.id, reason=type(exc).__name__)
    return await _groups_page(request, db, console, status=status, error=exc.message, failed=action,
                              values=values)


@router.post("/groups/children")
async def add_child(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=8))],
    db: Db,
    console: Changer,
) -> Response:
    values = {"name": text(form, "name", NAME_CHARS), "group_id": text(form, "group_id", GROUP_ID_CHARS),
              "type": text(form, "type", 32)}
    try:
        child = await org_groups.create(db, console.scope, console.og.id, name=values["name"],
                                        group_id=values["group_id"], og_type=values["type"])
    except ReadOnly:
        return read_only(request, console)
    except QuinceError as exc:
        return await _refused(request, db, exc, "create", values)
    await db.commit()
    log(request, "console.groups", "created", admin=console.admin.username, og=child.id,
        group_id=child.group_id, parent=console.og.id)
    return redirect("/console/groups", console, done="created", child=child.id)


@router.post("/groups/edit")
async def edit_group(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=8))],
    db: Db,
    console: Changer,
) -> Response:
    values = {"name": text(form, "name", NAME_CHARS), "group_id": text(form, "group_id", GROUP_ID_CHARS)}
    try:
        row = await org_groups.update(db, console.scope, console.og.id, name=values["name"],
                                      group_id=values["group_id"])
    except ReadOnly:
        return read_only(request, console)
    except QuinceError as exc:
        return await _refused(request, db, exc, "edit", values)
    await db.commit()
    log(request, "console.groups", "updated", admin=console.admin.username, og=row.id,
        group_id=row.group_id)
    return redirect("/console/groups", console, done="updated")


async def _holdings(db: Db, console: Console) -> list[tuple[str, int]]:
    return [(what, n) for what, n in (await org_groups.holdings(db, console.og.id)).items() if n]


@router.get("/groups/delete")
async def confirm_delete(request: Request, db: Db, console: Changer) -> Response:
    return render(request, console, "group_delete.html", title=f"Delete {console.og.name}",
                  nav="groups", top=_is_top(console), held=await _holdings(db, console))


@router.post("/groups/delete")
async def delete_group(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=4))],
    db: Db,
    console: Changer,
) -> Response:
    gone, og_id = console.og.group_id, console.og.id
    parent = await org_groups.parent_of(db, console.og)
    try:
        # delete() refuses the root and the admin's own top OG, so the parent is in reach after it.
        await org_groups.delete(db, console.scope, og_id)
    except ReadOnly:
        return read_only(request, console)
    except QuinceError as exc:
        return await _refused(request, db, exc, "delete", {})
    assert parent is not None
    parent_console = replace(console, og=parent)
    await db.commit()
    log(request, "console.groups", "deleted", admin=console.admin.username, og=og_id,
        group_id=gone, parent=parent.id)
    return redirect("/console/groups", parent_console, done="deleted", gone=gone)


# --- Settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingItem:
    key: str
    label: str
    description: str
    current: str
    """Inherit or Override, as resolved at the chosen OG."""
    shown: str
    """The effective value, for people."""
    source: OrgGroup
    child_permission: str
    """What this OG imposes on the groups below it."""
    locked_by: OrgGroup | None
    """The OG above whose InheritOnly forbids overriding here."""
    required_by: OrgGroup | None
    """The OG above whose OverrideOnly forbids inheriting here."""
    can_inherit: bool
    options: tuple[tuple[str, str], ...]
    """The values a select offers; empty: a text field."""
    mode: str
    value: str
    permission: str
    error: str | None


def label_of(key: str) -> str:
    return LABELS.get(key, key.replace("_", " ").capitalize())


def _form_value(value: rules.SettingValue) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else value


def show_value(key: str, value: rules.SettingValue) -> str:
    """A setting's value as an admin reads it."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value == "":
        return "None"
    return CHOICE_LABELS.get(key, {}).get(value, value)


def _options(definition: rules.SettingDefinition) -> tuple[tuple[str, str], ...]:
    if isinstance(definition.default, bool):
        return (("true", "Yes"), ("false", "No"))
    return tuple((choice, show_value(definition.key, choice)) for choice in definition.choices)


async def _setting_items(db: Db, console: Console, *, failed: str = "",
                         kept: dict[str, str] | None = None, error: str | None = None) -> list[SettingItem]:
    views: list[SettingView] = await og_settings.read(db, console.scope, console.og.id)
    tree, overrides = await load_tree(db), await load_overrides(db)
    parent_id = console.og.parent_id
    items = []
    for view in views:
        resolved, key = view.resolved, view.definition.key
        bound = resolved.permission_from_parent
        locked_by = view.source if bound is ChildPermission.INHERIT_ONLY else None
        required_by = None
        if bound is ChildPermission.OVERRIDE_ONLY and parent_id is not None:
            required_by = tree.get(rules.resolve(tree, overrides, parent_id, key).source_og_id)
        overriding = resolved.current is CurrentSetting.OVERRIDE
        item = SettingItem(
            key=key, label=label_of(key), description=view.definition.description,
            current=resolved.current.value, shown=show_value(key, resolved.value), source=view.source,
            child_permission=PERMISSION_NAMES[resolved.child_permission],
            locked_by=locked_by, required_by=required_by,
            can_inherit=parent_id is not None and bound is not ChildPermission.OVERRIDE_ONLY,
            options=_options(view.definition), mode=resolved.current.value,
            value=_form_value(resolved.value),
            permission=(resolved.child_permission if overriding
                        else ChildPermission.INHERIT_OR_OVERRIDE).value,
            error=None,
        )
        if key == failed and kept is not None:
            item = replace(item, mode=kept["current"] or item.mode, value=kept["value"],
                           permission=kept["child_permission"] or item.permission, error=error)
        items.append(item)
    return items


async def _settings_page(request: Request, db: Db, console: Console, *, status: int = 200,
                         error: str | None = None, failed: str = "", kept: dict[str, str] | None = None,
                         notice: str | None = None) -> Response:
    items = await _setting_items(db, console, failed=failed, kept=kept, error=error)
    return render(request, console, "group_settings.html", status=status,
                  title=f"Settings of {console.og.name}", nav="groups", items=items, error=error,
                  notice=notice, permissions=PERMISSIONS)


@router.get("/groups/settings")
async def settings(request: Request, db: Db, console: SignedIn) -> Response:
    notice = None
    saved = request.query_params.get("saved", "")
    if saved in rules.SETTINGS:
        view = await og_settings.read_one(db, console.scope, console.og.id, saved)
        notice = (f"{label_of(saved)} was saved: the effective value at {console.og.name!r} is now "
                  f"{show_value(saved, view.resolved.value)}, from {view.source.name!r} "
                  f"(Group ID {view.source.group_id}).")
    return await _settings_page(request, db, console, notice=notice)


@router.post("/groups/settings")
async def change_setting(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=8))],
    db: Db,
    console: Changer,
) -> Response:
    kept = _setting_form(form)
    key = kept["key"]
    try:
        rules.definition(key)
        if kept["current"] == CurrentSetting.OVERRIDE.value:
            view = await og_settings.override(db, console.scope, console.og.id, key, kept["value"],
                                              kept["child_permission"] or None)
        elif kept["current"] == CurrentSetting.INHERIT.value:
            view = await og_settings.inherit(db, console.scope, console.og.id, key)
        else:
            raise InvalidInput("CurrentSetting", f"Choose Inherit or Override for {label_of(key)}.")
    except ReadOnly:
        return read_only(request, console)
    except QuinceError as exc:
        await db.rollback()
        console = await load_console(request, db)
        known = key in rules.SETTINGS
        status = 400 if isinstance(exc, InvalidInput | rules.UnknownSetting) else 409
        log(request, "console.settings", "refused", warn=True, admin=console.admin.username,
            og=console.og.id, setting=key if known else "unknown", reason=type(exc).__name__)
        return await _settings_page(request, db, console, status=status, error=exc.message,
                                    failed=key if known else "", kept=kept)
    await db.commit()
    log(request, "console.settings", kept["current"].lower(), admin=console.admin.username,
        og=console.og.id, setting=key, source=view.source.id,
        child_permission=view.resolved.child_permission.value)
    return redirect("/console/groups/settings", console, saved=key)


def _setting_form(form: FormData) -> dict[str, str]:
    return {"key": text(form, "key", 64), "current": text(form, "current", 16),
            "value": text(form, "value", VALUE_CHARS), "child_permission": text(form, "child_permission", 32)}

