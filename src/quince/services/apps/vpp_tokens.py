"""Apps and Books location tokens (sTokens), one per OG, inherited down the tree.

The file Apple Business Manager hands out (`*.vpptoken`) is base64 of a JSON object with `token`,
`expDate` and `orgName`; its whole text is the sToken Apple's service expects as the bearer token.
Quince keeps it encrypted at rest with AES-256-GCM under a key of its own in `<var_dir>/vpp.key`
(made 0600 on first use, so a copied database alone does not give the token away), next to its
SHA-256, organization name and expiry. The plaintext is returned by `effective_token` only, for the
Apps and Books client; it is never logged and never returned by the API or the CLI.

An OG's effective token is the one set at the nearest OG on its way up to Global (like other
settings): the token at a Customer OG serves every OG below it unless one sets its own.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from quince.apple.vpp.json_format import parse_apple_date
from quince.clients.vpp import token_hash
from quince.domain.errors import Conflict, InvalidInput, NotFound, QuinceError
from quince.pki import keystore
from quince.services.directory import org_groups
from quince.services.directory.org_tree import load_tree
from quince.services.scope import Scope
from quince.store import vpp as store
from quince.store.database import Db
from quince.store.models import OrgGroupRow, VppTokenRow

log = logging.getLogger("quince.vpp")

KEY_FILE = "vpp.key"
_VERSION = b"\x01"  # first byte of every ciphertext, so the format can change later
_AAD = b"quince vpp sToken v1"
_NONCE_BYTES = 12


class VppTokenError(QuinceError):
    """A token cannot be read, stored or decrypted; the message says why."""


@dataclass(frozen=True)
class TokenFile:
    """What an sToken file says about itself."""

    token: str
    """The whole file text: what Apple expects as `Authorization: Bearer`."""
    organization_name: str | None
    expires_at: datetime | None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.token.encode()).hexdigest()


class EffectiveToken(NamedTuple):
    """The token serving an OG, and its plaintext (for the Apps and Books client only)."""

    row: VppTokenRow
    token: str


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about an OG's effective token: never the token itself."""

    og_id: int
    """The OG asked about."""
    source_og_id: int
    source_group_id: str
    source_name: str
    inherited: bool
    organization_name: str | None
    location_name: str | None
    expires_at: datetime | None
    token_sha256_prefix: str
    created_at: datetime

    def expired(self, now: datetime | None = None) -> bool:
        if self.expires_at is None:
            return False
        expires = self.expires_at if self.expires_at.tzinfo else self.expires_at.replace(tzinfo=UTC)
        return expires <= (now or datetime.now(UTC))


# --- The file ----------------------------------------------------------------------------------


def parse_token_file(text: str | bytes) -> TokenFile:
    """Read an sToken file: base64 of {"token", "expDate", "orgName"}."""
    raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    token = "".join(raw.split())  # line breaks and spaces are not part of base64
    if not token:
        raise InvalidInput("Token", "The Apps and Books token file is empty.")
    try:
        decoded = base64.b64decode(token, validate=True)
        data = json.loads(decoded)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            "Token", "This is not an Apps and Books token file: download the server token "
            "(.vpptoken) of the location from Apple Business Manager > Preferences > Payments and Billing."
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("token"), str) or not data["token"]:
        raise InvalidInput("Token", "The Apps and Books token file holds no token.")
    org = data.get("orgName")
    return TokenFile(
        token=token,
        organization_name=org if isinstance(org, str) and org else None,
        expires_at=parse_apple_date(data.get("expDate")),
    )


# --- Encryption at rest ------------------------------------------------------------------------


def _key(var_dir: Path) -> bytes:
    """The AES-256 key in <var_dir>/vpp.key, created (0600, never overwritten) on first use."""
    path = var_dir / KEY_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        keystore.ensure_private_dir(var_dir)
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            keystore.write_new(path, AESGCM.generate_key(bit_length=256))
        data = path.read_bytes()
    except OSError as exc:
        raise VppTokenError(f"Cannot read the Apps and Books token key {path}: {exc}.") from exc
    if len(data) != 32:
        raise VppTokenError(f"The Apps and Books token key {path} is damaged (not 32 bytes).")
    return data


