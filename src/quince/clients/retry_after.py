"""The HTTP Retry-After header (RFC 9110 §10.2.3), as both of Apple's services send it."""

from __future__ import annotations

from datetime import UTC
from email.utils import parsedate_to_datetime

# However long a service asks for, Quince checks again within the hour.
MAX_RETRY_AFTER = 3600.0


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds to wait: the header is either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, when.timestamp() - now), MAX_RETRY_AFTER)
