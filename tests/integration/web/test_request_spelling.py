"""The API's request spelling (web/api/request_spelling.py) on a small app of its own: the literal
segments of a path take the route's spelling, the values in it keep theirs."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request

from quince.web.api.request_spelling import RequestSpelling, respell_query


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/API/mdm/devices/udid/{udid}")
    async def by_udid(udid: str, request: Request) -> dict[str, object]:
        return {"udid": udid, "query": request.url.query, "version": request.state.api_version}

    @app.get("/API/mdm/devices/{device_id:int}")
    async def by_id(device_id: int) -> dict[str, int]:
        return {"id": device_id}

    app.add_middleware(RequestSpelling)
    return app


async def _get(path: str, **kwargs: object) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
        return await client.get(path, **kwargs)  # type: ignore[arg-type]


async def test_literal_segments_take_the_routes_spelling_and_values_keep_theirs() -> None:
    response = await _get("/api/MDM/Devices/UDID/AbCd-Ef01?SearchBy=Udid&id=AbC")
    assert response.status_code == 200
    assert response.json() == {"udid": "AbCd-Ef01", "query": "searchby=Udid&id=AbC", "version": None}


async def test_an_integer_segment_matches_digits_only() -> None:
    assert (await _get("/api/mdm/devices/42")).json() == {"id": 42}
    assert (await _get("/api/mdm/devices/forty-two")).status_code == 404


async def test_the_version_comes_from_the_path_or_else_the_accept_header() -> None:
    assert (await _get("/api/v2/mdm/devices/udid/x")).json()["version"] == 2
    accept = {"Accept": "application/json;version=1"}
    assert (await _get("/api/mdm/devices/udid/x", headers=accept)).json()["version"] == 1
    assert (await _get("/api/v2/mdm/devices/udid/x", headers=accept)).json()["version"] == 2


def test_query_names_are_lower_cased_values_left_as_sent_and_empty_parameters_left_out() -> None:
    assert respell_query(b"PageSize=5&lgId=ABC") == b"pagesize=5&lgid=ABC"
    assert respell_query(b"pagesize=5") == b"pagesize=5"
    assert respell_query(b"orderBy=&sortOrder=&Role=&x&user=Bob%20B") == b"user=Bob%20B"
