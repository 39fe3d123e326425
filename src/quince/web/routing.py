"""A route class for a face whose typed errors become answers in one place: a subclass names the
exceptions it answers and how (`answered`, `answer`); they may escape the route or its
dependencies."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from fastapi import Request, Response
from fastapi.routing import APIRoute


class AnsweringRoute(APIRoute):
    """A route whose `answered` exceptions become the Response `answer` makes of them."""

    answered: ClassVar[tuple[type[Exception], ...]] = ()

    @staticmethod
    def answer(request: Request, exc: Exception) -> Response:
        raise exc

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        answered, answer = self.answered, self.answer

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except answered as exc:
                return answer(request, exc)

        return route
