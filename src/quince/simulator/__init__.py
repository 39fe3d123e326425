"""A scripted iOS 18 iPhone with account-driven User Enrollment, talking to Quince over HTTP only.

`SimulatedDevice` enrolls (discovery, signed MachineInfo, the sign-in sheet, the profile, SCEP,
Authenticate and TokenUpdate), connects and answers commands as a user-enrolled iPhone does, and
checks out. `run_many` runs many of them concurrently. It imports nothing from Quince's server
side (only quince.apple.cms, to verify the profile's signature); see docs/simulator.md.
"""

from quince.simulator.device import PendingEnrollment, SimulatedDevice
from quince.simulator.errors import NotEnrolled, ProtocolViolation, ServerRefused, SimulatorError
from quince.simulator.fleet import DeviceRun, run_many, shared_transport
from quince.simulator.holdings import HardwareFacts
from quince.simulator.iphone import UserEnrolledIPhone
from quince.simulator.outcomes import CommandExchange, ConnectResult, EnrollmentResult, Step
from quince.simulator.web_sheet import Credentials

__all__ = [
    "CommandExchange",
    "ConnectResult",
    "Credentials",
    "DeviceRun",
    "EnrollmentResult",
    "HardwareFacts",
    "NotEnrolled",
    "PendingEnrollment",
    "ProtocolViolation",
    "ServerRefused",
    "SimulatedDevice",
    "SimulatorError",
    "Step",
    "UserEnrolledIPhone",
    "run_many",
    "shared_transport",
]
