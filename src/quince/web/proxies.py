"""Who a request comes from, behind reverse proxies: the one place that believes X-Forwarded-For.

Only a peer inside QUINCE_TRUSTED_PROXIES (addresses or networks) may say who the client is;
uvicorn's ProxyHeadersMiddleware does the parsing. Sign-in back-off counts per client address, so
a proxy that is not trusted makes every client behind it look like one address: the first request
with forwarding headers from such a peer is logged as a warning (docs/security.md).
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from quince.web.networks import Network, allowed, parse_networks

log = logging.getLogger("quince.proxies")

FORWARDING_HEADERS = frozenset((b"x-forwarded-for", b"forwarded", b"x-real-ip"))
WARNED_MAX = 256


class TrustedProxies:
    """ASGI middleware: records the connecting peer as `state["peer"]`, warns once per untrusted
    peer that forwards, and lets a trusted peer's X-Forwarded-For name the client."""

    def __init__(self, app: ASGIApp, trusted: str) -> None:
        self.networks = parse_networks(trusted, "trusted_proxies")
        hosts = [str(n.network_address) if n.num_addresses == 1 else str(n) for n in self.networks]
        self.app: ASGIApp = (
            ProxyHeadersMiddleware(app, trusted_hosts=hosts) if hosts else app  # type: ignore[arg-type,assignment]
        )
        self._warned: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            peer = scope["client"][0] if scope.get("client") else ""
            scope.setdefault("state", {})["peer"] = peer
            if not allowed(peer, self.networks) and any(
                name in FORWARDING_HEADERS for name, _ in scope["headers"]
            ):
                self._warn(peer)
        await self.app(scope, receive, send)

    def _warn(self, peer: str) -> None:
        if peer in self._warned or len(self._warned) >= WARNED_MAX:
            return
        self._warned.add(peer)
        log.warning(
            "requests from %s carry forwarding headers (X-Forwarded-For), but %s is not in "
            "QUINCE_TRUSTED_PROXIES: Quince sees that address for every client behind it, so "
            "sign-in back-off and logs cannot tell those clients apart. Add it if it is your "
            "reverse proxy.", peer, peer,
        )


def client_address(request: Request) -> str:
    """The client's address: the peer's, or what a trusted proxy said it was."""
    return request.client.host if request.client else "unknown"


def peer_address(request: Request) -> str:
    """The address of the machine that connected to Quince (the proxy, when there is one)."""
    peer = getattr(request.state, "peer", None)
    return peer if isinstance(peer, str) else client_address(request)


def from_trusted_proxy(request: Request, networks: tuple[Network, ...]) -> bool:
    """True when the machine that connected is one of the trusted proxies."""
    return allowed(peer_address(request), networks)


