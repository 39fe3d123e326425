"""Quince's logs: JSON lines under var/logs (the DeviceManagement and DeviceServices logs come
with enrollment); secrets never reach them."""

from __future__ import annotations
