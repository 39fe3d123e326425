"""`quince init` and `quince serve`."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from quince import logs
from quince.cli.runtime import console, database_label, plain, prepare_database, run_async, settings
from quince.web.app import create_app


def init() -> None:
    """Create or upgrade the database under QUINCE_VAR_DIR (and the Global root group) and the CA."""
    config = settings()
    run_async(prepare_database(config))
    console.print(f"Database ready at {plain(database_label(config))}", highlight=False)
    console.print(f"Certificate authority ready in {plain(config.pki_dir)} (see `quince pki show`)",
                  highlight=False)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Upgrade the database, then serve Quince with uvicorn."""
    config = settings()
    run_async(prepare_database(config))
    log_file = logs.configure(config.log_dir, config.log_level)
    console.print(f"Logging to {plain(log_file)}", highlight=False)
    uvicorn.run(
        create_app(config), host=host, port=port, log_level="info",
        # Quince writes its own access log (path only): uvicorn's would print query strings, and
        # the web flow's one-time profile link carries its token there.
        access_log=False,
        # The app believes X-Forwarded-For from QUINCE_TRUSTED_PROXIES only (web/proxies.py);
        # uvicorn's own handling would trust 127.0.0.1 by default.
        proxy_headers=False,
    )
