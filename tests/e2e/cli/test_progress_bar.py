"""Long runs (`users import`, `simulate`) show a progress bar on a terminal only, never with --json."""

from __future__ import annotations

import pytest

from quince.cli import runtime


def test_no_progress_bar_when_stderr_is_not_a_terminal() -> None:
    assert not runtime.err_console.is_terminal
    assert runtime.progress_bar("Importing users", quiet=False).disable


def test_a_progress_bar_on_a_terminal_but_not_with_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime.err_console, "_force_terminal", True)
    assert not runtime.progress_bar("Enrolling devices", quiet=False).disable
    assert runtime.progress_bar("Enrolling devices", quiet=True).disable
