"""Lists of addresses and networks in settings (QUINCE_METRICS_ALLOWED, QUINCE_TRUSTED_PROXIES)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(raw: str, setting: str = "metrics_allowed") -> tuple[Network, ...]:
    """A comma-separated setting as networks; ValueError names an entry that is not one."""
    networks = []
    for entry in (part.strip() for part in raw.split(",")):
        if entry:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError as exc:
                raise ValueError(f"{setting}: {entry!r} is not an address or network") from exc
    return tuple(networks)


def allowed(address: str | None, networks: Sequence[Network]) -> bool:
    """True when `address` is an IP address inside one of `networks`."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)
