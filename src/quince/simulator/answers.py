"""Reading what Quince answers a simulated device: a refusal, the enrollment POST's bearer
challenge, the sign-in callback's access token, and a command on the connect channel."""

from __future__ import annotations

import plistlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from quince.simulator.errors import ProtocolViolation, ServerRefused
from quince.simulator.html_forms import read_page


def refused(step: str, response: httpx.Response) -> ServerRefused:
    """The ServerRefused for an answer the device cannot go on with, with what the server said."""
    detail = response.text[:300] if response.headers.get("content-type", "").startswith(
        ("text/", "application/json")) else ""
    if response.headers.get("content-type", "").startswith("text/html"):
        detail = read_page(response.text).message
    return ServerRefused(step, response.status_code, detail)


def read_command(body: bytes) -> tuple[str, Any]:
    """The CommandUUID and Command of a server reply."""
    try:
        message = plistlib.loads(body)
    except (plistlib.InvalidFileException, ValueError) as exc:
        raise ProtocolViolation("connect", f"the reply is not a plist ({exc})") from None
    if not isinstance(message, dict) or not isinstance(message.get("CommandUUID"), str):
        raise ProtocolViolation("connect", "the reply has no CommandUUID")
    return message["CommandUUID"], message.get("Command")


def parse_bearer_challenge(header: str) -> dict[str, str]:
    """The parameters of `WWW-Authenticate: Bearer k="v", k2="v2"` (comma- or space-separated,
    as Apple's example and Fleet's server differ)."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return {}
    params: dict[str, str] = {}
    i, n = 0, len(rest)
    while i < n:
        while i < n and rest[i] in " ,\t":
            i += 1
        start = i
        while i < n and rest[i] not in "= ,\t":
            i += 1
        name = rest[start:i].strip().lower()
        if i >= n or rest[i] != "=":
            continue
        i += 1
        if i < n and rest[i] == '"':
            end = rest.find('"', i + 1)
            end = n if end < 0 else end
            value, i = rest[i + 1:end], end + 1
        else:
            start = i
            while i < n and rest[i] not in " ,\t":
                i += 1
            value = rest[start:i]
        if name:
            params[name] = value
    return params


def access_token_from(callback_url: str) -> str:
    """The access-token of `apple-remotemanagement-user-login://authentication-results?access-token=…`."""
    parts = urlsplit(callback_url)
    tokens = parse_qs(parts.query).get("access-token", [])
    if parts.netloc != "authentication-results" or len(tokens) != 1 or not tokens[0]:
        raise ProtocolViolation("sign_in", f"unusable callback {callback_url!r}")
    return tokens[0]
