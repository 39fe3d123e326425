"""Administrator accounts and REST API keys, and turning their credentials into a Scope."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from datetime import datetime
from enum import StrEnum
from typing import NoReturn

from quince.domain.errors import Conflict, InvalidInput, NotFound, QuinceError
from quince.domain.users import typed_name_digest, username_key, validate_username
from quince.services.access import admin_sessions, passwords, sign_in_throttle
from quince.services.access.sign_in_throttle import Namespace, Throttle
from quince.services.directory import org_groups
from quince.services.scope import Scope
from quince.store import admins as admin_store
from quince.store.database import Db
from quince.store.models import AdminRow, ApiKeyRow, OrgGroupRow, utcnow
from quince.store.paging import Page, PageRequest


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    READ_ONLY = "read-only"


class AuthenticationFailed(QuinceError):
    """Credentials were missing or wrong. The message is the same for every failure, so it never
    says which part was wrong; `reason` says it, for the log only."""

    MESSAGE = ("The credentials are not valid: check the username, the password and the "
               "aw-tenant-code API key.")

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGE)
        self.reason = reason


def parse_role(raw: str) -> Role:
    for role in Role:
        if raw.strip().casefold().replace("_", "-").replace(" ", "-") == role.value:
            return role
    raise InvalidInput("Role", f"Role must be one of {', '.join(r.value for r in Role)}, not {raw!r}.")


async def add_admin(
    session: Db, scope: Scope, *, username: str, password: str, og_id: int, role: str
) -> AdminRow:
    scope.require_write()
    username = validate_username(username)
    parsed = parse_role(role)
    og = await org_groups.get(session, scope, og_id)
    exists = await admin_store.admin_by_name_key(session, username_key(username))
    if exists is not None:
        raise Conflict(f"An admin named {username!r} already exists.")
    row = AdminRow(
        username=username, username_key=username_key(username),
        password_hash=passwords.hash_password(password), role=parsed.value, og_id=og.id,
    )
    session.add(row)
    await session.flush()
    return row


async def list_admins(session: Db, scope: Scope) -> list[tuple[AdminRow, OrgGroupRow]]:
    return await admin_store.admins_within(session, scope.path)


async def search(
    session: Db, scope: Scope, page: PageRequest, *, username: str | None = None,
    role: str | None = None, active: bool | None = None, og_id: int | None = None,
    descending: bool = False,
) -> Page[AdminRow]:
    """Admins in scope by username; `og_id` takes that OG with the OGs below it. A role that is
    not one of Quince's matches nobody."""
    under = (await org_groups.get(session, scope, og_id)).path if og_id is not None else None
    wanted: str | None = None
    if role:
        try:
            wanted = parse_role(role).value
        except InvalidInput:
            return Page([], page.page, page.page_size, 0)
    return await admin_store.search_within(session, scope.path, page, username=username, role=wanted,
                                           active=active, under=under, descending=descending)


async def remove_admin(session: Db, scope: Scope, username: str) -> None:
    scope.require_write()
    for admin, _og in await list_admins(session, scope):
        if admin.username_key == username_key(username):
            await session.delete(admin)
            await session.flush()
            return
    raise NotFound("Admin", username)


async def update_admin(
    session: Db, scope: Scope, username: str, *, password: str | None = None,
    role: str | None = None, active: bool | None = None,
) -> AdminRow:
    """Change an admin's password, role or activation. Any of these ends every console session of
    that admin on the server (a copied cookie included); REST calls check them on every request."""
    scope.require_write()
    found = [a for a, _og in await list_admins(session, scope) if a.username_key == username_key(username)]
    if not found:
        raise NotFound("Admin", username)
    admin = found[0]
    changed = False
    if password is not None:
        admin.password_hash = passwords.hash_password(password)
        changed = True
    if role is not None and parse_role(role).value != admin.role:
        admin.role, changed = parse_role(role).value, True
    if active is not None and active != admin.active:
        admin.active, changed = active, True
    if changed:
        await admin_sessions.end_all(session, admin.id)
    await session.flush()
    return admin


@functools.cache
def _dummy_hash() -> str:
    return passwords.hash_password(secrets.token_urlsafe(16))


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_api_key(
    session: Db, scope: Scope, *, og_id: int, name: str = ""
) -> tuple[ApiKeyRow, str]:
    """A new API key for an OG; the plain key is returned once and only its hash is stored."""
    scope.require_write()
    og = await org_groups.get(session, scope, og_id)
    key = secrets.token_urlsafe(32)
    row = ApiKeyRow(name=name[:100], key_hash=_key_hash(key), key_prefix=key[:6], og_id=og.id)
    session.add(row)
    await session.flush()
    return row, key


async def list_api_keys(session: Db, scope: Scope) -> list[tuple[ApiKeyRow, OrgGroupRow]]:
    return await admin_store.api_keys_within(session, scope.path)


async def revoke_api_key(session: Db, scope: Scope, key_id: int) -> ApiKeyRow:
    scope.require_write()
    for key, _og in await list_api_keys(session, scope):
        if key.id == key_id:
            key.revoked_at = key.revoked_at or utcnow()
            await session.flush()
            return key
    raise NotFound("API key", key_id)


