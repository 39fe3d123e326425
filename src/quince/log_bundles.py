"""`quince logs collect`: the lines of the DeviceManagement and DeviceServices logs that match a
user, device or enrollment, zipped with a summary for a support engineer (DESIGN.md rule 8)."""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from quince.logs import DEVICE_MANAGEMENT, DEVICE_SERVICES

LOGS = {"devicemanagement": (DEVICE_MANAGEMENT,), "deviceservices": (DEVICE_SERVICES,),
        "all": (DEVICE_MANAGEMENT, DEVICE_SERVICES)}
_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class BadFilter(ValueError):
    """A filter given on the command line is not understood; the message says why."""


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """`2h`, `30m`, `1d12h` (ago) or an ISO 8601 time; naive times are taken as UTC."""
    now = now or datetime.now(UTC)
    text = value.strip().lower()
    parts = _DURATION.findall(text)
    if parts and _DURATION.sub("", text).strip() == "":
        return now - sum((timedelta(**{_UNITS[u]: int(n)}) for n, u in parts), timedelta())
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadFilter(
            f"--since {value!r} is neither a duration like 2h, 30m, 1d nor an ISO time."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Filters:
    user: str | None = None
    device: str | None = None
    enrollment: str | None = None
    since: datetime | None = None

    def matches(self, entry: dict[str, object]) -> bool:
        if self.user and str(entry.get("user", "")).casefold() != self.user.casefold():
            return False
        if self.device and self.device not in (str(entry.get("device", "")), str(entry.get("udid", ""))):
            return False
        if self.enrollment and str(entry.get("enrollment", "")) != self.enrollment:
            return False
        if self.since:
            try:
                when = datetime.fromisoformat(str(entry.get("time", "")))
            except ValueError:
                return False
            return when >= self.since
        return True


@dataclass
class Summary:
    generated_at: str
    filters: dict[str, str | None]
    files: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    first: str | None = None
    last: str | None = None
    unreadable_lines: int = 0


def _entries(path: Path, summary: Summary) -> Iterator[tuple[str, dict[str, object]]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                summary.unreadable_lines += 1
                continue
            if isinstance(entry, dict):
                yield line if line.endswith("\n") else line + "\n", entry


@contextmanager
def _private_file(output: Path) -> Iterator[BinaryIO]:
    """A file that becomes `output` once written, readable only by Quince's user from the start.

    The lines name users and devices: the file is created 0600 (mkstemp), whatever the umask and
    whatever mode an earlier `output` had, and renamed over `output` only when complete.
    """
    fd, name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(name, output)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def collect(log_dir: Path, which: str, filters: Filters, output: Path) -> Summary:
    """Write the matching lines of the chosen logs and summary.json into the zip `output`."""
    if which not in LOGS:
        raise BadFilter(f"--log must be one of {', '.join(LOGS)}, not {which!r}.")
    summary = Summary(
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        filters={k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(filters).items()},
    )
    events: Counter[str] = Counter()
    output.parent.mkdir(parents=True, exist_ok=True)
    with _private_file(output) as handle, \
            zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for face in LOGS[which]:
            kept: list[str] = []
            for line, entry in _entries(log_dir / f"{face}.log", summary):
                if filters.matches(entry):
                    kept.append(line)
                    events[f"{face} {entry.get('event', '?')} {entry.get('outcome', '?')}"] += 1
                    when = str(entry.get("time", ""))
                    summary.first = min(filter(None, (summary.first, when)), default=None)
                    summary.last = max(filter(None, (summary.last, when)), default=None)
            bundle.writestr(f"{face}.log", "".join(kept))
            summary.files[f"{face}.log"] = len(kept)
        summary.events = dict(sorted(events.items()))
        bundle.writestr("summary.json", json.dumps(asdict(summary), indent=2))
    return summary
