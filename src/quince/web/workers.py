"""The background job workers of one server process (QUINCE_WORKERS), run while the app runs.

Every Quince process behind a load balancer runs its own workers; they share the jobs table, and
the claim protocol (quince.services.jobs) makes sure each job runs once at a time. A worker's id
names its host and process and is never reused: a job's lease belongs to one process's worker.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import timedelta

from quince.clients.apns import ApnsClients
from quince.config import Settings
from quince.services import jobs
from quince.services.access import admin_sessions, oauth_clients, sign_in_throttle
from quince.services.apps import licensing, vpp_sync
from quince.services.mdm import push
from quince.store.database import Sessions


class BackgroundWork:
    """The job runners and the outbound clients their handlers share."""

    def __init__(self, settings: Settings, sessionmaker: Sessions) -> None:
        self.apns = ApnsClients(settings)
        handlers: dict[str, jobs.Handler] = {
            **push.handlers(self.apns), **licensing.handlers(settings), **vpp_sync.handlers(settings),
        }
        # Host and pid say where a worker runs; the random part keeps two processes apart that share
        # both (a restarted container is pid 1 on the same host name again, and replicas may be
        # given one host name), so one never renews or records over the other's leases.
        prefix = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.workers = jobs.Workers([
            jobs.JobRunner(sessionmaker, handlers, worker_id=f"{prefix}:{n}",
                           housekeeping=housekeeping(settings))
            for n in range(settings.workers)
        ])

    def start(self) -> None:
        self.workers.start()

    async def stop(self) -> None:
        """Let running jobs finish briefly, then close the outbound connections."""
        await self.workers.stop()
        await self.apns.aclose()


def housekeeping(settings: Settings) -> list[jobs.Housekeeping]:
    """What the runners clean up with the hourly job pruning."""
    # Attempts are kept a little past the back-off window; a day at least, for the helpdesk.
    keep = max(timedelta(minutes=settings.sign_in_window_minutes), timedelta(days=1))
    return [
        jobs.Housekeeping("sign-in attempt(s)", lambda db, now: sign_in_throttle.prune(db, now, keep)),
        jobs.Housekeeping("expired console session(s)", admin_sessions.prune),
        jobs.Housekeeping("expired OAuth token(s)", oauth_clients.prune),
    ]


def start(settings: Settings, sessionmaker: Sessions) -> BackgroundWork:
    work = BackgroundWork(settings, sessionmaker)
    work.start()
    return work
