"""Jobs are visible: `quince jobs` and GET /API/system/jobs/search (administrators of the whole
install only)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from quince.services import jobs
from quince.services.directory import org_groups
from quince.services.scope import Scope
from tests.e2e.cli.conftest import Cli
from tests.fixtures.live_server import ApiClientFactory

T0 = datetime(2030, 1, 1, tzinfo=UTC)
SEARCH = "/API/system/jobs/search"


async def three_jobs(session: AsyncSession) -> tuple[int, int, int]:
    """A waiting push, a done push, and a failed VPP call."""
    waiting = await jobs.enqueue(session, "apns.push", {"device_id": 1}, dedupe_key="device:1", now=T0)
    done = await jobs.enqueue(session, "apns.push", {"device_id": 2}, dedupe_key="device:2", now=T0)
    failed = await jobs.enqueue(session, "vpp.associate", {"user_id": 3}, max_attempts=1, now=T0)
    await session.commit()
    assert waiting and done and failed
    claimed = {j.id: j for j in await jobs.claim(session, "w", ["apns.push", "vpp.associate"], now=T0)}
    await jobs.retry(session, claimed[waiting.id], "500 InternalServerError", now=T0)
    await jobs.complete(session, claimed[done.id], now=T0)
    await jobs.retry(session, claimed[failed.id], "9632 user not found", now=T0)
    await session.commit()
    return waiting.id, done.id, failed.id


async def test_quince_jobs_lists_jobs_newest_first(cli: Cli, session: AsyncSession) -> None:
    waiting, done, failed = await three_jobs(session)
    data = await cli.json("jobs")
    assert [j["Id"] for j in data] == [failed, done, waiting]
    first = data[0]
    assert first["Kind"] == "vpp.associate" and first["Status"] == "failed"
    assert first["Attempts"] == first["MaxAttempts"] == 1
    assert first["LastError"] == "9632 user not found"
    assert first["Payload"] == {"user_id": 3}
    assert data[2]["DedupeKey"] == "device:1" and data[2]["Status"] == "waiting"


async def test_quince_jobs_filters_by_status_and_kind(cli: Cli, session: AsyncSession) -> None:
    waiting, done, failed = await three_jobs(session)
    assert [j["Id"] for j in await cli.json("jobs", "--status", "failed")] == [failed]
    assert [j["Id"] for j in await cli.json("jobs", "--kind", "apns.push")] == [done, waiting]
    assert [j["Id"] for j in await cli.json("jobs", "--kind", "apns.push", "--status", "done")] == [done]
    assert [j["Id"] for j in await cli.json("jobs", "--limit", "1")] == [failed]
    assert "--status must be one of" in await cli.fails("jobs", "--status", "sleeping")


async def test_quince_jobs_shows_a_table_for_people(cli: Cli, session: AsyncSession) -> None:
    await three_jobs(session)
    out = (await cli.ok("jobs")).stdout
    assert "vpp.associate" in out and "9632 user not found" in out and "device_id=1" in out
    empty = (await cli.ok("jobs", "--status", "running")).stdout
    assert "No jobs." in empty


async def test_quince_jobs_retry_runs_a_failed_job_again(cli: Cli, session: AsyncSession) -> None:
    _waiting, done, failed = await three_jobs(session)
    data = await cli.json("jobs", "retry", str(failed))
    assert (data["Status"], data["Attempts"]) == ("waiting", 0)
    assert "only a failed job" in await cli.fails("jobs", "retry", str(done))
    assert "was not found" in await cli.fails("jobs", "retry", "999999")


async def test_the_api_lists_jobs_for_an_administrator_of_the_whole_install(
    api_client: ApiClientFactory, session: AsyncSession, scope: Scope
) -> None:
    waiting, done, failed = await three_jobs(session)
    client = await api_client(og_id=scope.og_id)

    response = await client.get(SEARCH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["Page"], body["PageSize"], body["Total"]) == (0, 500, 3)
    assert [j["Id"]["Value"] for j in body["Jobs"]] == [failed, done, waiting]
    job = body["Jobs"][0]
    assert job["Kind"] == "vpp.associate" and job["Status"] == "failed"
    assert job["LastError"] == "9632 user not found"
    assert job["Payload"] == {"user_id": 3}
    assert job["CreatedOn"].startswith("2030-01-01T00:00:00")

    filtered = (await client.get(SEARCH, params={"status": "waiting", "kind": "apns.push"})).json()
    assert [j["Id"]["Value"] for j in filtered["Jobs"]] == [waiting]
    paged = (await client.get(SEARCH, params={"page": 1, "pagesize": 2})).json()
    assert (paged["Total"], [j["Id"]["Value"] for j in paged["Jobs"]]) == (3, [waiting])

    reader = await api_client(og_id=scope.og_id, role="read-only")
    assert (await reader.get(SEARCH)).json()["Total"] == 3


async def test_the_api_refuses_jobs_to_administrators_of_part_of_the_install(
    api_client: ApiClientFactory, session: AsyncSession, scope: Scope
) -> None:
    await three_jobs(session)
    acme = await org_groups.create(session, scope, scope.og_id, name="Acme", group_id="acme",
                                   og_type="Customer")
    await session.commit()
    client = await api_client(og_id=acme.id)
    response = await client.get(SEARCH)
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["errorCode"] == 1004
    assert "Global" in body["message"]


async def test_the_api_refuses_an_unknown_status(api_client: ApiClientFactory, scope: Scope) -> None:
    client = await api_client(og_id=scope.og_id)
    response = await client.get(SEARCH, params={"status": "sleeping"})
    assert response.status_code == 400
    assert "status" in response.json()["message"]
