"""The body limit: one limit for everything, a larger one for an upload form's exact path, and a
refusal people can read on console paths."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from quince.web.body_limit import BodyLimit


async def _echo(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(len(await request.body())))


def _client() -> httpx.AsyncClient:
    app = Starlette(routes=[Route(path, _echo, methods=["POST"])
                            for path in ("/API/thing", "/console/users/import", "/console/other")])
    limited = BodyLimit(app, max_bytes=1024, per_path={"/console/users/import": 4096})
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=limited), base_url="http://test")


async def test_the_upload_path_accepts_more_than_the_general_limit() -> None:
    async with _client() as client:
        answer = await client.post("/console/users/import", content=b"x" * 3000)
        assert answer.status_code == 200 and answer.text == "3000"
        assert (await client.post("/API/thing", content=b"x" * 3000)).status_code == 413


async def test_the_upload_path_still_has_a_limit_and_says_so_as_a_page() -> None:
    async with _client() as client:
        answer = await client.post("/console/users/import", content=b"x" * 5000)
        assert answer.status_code == 413
        assert answer.headers["content-type"].startswith("text/html")
        assert "larger than 4 KB (4096 bytes)" in answer.text and "Nothing was changed" in answer.text


async def test_api_paths_get_the_refusal_as_an_api_error() -> None:
    async with _client() as client:
        answer = await client.post("/API/thing", content=b"x" * 2000)
        assert answer.status_code == 413 and answer.json()["errorCode"] == 413


async def test_a_streamed_body_over_the_path_limit_is_refused() -> None:
    async def chunks():  # no Content-Length: the middleware counts as it reads
        for _ in range(5):
            yield b"x" * 1000

    async with _client() as client:
        assert (await client.post("/console/users/import", content=chunks())).status_code == 413
        assert (await client.post("/console/other", content=chunks())).status_code == 413
