"""Schemathesis against the real Quince server: every operation of the OpenAPI document at
/API/openapi.json (the document /API/help presents), with valid and invalid requests, must answer as
the document says.

Bar: no server error, every response (status, content type, headers, body) as documented, every
request the document allows accepted and every request it forbids refused. See docs/api.md."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi import checks as openapi_checks
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from quince.config import Settings
from quince.domain.app_eligibility import AppKind
from quince.services.access import admins
from quince.services.apps import catalog as apps
from quince.services.apps.catalog import NewApp
from quince.services.demo import tenant as demo
from quince.services.directory import org_groups
from quince.services.scope import operator_scope
from quince.store.database import make_sessionmaker
from quince.store.models import Base
from quince.web.app import create_app
from tests.fixtures.live_server import free_port, serving

# The document the server serves (a test below proves they are the same), read without a server so
# that pytest can make one test per operation when it collects this module.
DOCUMENT: dict[str, Any] = create_app(Settings(database_url="sqlite+aiosqlite://")).openapi()


def _documented_422() -> list[dict[str, Any]]:
    """A 422 the document lists for an operation is a refusal by a rule the document cannot state
    (a relation between values, or to stored data: see docs/api.md), so a request that follows the
    document may get it there, and only there."""
    # schemathesis's default for positive_data_acceptance, plus 422. A 5xx is not_a_server_error's.
    accepted = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx", "422"]
    return [
        {"include-name": f"{method.upper()} {path}",
         "checks": {"positive_data_acceptance": {"expected-statuses": accepted}}}
        for path, operations in DOCUMENT["paths"].items()
        for method, operation in operations.items()
        if "422" in operation["responses"]
    ]


# Deterministic and small: the same cases on every run and on both databases, within a minute.
# QUINCE_SCHEMATHESIS_SEED and QUINCE_SCHEMATHESIS_EXAMPLES explore further (docs/development.md).
SEED = int(os.environ.get("QUINCE_SCHEMATHESIS_SEED", "20250101"))
MAX_EXAMPLES = int(os.environ.get("QUINCE_SCHEMATHESIS_EXAMPLES", "10"))
CONFIG = SchemathesisConfig.from_dict({
    "seed": SEED,
    # The credentials are a real administrator's and API key's, sent with every case; requests
    # without them, or with wrong ones, are the `ignored_auth` check's job (and test_auth's).
    "generation": {"deterministic": True, "max-examples": MAX_EXAMPLES, "with-security-parameters": False},
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True},
               "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
    "operations": _documented_422(),
})
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)

CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
    openapi_checks.positive_data_acceptance,
    openapi_checks.unsupported_method,
    openapi_checks.allow_header_conformance,
    openapi_checks.ignored_auth,
]


@dataclass(frozen=True)
class Caller:
    """Where the server is, and the credentials every case carries."""

    base_url: str
    headers: dict[str, str]


async def _fresh_ids(engine: AsyncEngine) -> None:
    """Empty the database and restart its ids at 1, so both databases see the same ids."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    async with make_sessionmaker(engine)() as session:
        await org_groups.ensure_root(session)
        await session.commit()


@pytest.fixture(scope="module")
def unthrottled_server(live_settings: Settings, migrated_engine: AsyncEngine) -> Iterator[str]:
    """Quince on the test database, with a sign-in back-off that never engages: the
    `ignored_auth` check sends wrong credentials with many cases, and a back-off answering 429
    (as it should, tests/integration/api/test_auth.py) would hide what the check looks for."""
    settings = live_settings.model_copy(update={
        "public_url": f"http://127.0.0.1:{free_port()}",
        "sign_in_free_failures_per_account": 1000, "sign_in_free_failures_per_address": 100_000,
    })
    with serving(settings) as url:
        yield url


@pytest.fixture
async def caller(unthrottled_server: str, engine: AsyncEngine) -> Caller:
    """The demo tenant (OGs, users, user groups and mappings, enrolled devices and placeholders),
    an app of each kind with an assignment, and an administrator of the whole install."""
    await _fresh_ids(engine)
    async with make_sessionmaker(engine)() as session:
        scope = await operator_scope(session)
        await demo.seed(session, scope)
        acme = await org_groups.get_by_group_id(session, scope, demo.CUSTOMER_GROUP_ID)
        mail, *_ = [await apps.create(session, scope, new) for new in (
            NewApp(AppKind.PURCHASED, acme.id, "Work Mail", "com.acme.mail", adam_id="284882215",
                   total_licenses=10, assigned_licenses=1),
            NewApp(AppKind.PUBLIC, acme.id, "Notes", "com.example.notes", adam_id="361309726"),
            NewApp(AppKind.IN_HOUSE, acme.id, "Lab Tool", "com.acme.labtool",
                   manifest_url="https://apps.acme.example/labtool.plist"),
        )]
        await apps.assign(session, scope, mail.id, "og", acme.id, "on_demand")
        await admins.add_admin(session, scope, username="schemathesis", password="admin-pass-1",
                               og_id=scope.og_id, role="administrator")
        _row, key = await admins.create_api_key(session, scope, og_id=scope.og_id)
        await session.commit()
    basic = base64.b64encode(b"schemathesis:admin-pass-1").decode()
    return Caller(unthrottled_server, {"Authorization": f"Basic {basic}", "aw-tenant-code": key})


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    """One connection pool for the whole run (schemathesis sends its requests with `requests`)."""
    with requests.Session() as session:
        yield session


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, caller: Caller, http: requests.Session
) -> None:
    case.call_and_validate(base_url=caller.base_url, headers=caller.headers, session=http, checks=CHECKS)


async def test_the_tested_document_is_the_one_served(live_server: str) -> None:
    async with httpx.AsyncClient(base_url=live_server) as client:
        assert (await client.get("/API/openapi.json")).json() == DOCUMENT
