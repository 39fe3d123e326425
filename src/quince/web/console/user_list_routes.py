"""The users list: each user's enrolled devices and user groups, and activating or deactivating
the selected users at once (deactivating lists them first and asks)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from quince.services.directory import group_links, users
from quince.store.paging import PageRequest
from quince.web.console.context import (
    Changer,
    Console,
    ConsoleRoute,
    SignedIn,
    list_params,
    log,
    parse_id,
    parse_page,
    posted,
    query,
    render,
)
from quince.web.console.user_routes import og_names
from quince.web.deps import Db

router = APIRouter(route_class=ConsoleRoute)

PAGE_SIZE = 50
STATUSES = (("", "Any"), ("active", "Active"), ("inactive", "Inactive"))
ACTIONS = {"activate": True, "deactivate": False}


async def _list_page(request: Request, db: Db, console: Console, *, notice: str | None = None,
                     failures: list[str] | None = None) -> Response:
    params = list_params(request, console, "q", "status")
    if params["status"] not in dict(STATUSES):
        params["status"] = ""
    page_number = parse_page(request.query_params.get("page"))
    found = await users.search(
        db, console.here, PageRequest(page_number, PAGE_SIZE), text=params["q"] or None,
        active={"active": True, "inactive": False}.get(params["status"]),
    )
    ids = [row.id for row in found.items]
    return render(
        request, console, "users.html", title="Users", nav="users", items=found.items,
        total=found.total, page=page_number, pages=max(1, -(-found.total // PAGE_SIZE)),
        params=params, statuses=STATUSES, og_names=og_names(console),
        devices=await users.enrolled_device_counts(db, ids),
        groups=await group_links.groups_of_users(db, console.scope, ids),
        query=lambda **changes: query(params, **changes), notice=notice, failures=failures or [],
    )


@router.get("/users")
async def user_list(request: Request, db: Db, console: SignedIn) -> Response:
    return await _list_page(request, db, console)


def _selected(form: FormData) -> list[int]:
    """The users ticked on the list (ids that cannot be ids are left out)."""
    return [user_id for raw in form.getlist("user") if isinstance(raw, str)
            for user_id in [parse_id(raw)] if user_id is not None]


def _plural(count: int) -> str:
    return f"{count} user{'' if count == 1 else 's'}"


@router.post("/users/bulk")
async def bulk_change(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=PAGE_SIZE + 4))],
    db: Db,
    console: Changer,
) -> Response:
    action = form.get("action")
    selected = _selected(form)
    if action not in ACTIONS or not selected:
        return await _list_page(request, db, console, notice="Select one or more users first.")
    active = ACTIONS[str(action)]
    if not active and form.get("confirmed") != "yes":
        chosen = await users.get_many(db, console.here, selected)
        return render(request, console, "users_deactivate.html", title="Deactivate users", nav="users",
                      chosen=chosen, devices=await users.enrolled_device_counts(db, [u.id for u in chosen]),
                      og_names=og_names(console))
    outcome = await users.set_active_many(db, console.here, selected, active)
    await db.commit()
    done = "activated" if active else "deactivated"
    log(request, "console.users", f"bulk_{done}", admin=console.admin.username,
        users=",".join(row.username for row in outcome.changed), unchanged=len(outcome.unchanged),
        missing=outcome.missing)
    notice = f"{_plural(len(outcome.changed))} {done}."
    if outcome.unchanged:
        notice += f" {_plural(len(outcome.unchanged))} already {'active' if active else 'inactive'}."
    if not active and outcome.changed:
        notice += " They can no longer sign in to enroll a device; devices already enrolled stay enrolled."
    failures = [f"{_plural(outcome.missing)} not changed: not in the organization groups you manage "
                "here (removed or moved meanwhile)."] if outcome.missing else []
    return await _list_page(request, db, console, notice=notice, failures=failures)
