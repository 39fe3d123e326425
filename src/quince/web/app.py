"""The composition root: builds the ASGI app from configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.responses import RedirectResponse

import quince
from quince.config import Settings
from quince.pki.authority import Pki
from quince.services.access import sign_in_throttle
from quince.services.access.admins import VerifiedPasswords
from quince.store.database import Engine, make_engine, make_sessionmaker
from quince.web import metrics as metrics_routes
from quince.web import workers
from quince.web.access_log import AccessLog
from quince.web.api import apps as app_routes
from quince.web.api import (
    device_changes,
    device_commands,
    device_reports,
    devices,
    enrollment,
    errors,
    group_settings,
    groups,
    oauth,
    openapi,
    system,
    user_groups,
    users,
    users_v2,
)
from quince.web.api import help as api_help
from quince.web.api import jobs as job_routes
from quince.web.api.deps import known_query_names, reject_nul_in_query, supported_api_version
from quince.web.api.request_spelling import RequestSpelling
from quince.web.body_limit import BodyLimit
from quince.web.console import routes as console_routes
from quince.web.device_management import signin
from quince.web.device_services import enrollment as enrollment_routes
from quince.web.device_services import mdm as mdm_routes
from quince.web.device_services import scep as scep_routes
from quince.web.faces import Face
from quince.web.metrics import Metrics
from quince.web.networks import parse_networks
from quince.web.proxies import TrustedProxies


async def to_console() -> RedirectResponse:
    """`/`: the console (whose pages send a visitor without a session to its sign-in page)."""
    return RedirectResponse("/console/", status_code=307)


def create_app(
    settings: Settings | None = None, engine: Engine | None = None, pki: Pki | None = None
) -> FastAPI:
    """Quince's web app; pass an engine to share one (tests), else one is made from settings."""
    settings = settings or Settings()
    own_engine = engine is None
    engine = engine or make_engine(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        background = workers.start(settings, _app.state.sessionmaker)  # QUINCE_WORKERS job runners
        yield
        await background.stop()
        if own_engine:
            await engine.dispose()

    app = FastAPI(
        title="Quince REST API",
        version=quince.__version__,
        description="Workspace ONE-shaped REST API of Quince. Authenticate with HTTP Basic "
        "(an admin) plus the `aw-tenant-code` header (an API key), or with an OAuth 2.0 Bearer "
        "token from `POST /connect/token` (client credentials of a client made with "
        "`quince apiclient create`).",
        openapi_url=api_help.DOCUMENT_PATH,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(reject_nul_in_query), Depends(supported_api_version),
                      Depends(known_query_names)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.pki = pki  # None: loaded (created if missing) from settings.pki_dir on first use
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.verified_passwords = VerifiedPasswords()
    app.state.metrics = Metrics()
    app.state.metrics_networks = parse_networks(settings.metrics_allowed)
    app.state.proxy_networks = parse_networks(settings.trusted_proxies, "trusted_proxies")
    app.state.throttle = sign_in_throttle.from_settings(settings)
    errors.install(app)
    openapi.document(app)
    # First: every device message takes one of its two routes, and routes are tried in order
    # (last, a device message was matched against some 120 others first). No other route shares
    # its paths, so the order changes nothing else.
    app.include_router(mdm_routes.router)
    for module in (oauth, groups, group_settings, users, user_groups, enrollment, devices, device_commands,
                   device_changes, device_reports, system, users_v2):
        app.include_router(module.router)
    app.include_router(job_routes.router)
    app.include_router(api_help.router)
    app.add_api_route("/", to_console, include_in_schema=False)
    app.include_router(app_routes.router)
    app.include_router(signin.router)
    app.include_router(console_routes.router)
    app.include_router(scep_routes.router)
    app.include_router(enrollment_routes.router)
    app.include_router(metrics_routes.router)
    app.add_middleware(
        BodyLimit,
        caps={Face.DEVICE_SERVICES: settings.device_max_body_bytes, Face.API: settings.api_max_body_bytes,
              Face.CONSOLE: settings.console_max_body_bytes,
              Face.DEVICE_MANAGEMENT: settings.sign_in_max_body_bytes},
        default=settings.other_max_body_bytes,
        per_path={console_routes.UPLOAD_PATH: settings.console_upload_max_bytes},
    )
    # Outermost: it logs and counts refusals by BodyLimit too.
    app.add_middleware(AccessLog, metrics=app.state.metrics)
    # Before anything reads the path: an /API request in Workspace ONE's spelling (any case,
    # /v1 or /v2) is given Quince's.
    app.add_middleware(RequestSpelling)
    # Outermost of all: every layer sees the client a trusted proxy named (docs/security.md).
    app.add_middleware(TrustedProxies, trusted=settings.trusted_proxies)
    return app
