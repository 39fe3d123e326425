"""The `quince` command."""

from __future__ import annotations

import typer

from quince.cli import server

app = typer.Typer(no_args_is_help=True, help="Quince: Apple MDM for BYOD User Enrollment.")
app.command()(server.init)
app.command()(server.serve)


def main() -> None:
    app()
