"""OAuth 2.0 client credentials for the REST API: clients, the tokens they get, and a token's Scope.

A client belongs to an OG and has a role, like an admin; its token reaches that OG's subtree with
that role, without an admin or an aw-tenant-code. Secrets and tokens are 256-bit random values
shown once; only their SHA-256 is stored, so a token is looked up on every call and revoking the
client (or its expiry) ends it at once. Failed client authentication counts towards the sign-in
back-off (`oauth:` + client_id), like a wrong admin password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from quince.domain.errors import NotFound
from quince.domain.oauth import ClientCredentials, InvalidClient
from quince.domain.users import typed_name_digest
from quince.services.access import sign_in_throttle
from quince.services.access.admins import AuthenticationFailed, Role, parse_role
from quince.services.access.sign_in_throttle import Namespace, Throttle
from quince.services.directory import org_groups
from quince.services.scope import Scope
from quince.store import oauth_clients as client_store
from quince.store.database import Db
from quince.store.models import OAuthClientRow, OAuthTokenRow, OrgGroupRow, utcnow


def _hash(value: str) -> str:
    # Secrets and tokens are 256-bit random values: SHA-256 is enough to store them safely.
    return hashlib.sha256(value.encode()).hexdigest()


def actor_of(client: OAuthClientRow) -> str:
    """Who a client's calls are made by, in logs and messages."""
    return f"oauth:{client.name or client.client_id}"


async def create_client(
    db: Db, scope: Scope, *, og_id: int, name: str = "", role: str = Role.ADMINISTRATOR.value
) -> tuple[OAuthClientRow, str]:
    """A new client of an OG; returns it and its secret, shown this once (only its hash is kept)."""
    scope.require_write()
    parsed = parse_role(role)
    og = await org_groups.get(db, scope, og_id)
    secret = secrets.token_urlsafe(32)
    row = OAuthClientRow(client_id=secrets.token_hex(16), name=name.strip()[:100], secret_hash=_hash(secret),
                         role=parsed.value, og_id=og.id, created_by=scope.actor[:160])
    db.add(row)
    await db.flush()
    return row, secret


async def list_clients(db: Db, scope: Scope) -> list[tuple[OAuthClientRow, OrgGroupRow]]:
    return await client_store.clients_within(db, scope.path)


async def revoke_client(db: Db, scope: Scope, client_id: str) -> tuple[OAuthClientRow, OrgGroupRow]:
    """Revoke a client: its tokens end now and it gets no new ones."""
    scope.require_write()
    for client, og in await list_clients(db, scope):
        if client.client_id == client_id:
            client.revoked_at = client.revoked_at or utcnow()
            await client_store.drop_tokens_of(db, client.id)
            await db.flush()
            return client, og
    raise NotFound("OAuth client", client_id)


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int

    def __repr__(self) -> str:  # never the token, whoever prints it
        return f"IssuedToken(expires_in={self.expires_in})"


async def issue_token(
    db: Db, credentials: ClientCredentials, *, address: str, throttle: Throttle, lifetime: timedelta,
    now: datetime | None = None,
) -> IssuedToken:
    """A new access token for the client these credentials authenticate. Throttled before the
    secret is checked while a back-off runs; InvalidClient, counted as a failure, otherwise."""
    now = now or utcnow()
    key = sign_in_throttle.attempt_key(Namespace.OAUTH, credentials.client_id)
    earlier = await sign_in_throttle.check(db, throttle, Namespace.OAUTH, key, address, now)
    client = await client_store.client_by_client_id(db, credentials.client_id)
    reason = _refusal(client, credentials)
    if reason is not None:
        await sign_in_throttle.record(db, key, address, succeeded=False, now=now)
        raise InvalidClient(reason)
    assert client is not None
    await sign_in_throttle.record(db, key, address, succeeded=True, now=now, keep_success=False,
                                  forgive=earlier > 0)
    token = secrets.token_urlsafe(32)
    db.add(OAuthTokenRow(token_hash=_hash(token), oauth_client_id=client.id, created_at=now,
                         expires_at=now + lifetime))
    await db.flush()
    return IssuedToken(token, int(lifetime.total_seconds()))


def _refusal(client: OAuthClientRow | None, credentials: ClientCredentials) -> str | None:
    """Why these credentials do not authenticate this client, for the log; None when they do."""
    if client is None:
        # A secret pasted into the client_id field must not reach the log.
        return f"no OAuth client has the client_id {typed_name_digest(credentials.client_id)} (digested)"
    if not hmac.compare_digest(client.secret_hash, _hash(credentials.client_secret)):
        return f"OAuth client {client.client_id!r}: wrong client_secret"
    if client.revoked_at is not None:
        return f"OAuth client {client.client_id!r}: revoked"
    return None


async def bearer_scope(db: Db, token: str, now: datetime | None = None) -> Scope:
    """The scope of a REST call with `Authorization: Bearer <token>`: the client's OG subtree, written
    to by an administrator client only. AuthenticationFailed (one message) for any other token."""
    found = await client_store.active_client_of_token(db, _hash(token), now or utcnow())
    if found is None:
        raise AuthenticationFailed("the Bearer token is unknown or expired, or its OAuth client revoked")
    client, og = found
    return Scope(og_id=og.id, path=og.path, can_write=client.role == Role.ADMINISTRATOR.value,
                 actor=actor_of(client))


async def prune(db: Db, now: datetime) -> int:
    """Delete every expired token; returns how many."""
    return await client_store.drop_expired_tokens(db, now)