def encrypt(var_dir: Path, plaintext: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return _VERSION + nonce + AESGCM(_key(var_dir)).encrypt(nonce, plaintext.encode(), _AAD)


def decrypt(var_dir: Path, blob: bytes) -> str:
    if not blob.startswith(_VERSION) or len(blob) < 1 + _NONCE_BYTES + 16:
        raise VppTokenError("A stored Apps and Books token is damaged: set it again.")
    nonce, sealed = blob[1:1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES:]
    try:
        return AESGCM(_key(var_dir)).decrypt(nonce, sealed, _AAD).decode()
    except InvalidTag:
        raise VppTokenError(
            f"A stored Apps and Books token cannot be decrypted with {var_dir / KEY_FILE} (was the key "
            "replaced, or the database copied from another server?): set the token again."
        ) from None


# --- Use cases ---------------------------------------------------------------------------------


async def set_token(
    db: Db,
    scope: Scope,
    og_id: int,
    token_text: str | bytes,
    *,
    var_dir: Path,
    now: datetime | None = None,
) -> VppTokenRow:
    """Install (or replace) the sToken at an OG, encrypted. Refuses an expired token and one that is
    already set at another OG (one Apple location must be managed from one place)."""
    scope.require_write()
    og = await org_groups.get(db, scope, og_id)
    parsed = parse_token_file(token_text)
    now = now or datetime.now(UTC)
    if parsed.expires_at is not None and parsed.expires_at <= now:
        raise InvalidInput(
            "Token", f"This Apps and Books token expired on {parsed.expires_at:%Y-%m-%d}: download a new "
            "one from Apple Business Manager."
        )
    digest = parsed.sha256
    elsewhere = await store.token_elsewhere(db, digest, og.id)
    if elsewhere is not None:
        holder = await db.get(OrgGroupRow, elsewhere.og_id)
        where = f"organization group {holder.group_id!r}" if holder and scope.covers(holder.path) \
            else "another organization group"
        raise Conflict(f"This Apps and Books token is already set at {where}; a location's licences "
                       "must be managed from one place. Remove it there first.")
    row = await store.token_at(db, og.id)
    if row is None:
        row = VppTokenRow(og_id=og.id, created_at=now)
        db.add(row)
    elif row.token_sha256 != digest:
        row.location_name = None  # another location, perhaps: the next sync says which
    row.token_encrypted = encrypt(var_dir, parsed.token)
    row.token_sha256 = digest
    row.organization_name = parsed.organization_name
    row.expires_at = parsed.expires_at
    await db.flush()
    log.info("vpp token %s set at %s by %s (organization %r, expires %s)", token_hash(parsed.token),
             og.group_id, scope.actor, parsed.organization_name,
             f"{parsed.expires_at:%Y-%m-%d}" if parsed.expires_at else "unknown")
    return row


async def token_row(db: Db, og_id: int) -> VppTokenRow | None:
    """The token row serving an OG (set there or at the nearest ancestor), without decrypting it."""
    tree = await load_tree(db)
    if og_id not in tree:
        raise NotFound("Organization group", og_id)
    lineage = [og.id for og in tree.lineage(og_id)]
    rows = await store.tokens_at(db, lineage)
    for ancestor in lineage:
        if ancestor in rows:
            return rows[ancestor]
    return None


async def effective_token(db: Db, og_id: int, *, var_dir: Path) -> EffectiveToken | None:
    """The sToken serving an OG, decrypted, or None when neither it nor an ancestor has one."""
    row = await token_row(db, og_id)
    if row is None:
        return None
    return EffectiveToken(row, decrypt(var_dir, row.token_encrypted))


async def token_info(db: Db, scope: Scope, og_id: int) -> TokenInfo | None:
    """What `quince vpp show` prints: the effective token's organization, location, expiry and
    source OG."""
    og = await org_groups.get(db, scope, og_id)
    row = await token_row(db, og.id)
    if row is None:
        return None
    source = await db.get(OrgGroupRow, row.og_id)
    assert source is not None  # the foreign key holds it
    return TokenInfo(
        og_id=og.id, source_og_id=source.id, source_group_id=source.group_id, source_name=source.name,
        inherited=source.id != og.id, organization_name=row.organization_name,
        location_name=row.location_name, expires_at=row.expires_at,
        token_sha256_prefix=row.token_sha256[:12], created_at=row.created_at,
    )


async def remove_token(db: Db, scope: Scope, og_id: int, *, force: bool = False) -> int:
    """Remove the token set at this OG (OGs below then inherit from above, if anything). With VPP
    users registered under it, refuses unless `force`: their records and licences go with it.
    Returns how many VPP users were dropped."""
    scope.require_write()
    og = await org_groups.get(db, scope, og_id)
    row = await store.token_at(db, og.id)
    if row is None:
        raise NotFound("Apps and Books token at organization group", og.group_id)
    users = await store.vpp_user_count(db, row.id)
    if users and not force:
        raise Conflict(
            f"The Apps and Books token at {og.group_id!r} has {users} VPP user(s) registered under it; "
            "removing it forgets them and their licences (Apple keeps them). "
            "Pass --force to remove it anyway."
        )
    await db.delete(row)
    await db.flush()
    log.info("vpp token %s removed from %s by %s", row.token_sha256[:12], og.group_id, scope.actor)
    return int(users or 0)
