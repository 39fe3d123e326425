"""Retry timing of background jobs: exponential backoff with jitter, between 5 s and 15 min."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from quince.services.jobs import BACKOFF_BASE, BACKOFF_CAP, backoff


def test_the_first_retry_waits_between_five_and_ten_seconds() -> None:
    rng = random.Random(1)
    delays = [backoff(1, rng=rng) for _ in range(200)]
    assert min(delays) >= BACKOFF_BASE == 5
    assert max(delays) <= 2 * BACKOFF_BASE


def test_the_wait_doubles_with_each_attempt_until_the_cap() -> None:
    ceilings = [max(backoff(n, rng=random.Random(0)) for _ in range(1)) for n in range(1, 12)]
    upper = [min(BACKOFF_CAP, BACKOFF_BASE * 2**n) for n in range(1, 12)]
    for got, ceiling in zip(ceilings, upper, strict=True):
        assert ceiling / 2 <= got <= ceiling
    assert upper[-1] == BACKOFF_CAP == 15 * 60


@given(st.integers(min_value=-5, max_value=10_000), st.integers(min_value=0, max_value=2**32))
def test_every_wait_lies_between_five_seconds_and_fifteen_minutes(attempt: int, seed: int) -> None:
    assert BACKOFF_BASE <= backoff(attempt, rng=random.Random(seed)) <= BACKOFF_CAP


def test_jobs_that_failed_together_do_not_retry_together() -> None:
    rng = random.Random(7)
    delays = {round(backoff(6, rng=rng), 1) for _ in range(50)}
    assert len(delays) > 40
