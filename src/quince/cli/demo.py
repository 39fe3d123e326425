"""`quince demo`: seed the demo tenant."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from quince.cli.runtime import console, plain, print_json, run, settings
from quince.cli.views import JsonOption
from quince.domain.errors import Conflict
from quince.services.demo import tenant as demo_tenant
from quince.services.scope import Scope
from quince.store.database import Db


def demo(
    if_fresh: Annotated[bool, typer.Option(
        "--if-fresh", help="Seed only on a fresh install (no OG but Global); otherwise do nothing."
    )] = False,
    as_json: JsonOption = False,
) -> None:
    """Seed the demo tenant: Acme Corp with its OGs, users, user groups, an admin and an API key."""

    async def work(session: Db, scope: Scope) -> demo_tenant.DemoSummary | None:
        if if_fresh and not await demo_tenant.is_fresh(session):
            return None
        if await demo_tenant.is_seeded(session):
            raise Conflict(
                f"The demo tenant is already there (Group ID {demo_tenant.CUSTOMER_GROUP_ID!r}); "
                "nothing was changed. Use a fresh QUINCE_VAR_DIR for a new one."
            )
        return await demo_tenant.seed(session, scope)

    summary = run(work, commit=True)
    if summary is None:
        if as_json:
            print_json({"Seeded": False})
        else:
            console.print("This install already holds organization groups besides Global: "
                          "the demo tenant was not seeded.")
        return
    if as_json:
        print_json(_as_dict(summary))
        return
    _print(summary)


def _as_dict(s: demo_tenant.DemoSummary) -> dict[str, Any]:
    return {
        "Seeded": True,
        "GroupId": s.customer_group_id,
        "Users": [
            {"UserName": u.username, "Password": s.user_password, "GroupId": u.group_id,
             "Status": u.active, "Shows": u.shows}
            for u in s.users
        ],
        "Admin": {"UserName": s.admin_username, "Password": s.admin_password},
        "Key": s.api_key,
    }


def _print(s: demo_tenant.DemoSummary) -> None:
    console.print(f"Seeded the demo tenant [bold]Acme Corp[/] (Group ID {plain(s.customer_group_id)}).",
                  highlight=False)
    table = Table("User", "Enrollment OG", "Preview shows",
                  title=f"Users (password {plain(s.user_password)})")
    for u in s.users:
        table.add_row(plain(u.username) + ("" if u.active else " (inactive)"), plain(u.group_id),
                      plain(u.shows))
    console.print(table)
    url = plain(settings().public_url)
    admin, password, group_id, key = (plain(v) for v in (s.admin_username, s.admin_password,
                                                        s.customer_group_id, s.api_key))
    console.print(
        f"Admin [bold]{admin}[/] / {password} manages {group_id} and below.\n"
        f"API key for {group_id} (shown only now):\n\n    [bold]{key}[/]\n\n"
        "Try:\n"
        "  quince enroll preview carol\n"
        f"  curl -u {admin}:{password} -H 'aw-tenant-code: {key}' \\\n"
        f"    '{url}/API/mdm/enrollment/preview?username=carol'",
        highlight=False, soft_wrap=True,
    )
