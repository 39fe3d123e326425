"""Short-lived signed values for the faces people use: the sign-in pages (the Group ID step) and the
console (its session cookie), and the MACs behind both CSRF cookies.

The key lives in `<var_dir>/secret.key` (mode 0600), created on first use. Several Quince
processes behind one load balancer must share that file, as they share the database.

itsdangerous would do this; a few lines of stdlib HMAC-SHA256 keep the dependency list short for
two tiny payloads, and every check goes through hmac.compare_digest.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from starlette.requests import Request

KEY_FILE = "secret.key"


def load_secret_key(var_dir: Path) -> bytes:
    """The install's signing key, created (0600, never overwritten) when it does not exist yet."""
    path = var_dir / KEY_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        # Write a temporary file, then link it into place: link never replaces an existing file,
        # so processes starting together all end up with the one key that won.
        tmp = var_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    key = bytes.fromhex(path.read_text().strip())
    if len(key) < 32:
        raise RuntimeError(f"{path} holds no usable key (expected 64 hex digits).")
    return key


def request_key(request: Request) -> bytes:
    """The install's signing key for a request to the app: loaded once per app (`load_secret_key`)
    and shared by both faces people use (the sign-in pages and the console)."""
    key: bytes | None = getattr(request.app.state, "signin_key", None)
    if key is None:
        key = load_secret_key(request.app.state.settings.var_dir)
        request.app.state.signin_key = key
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mac(key: bytes, purpose: str, message: str) -> str:
    """HMAC-SHA256 of `message`, separated per purpose so one kind of value never passes for another."""
    return _b64(hmac.new(key, f"{purpose}\x00{message}".encode(), hashlib.sha256).digest())


def same(given: str, expected: str) -> bool:
    """Constant-time comparison that accepts any text a client sent (compare_digest wants ASCII)."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def sign(key: bytes, purpose: str, payload: dict[str, Any], ttl_seconds: int) -> str:
    """`payload` (JSON-able) with an expiry, signed: `<base64 json>.<base64 mac>`."""
    body = _b64(json.dumps({**payload, "exp": int(time.time()) + ttl_seconds}).encode())
    return f"{body}.{mac(key, purpose, body)}"


def verify(key: bytes, purpose: str, token: str) -> dict[str, Any] | None:
    """The payload of a token `sign` made for `purpose` that has not expired, else None."""
    body, _, tag = token.partition(".")
    if not body or not tag or not same(tag, mac(key, purpose, body)):
        return None
    try:
        payload = json.loads(_unb64(body))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        return None
    return payload if payload["exp"] > time.time() else None
