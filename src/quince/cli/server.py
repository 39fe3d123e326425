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
    proxies = [p.strip() for p in config.trusted_proxies.split(",") if p.strip()]
    uvicorn.run(
        create_app(config), host=host, port=port, log_level="info",
        # Quince writes its own access log (path only): uvicorn's would print query strings, and
        # the web flow's one-time profile link carries its token there.
        access_log=False,
        # Only a configured proxy may tell Quince a client's address (rate limits depend on it).
        proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None,
    )
