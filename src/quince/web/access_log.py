"""One JSON log line per request: who, what, the outcome and how long it took (also counted in
the Prometheus metrics, when the app has them)."""

from __future__ import annotations

import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quince.web.metrics import Metrics

log = logging.getLogger("quince.api.access")


class AccessLog:
    """ASGI middleware; gives each request its activity id (echoed in error bodies)."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

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
            seconds = time.perf_counter() - started
            if self.metrics is not None:
                self.metrics.observe(scope["path"], scope["method"], status, seconds)
            # The path only: query strings are not logged, so nothing a caller put there leaks.
            log.info(
                "%s %s %s", scope["method"], scope["path"], status,
                extra={
                    "activity_id": state["activity_id"],
                    "actor": state.get("actor"),
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )
