"""Prometheus metrics at /metrics, for the operator: every request counted by face, method and
status with its duration, and, read at each scrape, devices by enrollment status and background
jobs by kind and status. Only clients in `metrics_allowed` may read it; anyone else gets 404, as
if it did not exist. Each Quince process serves its own request figures (scrape every process);
the device and job figures are the database's, the same from any process.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from quince.services.devices import status_counts
from quince.web.deps import Db
from quince.web.faces import face_of
from quince.web.networks import Network, allowed, parse_networks

__all__ = ["Metrics", "allowed", "face_of", "parse_networks", "router"]

router = APIRouter(include_in_schema=False)


class Metrics:
    """The metrics of one app (its own registry, so several apps in one process stay apart)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "quince_http_requests", "HTTP requests answered, by face, method and status.",
            ("face", "method", "status"), registry=self.registry)
        self.duration = Histogram(
            "quince_http_request_duration_seconds", "Time to answer a request, by face.",
            ("face",), registry=self.registry)
        self.devices = Gauge(
            "quince_devices", "Device records by enrollment status (placeholders included).",
            ("status",), registry=self.registry)
        self.jobs = Gauge("quince_jobs", "Background jobs by kind and status.", ("kind", "status"),
                          registry=self.registry)

    def observe(self, path: str, method: str, status: int, seconds: float) -> None:
        """One answered request (the access log middleware calls this for every request)."""
        face = face_of(path).value  # one label value per face keeps the series few
        self.requests.labels(face, method, str(status)).inc()
        self.duration.labels(face).observe(seconds)


@router.get("/metrics")
async def metrics_endpoint(request: Request, db: Db) -> Response:
    networks: tuple[Network, ...] = request.app.state.metrics_networks
    if not allowed(request.client.host if request.client else None, networks):
        return Response(status_code=404)
    metrics: Metrics = request.app.state.metrics
    # The session connects on its first query: a refused client never reaches the database.
    devices = await status_counts.devices_by_status(db)
    jobs = await status_counts.jobs_by_kind_and_status(db)
    metrics.devices.clear()
    for status, count in devices.items():
        metrics.devices.labels(status).set(count)
    metrics.jobs.clear()
    for (kind, status), count in jobs.items():
        metrics.jobs.labels(kind, status).set(count)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})
