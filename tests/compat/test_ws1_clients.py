"""Scripts written for Workspace ONE work against Quince unchanged: every request recorded from a
public WS1 client (ws1_clients.yaml: method, path casing, query names, headers, body) gets the
status that client needs, and the keys it reads are in the answer. Where Quince answers otherwise
on purpose, the entry says why and the answer is a clear JSON error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.compat.conftest import Replay

ENTRIES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "ws1_clients.yaml").read_text())
JSON_TYPES = ("application/json", "application/json; charset=utf-8")  # what the Python clients compare


def _fill(value: Any, values: dict[str, str], *, typed: bool) -> Any:
    """The entry's value with its {placeholders} filled; in a JSON body a placeholder that stands
    alone and names a number becomes that number, as the clients send ids."""
    if isinstance(value, str):
        filled = value.format(**values)
        if typed and filled.isdigit() and value.startswith("{") and value.endswith("}"):
            return int(filled)
        return filled
    if isinstance(value, dict):
        return {k: _fill(v, values, typed=typed) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values, typed=typed) for v in value]
    return value


def _read(body: Any, path: str) -> list[Any]:
    """What a client reads at `path`: "A[0].B" the first item's B, "A[].B" every item's B (a list
    that is empty reads nothing, which fails)."""
    found = [body]
    for part in path.split("."):
        name, _, index = part.partition("[")
        step = []
        for value in found:
            if name:
                assert isinstance(value, dict) and name in value, f"{path}: no {name!r} in {value!r:.200}"
                value = value[name]
            if index:
                assert isinstance(value, list) and value, f"{path}: {name or 'the answer'} is empty"
                step.extend(value if index == "]" else [value[int(index.rstrip("]"))]])
            else:
                step.append(value)
        found = step
    return found


async def _bearer_token(replay: Replay) -> str:
    response = await replay.client.post("/connect/token", auth=None, data={
        "grant_type": "client_credentials", "client_id": replay.values["client_id"],
        "client_secret": replay.values["client_secret"]})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def _send(replay: Replay, entry: dict[str, Any]) -> httpx.Response:
    values = replay.values
    headers = {k: str(v) for k, v in _fill(entry.get("headers") or {}, values, typed=False).items()}
    query = _fill(entry.get("query") or {}, values, typed=False)
    body = _fill(entry.get("body"), values, typed=True)
    content: dict[str, Any] = {}
    if entry.get("form"):
        content["data"] = body
    elif body is not None:
        content["json"] = body
    path = _fill(entry["path"], values, typed=False)
    url = httpx.URL(str(replay.client.base_url).rstrip("/") + path)  # "//API" stays as sent
    request = replay.client.build_request(entry["method"], url, headers=headers,
                                          params={k: str(v) for k, v in query.items()}, **content)
    if entry.get("auth", "basic") == "basic":
        return await replay.client.send(request)
    del request.headers["aw-tenant-code"]  # OAuth clients send no tenant code
    if entry.get("auth") == "bearer":
        request.headers["Authorization"] = f"Bearer {await _bearer_token(replay)}"
    return await replay.client.send(request, auth=None)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
async def test_a_workspace_one_clients_request_gets_the_answer_that_client_reads(
    replay: Replay, entry: dict[str, Any]
) -> None:
    response = await _send(replay, entry)
    expect = entry["expect"]
    wanted = expect["status"] if isinstance(expect["status"], list) else [expect["status"]]
    where = f"{entry['client']} {entry['source']}: {entry['method']} {entry['path']}"
    assert response.status_code in wanted, f"{where} answered {response.status_code}: {response.text[:300]}"
    if response.status_code >= 400:
        assert response.headers["content-type"] in JSON_TYPES, where
        error = response.json()
        assert error["message"] and error["errorCode"], where
        if "error_code" in expect:
            assert error["errorCode"] == expect["error_code"], where
        assert expect.get("unsupported"), f"{where}: a refusal needs its reason in the entry"
        return
    if expect.get("reads"):
        assert response.headers["content-type"] in JSON_TYPES, where
        body = response.json()
        for path in expect["reads"]:
            _read(body, path)


def test_every_entry_names_its_client_and_source_and_ids_are_unique() -> None:
    assert len({e["id"] for e in ENTRIES}) == len(ENTRIES)
    for entry in ENTRIES:
        assert entry["client"] and entry["source"] and entry["method"] and entry["path"], entry
