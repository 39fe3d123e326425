"""How long a sign-in must wait after failures: an exponential back-off, never a hard wall.

Each counter (one account from one address; one address, whatever the accounts) allows some
failures for free, then makes the next attempt wait twice as long after each further failure, up
to a ceiling. Somebody with the right password from another address is never slowed by somebody
else's failures on their account, and people behind one NAT address are slowed, not locked out,
by a guesser sharing it (docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class BackOff:
    free_failures: int
    """Failures allowed before any wait."""
    first_wait: timedelta
    """The wait after the first failure beyond the free ones; each further failure doubles it."""
    max_wait: timedelta


@dataclass(frozen=True)
class Failures:
    """What one counter holds: failures in the window, and when the latest happened."""

    count: int
    latest: datetime | None


def wait_after(failures: int, rule: BackOff) -> timedelta:
    """How long to wait after the latest of `failures` failures before trying again."""
    beyond = failures - rule.free_failures
    if beyond < 0:
        return timedelta(0)
    # Past 2**40 the ceiling has long been reached; the cap keeps the float finite.
    wait: timedelta = rule.first_wait * (2 ** min(beyond, 40))
    return min(wait, rule.max_wait)


def retry_in(failures: Failures, rule: BackOff, now: datetime) -> timedelta | None:
    """None when an attempt may go ahead now; else how long until it may."""
    if failures.latest is None:
        return None
    allowed_at = failures.latest + wait_after(failures.count, rule)
    return allowed_at - now if allowed_at > now else None
