"""Quince's logs: JSON lines under var/log, one object per event, easy to filter and collect.

The DeviceManagement and DeviceServices logs of DESIGN.md rule 8 arrive with enrollment; for now
`quince.log` holds the REST API's access and refusal lines. Secrets (passwords, API keys, tokens)
are never passed to a logger.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

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


def configure(log_dir: Path, level: str = "INFO") -> Path:
    """Send the `quince` loggers to log_dir/quince.log as JSON lines; returns the file's path."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "quince.log"
    logger = logging.getLogger("quince")
    if not any(getattr(h, "baseFilename", None) == str(path.resolve()) for h in logger.handlers):
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(JsonLines())
        logger.addHandler(handler)
    logger.setLevel(level.upper())
    return path
