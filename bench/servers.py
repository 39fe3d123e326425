"""Server processes for the benchmark: start one on a free port, wait until it answers, read its
CPU time from /proc, stop it."""

from __future__ import annotations

import os
import platform
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """A server in a subprocess; `cpu_seconds()` is its user + system CPU time so far."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def cpu_seconds(self) -> float:
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        # Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(
    args: list[str], env: dict[str, str], log: Path, ready_path: str, port: int, cwd: Path
) -> ServerProcess:
    """Run `python args...` in `cwd` with `env`, output to `log`; wait until GET ready_path answers 200."""
    with log.open("wb") as handle:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, *args], env={**os.environ, **env}, cwd=cwd, stdout=handle,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    server = ServerProcess(process, url, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; see {log}")
        try:
            if httpx.get(url + ready_path, timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"the server did not answer within 60 s; see {log}")


def machine() -> dict[str, str]:
    """What the figures depend on: CPU, cores, memory, Python, date."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "CPU": model, "Cores": str(os.cpu_count()), "RAM": memory,
        "Python": platform.python_version(), "OS": f"{platform.system()} {platform.release()}",
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
