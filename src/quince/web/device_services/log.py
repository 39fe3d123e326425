"""The DeviceServices log line of one device request (DESIGN.md rule 8)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from starlette.requests import Request

from quince.logs import DEVICE_SERVICES, event


def log_event(request: Request, name: str, outcome: str, *, warn: bool = False, **fields: Any) -> None:
    """Log `name` `outcome` with the request's id (the access log's activity id) and address."""
    state = request.scope.setdefault("state", {})
    request_id = state.setdefault("activity_id", uuid.uuid4().hex)
    event(DEVICE_SERVICES, name, outcome, level=logging.WARNING if warn else logging.INFO,
          request_id=request_id, address=request.client.host if request.client else None, **fields)
