"""What people type to name a record at the CLI or in a path: its numeric id, else a name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from quince.domain.errors import InvalidInput, NotFound


class _HasId(Protocol):
    id: int


R = TypeVar("R", bound=_HasId)


async def by_id_or_name(
    ref: str,
    by_id: Callable[[int], Awaitable[R]],
    named: Callable[[str], Awaitable[Sequence[R]]],
    *,
    noun: str,
    field: str,
    several: str,
) -> R:
    """The record `ref` names: digits are tried as an id first, then `ref` as a name.

    NotFound names `noun` when nothing answers; when several records share the name, InvalidInput on
    `field` says `several` (formatted with the quoted `ref`) and lists their ids, so the caller can
    use one.
    """
    if ref.isdigit():
        try:
            return await by_id(int(ref))
        except NotFound:
            pass
    rows = await named(ref)
    if not rows:
        raise NotFound(noun, ref)
    if len(rows) > 1:
        ids = ", ".join(str(r.id) for r in rows)
        raise InvalidInput(field, f"{several.format(ref=repr(ref))} (ids {ids}); use an id.")
    return rows[0]
