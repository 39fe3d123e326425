"""Many simulated iPhones at once (`run_many` and `quince simulate`): concurrent enrollments of one
or several people each end in their own enrolled record."""

from __future__ import annotations

import httpx

from quince.simulator import run_many
from tests.e2e.cli.conftest import Cli
from tests.e2e.mdm.conftest import MARIA, TOM, Tenant, find_by_udid


async def test_concurrent_enrollments_each_get_their_own_enrolled_record(
    live_server: str, api: httpx.AsyncClient, tenant: Tenant
) -> None:
    runs = await run_many(live_server, [MARIA, TOM], 6, concurrency=3, connect=True)

    assert [r.error for r in runs] == [None] * 6
    ids = [r.enrollment.enrollment_id for r in runs if r.enrollment]
    assert len(set(ids)) == 6
    for run, enrollment_id in zip(runs, ids, strict=True):
        assert enrollment_id is not None
        found = await find_by_udid(api, enrollment_id)
        assert found["EnrollmentStatus"] == "Enrolled"
        assert found["UserName"] == ("maria" if run.index % 2 == 0 else "tom")
        assert run.session is not None and run.session.messages == 1  # nothing queued: Idle, empty reply
    listed = await api.get("/API/mdm/devices/search", params={"user": "maria"})
    assert listed.json()["Total"] == 3


async def test_quince_simulate_enrolls_and_reports_what_each_device_did(
    live_server: str, api: httpx.AsyncClient, tenant: Tenant, cli: Cli
) -> None:
    devices = await cli.json("simulate", "--server", live_server, "--email", MARIA.email,
                             "--password-stdin", "--devices", "2", "--concurrency", "2", "--connect",
                             input=MARIA.password + "\n")

    assert [d["Outcome"] for d in devices] == ["enrolled", "enrolled"]
    for device in devices:
        assert device["Error"] is None and device["Commands"] == []
        names = [s["Name"] for s in device["Steps"]]
        assert names[:4] == ["discovery", "enroll.machine_info", "sign_in.form", "sign_in.submit"]
        assert names[-3:] == ["checkin.Authenticate", "checkin.TokenUpdate", "connect"]
        found = await find_by_udid(api, device["EnrollmentId"])
        assert found["Ownership"] == "E"

    aborted = await cli.json("simulate", "--server", live_server, "--email", MARIA.email,
                             "--password", MARIA.password, "--abort-after-sign-in")
    assert [d["Outcome"] for d in aborted] == ["aborted_after_sign_in"]

    refused = await cli.fails("simulate", "--server", live_server, "--email", MARIA.email,
                              "--password", "wrong-password")
    assert "1 of 1 device(s) failed" in refused


async def test_quince_simulate_connect_warns_when_the_server_has_no_push_certificate(
    live_server: str, tenant: Tenant, cli: Cli
) -> None:
    result = await cli.ok("simulate", "--server", live_server, "--email", MARIA.email, "--password-stdin",
                          "--connect", input=MARIA.password + "\n")
    warning = " ".join(result.stderr.split())
    assert "No APNs push certificate is installed" in warning and "a real device would not" in warning
