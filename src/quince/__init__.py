"""Quince: an Apple MDM server for BYOD User Enrollment."""

__version__ = "0.1.0"
