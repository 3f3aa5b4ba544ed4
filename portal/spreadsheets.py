"""Cells that spreadsheets open: what would make one run a cell as a formula, and how the portal
writes a cell so that none does ("CSV injection")."""

from __future__ import annotations

# What a cell may start with for a spreadsheet to take it for a formula (or, tab and CR, to hide one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A cell's text, after an apostrophe when a spreadsheet would read it as a formula (spreadsheets
    show the apostrophe's cell as text). None is an empty cell."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
