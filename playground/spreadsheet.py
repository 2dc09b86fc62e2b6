"""CSV lines for downloads that people open in spreadsheets (usage records, embedding runs).

Text cells that a spreadsheet would read as a formula (starting with = + - @, a tab or a
carriage return) get a leading apostrophe, and are quoted where CSV needs it, as csv.writer's
QUOTE_MINIMAL would. Numbers are written by us and stay numbers. Lines are joined here rather
than by csv.writer, which costs as much per row as reading the row from the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def text_cell(text: str) -> str:
    """A text cell: neutralised for spreadsheets, quoted when it holds a comma, a quote or a line break."""
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return '"' + text.replace('"', '""') + '"' if _NEEDS_QUOTES.search(text) else text


def line(cells: Iterable[str]) -> str:
    """One CSV line of cells already made (text through text_cell, numbers as written)."""
    return ",".join(cells) + "\r\n"
