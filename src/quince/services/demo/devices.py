"""The demo tenant's devices, so the console has something to show on a fresh `make run`.

Each one goes through the real enrollment start (policy, decision trace, placeholder record,
refusals), at a time in the last two weeks; the ones shown as enrolled are then completed the way
the first TokenUpdate completes them, with what a user-enrolled iPhone reports (an Enrollment ID,
never a serial number). They are records only: no certificate, no push token, nothing to contact.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from quince.domain.devices import EnrollmentStatus
from quince.services.enrollment import sessions as enrollment
from quince.services.enrollment.sessions import EnrollmentStarted, Flow, SessionStatus
from quince.store.database import Db
from quince.store.models import EnrollmentUserRow

TTL = timedelta(minutes=30)


@dataclass(frozen=True)
class DemoEnrollment:
    username: str
    days_ago: float
    """When the person signed in."""
    completes: bool = True
    """False: the person stopped after signing in (a placeholder stays in progress)."""
    group_id: str | None = None
    product: str = "iPhone15,2"
    model_name: str = "iPhone"
    os_version: str = "18.1"
    flow: Flow = Flow.ACCOUNT


# In time order. grace starts twice: her first placeholder is abandoned and superseded by the next
# record; henry has just signed in; dave and erin are refused (dashboard: recent refusals).
ENROLLMENTS = (
    DemoEnrollment("alice", 13, product="iPhone16,2", os_version="18.1"),
    DemoEnrollment("bob", 11, product="iPhone15,3", os_version="18.0.1"),
    DemoEnrollment("grace", 9, completes=False),
    DemoEnrollment("grace", 8.9, product="iPhone14,5", os_version="17.6.1", flow=Flow.WEB),
    DemoEnrollment("carol", 6, product="iPad13,18", model_name="iPad", os_version="18.1"),
    DemoEnrollment("dave", 4),
    DemoEnrollment("bob", 3, product="iPad14,1", model_name="iPad mini", os_version="18.1"),
    DemoEnrollment("erin", 1.5),
    DemoEnrollment("henry", 0.2, completes=False, group_id="acme-eng-mobile"),
)


async def seed(session: Db, people: dict[str, EnrollmentUserRow], now: datetime) -> int:
    """Run the demo enrollments for these users (by username); returns how many devices exist."""
    made = 0
    for step in ENROLLMENTS:
        when = now - timedelta(days=step.days_ago)
        outcome = await enrollment.start(
            session, people[step.username], flow=step.flow, group_id=step.group_id, ttl=TTL,
            client_address="192.0.2.10", now=when,
        )
        if not isinstance(outcome, EnrollmentStarted):
            continue  # a refusal, recorded by enrollment.start
        made += 1
        if step.completes:
            _complete(outcome, step, when + timedelta(minutes=3), now)
    await session.flush()
    return made


def _complete(started: EnrollmentStarted, step: DemoEnrollment, at: datetime, now: datetime) -> None:
    device = started.device
    device.udid = str(uuid.uuid4()).upper()  # an Enrollment ID, as a user-enrolled device sends
    device.product_name, device.model_name, device.os_version = step.product, step.model_name, step.os_version
    device.device_name = f"{step.username.title()}'s {step.model_name}"
    device.enrollment_status = EnrollmentStatus.ENROLLED.value
    device.enrolled_at = at
    device.last_seen_at = max(at, now - timedelta(hours=2 + step.days_ago))
    started.enrollment.status = SessionStatus.COMPLETED.value
    started.enrollment.completed_at = at
