"""What can go wrong for a simulated device, as types the caller can tell apart."""

from __future__ import annotations


class SimulatorError(Exception):
    """Base of the simulator's errors; `step` names where the device was (e.g. "enroll.profile")."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
        self.message = message


class ServerRefused(SimulatorError):
    """The server answered a status the device did not expect at this step."""

    def __init__(self, step: str, status: int, detail: str = "") -> None:
        super().__init__(step, f"HTTP {status}" + (f": {detail}" if detail else ""))
        self.status = status
        self.detail = detail


class ProtocolViolation(SimulatorError):
    """The server's answer breaks the protocol (a bad challenge, profile, plist or certificate);
    a real device would cancel the enrollment or drop the message."""


class NotEnrolled(SimulatorError):
    """The device was asked to talk MDM before it enrolled, or after it checked out."""
