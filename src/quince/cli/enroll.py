"""`quince enroll`: where would a user's device enroll, and why."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from quince.cli.runtime import console, plain, print_json, run
from quince.cli.views import JsonOption
from quince.services.enrollment import preview as enrollment_preview
from quince.services.scope import Scope
from quince.store.database import Db

app = typer.Typer(no_args_is_help=True, help="Enrollment: preview where a user's device would enroll.")


@app.command("preview")
def preview(
    username: Annotated[str, typer.Argument(help="Username of the enrolling user.")],
    group_id: Annotated[str | None, typer.Option(
        "--group-id", help="The Group ID the user would type at enrollment (none by default)."
    )] = None,
    as_json: JsonOption = False,
) -> None:
    """Run the enrollment policy for a user without creating anything, with its decision trace.

    Exits 0 when the user may enroll, 1 when the decision is a refusal."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        return await enrollment_preview.preview_as_seen(session, scope, username, group_id)

    data = run(work)
    if as_json:
        print_json(data)
    else:
        _print(data)
    if not data["Allowed"]:
        raise typer.Exit(1)


def _print(data: dict[str, Any]) -> None:
    target = data["LocationGroupId"]
    where = f"{plain(target['Name'])} (Group ID {plain(data['GroupId'])})" if target else "-"
    if data["Allowed"]:
        console.print(f"[bold green]Allowed[/]: enrolls into {where}", highlight=False)
    else:
        console.print(f"[bold red]Refused[/] (target: {where})", highlight=False)
    console.print(f"Reason: {plain(data['Reason'])}", highlight=False)
    console.print("Trace:")
    for n, step in enumerate(data["Trace"], 1):
        console.print(f"  {n}. {plain(step)}", highlight=False)
