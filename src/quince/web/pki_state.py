"""The app's PKI (Quince's CA and profile-signing identity), loaded once per app."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request

from quince.config import Settings
from quince.pki import authority
from quince.pki.authority import Pki


async def app_pki(app: FastAPI) -> Pki:
    """`app.state.pki`, or the PKI under the settings' var_dir (created if missing) on first use.

    create_app takes a Pki (tests pass their own); otherwise nothing is read or written until a
    request needs it, so building an app touches nothing on disk. Two first requests racing both
    load the same files: authority.ensure creates them under a file lock.
    """
    pki: Pki | None = getattr(app.state, "pki", None)
    if pki is None:
        settings: Settings = app.state.settings
        pki = await asyncio.to_thread(
            authority.ensure, settings.pki_dir, organization=settings.organization_name
        )
        app.state.pki = pki
    return pki


async def current_pki(request: Request) -> Pki:
    """FastAPI dependency: the PKI of the app serving this request."""
    return await app_pki(request.app)
