"""The body limit: each face its own cap, a larger one for an upload form's exact path, and the
refusal in the face's own shape (plain text for a device, a page for people, an API error)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from quince.logs import JsonLines
from quince.web.body_limit import BodyLimit
from quince.web.faces import Face

PATHS = ("/API/thing", "/console/users/import", "/console/other", "/DeviceServices/mdm/server",
         "/DeviceManagement/Enrollment", "/elsewhere")


async def _echo(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(len(await request.body())))


def _client() -> httpx.AsyncClient:
    app = Starlette(routes=[Route(path, _echo, methods=["POST", "PUT"]) for path in PATHS])
    caps = {Face.API: 1024, Face.CONSOLE: 1024, Face.DEVICE_SERVICES: 8192, Face.DEVICE_MANAGEMENT: 512}
    limited = BodyLimit(app, caps=caps, default=256, per_path={"/console/users/import": 4096})
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=limited), base_url="http://test")


async def _chunks(size: int) -> AsyncIterator[bytes]:
    """A body of `size` bytes without Content-Length: the middleware counts as it reads."""
    for start in range(0, size, 100):
        yield b"x" * min(100, size - start)


async def test_each_face_has_its_own_cap_whether_the_length_is_declared_or_not() -> None:
    async with _client() as client:
        for path, cap in (("/API/thing", 1024), ("/console/other", 1024),
                          ("/DeviceServices/mdm/server", 8192), ("/DeviceManagement/Enrollment", 512),
                          ("/elsewhere", 256)):
            assert (await client.put(path, content=b"x" * cap)).text == str(cap), path
            assert (await client.put(path, content=b"x" * (cap + 1))).status_code == 413, path
            assert (await client.put(path, content=_chunks(cap))).text == str(cap), path
            assert (await client.put(path, content=_chunks(cap + 1))).status_code == 413, path


async def test_the_upload_path_accepts_more_than_its_face() -> None:
    async with _client() as client:
        answer = await client.post("/console/users/import", content=b"x" * 3000)
        assert answer.status_code == 200 and answer.text == "3000"
        assert (await client.post("/console/other", content=b"x" * 3000)).status_code == 413


async def test_the_upload_path_still_has_a_limit_and_says_so_as_a_page() -> None:
    async with _client() as client:
        answer = await client.post("/console/users/import", content=b"x" * 5000)
        assert answer.status_code == 413
        assert answer.headers["content-type"].startswith("text/html")
        assert "larger than 4 KB (4096 bytes)" in answer.text and "Nothing was changed" in answer.text
        assert "/console/static/console.css" in answer.text
        assert (await client.post("/console/users/import", content=_chunks(5000))).status_code == 413


async def test_api_and_other_paths_get_the_refusal_as_an_api_error() -> None:
    async with _client() as client:
        for path in ("/API/thing", "/elsewhere"):
            answer = await client.post(path, content=b"x" * 2000)
            assert answer.status_code == 413 and answer.json()["errorCode"] == 413
            assert answer.json()["activityId"]


async def test_a_device_gets_a_plain_413_logged_in_the_device_services_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="quince.DeviceServices"):
        async with _client() as client:
            answer = await client.put("/DeviceServices/mdm/server", content=b"x" * 9000)
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text == "The request body is larger than 8 KB (8192 bytes)."
    (line,) = [json.loads(JsonLines().format(r)) for r in caplog.records if r.name == "quince.DeviceServices"]
    assert (line["event"], line["outcome"], line["level"]) == ("request", "refused:too_large", "WARNING")
    assert (line["path"], line["limit"]) == ("/DeviceServices/mdm/server", 8192)


async def test_the_sign_in_pages_get_a_page_of_their_own_logged_in_the_device_management_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="quince.DeviceManagement"):
        async with _client() as client:
            answer = await client.post("/DeviceManagement/Enrollment", content=b"x" * 600)
    assert answer.status_code == 413 and answer.headers["content-type"].startswith("text/html")
    assert "/DeviceManagement/static/signin.css" in answer.text and "/console/" not in answer.text
    assert "larger than 512 bytes." in answer.text
    assert any(r.name == "quince.DeviceManagement" and r.outcome == "refused:too_large"  # type: ignore[attr-defined]
               for r in caplog.records)
