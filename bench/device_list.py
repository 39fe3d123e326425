"""The device list at scale: a real `quince serve` over a database seeded with 100,000 devices
(QUINCE_BENCH_DEVICES), ~300 OGs in a tree (QUINCE_BENCH_OGS) and ~20,000 users
(QUINCE_BENCH_USERS), and the latency of `GET /API/mdm/devices/search` as scripts call it and of
the console's device list page (`GET /console/devices`, with its "Last seen" filter and "Jump to
page"), signed in as an administrator. The goal (issue 6): every query answers in under 300 ms at
p95.

The devices are bulk-inserted (Core executemany, 5,000 rows a batch, no ORM objects): mostly
Enrolled user-enrolled devices with Enrollment IDs, some EnrollmentInProgress placeholders, some
abandoned placeholders superseded by a newer record of the same user, a few Unenrolled; last seen
anywhere in the last 90 days, most of them recently. On PostgreSQL the tables are ANALYZEd after
the load, as autovacuum would have done in production; SQLite gets no ANALYZE, as Quince never runs
one.
"""

from __future__ import annotations

import html
import os
import random
import re
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.table import Table
from sqlalchemy import bindparam, insert, select, text, update

from bench.mdm import ADMIN, ADMIN_PASSWORD, REPO, _fresh_database
from bench.servers import free_port, start
from quince.domain.devices import EnrollmentStatus
from quince.services.access import admins, passwords
from quince.services.directory import og_settings, org_groups
from quince.services.scope import operator_scope
from quince.store import migrate
from quince.store.database import make_engine, make_sessionmaker
from quince.store.models import DeviceRow, EnrollmentUserRow, OrgGroupRow

N_DEVICES = int(os.environ.get("QUINCE_BENCH_DEVICES", "100000"))
N_USERS = int(os.environ.get("QUINCE_BENCH_USERS", "20000"))
N_OGS = int(os.environ.get("QUINCE_BENCH_OGS", "300"))
BATCH = 5_000
PAGE_SIZE = 50  # the console's page size
RUNS = 30  # timed requests per query, after WARMUP untimed ones
WARMUP = 3
GOAL_MS = 300.0


@dataclass
class Seeded:
    key: str
    og_id: int  # an OG with children, for the "OG with its children" filter
    og_devices: int
    usernames: list[str]
    enrollment_ids: list[str]
    seconds: float
    never_seen: int = 0  # devices never seen (placeholders), for the console's "Never" filter


@dataclass
class Measured:
    name: str
    latencies: list[float] = field(default_factory=list)
    rows: int = 0  # the Total the query reported (1 for a lookup)

    def ms(self, p: int) -> float:
        ordered = sorted(self.latencies)
        if p >= 100:
            return ordered[-1] * 1000
        return statistics.quantiles(ordered, n=100, method="inclusive")[p - 1] * 1000


@dataclass
class Results:
    database: str
    seeded: Seeded
    queries: list[Measured]


def _device_rows(rng: random.Random, user_ogs: list[int], now: datetime) -> tuple[
    list[dict[str, Any]], list[dict[str, Any]]
]:
    """The device rows (ids 1..N), and the (abandoned id, successor id) updates to make after."""
    rows: list[dict[str, Any]] = []
    by_user: dict[int, list[int]] = {}
    abandoned: list[int] = []
    for device_id in range(1, N_DEVICES + 1):
        user = rng.randrange(N_USERS)
        by_user.setdefault(user, []).append(device_id)
        created = now - timedelta(days=rng.uniform(0, 720))
        kind = rng.random()
        udid: str | None = None
        seen: datetime | None = None
        enrolled: datetime | None = None
        if kind < 0.80:
            status = EnrollmentStatus.ENROLLED.value
            udid = str(uuid.UUID(int=rng.getrandbits(128))).upper()  # an Enrollment ID
            enrolled = created + timedelta(minutes=2)
            seen = now - timedelta(hours=min(rng.expovariate(1 / 48), 24 * 90))
        elif kind < 0.97:
            status = EnrollmentStatus.ENROLLMENT_IN_PROGRESS.value
            if kind >= 0.87:
                abandoned.append(device_id)
        else:
            status = EnrollmentStatus.UNENROLLED.value
            udid = str(uuid.UUID(int=rng.getrandbits(128))).upper()
            enrolled = created + timedelta(minutes=2)
            seen = now - timedelta(days=rng.uniform(30, 90))
        rows.append({
            "id": device_id, "uuid": str(uuid.UUID(int=rng.getrandbits(128))), "og_id": user_ogs[user],
            "enrollment_user_id": user + 1, "udid": udid, "enrollment_status": status,
            "ownership": "E", "is_user_enrolled": True, "license_type_eligibility": 2,
            "created_at": created, "os_version": rng.choice(("17.6.1", "18.1", "18.2", "18.3")),
            "build_version": "22C152", "product_name": rng.choice(("iPhone15,2", "iPhone16,1", "iPad14,1")),
            "model": None, "model_name": None, "device_name": None, "last_seen_at": seen,
            "enrolled_at": enrolled,
        })
    # An abandoned placeholder points at the next record of the same user (Rule 2); one with no
    # later record stays a plain in-progress placeholder.
    supersede = []
    for device_id in abandoned:
        mine = by_user[rows[device_id - 1]["enrollment_user_id"] - 1]
        later = [d for d in mine if d > device_id]
        if later:
            supersede.append({"b_id": device_id, "b_next": later[0],
                              "b_at": rows[later[0] - 1]["created_at"]})
    return rows, supersede


