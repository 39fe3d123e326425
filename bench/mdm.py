"""The MDM channel under load: a real `quince serve` in a subprocess (fresh var/, SQLite by default
or a fresh PostgreSQL database), simulated iPhones (quince.simulator) talking to it over HTTP.

1. Enroll N devices, C at a time, each as its own person (the whole account-driven flow: discovery,
   signed MachineInfo, sign-in with a real argon2id password check, profile, SCEP, Authenticate,
   TokenUpdate).
2. M rounds: queue a DeviceInformation command for every device through the REST API, then every
   device connects (Idle -> command, Acknowledged -> empty reply: two device messages per round
   trip). Only the connect phases are timed and their server CPU counted.
3. The same number of signed connect messages, from the same devices, against a bare ASGI app
   served by uvicorn the same way (bench/bare_asgi.py): the ceiling of this machine and client.
"""

from __future__ import annotations

import asyncio
import functools
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import asyncpg
import httpx
from rich.table import Table
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from bench.servers import ServerProcess, free_port, start
from quince.services.access import admins, passwords
from quince.services.directory import og_settings, org_groups
from quince.services.scope import operator_scope
from quince.simulator import Credentials, SimulatedDevice, run_many, shared_transport
from quince.store import migrate
from quince.store.database import make_engine, make_sessionmaker
from quince.store.models import EnrollmentUserRow

T = TypeVar("T")
PASSWORD = "Bench-pass-1"
ADMIN = "bench-admin"
ADMIN_PASSWORD = "Bench-admin-1"
DOMAIN = "bench.example"
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Config:
    devices: int = 50
    commands: int = 10
    concurrency: int = 8
    database_url: str | None = None  # PostgreSQL server to create a fresh database on


@dataclass
class Phase:
    """One measured phase: how many operations, how long, their latencies, the server's CPU."""

    count: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000


@dataclass
class Results:
    config: Config
    database: str
    enrollment: Phase
    quince: Phase
    bare: Phase

    @property
    def ratio(self) -> float:
        return self.quince.rate / self.bare.rate if self.bare.rate else 0.0


