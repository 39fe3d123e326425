"""What every CLI command shares: configuration, a session with the operator's scope, output."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from quince.config import Settings
from quince.domain.errors import ConcurrentChange, QuinceError
from quince.services.scope import Scope, operator_scope
from quince.store.concurrency import lost_race
from quince.store.database import Db, make_engine, make_sessionmaker
from quince.store.errors import DATABASE_ERRORS, masked_url

if TYPE_CHECKING:
    from quince.pki.authority import Pki

T = TypeVar("T")

# Wide enough that no table or message printed into a pipe or file is wrapped or cut.
UNWRAPPED_WIDTH = 65_536


class CliConsole(Console):
    """Rich's console, as wide as the terminal; into a pipe or a file (where Rich would wrap at 80
    columns) lines stay whole, unless COLUMNS asks for a width. Rich prints no colour codes there."""

    @property
    def size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)  # type: ignore[attr-defined]
        if self.is_terminal or "COLUMNS" in self._environ:
            return ConsoleDimensions(size.width, size.height)
        return ConsoleDimensions(UNWRAPPED_WIDTH, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


# No emoji codes: fingerprints and names hold things like ":AB:" that must print as typed.
console = CliConsole(emoji=False)
err_console = CliConsole(stderr=True, emoji=False)


def progress_bar(label: str, *, quiet: bool) -> Progress:
    """A progress bar on stderr for a long run, gone when it ends. Off when `quiet` (--json) and
    when stderr is not a terminal: no progress noise in pipes, files or CI logs."""
    return Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=True, disable=quiet or not err_console.is_terminal,
    )


def settings() -> Settings:
    """The configuration from QUINCE_* variables; a bad value is reported, not a traceback."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"QUINCE_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        fail(f"The configuration is not valid: {problems}.")


async def prepare_database(config: Settings) -> None:
    """Create or upgrade the schema, make sure the Global root exists, and create Quince's CA."""
    from quince.services.directory.org_groups import ensure_root  # only init and serve need these
    from quince.store import migrate

    config.ensure_var_dir()
    prepare_pki(config)
    engine = make_engine(config.resolved_database_url)
    try:
        await migrate.upgrade(engine)
        async with make_sessionmaker(engine)() as session:
            await ensure_root(session)
            await session.commit()
    finally:
        await engine.dispose()


def prepare_pki(config: Settings) -> Pki:
    """Load Quince's CA and profile-signing identity from var/pki, creating what is missing."""
    from quince.pki import authority  # cryptography: only for the commands that use the CA

    try:
        return authority.ensure(config.pki_dir, organization=config.organization_name)
    except OSError as exc:  # not the database's fault: say which directory
        raise authority.PkiError(f"Cannot create or read Quince's CA in {config.pki_dir}: {exc}.") from exc


def database_label(config: Settings) -> str:
    """The database URL with any password masked, for printing."""
    return masked_url(config.resolved_database_url)


def plain(value: object) -> str:
    """`value` as text for a Rich message or table cell, printed as typed: names, errors and paths
    people typed may hold "[...]", which Rich would otherwise read as markup (or fail on)."""
    return escape(str(value))


def fail(message: str, code: int = 1) -> NoReturn:
    """Print `message` as plain text (it quotes what people typed: never markup) and exit."""
    err_console.print(f"[bold red]Error:[/] {plain(message)}", highlight=False)
    raise typer.Exit(code)


def run(work: Callable[[Db, Scope], Awaitable[T]], *, commit: bool = False) -> T:
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

    return run_async(main())


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine; Quince's errors and an unusable database print one clear line, exit 1."""
    import asyncpg  # imported when a command runs, not for --help

    try:
        return asyncio.run(work)
    except QuinceError as exc:
        fail(exc.message)
    except DATABASE_ERRORS as exc:
        if lost_race(exc):  # another process changed the same data at the same moment
            fail(ConcurrentChange().message)
        database_unusable(exc)
    except (OSError, asyncpg.PostgresError) as exc:
        database_unusable(exc)


def database_unusable(exc: BaseException) -> NoReturn:
    url = database_label(settings())
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    fail(
        f"Cannot use the database at {url}: {reason}. "
        "Check QUINCE_DATABASE_URL, that the server is running, and run `quince init`."
    )


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def emit(data: Any, as_json: bool, message: str) -> None:
    """Print `data` as JSON for scripts, or the one-line `message` for people (Rich markup: wrap
    the values in it with `plain`)."""
    if as_json:
        print_json(data)
    else:
        console.print(message, highlight=False)
