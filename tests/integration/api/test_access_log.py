"""Every REST call leaves one JSON log line carrying its activityId, and no secret."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from quince.logs import DEVICE_MANAGEMENT, DEVICE_SERVICES, JsonLines, configure, event
from quince.services.scope import Scope
from tests.fixtures.live_server import ApiClientFactory


async def test_each_call_is_logged_with_the_activity_id_of_its_response(
    api_client: ApiClientFactory, scope: Scope, caplog: pytest.LogCaptureFixture
) -> None:
    client = await api_client()
    with caplog.at_level(logging.INFO, logger="quince.api.access"):
        refused = await client.get("/API/system/groups/999999")
    assert refused.status_code == 404
    lines = [json.loads(JsonLines().format(r)) for r in caplog.records if r.name == "quince.api.access"]
    mine = [line for line in lines if line["activity_id"] == refused.json()["activityId"]]
    assert len(mine) == 1
    assert mine[0]["status"] == 404
    assert mine[0]["message"] == "GET /API/system/groups/999999 404"
    assert mine[0]["actor"].startswith("admin ")


async def test_credentials_and_api_keys_never_reach_the_log(
    api_client: ApiClientFactory, live_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = await api_client()
    key = client.headers["aw-tenant-code"]
    with caplog.at_level(logging.DEBUG, logger="quince"):
        await client.get("/API/system/groups/search", params={"name": "x"})
        async with httpx.AsyncClient(base_url=live_server) as anonymous:
            await anonymous.get("/API/system/groups/search",
                                headers={"aw-tenant-code": key}, auth=("nobody", "wrong-secret-9"))
    text = "\n".join(JsonLines().format(r) for r in caplog.records)
    assert "GET /API/system/groups/search" in text
    for secret in (key, "admin-pass-1", "wrong-secret-9"):
        assert secret not in text


def test_configure_writes_json_lines_under_the_log_dir(tmp_path: Path) -> None:
    path = configure(tmp_path / "logs")
    try:
        logging.getLogger("quince.test").info("hello %s", "world", extra={"activity_id": "abc"})
        event(DEVICE_SERVICES, "scep.pki_operation", "issued", enrollment="e-1", user="alice")
        event(DEVICE_MANAGEMENT, "signin.form", "shown", request_id="r-1")
    finally:
        for name in ("quince", f"quince.{DEVICE_SERVICES}", f"quince.{DEVICE_MANAGEMENT}"):
            logger = logging.getLogger(name)
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
                handler.close()
            logger.propagate = True
    last = json.loads(path.read_text().strip().splitlines()[-1])
    assert last["message"] == "hello world"
    assert last["activity_id"] == "abc"
    assert last["logger"] == "quince.test"
    services = [json.loads(x) for x in (tmp_path / "logs" / "DeviceServices.log").read_text().splitlines()]
    assert [(e["event"], e["outcome"], e["enrollment"], e["user"]) for e in services] == [
        ("scep.pki_operation", "issued", "e-1", "alice")
    ]
    management = (tmp_path / "logs" / "DeviceManagement.log").read_text()
    assert '"event": "signin.form"' in management and "scep" not in management
    assert "scep" not in path.read_text()


def test_a_field_named_like_a_log_record_attribute_is_logged_not_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="quince"):
        event(DEVICE_MANAGEMENT, "console.users", "import_started", filename="people.csv", module="x")
    entry = json.loads(JsonLines().format(caplog.records[-1]))
    assert (entry["event"], entry["filename_"], entry["module_"]) == ("console.users", "people.csv", "x")
