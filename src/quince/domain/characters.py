"""Character classes the rules on text share, spelled out so that every regular-expression engine
reads them alike: Python's `re`, Rust's `regex` (pydantic-core, jsonschema-rs) and ECMA 262 (what
OpenAPI tools read) each mean something else by `\\s`."""

from __future__ import annotations

# Whitespace by any of those engines: Unicode White_Space, plus the byte-order mark ECMA 262 counts.
WHITESPACE = r" \t\n\x0b\x0c\r\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
# C0 controls and DEL.
CONTROL = r"\x00-\x1f\x7f"
