"""The background job workers of one server process (QUINCE_WORKERS), run while the app runs.

Every Quince process behind a load balancer runs its own workers; they share the jobs table, and
the claim protocol (quince.services.jobs) makes sure each job runs once at a time. A worker's id
names its host and process and is never reused: a job's lease belongs to one process's worker.
"""

from __future__ import annotations

import os
import secrets
import socket

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quince.clients.apns import ApnsClients
from quince.config import Settings
from quince.services import app_delivery, jobs, push


class BackgroundWork:
    """The job runners and the outbound clients their handlers share."""

    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.apns = ApnsClients(settings)
        handlers: dict[str, jobs.Handler] = {
            **push.handlers(self.apns), **app_delivery.handlers(settings),
        }
        # Host and pid say where a worker runs; the random part keeps two processes apart that share
        # both (a restarted container is pid 1 on the same host name again, and replicas may be
        # given one host name), so one never renews or records over the other's leases.
        prefix = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.workers = jobs.Workers([
            jobs.JobRunner(sessionmaker, handlers, worker_id=f"{prefix}:{n}")
            for n in range(settings.workers)
        ])

    def start(self) -> None:
        self.workers.start()

    async def stop(self) -> None:
        """Let running jobs finish briefly, then close the outbound connections."""
        await self.workers.stop()
        await self.apns.aclose()


def start(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> BackgroundWork:
    work = BackgroundWork(settings, sessionmaker)
    work.start()
    return work
