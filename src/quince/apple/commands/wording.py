"""How a command refusal names what it refuses: a value's type, a cut-short text, a list of names."""

from __future__ import annotations


def type_name(value: object) -> str:
    """The JSON-ish name of a value's type: "a string", "an array", "data", "null", ..."""
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        tuple: "an array",
        dict: "a dictionary",
        bytes: "data",
        type(None): "null",
    }
    for kind, name in names.items():
        if type(value) is kind:
            return name
    return f"a {type(value).__name__}"


def cut(text: str, limit: int = 64) -> str:
    """`text`, cut at `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[:limit] + "…"


def shown(value: object) -> str:
    """A given value for a message: a string quoted and cut short, anything else by its type."""
    return repr(cut(value, 40)) if isinstance(value, str) else type_name(value)


def listed(names: list[str] | tuple[str, ...], limit: int = 8) -> str:
    """Names joined with commas, each cut short, at most `limit` of them ("and 3 more")."""
    first = [cut(name, 40) for name in names[:limit]]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(first) + more
