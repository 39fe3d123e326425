"""`make bench`: Quince's benchmarks, printed as tables.

1. The enrollment policy and the admin searches, in process (bench/policy.py).
2. The MDM channel over HTTP: a real `quince serve`, simulated iPhones enrolling and answering
   commands, and the same messages against a bare ASGI endpoint (bench/mdm.py).

    python -m bench [--devices 50] [--commands 5] [--concurrency 8] [--database-url URL]
                    [--only policy|mdm|device-list]
    make bench BENCH_ARGS="--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"

`--database-url` names a PostgreSQL server (postgresql+asyncpg://...): the MDM and device-list benchmarks
create a fresh database there and drop it afterwards. docs/performance.md explains how to read the tables.
"""

from __future__ import annotations

import argparse
import asyncio

from rich.console import Console
from rich.table import Table

from bench import device_list, mdm, policy
from bench.servers import machine


def _machine_table() -> Table:
    table = Table(title="Machine", show_header=False)
    table.add_column("what")
    table.add_column("value")
    for name, value in machine().items():
        table.add_row(name, value)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=mdm.Config.devices, help="simulated iPhones")
    parser.add_argument("--commands", type=int, default=mdm.Config.commands,
                        help="command round trips per device")
    parser.add_argument("--concurrency", type=int, default=mdm.Config.concurrency,
                        help="devices talking at the same time")
    parser.add_argument("--database-url",
                        help="PostgreSQL server for the MDM and device-list benchmarks (default: SQLite)")
    parser.add_argument("--only", choices=("policy", "mdm", "device-list"), help="run one of the benchmarks")
    args = parser.parse_args()
    console = Console(width=max(Console().width, 132))  # the tables stay readable when piped
    console.print(_machine_table())
    if args.only in (None, "mdm"):
        config = mdm.Config(args.devices, args.commands, args.concurrency, args.database_url)
        console.print(mdm.table(asyncio.run(mdm.run(config))))
    if args.only in (None, "policy"):
        console.print(asyncio.run(policy.run()))
    if args.only in (None, "device-list"):
        console.print(device_list.table(asyncio.run(device_list.run(args.database_url))))


if __name__ == "__main__":
    main()
