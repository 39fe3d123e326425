"""The REST API under /API, shaped like Workspace ONE UEM's v1 API."""