async def _seed(database_url: str) -> Seeded:
    rng = random.Random(6)
    started = time.perf_counter()
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with make_sessionmaker(engine)() as s:
            await org_groups.ensure_root(s)
            scope = await operator_scope(s)
            bench = await org_groups.create(s, scope, scope.og_id, name="Bench", group_id="bench",
                                            og_type="Customer")
            await og_settings.override(s, scope, bench.id, "user_enrollment_enabled", True)
            og_ids = [bench.id]
            for i in range(N_OGS - 1):
                og = await org_groups.create(s, scope, rng.choice(og_ids), name=f"OG {i}",
                                             group_id=f"og-{i}")
                og_ids.append(og.id)
            passwords.configure(time_cost=1, memory_cost=1024)  # the admin signs every request
            await admins.add_admin(s, scope, username=ADMIN, password=ADMIN_PASSWORD, og_id=scope.og_id,
                                   role="administrator")
            _row, key = await admins.create_api_key(s, scope, og_id=scope.og_id, name="bench")
            await s.commit()
        user_ogs = [rng.choice(og_ids) for _ in range(N_USERS)]
        rows, supersede = _device_rows(rng, user_ogs, datetime.now(UTC))
        async with engine.begin() as conn:
            await conn.execute(insert(EnrollmentUserRow), [
                {"id": i + 1, "uuid": str(uuid.UUID(int=rng.getrandbits(128))), "username": f"user{i}",
                 "username_key": f"user{i}", "email": f"user{i}@bench.example",
                 "managed_apple_id": f"user{i}@appleid.bench.example", "first_name": "",
                 "last_name": "", "password_hash": None, "active": True, "og_id": user_ogs[i]}
                for i in range(N_USERS)
            ])
            for at in range(0, len(rows), BATCH):
                await conn.execute(insert(DeviceRow), rows[at:at + BATCH])
            devices = DeviceRow.__table__.c
            # Core (not ORM) executemany: the ORM would read a list of parameters as its own bulk
            # update by primary key.
            await conn.execute(
                update(DeviceRow.__table__)  # type: ignore[arg-type]
                .where(devices.id == bindparam("b_id"))
                .values(superseded_by_device_id=bindparam("b_next"), superseded_at=bindparam("b_at")),
                supersede,
            )
            if conn.dialect.name == "postgresql":
                # Explicit ids leave the sequences behind; and the statistics autovacuum keeps.
                for table in ("devices", "enrollment_users"):  # our own names, not input
                    await conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT max(id) FROM {table}))"
                    ))
                await conn.execute(text("ANALYZE"))
        # The OG filter: the first-level OG holding the most devices (it has children).
        async with make_sessionmaker(engine)() as s:
            counts: dict[int, int] = {}
            for row in rows:
                counts[row["og_id"]] = counts.get(row["og_id"], 0) + 1
            paths = {og.id: og.path for og in await s.scalars(select(OrgGroupRow))}
        first_level = [og for og in og_ids if paths[og].count("/") == paths[bench.id].count("/") + 1]
        subtree = {og: sum(n for o, n in counts.items() if paths[o].startswith(paths[og]))
                   for og in first_level}
        og_id = max(first_level, key=lambda og: subtree[og])
        enrollment_ids = [r["udid"] for r in rows if r["udid"] is not None]
        return Seeded(key, og_id, subtree[og_id], [f"user{i}" for i in range(N_USERS)],
                      rng.sample(enrollment_ids, RUNS + WARMUP), time.perf_counter() - started,
                      sum(1 for r in rows if r["last_seen_at"] is None))
    finally:
        await engine.dispose()


_CONSOLE_COUNT = re.compile(r'id="device-count" role="status">([0-9]+) device')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _api_rows(answer: httpx.Response) -> int:
    return int(answer.json().get("Total", 1))


def _console_rows(answer: httpx.Response) -> int:
    found = _CONSOLE_COUNT.search(answer.text)
    if found is None:
        raise RuntimeError(f"the console page has no device count: {answer.text[:300]}")
    return int(found.group(1))


async def _console_sign_in(console: httpx.AsyncClient) -> None:
    form = await console.get("/console/sign-in")
    token = _CSRF.search(form.text)
    if token is None:
        raise RuntimeError("the console's sign-in page has no CSRF token")
    answer = await console.post("/console/sign-in", data={
        "csrf_token": html.unescape(token.group(1)), "username": ADMIN, "password": ADMIN_PASSWORD,
    })
    if answer.status_code != 303:
        raise RuntimeError(f"console sign-in: {answer.status_code} {answer.text[:300]}")


