"""What every test needs, and nothing heavier: unit tests collect without the web app, uvicorn or
the database drivers (tests/unit/test_light_collection.py keeps it so).

Database, live-server and fake-Apple fixtures live in tests/fixtures/ and are imported by the
conftests of the directories that use them (see docs/development.md, "Tests")."""

from __future__ import annotations

from quince.services.access import passwords

# Real argon2id, at a cost that keeps the suite fast; hashes record their own parameters.
passwords.configure(time_cost=1, memory_cost=1024)
