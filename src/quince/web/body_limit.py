"""Refuse request bodies over a size limit before anything reads them."""

from __future__ import annotations

import html
import json
import uuid
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """ASGI middleware: 413 when Content-Length or the streamed body exceeds `max_bytes`, or the
    larger limit `per_path` gives an exact path (an upload form). Paths under /console/ get the
    refusal as a page for people, every other path as an API error."""

    def __init__(self, app: ASGIApp, max_bytes: int, per_path: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = dict(per_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            # The server holds the client to the length it declared, so checking it is enough.
            if not declared.isdigit() or int(declared) > limit:
                await self._refuse(scope, send, limit)
                return
            await self.app(scope, receive, send)
            return
        # A streamed (chunked) body: read it here, up to the limit, then hand it on. Failing
        # inside the app's own read would not do: frameworks turn read errors into a 400.
        buffered: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > limit:
                await self._refuse(scope, send, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        message = f"The request body is larger than {_size(limit)} ({limit} bytes)."
        # The request never reached the app, so it has no activity id yet: give it one.
        activity = uuid.uuid4().hex
        if str(scope["path"]).startswith("/console/"):
            body = _PAGE.format(message=html.escape(message), activity=activity).encode()
            media = b"text/html; charset=utf-8"
        else:
            body = json.dumps({"errorCode": 413, "message": message, "activityId": activity}).encode()
            media = b"application/json"
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", media), (b"content-length", str(len(body)).encode()),
                                (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"),
                                (b"content-security-policy", b"default-src 'none'; style-src 'self'")]})
        await send({"type": "http.response.body", "body": body})


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Too large</title>
<link rel="stylesheet" href="/console/static/console.css"></head>
<body><main id="main"><div class="narrow"><h1>Too large</h1>
<div class="notice notice-error" role="alert"><p>{message} Nothing was changed.</p></div>
<p>Choose a smaller file, or split it. <a href="/console/">Back to the console</a></p>
<p>Reference: <span class="reference">{activity}</span></p></div></main></body></html>
"""
