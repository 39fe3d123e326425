"""Every URL path one face needs from another, in one place, so a face never imports a sibling
for a path: the sign-in pages (DeviceManagement), the enrollment and profile URLs devices use and
the check-in, command and SCEP URLs the enrollment profile names (DeviceServices).

The check-in, command and SCEP paths go into the profile the enrollment service builds, so they are
defined there (`quince.services.enrollment.profile`) and named again here for the faces.
"""

from __future__ import annotations

from quince.apple.discovery import WELL_KNOWN_PATH
from quince.services.enrollment.profile import CHECKIN_PATH, SCEP_PATH, SERVER_PATH
from quince.services.enrollment.sessions import Flow

# DeviceManagement: the enrollment sign-in pages, one per flow.
SIGN_IN_PATHS = {
    Flow.WEB: "/DeviceManagement/Enrollment",
    Flow.ACCOUNT: "/DeviceManagement/Enrollment/account-driven",
}
SIGN_IN_STYLESHEET_PATH = "/DeviceManagement/static/signin.css"

# DeviceServices: account-driven enrollment's BaseURL, the profile download after signing in, and
# what enrolled devices talk to.
ENROLLMENT_PATH = "/DeviceServices/Enrollment/byod"
PROFILE_PATH = "/DeviceServices/Enrollment/profile"

# The console.
CONSOLE_PATH = "/console"

__all__ = [
    "CHECKIN_PATH", "CONSOLE_PATH", "ENROLLMENT_PATH", "PROFILE_PATH", "SCEP_PATH", "SERVER_PATH",
    "SIGN_IN_PATHS", "SIGN_IN_STYLESHEET_PATH", "WELL_KNOWN_PATH",
]
