"""docs/import-graph.md is drawn from the code: it must say what the imports are today."""

from __future__ import annotations

import importlib.util
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "import_graph.py"


def _tool():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("import_graph", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_import_graph_page_matches_the_code() -> None:
    tool = _tool()
    assert tool.PAGE.read_text() == tool.page(), "docs/import-graph.md is stale: run `make import-graph`"


def test_only_the_store_imports_sqlalchemy_and_no_face_imports_another() -> None:
    text = _tool().page()
    assert "| `sqlalchemy` | `store` |" in text
    assert "## Faces importing faces\n\nNone." in text
