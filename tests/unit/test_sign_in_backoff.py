"""The sign-in back-off (docs/security.md): free failures, then waits that double up to a ceiling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from quince.domain.sign_in_backoff import BackOff, Failures, retry_in, wait_after

RULE = BackOff(free_failures=3, first_wait=timedelta(seconds=1), max_wait=timedelta(seconds=60))
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_the_free_failures_cost_no_wait() -> None:
    assert [wait_after(n, RULE) for n in range(3)] == [timedelta(0)] * 3


def test_each_failure_beyond_the_free_ones_doubles_the_wait() -> None:
    assert [wait_after(n, RULE).total_seconds() for n in range(3, 8)] == [1, 2, 4, 8, 16]


def test_the_wait_never_exceeds_the_ceiling_however_many_failures() -> None:
    assert wait_after(10_000, RULE) == RULE.max_wait


def test_an_attempt_waits_only_until_the_latest_failure_plus_the_wait() -> None:
    failures = Failures(count=5, latest=NOW - timedelta(seconds=1))  # wait after 5: 4 s
    assert retry_in(failures, RULE, NOW) == timedelta(seconds=3)
    assert retry_in(failures, RULE, NOW + timedelta(seconds=3)) is None


def test_no_failures_never_wait() -> None:
    assert retry_in(Failures(0, None), RULE, NOW) is None


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=10_000))
def test_more_failures_never_mean_a_shorter_wait(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert wait_after(low, RULE) <= wait_after(high, RULE) <= RULE.max_wait
