"""What a simulated device reports of its talks with Quince: each HTTP step, an enrollment's
result, and the commands a connect session received with what the device answered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Step:
    """One HTTP request the device made, for reports and timing."""

    name: str
    method: str
    path: str
    status: int
    seconds: float


@dataclass
class EnrollmentResult:
    email: str
    outcome: str  # "enrolled" or "aborted_after_sign_in"
    enrollment_id: str | None = None
    managed_apple_id: str | None = None
    topic: str | None = None
    steps: list[Step] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class CommandExchange:
    """One command the device received and what it answered."""

    command_uuid: str
    request_type: str
    status: str
    command: dict[str, Any] = field(repr=False)
    response: dict[str, Any] = field(repr=False)


@dataclass
class ConnectResult:
    """One connect session: from Idle to the server's empty reply."""

    exchanges: list[CommandExchange] = field(default_factory=list)
    messages: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds per PUT, in order

    @property
    def commands(self) -> list[str]:
        return [e.request_type for e in self.exchanges]

    @property
    def statuses(self) -> list[str]:
        return [e.status for e in self.exchanges]

