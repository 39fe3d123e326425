"""What the device list's CSV export writes in a cell a spreadsheet would otherwise run."""

from __future__ import annotations

from quince.services.devices.export import spreadsheet_safe


def test_a_cell_starting_like_a_formula_is_quoted_so_a_spreadsheet_shows_it_as_text() -> None:
    for cell in ('=HYPERLINK("http://evil.example")', "+1", "-2+3", "@SUM(A1)", "\tx", "\r=1"):
        assert spreadsheet_safe(cell) == "'" + cell


def test_any_other_cell_is_written_as_it_is() -> None:
    for cell in ("", "alice", "iPhone16,1", "5E1C3F2A-7B1D", "a=b", "18.1"):
        assert spreadsheet_safe(cell) == cell
