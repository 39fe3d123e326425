"""Many simulated devices at once: `run_many` enrolls N devices with at most C in flight, for load
tests, the benchmark and demos. One device failing does not stop the others; its error is kept."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from quince.simulator.device import SimulatedDevice
from quince.simulator.errors import SimulatorError
from quince.simulator.outcomes import ConnectResult, EnrollmentResult
from quince.simulator.web_sheet import Credentials


@dataclass
class DeviceRun:
    """What one device did in a `run_many`."""

    index: int
    device: SimulatedDevice = field(repr=False)
    enrollment: EnrollmentResult | None = None
    session: ConnectResult | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def shared_transport(concurrency: int, verify: bool | str = True) -> httpx.AsyncHTTPTransport:
    """One connection pool for many simulated devices (a TLS context per device would cost more
    than the device itself)."""
    return httpx.AsyncHTTPTransport(
        verify=verify, limits=httpx.Limits(max_connections=max(concurrency, 1) * 2,
                                           max_keepalive_connections=max(concurrency, 1) * 2),
    )


async def run_many(
    server: str,
    credentials: Credentials | Sequence[Credentials],
    n: int,
    *,
    concurrency: int = 8,
    abort_after_sign_in: bool = False,
    connect: bool = False,
    verify: bool | str = True,
    transport: httpx.AsyncBaseTransport | None = None,
    on_finished: Callable[[DeviceRun], None] | None = None,
) -> list[DeviceRun]:
    """Enroll `n` devices, `concurrency` at a time; device i signs in as credentials[i % len] (or all
    as the same person), then, with `connect`, runs one connect session. Devices stay usable
    (`run.device`) while `transport` is open; without one, a pool is made and closed here.
    `on_finished` is called as each device is done, failed or not (the CLI's progress bar)."""
    people = [credentials] if isinstance(credentials, Credentials) else list(credentials)
    if not people:
        raise ValueError("run_many needs at least one set of credentials")
    own = transport is None
    pool = transport or shared_transport(concurrency, verify)
    gate = asyncio.Semaphore(max(concurrency, 1))
    runs = [DeviceRun(i, SimulatedDevice(server, people[i % len(people)], transport=pool, verify=verify))
            for i in range(n)]

    async def one(run: DeviceRun) -> None:
        async with gate:
            started = time.perf_counter()
            try:
                run.enrollment = await run.device.enroll(abort_after_sign_in=abort_after_sign_in)
                if connect and run.device.enrolled:
                    run.session = await run.device.connect()
            except SimulatorError as exc:
                run.error = str(exc)
            finally:
                run.seconds = time.perf_counter() - started
        if on_finished is not None:
            on_finished(run)

    try:
        await asyncio.gather(*(one(run) for run in runs))
    finally:
        if own:
            await pool.aclose()
    return runs