class VerifiedPasswords:
    """Remembers recent successful argon2 checks for a minute, so each REST call does not pay
    for a full password hash; a changed password hash or a new password misses the cache."""

    def __init__(self, ttl_seconds: float = 60.0, max_entries: int = 1024) -> None:
        self._secret = secrets.token_bytes(32)
        self._seen: dict[bytes, float] = {}
        self._ttl = ttl_seconds
        self._max = max_entries

    def _token(self, password_hash: str, password: str) -> bytes:
        return hmac.digest(self._secret, f"{password_hash}\0{password}".encode(), "sha256")

    def verify(self, password_hash: str, password: str) -> bool:
        token, now = self._token(password_hash, password), time.monotonic()
        if self._seen.get(token, 0.0) > now:
            return True
        if not passwords.verify_password(password_hash, password):
            return False
        if len(self._seen) >= self._max:
            self._seen = {k: t for k, t in self._seen.items() if t > now}
            if len(self._seen) >= self._max:
                self._seen.clear()
        self._seen[token] = now + self._ttl
        return True


async def authenticate_admin(
    session: Db,
    username: str,
    password: str,
    *,
    address: str,
    throttle: Throttle,
    verified: VerifiedPasswords | None = None,
    now: datetime | None = None,
) -> AdminRow:
    """The active admin with these credentials, for the console and the REST API alike: both
    count failures in one place, so a guess costs the same on either (docs/security.md).
    Throttled before checking anything while a back-off runs; AuthenticationFailed otherwise."""
    attempt = await _Attempt.begin(session, username, address, throttle, now)
    admin = await attempt.verify(password, verified)
    await attempt.succeeded()
    return admin


class _Attempt:
    """One admin sign-in: the back-off checked first, then the password, then any further check
    (the API key); only when all pass is it recorded as a success."""

    def __init__(self, session: Db, username: str, address: str, key: str, earlier: int,
                 now: datetime) -> None:
        self.session, self.username, self.address = session, username, address
        self.key, self.earlier, self.now = key, earlier, now

    @classmethod
    async def begin(cls, session: Db, username: str, address: str, throttle: Throttle,
                    now: datetime | None) -> _Attempt:
        now = now or utcnow()
        key = sign_in_throttle.attempt_key(Namespace.ADMIN, username_key(username))
        earlier = await sign_in_throttle.check(session, throttle, Namespace.ADMIN, key, address, now)
        return cls(session, username, address, key, earlier, now)

    async def verify(self, password: str, verified: VerifiedPasswords | None) -> AdminRow:
        admin = await admin_store.admin_by_name_key(self.session, username_key(self.username))
        checker = verified or VerifiedPasswords(ttl_seconds=0)
        if admin is None:
            # Spend the same time as for a real account, so timing does not reveal who exists.
            passwords.verify_password(_dummy_hash(), password)
            await self.failed(f"no admin is named {typed_name_digest(self.username)} (typed name, digested)")
        assert admin is not None
        if not checker.verify(admin.password_hash, password):
            await self.failed(f"admin {admin.username!r}: wrong password")
        if not admin.active:
            await self.failed(f"admin {admin.username!r}: deactivated")
        return admin

    async def failed(self, reason: str) -> NoReturn:
        await sign_in_throttle.record(self.session, self.key, self.address, succeeded=False, now=self.now)
        raise AuthenticationFailed(reason)

    async def succeeded(self) -> None:
        await sign_in_throttle.record(self.session, self.key, self.address, succeeded=True, now=self.now,
                                      keep_success=False, forgive=self.earlier > 0)


async def api_scope(
    session: Db,
    username: str,
    password: str,
    tenant_code: str,
    verified: VerifiedPasswords | None = None,
    *,
    address: str,
    throttle: Throttle,
) -> Scope:
    """The scope of a REST call: the admin's subtree intersected with the API key's subtree.
    A wrong key counts as a failed sign-in of the admin too; every failure reads the same."""
    attempt = await _Attempt.begin(session, username, address, throttle, None)
    admin = await attempt.verify(password, verified)
    key = await admin_store.api_key_by_hash(session, _key_hash(tenant_code))
    if key is None or key.revoked_at is not None:
        await attempt.failed(f"admin {admin.username!r}: the aw-tenant-code is not an active API key")
    assert key is not None
    admin_og = await session.get(OrgGroupRow, admin.og_id)
    key_og = await session.get(OrgGroupRow, key.og_id)
    assert admin_og is not None and key_og is not None
    if key_og.path.startswith(admin_og.path):
        top = key_og
    elif admin_og.path.startswith(key_og.path):
        top = admin_og
    else:
        await attempt.failed(f"admin {admin.username!r}: API key {key.key_prefix}… belongs to an OG "
                             "outside the admin's subtree")
    await attempt.succeeded()
    return Scope(
        og_id=top.id, path=top.path, can_write=admin.role == Role.ADMINISTRATOR.value,
        actor=f"admin {admin.username!r}",
    )
