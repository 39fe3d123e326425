"""Background job statuses (services/jobs holds the queue and the runner)."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    """waiting -> running -> done | waiting (retry, after a backoff) | failed."""

    WAITING = "waiting"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
