"""What every CLI command shares: configuration, a session with the operator's scope, output."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from quince.config import Settings
from quince.domain.errors import QuinceError
from quince.services.org_groups import ensure_root
from quince.services.scope import Scope, operator_scope
from quince.store import migrate
from quince.store.database import make_engine, make_sessionmaker

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)


def settings() -> Settings:
    return Settings()


async def prepare_database(config: Settings) -> None:
    """Create or upgrade the schema and make sure the Global root exists."""
    config.ensure_var_dir()
    engine = make_engine(config.resolved_database_url)
    try:
        await migrate.upgrade(engine)
        async with make_sessionmaker(engine)() as session:
            await ensure_root(session)
            await session.commit()
    finally:
        await engine.dispose()


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]Error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def run(work: Callable[[AsyncSession, Scope], Awaitable[T]], *, commit: bool = False) -> T:
    """Run `work` in one transaction with the operator's scope; errors print and exit 1."""

    async def main() -> T:
        config = settings()
        engine = make_engine(config.resolved_database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                result = await work(session, await operator_scope(session))
                if commit:
                    await session.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except QuinceError as exc:
        fail(exc.message)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))
