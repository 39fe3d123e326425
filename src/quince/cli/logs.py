"""`quince logs collect`: a support bundle of the DeviceManagement and DeviceServices logs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quince.cli.runtime import console, fail, plain, print_json, settings
from quince.log_bundles import BadFilter, Filters, collect, parse_since

app = typer.Typer(no_args_is_help=True, help="Quince's logs: collect support bundles.")


@app.command("collect")
def collect_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="The zip file to write.")],
    log: Annotated[str, typer.Option(
        "--log", help="devicemanagement (sign-in pages), deviceservices (device traffic) or all."
    )] = "all",
    user: Annotated[str | None, typer.Option("--user", help="Only lines of this username.")] = None,
    device: Annotated[str | None, typer.Option(
        "--device", help="Only lines of this device (its Uuid, or its Udid / Enrollment ID)."
    )] = None,
    enrollment: Annotated[str | None, typer.Option(
        "--enrollment", help="Only lines of this enrollment session (its Uuid)."
    )] = None,
    since: Annotated[str | None, typer.Option(
        "--since", help="Only lines newer than this: a duration (2h, 30m, 1d) or an ISO time."
    )] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Zip the matching log lines with a summary (counts per event and outcome, time range)."""
    config = settings()
    try:
        filters = Filters(user=user, device=device, enrollment=enrollment,
                          since=parse_since(since) if since else None)
        summary = collect(config.log_dir, log.strip().lower(), filters, output)
    except BadFilter as exc:
        fail(str(exc))
    if as_json:
        print_json({"Bundle": str(output), "Files": summary.files, "Events": summary.events})
        return
    console.print(f"Wrote [bold]{plain(output)}[/]", highlight=False)
    for name, count in summary.files.items():
        console.print(f"  {plain(name)}: {count} line(s)", highlight=False)
    for name, count in summary.events.items():
        console.print(f"    {count:5d}  {plain(name)}", highlight=False)
