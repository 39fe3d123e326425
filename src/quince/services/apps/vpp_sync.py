"""Purchased apps and their licence counts, synced from Apps and Books into the catalog.

The apps live at the OG that holds the token (the OGs below inherit its catalog, as they inherit
the token). `GET /assets` lists the location's apps with their counts and whether device-based
assignment is allowed; `GET /assignments` says how many licences are assigned right now. Apple's v2
assets carry no names or bundle IDs: an app Quince has not seen before is named by its Adam ID with
a placeholder bundle ID until an administrator fills them in; known apps keep theirs.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from quince.apple.vpp.errors import VppError
from quince.clients.vpp import VppClient
from quince.config import Settings
from quince.domain.app_eligibility import AppKind
from quince.domain.errors import NotFound
from quince.services import jobs
from quince.services.apps.licensing import ClientFactory, retry_for
from quince.services.apps.vpp_tokens import effective_token, token_row
from quince.services.directory import org_groups
from quince.services.scope import Scope
from quince.store import apps as store
from quince.store.database import Db
from quince.store.models import AppRow, JobRow

log = logging.getLogger("quince.vpp")

PURCHASED = AppKind.PURCHASED.value
PLACEHOLDER_BUNDLE_PREFIX = "unknown.adam-id."


def placeholder_bundle_id(adam_id: str) -> str:
    """A bundle ID that says it is not known yet (the catalog needs one, unique per OG)."""
    return f"{PLACEHOLDER_BUNDLE_PREFIX}{adam_id}"


@dataclass(frozen=True)
class SyncResult:
    token_og_id: int
    apps: int
    """Apps the location holds (books are left out)."""
    created: int
    updated: int
    gone: int
    """Purchased apps in the catalog that the location no longer holds (their counts set to 0)."""
    location_name: str | None


async def sync_assets(
    db: Db,
    scope: Scope | None,
    og_id: int,
    client: VppClient,
    *,
    now: datetime | None = None,
) -> SyncResult:
    """Bring the purchased apps at the OG holding `og_id`'s token in line with Apple's inventory.
    `client` must carry that token. With a scope, the OG must lie in it and the scope may write."""
    if scope is not None:
        scope.require_write()
        await org_groups.get(db, scope, og_id)
    token = await token_row(db, og_id)
    if token is None:
        raise NotFound("Apps and Books token for organization group", og_id)
    now = now or datetime.now(UTC)

    location = await client.client_config()
    assets = [a for a in await client.get_assets() if a.product_type in (None, "App")]
    assigned = Counter(a.adam_id for a in await client.get_assignments())

    existing = {
        row.adam_id: row
        for row in await store.purchased_apps_in(db, [token.og_id])
        if row.adam_id
    }
    created = updated = 0
    for asset in assets:
        row = existing.pop(asset.adam_id, None)
        if row is None:
            row = AppRow(
                og_id=token.og_id, kind=PURCHASED, name=asset.adam_id,
                bundle_id=placeholder_bundle_id(asset.adam_id), adam_id=asset.adam_id, created_at=now,
            )
            db.add(row)
            created += 1
        else:
            updated += 1
        row.device_licensing_enabled = asset.device_assignable
        row.total_licenses = asset.total_count
        # The assignments are the live list; the asset's own count may lag behind it.
        row.assigned_licenses = assigned.get(asset.adam_id, 0)
        row.synced_at = now
    for row in existing.values():
        row.total_licenses = 0
        row.assigned_licenses = 0
        row.synced_at = now

    if location.location_name:
        token.location_name = location.location_name
    if location.token_expires_at is not None:
        token.expires_at = location.token_expires_at
    await db.flush()
    log.info("vpp sync (token %s): %d app(s), %d new, %d updated, %d gone", client.token_hash,
             len(assets), created, updated, len(existing))
    return SyncResult(token_og_id=token.og_id, apps=len(assets), created=created, updated=updated,
                      gone=len(existing), location_name=token.location_name)


# --- syncing in the background (the console's "Sync purchased apps") --------------------------------

SYNC_JOB = "vpp.sync"


async def queue_sync(db: Db, scope: Scope, og_id: int) -> bool:
    """Queue a sync of the purchased apps of the token serving `og_id` (one waiting job per token);
    False when one was already waiting. NotFound when no token serves the OG."""
    scope.require_write()
    await org_groups.get(db, scope, og_id)
    token = await token_row(db, og_id)
    if token is None:
        raise NotFound("Apps and Books token for organization group", og_id)
    job = await jobs.enqueue(db, SYNC_JOB, {"og_id": token.og_id}, dedupe_key=f"vpp-sync:{token.og_id}",
                             max_attempts=5)
    return job is not None


async def last_synced(db: Db, og_id: int) -> datetime | None:
    """When the purchased apps of the token serving `og_id` were last synced (None: never, or no
    token)."""
    token = await token_row(db, og_id)
    return await store.last_synced(db, token.og_id) if token is not None else None


def handlers(settings: Settings, client_for: ClientFactory | None = None) -> dict[str, jobs.Handler]:
    """The sync job's handler, for a JobRunner."""
    make_client = client_for or (lambda token: VppClient(token, base_url=settings.vpp_url))

    async def run(db: Db, job: JobRow) -> jobs.Outcome:
        og_id = job.payload.get("og_id")
        if not isinstance(og_id, int):
            return jobs.Fail(f"job {job.id} has no integer 'og_id'")
        token = await effective_token(db, og_id, var_dir=settings.var_dir)
        if token is None:
            return jobs.Fail("No Apps and Books token for this organization group any more.")
        try:
            async with make_client(token.token) as client:
                await sync_assets(db, None, og_id, client)
        except VppError as exc:
            return retry_for(exc)
        return None

    return {SYNC_JOB: run}
