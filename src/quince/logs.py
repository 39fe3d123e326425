"""Quince's logs: JSON lines under var/log, one object per event, easy to filter and collect.

- `DeviceManagement.log`: the enrollment sign-in pages, up to the point the profile is offered.
- `DeviceServices.log`: service discovery, the enrollment POSTs, the profile download, SCEP, and
  everything a device does afterwards.
- `quince.log`: everything else (REST API access and refusals, startup).

DESIGN.md rule 8: a support engineer collects either log, filtered to one user, device or
enrollment, with `quince logs collect`. Secrets (passwords, tokens, challenges, API keys) are never
passed to a logger.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEVICE_MANAGEMENT = "DeviceManagement"
DEVICE_SERVICES = "DeviceServices"
FACES = (DEVICE_MANAGEMENT, DEVICE_SERVICES)

# Attributes every LogRecord has; anything else on a record came through `extra=` and is logged.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def face_logger(face: str) -> logging.Logger:
    """The logger of one face: `quince.DeviceManagement` or `quince.DeviceServices`."""
    return logging.getLogger(f"quince.{face}")


def event(face: str, name: str, outcome: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event of a face, e.g. event(DEVICE_SERVICES, "enroll.profile", "delivered",
    request_id=..., enrollment=<session uuid>, user=<username>, device=<device uuid>)."""
    # A field named like a LogRecord attribute ("filename", "module", ...) would make logging raise:
    # it is logged with a trailing underscore instead.
    clean = {(f"{k}_" if k in _STANDARD else k): v for k, v in fields.items() if v is not None}
    face_logger(face).log(level, "%s %s", name, outcome, extra={"event": name, "outcome": outcome, **clean})


def _attach(logger: logging.Logger, path: Path) -> None:
    if not any(getattr(h, "baseFilename", None) == str(path.resolve()) for h in logger.handlers):
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(JsonLines())
        logger.addHandler(handler)


def configure(log_dir: Path, level: str = "INFO") -> Path:
    """Send Quince's loggers to JSON-lines files in log_dir; returns the path of quince.log."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "quince.log"
    logger = logging.getLogger("quince")
    _attach(logger, path)
    logger.setLevel(level.upper())
    for face in FACES:
        face_log = face_logger(face)
        face_log.propagate = False  # each face has its own file, as Workspace ONE's two logs
        _attach(face_log, log_dir / f"{face}.log")
        face_log.setLevel(level.upper())
    return path
