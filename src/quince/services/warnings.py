"""The warnings an administrator sees before something fails silently (rules in
`domain/expiry_warnings.py`): read from the configuration (the push certificate under
`<var_dir>/apns`), Quince's CA, and the Apps and Books tokens and purchased apps of an OG."""

from __future__ import annotations

from datetime import UTC, datetime

from quince.clients import apns_certificate
from quince.clients.apns_certificate import PushCertificateError
from quince.config import Settings
from quince.domain.expiry_warnings import (
    ConfigWarning,
    ca_certificate_warning,
    push_certificate_warning,
    vpp_token_warning,
)
from quince.services.apps.vpp_tokens import token_row
from quince.store import apps as app_store
from quince.store import org_groups as og_store
from quince.store import vpp as vpp_store
from quince.store.database import Db
from quince.store.models import OrgGroupRow


def push_warning(settings: Settings, now: datetime | None = None) -> ConfigWarning | None:
    """The installed push certificate missing, unreadable, expired or expiring within 30 days."""
    try:
        installed = apns_certificate.load(settings.apns_dir)
    except PushCertificateError:
        installed = None
    return push_certificate_warning(installed.not_after if installed else None, now or datetime.now(UTC))


async def vpp_warnings(db: Db, og: OrgGroupRow, now: datetime | None = None) -> list[ConfigWarning]:
    """The Apps and Books tokens serving `og` and set below it: missing where purchased apps reach
    the OG, expired or expiring within 30 days."""
    now = now or datetime.now(UTC)
    found: list[ConfigWarning] = []
    serving = await token_row(db, og.id)
    lineage = [int(part) for part in og.path.strip("/").split("/") if part]
    if serving is None:
        purchased = len(await app_store.purchased_apps_in(db, lineage))
        warning = vpp_token_warning(og.name, has_token=False, expires=None, purchased_apps=purchased, now=now)
    else:
        holder = og if serving.og_id == og.id else await db.get(OrgGroupRow, serving.og_id)
        warning = vpp_token_warning(holder.name if holder else og.name, has_token=True,
                                    expires=serving.expires_at, purchased_apps=0, now=now)
    found += [warning] if warning else []
    below = await vpp_store.tokens_at(db, og_store.og_ids_within(og.path))
    names = {row.id: row.name for row in await og_store.rows_within(db, og.path)} if below else {}
    for og_id, token in sorted(below.items()):
        if serving is not None and token.id == serving.id:
            continue
        warning = vpp_token_warning(names.get(og_id, str(og_id)), has_token=True, expires=token.expires_at,
                                    purchased_apps=0, now=now)
        found += [warning] if warning else []
    return found


async def at(db: Db, og: OrgGroupRow, settings: Settings, *, ca_expires: datetime | None,
             now: datetime | None = None) -> list[ConfigWarning]:
    """Every warning for an admin working at `og` (an OG the caller's scope already reached):
    push certificate, Apps and Books tokens, CA."""
    now = now or datetime.now(UTC)
    found = [w for w in (push_warning(settings, now),) if w]
    found += await vpp_warnings(db, og, now)
    ca = ca_certificate_warning(ca_expires, now) if ca_expires else None
    return found + ([ca] if ca else [])
