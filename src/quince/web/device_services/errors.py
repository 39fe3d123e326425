"""The one place where the device channel's refusals become answers: a plain-text body with its
status (and headers), as devices and their logs expect; never JSON, never HTML."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request, Response

from quince.web.routing import AnsweringRoute


class ChannelRefusal(Exception):
    """A request the device channel will not act on (a 415, 413 or 400 before any lookup). Whoever
    raises it has logged the reason; `DeviceServicesRoute` answers it."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def plain_text(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(message, status_code=status, media_type="text/plain", headers=headers)


class DeviceServicesRoute(AnsweringRoute):
    """A device channel route: a `ChannelRefusal` escaping the route or its dependencies becomes
    its plain-text answer."""

    answered = (ChannelRefusal,)

    @staticmethod
    def answer(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, ChannelRefusal):
            raise exc
        return plain_text(exc.status, exc.message, exc.headers)
