"""The console's logs page over HTTP: support bundles of the DeviceManagement and DeviceServices
logs, filtered to a user, device, enrollment and time range, and limited to the admin's reach."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince import logs
from quince.config import Settings
from quince.services.access import admins
from quince.services.scope import Scope
from quince.store.models import DeviceRow
from tests.integration.console.support import (
    ALICE_ENROLLMENT_ID,
    PASSWORD,
    Fleet,
    csrf_token,
    sign_in,
)

DM, DS = logs.DEVICE_MANAGEMENT, logs.DEVICE_SERVICES


@dataclass(frozen=True)
class LogFiles:
    directory: Path

    def lines(self, face: str) -> list[dict[str, object]]:
        path = self.directory / f"{face}.log"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def write(self, face: str, when: str, event: str, **fields: str) -> None:
        """A line as it stood in a log written earlier (logs.event stamps the current time)."""
        entry = {"time": when, "level": "INFO", "event": event, "outcome": "ok", **fields}
        with (self.directory / f"{face}.log").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")


@pytest.fixture
def log_files(live_settings: Settings) -> Iterator[LogFiles]:
    """The test server's two face logs, emptied, written as `quince serve` writes them."""
    directory = live_settings.log_dir
    directory.mkdir(parents=True, exist_ok=True)
    attached: list[tuple[logging.Logger, logging.Handler, int]] = []
    for face in (DM, DS):
        (directory / f"{face}.log").write_text("")
        logger = logs.face_logger(face)
        handler = logging.FileHandler(directory / f"{face}.log", encoding="utf-8")
        handler.setFormatter(logs.JsonLines())
        attached.append((logger, handler, logger.level))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield LogFiles(directory)
    for logger, handler, level in attached:
        logger.removeHandler(handler)
        handler.close()
        logger.setLevel(level)


@pytest.fixture
async def traffic(session: AsyncSession, fleet: Fleet, log_files: LogFiles) -> LogFiles:
    """Log lines of alice's iPhone, bob and erin, as the enrollment pages and the devices write them."""
    iphone = await session.get(DeviceRow, fleet.alice_iphone)
    assert iphone is not None
    logs.event(DM, "signin.submit", "enrollment_started", user="alice", enrollment="enr-alice",
               device=iphone.uuid, og="sales")
    logs.event(DS, "enroll.profile", "delivered", user="alice", enrollment="enr-alice", device=iphone.uuid)
    logs.event(DS, "checkin.authenticate", "ok", udid=ALICE_ENROLLMENT_ID)  # the device names itself
    logs.event(DM, "signin.submit", "enrollment_started", user="bob", enrollment="enr-bob")
    logs.event(DS, "checkin.token_update", "ok", user="erin", udid="ENR-ERIN")
    return log_files


def _bundle(answer: httpx.Response) -> dict[str, list[dict[str, object]]]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(answer.content)) as bundle:
        return {name: [json.loads(line) for line in bundle.read(name).decode().splitlines()]
                if name.endswith(".log") else [json.loads(bundle.read(name))]
                for name in bundle.namelist()}


async def _post(client: httpx.AsyncClient, og: int | None = None, **fields: str) -> httpx.Response:
    page = await client.get("/console/logs" + (f"?og={og}" if og else ""))
    assert page.status_code == 200
    target = "/console/logs/bundle" + (f"?og={og}" if og else "")
    return await client.post(target, data={"csrf_token": csrf_token(page.text), "log": "all", **fields})


