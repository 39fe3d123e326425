"""Checks for the URLs Quince hands to devices (discovery BaseURL, challenge url, profile URLs)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from quince.apple.errors import InvalidServiceURL

# Whitespace, controls, quotes and backslashes never belong in a URL and would break the quoted
# parameters of a WWW-Authenticate header.
_FORBIDDEN = re.compile(r'[\s\x00-\x1f\x7f"\\<>]')
MAX_URL_LENGTH = 2048


def check_service_url(
    url: str,
    field: str,
    *,
    allow_insecure: bool = False,
    allow_query: bool = True,
    schemes: tuple[str, ...] = ("https",),
) -> str:
    """Return `url` if it is an absolute URL a device can use, else raise `InvalidServiceURL`.

    `allow_insecure` also admits http (tests and local demos); `schemes` lists the others allowed.
    """
    if not isinstance(url, str) or not url:
        raise InvalidServiceURL(field, str(url), "it must be a non-empty string")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidServiceURL(field, url[:80] + "…", f"it must be at most {MAX_URL_LENGTH} characters")
    if _FORBIDDEN.search(url):
        raise InvalidServiceURL(field, url, "it must not contain spaces, quotes or control characters")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise InvalidServiceURL(field, url, f"it does not parse ({exc})") from None
    allowed = schemes + (("http",) if allow_insecure and "http" not in schemes else ())
    if parts.scheme.lower() not in allowed:
        rule = "it must use https" if allowed == ("https",) else f"its scheme must be one of {allowed}"
        raise InvalidServiceURL(field, url, rule)
    if not parts.hostname:
        raise InvalidServiceURL(field, url, "it must name a host")
    if parts.username is not None or parts.password is not None:
        raise InvalidServiceURL(field, url, "it must not carry credentials")
    if parts.fragment or url.endswith("#"):
        raise InvalidServiceURL(field, url, "it must not have a fragment")
    if not allow_query and (parts.query or "?" in url):
        raise InvalidServiceURL(field, url, "it must not have a query string (devices append their own)")
    return url