async def _limited(concurrency: int, jobs: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


# --- the database -------------------------------------------------------------------------------


def _plain_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _fresh_database(server_url: str | None, var_dir: Path) -> tuple[str, Callable[[], Awaitable[None]]]:
    """A SQLite file under var/, or a new database on the PostgreSQL server (dropped afterwards)."""
    if server_url is None:
        async def nothing() -> None:
            return None

        return f"sqlite+aiosqlite:///{var_dir / 'quince.db'}", nothing
    name = f"quince_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_plain_dsn(server_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()

    async def drop() -> None:
        conn = await asyncpg.connect(_plain_dsn(server_url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    return make_url(server_url).set(database=name).render_as_string(hide_password=False), drop


async def _seed(database_url: str, people: int) -> str:
    """An organization with User Enrollment on, `people` users, and an administrator with an API
    key (returned) for queueing commands."""
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with make_sessionmaker(engine)() as s:
            await org_groups.ensure_root(s)
            scope = await operator_scope(s)
            og = await org_groups.create(s, scope, scope.og_id, name="Bench", group_id="bench",
                                         og_type="Customer")
            await og_settings.override(s, scope, og.id, "user_enrollment_enabled", True)
            # The people sign in with Quince's production argon2id cost: it is part of enrolling.
            passwords.configure(time_cost=2, memory_cost=19_456)
            hashed = passwords.hash_password(PASSWORD)
            await s.execute(insert(EnrollmentUserRow), [
                {"username": f"user{i}", "username_key": f"user{i}", "email": f"user{i}@{DOMAIN}",
                 "managed_apple_id": f"user{i}@appleid.{DOMAIN}", "first_name": "", "last_name": "",
                 "password_hash": hashed, "active": True, "og_id": og.id}
                for i in range(people)
            ])
            # The administrator queues commands outside the measured phases: a cheap hash.
            passwords.configure(time_cost=1, memory_cost=1024)
            await admins.add_admin(s, scope, username=ADMIN, password=ADMIN_PASSWORD, og_id=scope.og_id,
                                   role="administrator")
            _row, key = await admins.create_api_key(s, scope, og_id=scope.og_id, name="bench")
            await s.commit()
        return key
    finally:
        await engine.dispose()


# --- the phases ---------------------------------------------------------------------------------


async def _enroll(quince: ServerProcess, config: Config, transport: httpx.AsyncBaseTransport) -> tuple[
    Phase, list[SimulatedDevice]
]:
    people = [Credentials(f"user{i}@{DOMAIN}", PASSWORD) for i in range(config.devices)]
    cpu, started = quince.cpu_seconds(), time.perf_counter()
    runs = await run_many(quince.url, people, config.devices, concurrency=config.concurrency,
                          transport=transport)
    phase = Phase(count=config.devices, seconds=time.perf_counter() - started,
                  cpu_seconds=quince.cpu_seconds() - cpu, latencies=[r.seconds for r in runs])
    failed = [r.error for r in runs if r.error]
    if failed:
        raise RuntimeError(f"{len(failed)} enrollment(s) failed, the first: {failed[0]}")
    return phase, [r.device for r in runs]


async def _round_trips(
    quince: ServerProcess, config: Config, devices: list[SimulatedDevice], key: str
) -> Phase:
    phase = Phase()
    async with httpx.AsyncClient(base_url=quince.url, auth=(ADMIN, ADMIN_PASSWORD), timeout=60,
                                 headers={"aw-tenant-code": key, "Accept": "application/json"}) as api:

        async def device_id(device: SimulatedDevice) -> int:
            found = await api.get("/API/mdm/devices", params={"searchby": "Udid", "id": device.enrollment_id})
            found.raise_for_status()
            return int(found.json()["Id"]["Value"])

        ids = await _limited(config.concurrency, [functools.partial(device_id, d) for d in devices])

        async def queue(device: int) -> None:
            answer = await api.post(f"/API/mdm/devices/{device}/commands", json={
                "RequestType": "DeviceInformation", "Queries": ["OSVersion", "BuildVersion", "BatteryLevel"],
            })
            if answer.status_code != 201:
                raise RuntimeError(f"queueing failed: {answer.status_code} {answer.text}")

        for _ in range(config.commands):
            await _limited(config.concurrency, [functools.partial(queue, i) for i in ids])
            cpu, started = quince.cpu_seconds(), time.perf_counter()
            sessions = await _limited(config.concurrency, [d.connect for d in devices])
            phase.seconds += time.perf_counter() - started
            phase.cpu_seconds += quince.cpu_seconds() - cpu
            for session in sessions:
                if session.statuses != ["Acknowledged"]:
                    raise RuntimeError(f"a device answered {session.statuses}, expected one Acknowledged")
                phase.count += session.messages
                phase.latencies += session.latencies
    return phase


async def _bare(bare: ServerProcess, config: Config, devices: list[SimulatedDevice], messages: int) -> Phase:
    """The same signed connect messages from the same devices, to an endpoint that does nothing."""
    phase = Phase()
    url = bare.url + "/DeviceServices/mdm/server"
    per_round = max(1, messages // max(config.commands, 1))
    while phase.count < messages:
        batch = [devices[i % len(devices)] for i in range(min(per_round, messages - phase.count))]
        cpu, started = bare.cpu_seconds(), time.perf_counter()
        sessions = await _limited(config.concurrency, [functools.partial(d.connect, url=url) for d in batch])
        phase.seconds += time.perf_counter() - started
        phase.cpu_seconds += bare.cpu_seconds() - cpu
        for session in sessions:
            phase.count += session.messages
            phase.latencies += session.latencies
    return phase


async def run(config: Config) -> Results:
    workdir = Path(tempfile.mkdtemp(prefix="quince-bench-mdm-"))
    var_dir = workdir / "var"
    var_dir.mkdir()
    database_url, drop = await _fresh_database(config.database_url, var_dir)
    label = "PostgreSQL" if config.database_url else "SQLite"
    try:
        key = await _seed(database_url, config.devices)
        port = free_port()
        quince = start(
            ["-c", "from quince.cli import main; main()", "serve", "--port", str(port)],
            # No job workers: no push certificate is installed, so pushes would only wait and
            # retry; the measured phases are the device's requests.
            {"QUINCE_VAR_DIR": str(var_dir), "QUINCE_DATABASE_URL": database_url,
             "QUINCE_PUBLIC_URL": f"http://127.0.0.1:{port}", "QUINCE_WORKERS": "0"},
            workdir / "quince.out", "/DeviceServices/scep?operation=GetCACaps", port, REPO,
        )
        transport = shared_transport(config.concurrency)
        try:
            enrollment, devices = await _enroll(quince, config, transport)
            quince_phase = await _round_trips(quince, config, devices, key)
        finally:
            quince.stop()
        bare_port = free_port()
        bare = start(["-m", "bench.bare_asgi", "--port", str(bare_port)], {}, workdir / "bare.out", "/",
                     bare_port, REPO)
        try:
            bare_phase = await _bare(bare, config, devices, quince_phase.count)
        finally:
            bare.stop()
            await transport.aclose()
    finally:
        await drop()
    shutil.rmtree(workdir, ignore_errors=True)  # kept when a phase failed, for its server logs
    return Results(config, label, enrollment, quince_phase, bare_phase)


def table(results: Results) -> Table:
    c = results.config
    out = Table(title=f"MDM channel over HTTP ({results.database}; {c.devices} simulated iPhones, "
                      f"{c.commands} command round trips each, concurrency {c.concurrency})")
    for column in ("measure", "count", "rate", "p50 ms", "p95 ms", "p99 ms", "server CPU"):
        out.add_column(column, justify="left" if column == "measure" else "right")
    e, q, b = results.enrollment, results.quince, results.bare
    out.add_row("enrollment (whole account-driven flow)", str(e.count), f"{e.rate:.1f} /s",
                f"{e.percentile(50):.0f}", f"{e.percentile(95):.0f}", f"{e.percentile(99):.0f}",
                f"{e.cpu_seconds / max(e.count, 1) * 1000:.0f} ms per enrollment")
    for name, phase in (("device message, Quince", q), ("device message, bare ASGI (ceiling)", b)):
        out.add_row(name, str(phase.count), f"{phase.rate:.0f} /s", f"{phase.percentile(50):.1f}",
                    f"{phase.percentile(95):.1f}", f"{phase.percentile(99):.1f}",
                    f"{phase.cpu_seconds / max(phase.count, 1) * 1000:.2f} s per 1,000")
    out.add_row("Quince / ceiling (message rate)", "", f"{results.ratio:.0%}", "", "", "", "")
    return out
