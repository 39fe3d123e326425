"""One person enrolling several devices at about the same time (an iPhone and an iPad), end to end
with simulated devices: every device that completes enrollment is an enrolled device and never an
abandoned placeholder, whatever order the sign-ins and completions come in (DESIGN.md rule 2)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from quince.simulator import PendingEnrollment, run_many
from tests.e2e.cli.conftest import Cli
from tests.e2e.mdm.conftest import MARIA, NewDevice, Tenant, find_by_udid


async def maria_devices(api: httpx.AsyncClient) -> dict[int, dict[str, Any]]:
    listed = await api.get("/API/mdm/devices/search", params={"user": "maria"})
    assert listed.status_code == 200, listed.text
    return {d["Id"]["Value"]: d for d in listed.json()["Devices"]}


def assert_enrolled_not_abandoned(device: dict[str, Any]) -> None:
    assert device["EnrollmentStatus"] == "Enrolled"
    assert device["IsAbandonedPlaceholder"] is False
    assert device["SupersededBy"] is None


# Each step is (action, device): "s" starts (signs in), "f" finishes (profile to TokenUpdate).
INTERLEAVINGS = {
    "two, finished in sign-in order": "s0 s1 f0 f1",
    "two, finished newest first": "s0 s1 f1 f0",
    "three, finished in sign-in order": "s0 s1 s2 f0 f1 f2",
    "three, finished newest first": "s0 s1 s2 f2 f1 f0",
    "three, finished out of order": "s0 s1 s2 f1 f0 f2",
    "three, one finishing between sign-ins": "s0 s1 f0 s2 f2 f1",
}


@pytest.mark.parametrize("steps", INTERLEAVINGS.values(), ids=INTERLEAVINGS.keys())
async def test_devices_of_one_person_signing_in_before_any_finishes_all_end_enrolled(
    new_device: NewDevice, api: httpx.AsyncClient, tenant: Tenant, steps: str
) -> None:
    count = max(int(step[1]) for step in steps.split()) + 1
    devices = [new_device() for _ in range(count)]
    pending: dict[int, PendingEnrollment] = {}
    for step in steps.split():
        action, index = step[0], int(step[1])
        if action == "s":
            pending[index] = await devices[index].start_enrollment()
        else:
            result = await devices[index].finish_enrollment(pending.pop(index))
            assert result.outcome == "enrolled"

    listed = await maria_devices(api)
    assert len(listed) == count  # one record per sign-in, no extra placeholder
    for device in devices:
        assert device.enrollment_id is not None
        found = await find_by_udid(api, device.enrollment_id)
        assert_enrolled_not_abandoned(found)
        assert_enrolled_not_abandoned(listed[found["Id"]["Value"]])


async def test_a_superseded_placeholder_whose_device_completes_is_enrolled_and_no_longer_abandoned(
    new_device: NewDevice, api: httpx.AsyncClient, tenant: Tenant
) -> None:
    iphone, ipad = new_device(), new_device()
    iphone_pending = await iphone.start_enrollment()
    await ipad.start_enrollment()  # the iPad signs in; its person never finishes on it
    before = await maria_devices(api)
    (older,) = [d for d in before.values() if d["IsAbandonedPlaceholder"]]  # superseded for now

    await iphone.finish_enrollment(iphone_pending)

    after = await maria_devices(api)
    assert iphone.enrollment_id is not None
    found = await find_by_udid(api, iphone.enrollment_id)
    assert found["Id"]["Value"] == older["Id"]["Value"]  # the same record, now the iPhone
    assert_enrolled_not_abandoned(after[older["Id"]["Value"]])
    (unfinished,) = [d for d in after.values() if d["Id"]["Value"] != older["Id"]["Value"]]
    assert unfinished["EnrollmentStatus"] == "EnrollmentInProgress"
    assert unfinished["IsAbandonedPlaceholder"] is False  # nothing newer replaced it


async def test_starting_again_after_an_abort_still_leaves_the_old_placeholder_abandoned(
    new_device: NewDevice, api: httpx.AsyncClient, tenant: Tenant
) -> None:
    """Rule 2 stays: the aborted sign-in's record stays listed, superseded, while the devices that
    finished are enrolled."""
    aborted = await new_device().enroll(abort_after_sign_in=True)
    assert aborted.outcome == "aborted_after_sign_in"
    first, second = new_device(), new_device()
    first_pending, second_pending = await first.start_enrollment(), await second.start_enrollment()
    await second.finish_enrollment(second_pending)
    await first.finish_enrollment(first_pending)

    listed = await maria_devices(api)
    assert len(listed) == 3
    abandoned = [d for d in listed.values() if d["EnrollmentStatus"] == "EnrollmentInProgress"]
    assert len(abandoned) == 1
    assert abandoned[0]["IsAbandonedPlaceholder"] is True and abandoned[0]["Udid"] == ""
    for device in (first, second):
        assert device.enrollment_id is not None
        assert_enrolled_not_abandoned(await find_by_udid(api, device.enrollment_id))


async def test_three_devices_of_one_person_enrolling_at_once_are_all_enrolled_and_none_abandoned(
    live_server: str, api: httpx.AsyncClient, tenant: Tenant
) -> None:
    for _ in range(3):
        runs = await run_many(live_server, MARIA, 3, concurrency=3)
        assert [r.error for r in runs] == [None] * 3

    listed = await maria_devices(api)
    assert len(listed) == 9
    for device in listed.values():
        assert_enrolled_not_abandoned(device)


async def test_quince_simulate_with_three_devices_of_one_person_leaves_no_abandoned_placeholder(
    live_server: str, api: httpx.AsyncClient, tenant: Tenant, cli: Cli
) -> None:
    for _ in range(2):
        devices = await cli.json("simulate", "--server", live_server, "--email", MARIA.email,
                                 "--password-stdin", "--devices", "3", "--concurrency", "3",
                                 input=MARIA.password + "\n")
        assert [d["Outcome"] for d in devices] == ["enrolled"] * 3

    listed = await maria_devices(api)
    assert len(listed) == 6
    for device in listed.values():
        assert_enrolled_not_abandoned(device)
