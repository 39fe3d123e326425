"""Which face of Quince a path belongs to: the device channel, the sign-in pages, the REST API, the
console, or something else. Metrics count by face; each face has its own body cap."""

from __future__ import annotations

from enum import StrEnum


class Face(StrEnum):
    DEVICE_SERVICES = "device_services"
    DEVICE_MANAGEMENT = "device_management"
    API = "api"
    CONSOLE = "console"
    METRICS = "metrics"
    OTHER = "other"


# Path prefixes to the face they belong to.
PREFIXES = (("/API/", Face.API), ("/console", Face.CONSOLE), ("/DeviceServices/", Face.DEVICE_SERVICES),
            ("/.well-known/", Face.DEVICE_SERVICES), ("/DeviceManagement/", Face.DEVICE_MANAGEMENT),
            ("/metrics", Face.METRICS))


def face_of(path: str) -> Face:
    return next((face for prefix, face in PREFIXES if path.startswith(prefix)), Face.OTHER)
