"""`quince doctor`: checks of the stored data that an upgrade cannot fix on its own."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import typer
from rich.table import Table

from quince.cli.runtime import console, plain, print_json, run
from quince.cli.views import JsonOption
from quince.services.directory import sign_in_names
from quince.services.scope import Scope
from quince.store.database import Db


def doctor(as_json: JsonOption = False) -> None:
    """Report sign-in names (emails, managed Apple IDs, usernames) that several users share.

    Exits 1 when there are some: each must be given to one person only (docs/security.md)."""

    async def work(session: Db, scope: Scope) -> list[dict[str, Any]]:
        return [asdict(shared) for shared in await sign_in_names.shared_names(session, scope)]

    found = run(work)
    if as_json:
        print_json({"SharedSignInNames": found})
    elif not found:
        console.print("No problems found: every sign-in name belongs to one user.", highlight=False)
    else:
        table = Table("Sign-in name", "User (id)", "As", "OG", "Tenant", "Signs in")
        for shared in found:
            for holder in shared["holders"]:
                table.add_row(plain(shared["name"]), f"{plain(holder['username'])} ({holder['user_id']})",
                              holder["field"], plain(holder["group_id"]), plain(holder["tenant"]),
                              "yes" if holder["user_id"] == shared["signs_in"] else "no")
        console.print(table)
        console.print(
            f"{len(found)} sign-in name(s) are shared. A shared name signs in the user marked 'yes', "
            "or nobody. Change the email or managed Apple ID of all but one holder "
            "(`quince users update`).", highlight=False,
        )
    if found:
        raise typer.Exit(1)
