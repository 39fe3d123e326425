"""The dashboard at the chosen OG: what would fail silently (push certificate, Apps and Books
tokens, the CA), devices per child OG, enrollments per day (an SVG chart drawn
here, with the same figures as a table), and the recent enrollment refusals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from quince.services import warnings
from quince.services.devices import dashboard
from quince.services.devices.dashboard import DayCount
from quince.services.enrollment import refusals as enrollment_refusals
from quince.web.console.context import (
    ConsoleRoute,
    SignedIn,
    render,
    settings_of,
)
from quince.web.deps import Db
from quince.web.pki_state import app_pki

router = APIRouter(route_class=ConsoleRoute)

REASONS = {
    "UserEnrollmentDisabled": "User Enrollment not enabled",
    "UnknownGroupId": "Unknown Group ID",
    "GroupIdOutOfReach": "Group ID not available to the user",
    "InactiveUser": "Inactive user",
}
FLOWS = {"account": "Account-driven", "web": "Web (Safari)"}

# The chart's drawing area, in SVG user units (the SVG scales to the width of the page).
WIDTH, HEIGHT = 960, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 12, 28


@dataclass(frozen=True)
class Bar:
    day: DayCount
    x: float
    y: float
    width: float
    height: float
    slot_x: float
    slot_width: float
    label: str
    """What the bar's <title> says, e.g. "Mon 24 Nov 2026: 3 enrollments"."""


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class AxisLabel:
    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[AxisLabel]
    description: str
    total: int
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM


def _nice_top(largest: int) -> int:
    """The axis maximum: the smallest of 1, 2, 5, 10, 20, 50, ... at or above `largest`."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= largest:
                return step * scale
        scale *= 10


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def chart(days: Sequence[DayCount], og_name: str) -> Chart:
    """The bars, the value axis and the date labels for one enrollments-per-day chart."""
    top = _nice_top(max((d.enrollments for d in days), default=0))
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(days), 1)
    bars = []
    for index, day in enumerate(days):
        height = round(plot_height * day.enrollments / top, 2)
        slot_x = LEFT + index * slot
        bars.append(Bar(
            day, round(slot_x + slot * 0.15, 2), round(HEIGHT - BOTTOM - height, 2), round(slot * 0.7, 2),
            height, round(slot_x, 2), round(slot, 2),
            f"{day.day:%a %d %b %Y}: {_plural(day.enrollments, 'enrollment')}",
        ))
    ticks = [Tick(value, round(HEIGHT - BOTTOM - plot_height * value / top, 2))
             for value in sorted({0, top // 2, top})]
    # A date under every seventh bar, counted back from today's (the last) bar.
    labels = [AxisLabel(round(bar.slot_x + slot / 2, 2), f"{bar.day.day:%d %b}")
              for index, bar in enumerate(bars) if (len(bars) - 1 - index) % 7 == 0]
    total = sum(d.enrollments for d in days)
    best = dashboard.busiest(days)
    span = f"{days[0].day:%d %b} to {days[-1].day:%d %b %Y}" if days else ""
    description = f"Enrollments per day in {og_name} and below, {span} (UTC): {total} in total"
    description += f", most on {best.day:%d %b} ({best.enrollments})." if best else "."
    return Chart(bars, ticks, labels, description, total)


@router.get("/")
async def home(request: Request, db: Db, console: SignedIn) -> Response:
    counts = await dashboard.device_counts(db, console.here)
    days = await dashboard.enrollments_per_day(db, console.here)
    refusals = await enrollment_refusals.recent(db, console.here)
    pki = await app_pki(request.app)
    found = await warnings.at(db, console.og, settings_of(request),
                              ca_expires=pki.ca_certificate.not_valid_after_utc)
    return render(request, console, "home.html", title="Dashboard", nav="home", counts=counts,
                  days=days, chart=chart(days, console.og.name), refusals=refusals,
                  reasons=REASONS, flows=FLOWS, warnings=found)
