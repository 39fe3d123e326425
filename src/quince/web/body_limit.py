"""Refuse request bodies over a size limit before anything reads them.

Each face has its own cap (QUINCE_DEVICE_MAX_BODY_BYTES, QUINCE_API_MAX_BODY_BYTES, ...): a device's
command report may be megabytes, a sign-in form never is. An upload form's exact path may have a
larger cap than its face. A refusal is a 413 in the face's own shape: plain text for a device (and
logged in DeviceServices.log), a page for people, an API error everywhere else.
"""

from __future__ import annotations

import html
import json
import logging
import uuid
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quince.logs import DEVICE_MANAGEMENT, DEVICE_SERVICES, event
from quince.web.faces import Face, face_of


class BodyLimit:
    """ASGI middleware: 413 when Content-Length or the streamed body exceeds the path's cap: the
    exact path's in `per_path`, else its face's in `caps`, else `default`."""

    def __init__(self, app: ASGIApp, caps: Mapping[Face, int], default: int,
                 per_path: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.caps = dict(caps)
        self.default = default
        self.per_path = dict(per_path or {})

    def limit(self, path: str) -> int:
        return self.per_path.get(path) or self.caps.get(face_of(path), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            # The server holds the client to the length it declared, so checking it is enough.
            if not declared.isdigit() or int(declared) > limit:
                await _refuse(scope, send, limit)
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
                await _refuse(scope, send, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    size = _size(limit)
    message = f"The request body is larger than {size}" + (f" ({limit} bytes)." if limit >= 1024 else ".")
    # The access log gave the request its activity id; without it (a bare app) make one.
    activity = scope.setdefault("state", {}).setdefault("activity_id", uuid.uuid4().hex)
    face = face_of(scope["path"])
    if face in (Face.DEVICE_SERVICES, Face.DEVICE_MANAGEMENT):
        client = scope.get("client")
        event(DEVICE_SERVICES if face is Face.DEVICE_SERVICES else DEVICE_MANAGEMENT,
              "request", "refused:too_large", level=logging.WARNING, request_id=activity,
              address=client[0] if client else None, path=scope["path"], limit=limit)
    headers = [(b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]
    if face is Face.DEVICE_SERVICES:
        # A device reads the status only (never a 401: to a device that means "unenrolled").
        body, media = message.encode(), b"text/plain; charset=utf-8"
    elif face in (Face.CONSOLE, Face.DEVICE_MANAGEMENT):
        page = _CONSOLE_PAGE if face is Face.CONSOLE else _SIGN_IN_PAGE
        body, media = page.format(message=html.escape(message), activity=activity).encode(), \
            b"text/html; charset=utf-8"
        headers.append((b"content-security-policy", b"default-src 'none'; style-src 'self'"))
    else:
        body = json.dumps({"errorCode": 413, "message": message, "activityId": activity}).encode()
        media = b"application/json"
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", media), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.3g} MB"
    return f"{n / 1024:.3g} KB" if n >= 1024 else f"{n} bytes"


_CONSOLE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Too large</title>
<link rel="stylesheet" href="/console/static/console.css"></head>
<body><main id="main"><div class="narrow"><h1>Too large</h1>
<div class="notice notice-error" role="alert"><p>{message} Nothing was changed.</p></div>
<p>Choose a smaller file, or split it. <a href="/console/">Back to the console</a></p>
<p>Reference: <span class="reference">{activity}</span></p></div></main></body></html>
"""

_SIGN_IN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Too large</title>
<link rel="stylesheet" href="/DeviceManagement/static/signin.css"></head>
<body><main id="main" data-outcome="too_large"><h1>Too large</h1>
<div class="notice notice-error" role="alert"><p>{message} Nothing was changed.</p></div>
<p>Go back and sign in again.</p></main>
<footer class="footer"><p>Reference: <span class="reference">{activity}</span>. Quote it if you
contact your IT department.</p></footer></body></html>
"""