async def test_the_logs_page_offers_both_logs_and_says_a_filter_is_needed(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    page = await client.get("/console/logs?user=alice")
    assert page.status_code == 200 and "<h1>Logs</h1>" in page.text
    assert 'aria-current="page">Logs</a>' in page.text
    assert 'action="/console/logs/bundle?og=' in page.text and 'name="csrf_token"' in page.text
    for label in ('for="log-all"', 'for="log-devicemanagement"', 'for="log-deviceservices"', 'for="user"',
                  'for="device"', 'for="enrollment"', 'for="since"', 'for="until"'):
        assert label in page.text
    assert 'id="user" name="user" value="alice"' in page.text  # other pages may link with a filter
    assert "Logs are not kept per organization group" in page.text


async def test_a_bundle_for_a_user_holds_only_their_lines_of_both_logs(
    client: httpx.AsyncClient, fleet: Fleet, traffic: LogFiles
) -> None:
    await sign_in(client, "acme-admin")
    files = _bundle(await _post(client, user="ALICE"))
    assert set(files) == {"DeviceManagement.log", "DeviceServices.log", "summary.json"}
    assert [(e["event"], e["user"]) for e in files["DeviceManagement.log"]] == [("signin.submit", "alice")]
    assert [(e["event"], e["user"]) for e in files["DeviceServices.log"]] == [("enroll.profile", "alice")]
    [summary] = files["summary.json"]
    assert summary["filters"]["user"] == "alice"  # type: ignore[index]
    only_dm = _bundle(await _post(client, user="alice", log="devicemanagement"))
    assert set(only_dm) == {"DeviceManagement.log", "summary.json"}


async def test_a_device_named_by_its_enrollment_id_matches_the_lines_naming_its_record_too(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, traffic: LogFiles
) -> None:
    await sign_in(client, "acme-admin")
    files = _bundle(await _post(client, device=ALICE_ENROLLMENT_ID, log="deviceservices"))
    assert [e["event"] for e in files["DeviceServices.log"]] == ["enroll.profile", "checkin.authenticate"]
    iphone = await session.get(DeviceRow, fleet.alice_iphone)
    assert iphone is not None
    by_uuid = _bundle(await _post(client, device=iphone.uuid.upper()))
    assert len(by_uuid["DeviceManagement.log"]) == 1 and len(by_uuid["DeviceServices.log"]) == 2


async def test_the_time_range_keeps_only_lines_between_from_and_until(
    client: httpx.AsyncClient, fleet: Fleet, log_files: LogFiles
) -> None:
    for day in ("2026-01-10", "2026-01-20", "2026-01-30"):
        log_files.write(DS, f"{day}T08:00:00.000+00:00", f"checkin.{day}", user="bob")
    await sign_in(client, "acme-admin")
    files = _bundle(await _post(client, user="bob", since="2026-01-15", until="2026-01-25 23:00"))
    assert [e["event"] for e in files["DeviceServices.log"]] == ["checkin.2026-01-20"]
    [summary] = files["summary.json"]
    assert summary["filters"]["until"].startswith("2026-01-25T23:00")  # type: ignore[index]


async def test_the_download_is_logged_with_who_and_which_filters(
    client: httpx.AsyncClient, fleet: Fleet, traffic: LogFiles
) -> None:
    await sign_in(client, "acme-reader")  # reading logs changes nothing: read-only admins may
    _bundle(await _post(client, user="bob", since="1d"))
    [entry] = [e for e in traffic.lines(DM) if e["event"] == "console.logs"]
    assert entry["outcome"] == "bundle_downloaded" and entry["admin"] == "acme-reader"
    assert entry["filter_user"] == "bob" and entry["log"] == "all" and entry["lines"] == 1
    assert "user" not in entry  # a later bundle for bob does not pick up the admin's download


async def test_an_admin_below_the_root_must_name_someone_of_theirs(
    client: httpx.AsyncClient, fleet: Fleet, traffic: LogFiles
) -> None:
    await sign_in(client, "acme-admin")
    answer = await _post(client, since="2h")
    assert answer.status_code == 400 and 'role="alert"' in answer.text
    assert "Name a user, a device or an enrollment in Acme or below: logs are not kept" in answer.text
    assert 'name="since" value="2h"' in answer.text
    [entry] = [e for e in traffic.lines(DM) if e["event"] == "console.logs"]
    assert entry["outcome"] == "refused" and entry["problems"] == ["scope"]


async def test_a_user_device_or_enrollment_out_of_reach_is_refused_like_an_unknown_one(
    client: httpx.AsyncClient, fleet: Fleet, traffic: LogFiles
) -> None:
    await sign_in(client, "acme-admin")
    erin = await _post(client, user="erin")
    assert erin.status_code == 400
    assert "There is no user &#39;erin&#39; in Acme or below." in erin.text
    assert 'name="user" value="erin"' in erin.text and 'aria-invalid="true"' in erin.text
    nobody = await _post(client, user="nobody")
    assert nobody.status_code == 400 and "There is no user &#39;nobody&#39;" in nobody.text
    device = await _post(client, device="ENR-ERIN")
    assert device.status_code == 400 and "There is no device with UDID, Enrollment ID or UUID" in device.text
    enrollment = await _post(client, enrollment="enr-alice")
    assert enrollment.status_code == 400 and "There is no enrollment" in enrollment.text
    # Below the chosen OG only: bob lives in Sales EU, not in Field.
    assert (await _post(client, og=fleet.field, user="bob")).status_code == 400
    _bundle(await _post(client, og=fleet.sales, user="bob"))
    # An OG out of reach is not found at all.
    page = await client.get(f"/console/logs?og={fleet.beta}")
    assert page.status_code == 404


async def test_bad_times_and_a_bad_log_choice_get_the_form_back(
    client: httpx.AsyncClient, fleet: Fleet, traffic: LogFiles
) -> None:
    await sign_in(client, "acme-admin")
    answer = await _post(client, user="alice", since="last tuesday", until="2026-13-45")
    assert answer.status_code == 400
    assert "From: &#39;last tuesday&#39; is neither a date and time" in answer.text
    assert "Until: &#39;2026-13-45&#39; is neither" in answer.text
    assert 'name="since" value="last tuesday"' in answer.text and 'name="user" value="alice"' in answer.text
    backwards = await _post(client, user="alice", since="2026-02-01", until="2026-01-01")
    assert backwards.status_code == 400 and "Until must not be earlier than From." in backwards.text
    huge = await _post(client, user="alice", since="99999999999d")
    assert huge.status_code == 400 and "out of range" in huge.text
    wrong_log = await _post(client, user="alice", log="quince")
    assert wrong_log.status_code == 400 and "Choose which log to download." in wrong_log.text


async def test_an_admin_of_the_whole_install_may_take_every_line(
    client: httpx.AsyncClient, session: AsyncSession, scope: Scope, fleet: Fleet, traffic: LogFiles
) -> None:
    await admins.add_admin(session, scope, username="root-admin", password=PASSWORD, og_id=scope.og_id,
                           role="read-only")
    await session.commit()
    await sign_in(client, "root-admin")
    page = await client.get("/console/logs")
    assert "You manage the whole install" in page.text
    files = _bundle(await _post(client))
    users = {e.get("user") for name in ("DeviceManagement.log", "DeviceServices.log") for e in files[name]}
    assert {"alice", "bob", "erin"} <= users
    since = datetime.now(UTC).replace(year=2000).isoformat()
    recent = _bundle(await _post(client, since=since))["DeviceManagement.log"]
    assert "console.signin" in {e["event"] for e in recent}


async def test_a_bundle_request_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, fleet: Fleet, traffic: LogFiles
) -> None:
    await sign_in(client, "acme-admin")
    answer = await client.post("/console/logs/bundle", data={"log": "all", "user": "alice"})
    assert answer.status_code == 403 and "This page has expired" in answer.text
    assert not [e for e in traffic.lines(DM) if e["event"] == "console.logs"]
