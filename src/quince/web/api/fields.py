"""Value types of the REST API's parameters and fields: each states its rule once, and that one
declaration both validates requests and documents the rule in /API/help (`pattern`, `format`),
so the document and the API cannot drift apart.

Patterns are anchored and written in the part of regular-expression syntax that Python, Rust
(pydantic-core, jsonschema-rs) and ECMA 262 (what OpenAPI tools read) agree on: literal
characters, explicit classes (domain/characters.py, never `\\s`), groups and counted repeats.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from quince.domain.characters import CONTROL, WHITESPACE

# Databases cannot store NUL characters; every string the API takes refuses them.
NO_NUL = r"^[^\x00]*$"
# No control characters (C0 and DEL): names and descriptions.
_PRINTABLE = rf"[^{CONTROL}]"
# A printable character that is not whitespace.
_VISIBLE = rf"[^{WHITESPACE}{CONTROL}]"


def _checked(pattern: str, rule: str, schema: CoreSchema, convert: Any = None) -> CoreSchema:
    """`schema`, then a full match of `pattern` (the error says `rule`), then `convert`."""
    compiled = re.compile(pattern)

    def check(value: str) -> Any:
        if not compiled.fullmatch(value):
            raise PydanticCustomError("rule", "{rule}", {"rule": rule})
        return convert(value) if convert else value

    return core_schema.no_info_after_validator_function(check, schema)


@dataclass(frozen=True)
class Matches:
    """Annotation: the whole string matches `pattern`; `rule` says it in words for the error."""

    pattern: str
    rule: str

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return _checked(self.pattern, self.rule, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema


@dataclass(frozen=True)
class Format:
    """Annotation: document a JSON Schema `format` (the value is checked by a `Matches` rule)."""

    format: str

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return handler(source)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["format"] = self.format
        return json_schema


def spelled(value: str, *, any_case: bool = False) -> str:
    """A pattern (unanchored) matching exactly `value`, in any letter case if asked."""
    if not any_case:
        return re.escape(value)
    return "".join(f"[{c.upper()}{c.lower()}]" if c.upper() != c.lower() else re.escape(c) for c in value)


def one_of(alternatives: Iterable[str]) -> str:
    """An anchored pattern matching exactly one of these patterns."""
    return "^(?:" + "|".join(alternatives) + ")$"


@dataclass(frozen=True, init=False)
class AnyCase:
    """Annotation: the string is one of `values` in any letter case, and the handler receives it
    as spelled in `values` (Workspace ONE scripts send `asc` as often as `ASC`). Documented as a
    pattern: an `enum` would call `asc` invalid, which the API accepts."""

    values: tuple[str, ...]
    name: str

    def __init__(self, values: Iterable[str], name: str) -> None:
        object.__setattr__(self, "values", tuple(values))
        object.__setattr__(self, "name", name)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        canonical = {v.casefold(): v for v in self.values}
        rule = f"{self.name} must be one of {', '.join(self.values)} (any case)"
        pattern = one_of(spelled(v, any_case=True) for v in self.values)
        return _checked(pattern, rule, handler(source), lambda value: canonical[value.casefold()])

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = one_of(spelled(v, any_case=True) for v in self.values)
        json_schema["examples"] = list(self.values)
        return json_schema


# --- numbers ------------------------------------------------------------------------------------


def _whole_number(value: object) -> object:
    # JSON Schema counts 5.0 as an integer; request bodies are otherwise strict (no "5", no true).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = BeforeValidator(_whole_number)
"""Annotation, after any bounds (`Annotated[int, Field(ge=1), WholeNumber]`): an integer of a
request body is a JSON number without a fraction (5 or 5.0)."""
Integer = Annotated[int, WholeNumber]


# --- text ---------------------------------------------------------------------------------------

Text = Annotated[str, Matches(NO_NUL, "must not contain NUL characters")]
"""Any text; NUL is refused (no database stores it)."""

PlainText = Annotated[str, Matches(
    rf"^{_PRINTABLE}*$", "must not contain control characters (NUL, tab, line breaks...)"
)]
"""Text without control characters; may be empty."""

Name = Annotated[str, Matches(
    rf"^{_PRINTABLE}*{_VISIBLE}{_PRINTABLE}*$",
    "must not be empty or blank and must not contain control characters (NUL, tab, line breaks...)",
)]
"""A name: at least one visible character, no control characters (surrounding spaces are trimmed)."""


def _uuid_pattern() -> str:
    hex_ = "[0-9A-Fa-f]"
    return f"^{hex_}{{8}}-{hex_}{{4}}-{hex_}{{4}}-{hex_}{{4}}-{hex_}{{12}}$"


Uuid = Annotated[str, Matches(_uuid_pattern(), "must be a UUID such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
                 Format("uuid")]


# --- times --------------------------------------------------------------------------------------

# RFC 3339's date-time, its zone optional; fractions past microseconds are cut (.NET sends 7 digits).
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def _date_time_text(value: object) -> object:
    # pydantic also reads numbers (Unix times) and dates as datetimes; the API takes only the
    # ISO 8601 date-time its document states.
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        raise PydanticCustomError(
            "date_time", "must be an ISO 8601 date-time such as 2025-01-15T09:30:00Z"
        )
    return value


DateTime = Annotated[datetime, BeforeValidator(_date_time_text)]
"""An ISO 8601 date-time (`format: date-time`); without a zone it is UTC, as Workspace ONE writes
times."""
