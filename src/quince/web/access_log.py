"""One JSON log line per REST call: who, what, the outcome and how long it took."""

from __future__ import annotations

import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("quince.api.access")


class AccessLog:
    """ASGI middleware; gives each request its activity id (echoed in error bodies)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state.setdefault("activity_id", uuid.uuid4().hex)
        started, status = time.perf_counter(), 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            # The path only: query strings are not logged, so nothing a caller put there leaks.
            log.info(
                "%s %s %s", scope["method"], scope["path"], status,
                extra={
                    "activity_id": state["activity_id"],
                    "actor": state.get("actor"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
