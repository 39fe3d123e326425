"""End-to-end tests: the CLI, simulated iPhones and the enrollment flows against a real database,
the live server, and the local APNs and Apps and Books services."""

from __future__ import annotations

from tests.fixtures.database import database_url, engine, migrated_engine, scope, session
from tests.fixtures.live_server import api_client, live_server, live_settings
from tests.support_apns import apns_server
from tests.support_vpp import vpp_server

# The shared fixtures this directory uses, re-exported so that pytest finds them here.
__all__ = [
    "api_client", "apns_server", "database_url", "engine", "live_server", "live_settings",
    "migrated_engine", "scope", "session", "vpp_server",
]