async def _measure(api: httpx.AsyncClient, name: str, requests: list[tuple[str, dict[str, Any]]],
                   rows: Callable[[httpx.Response], int] = _api_rows) -> Measured:
    out = Measured(name)
    for i, (path, params) in enumerate(requests):
        started = time.perf_counter()
        answer = await api.get(path, params=params)
        elapsed = time.perf_counter() - started
        if answer.status_code != 200:
            raise RuntimeError(f"{name}: {answer.status_code} {answer.text[:300]}")
        if i >= WARMUP:
            out.latencies.append(elapsed)
            out.rows = rows(answer)
    return out


async def run(database_url: str | None) -> Results:
    workdir = Path(tempfile.mkdtemp(prefix="quince-bench-devices-"))
    var_dir = workdir / "var"
    var_dir.mkdir()
    url, drop = await _fresh_database(database_url, var_dir)
    label = "PostgreSQL" if database_url else "SQLite"
    try:
        seeded = await _seed(url)
        port = free_port()
        quince = start(
            ["-c", "from quince.cli import main; main()", "serve", "--port", str(port)],
            {"QUINCE_VAR_DIR": str(var_dir), "QUINCE_DATABASE_URL": url,
             "QUINCE_PUBLIC_URL": f"http://127.0.0.1:{port}", "QUINCE_WORKERS": "0"},
            workdir / "quince.out", "/DeviceServices/scep?operation=GetCACaps", port, REPO,
        )
        rng = random.Random(66)
        n = RUNS + WARMUP
        search = "/API/mdm/devices/search"
        base = {"pagesize": PAGE_SIZE}
        deep = min(1000, max(0, N_DEVICES // PAGE_SIZE - 1))
        plan: list[tuple[str, list[tuple[str, dict[str, Any]]]]] = [
            ("whole tree, first page", [(search, base)] * n),
            (f"whole tree, page {deep}", [(search, {**base, "page": deep})] * n),
            ("OG with its children", [(search, {**base, "lgid": seeded.og_id})] * n),
            ("by user", [(search, {**base, "user": rng.choice(seeded.usernames)}) for _ in range(n)]),
            ("Enrolled + user-enrolled", [(search, {**base, "enrollmentstatus": "Enrolled",
                                                    "isuserenrolled": "true"})] * n),
            ("orderby lastseen desc", [(search, {**base, "orderby": "lastseen", "sortorder": "DESC"})] * n),
            ("searchby=Udid (Enrollment ID)", [("/API/mdm/devices", {"searchby": "Udid", "id": e})
                                               for e in seeded.enrollment_ids]),
        ]
        # The console's device list page, as a browser asks for it (HTML, 50 rows a page).
        page = "/console/devices"
        jump = max(1, min(200, -(-seeded.never_seen // PAGE_SIZE)))  # a deep page that exists
        console_plan: list[tuple[str, list[tuple[str, dict[str, Any]]]]] = [
            ("console: whole tree, first page", [(page, {})] * n),
            ("console: last seen in 24 hours", [(page, {"seen": "24h"})] * n),
            ("console: last seen in 7 days", [(page, {"seen": "7d"})] * n),
            ("console: last seen in 30 days, by last seen", [(page, {"seen": "30d", "sort": "lastseen",
                                                                     "dir": "desc"})] * n),
            ("console: not seen in 30 days", [(page, {"seen": "over-30d"})] * n),
            ("console: never seen", [(page, {"seen": "never"})] * n),
            (f"console: never seen, jump to page {jump}", [(page, {"seen": "never", "goto": jump})] * n),
            ("console: OG with its children, last seen in 7 days",
             [(page, {"og": seeded.og_id, "seen": "7d"})] * n),
        ]
        try:
            async with httpx.AsyncClient(base_url=quince.url, auth=(ADMIN, ADMIN_PASSWORD), timeout=120,
                                         headers={"aw-tenant-code": seeded.key,
                                                  "Accept": "application/json"}) as api:
                queries = [await _measure(api, name, requests) for name, requests in plan]
            async with httpx.AsyncClient(base_url=quince.url, timeout=120, follow_redirects=False) as console:
                await _console_sign_in(console)
                queries += [await _measure(console, name, requests, _console_rows)
                            for name, requests in console_plan]
        finally:
            quince.stop()
    finally:
        await drop()
    shutil.rmtree(workdir, ignore_errors=True)  # kept when a phase failed, for the server's log
    return Results(label, seeded, queries)


def table(results: Results) -> Table:
    s = results.seeded
    out = Table(title=f"Device list over HTTP ({results.database}; {N_DEVICES:,} devices, {N_USERS:,} users, "
                      f"{N_OGS} OGs, page size {PAGE_SIZE}, {RUNS} requests each; seeded in "
                      f"{s.seconds:.1f} s)")
    for column in ("query", "matching", "p50 ms", "p95 ms", "max ms", f"p95 < {GOAL_MS:.0f} ms"):
        out.add_column(column, justify="left" if column == "query" else "right")
    for q in results.queries:
        p95 = q.ms(95)
        out.add_row(q.name, f"{q.rows:,}", f"{q.ms(50):.1f}", f"{p95:.1f}", f"{q.ms(100):.1f}",
                    "PASS" if p95 < GOAL_MS else "FAIL")
    return out
