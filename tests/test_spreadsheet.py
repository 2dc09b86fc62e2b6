"""The one CSV cell maker: what csv.writer would write, and formulas neutralised."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from playground.spreadsheet import line, text_cell


def written_by_csv_module(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(cells)
    return out.getvalue()


@given(st.lists(st.text(), min_size=2, max_size=5))
def test_a_line_is_what_csv_writer_writes_and_reads_back_as_the_text(texts):
    neutralised = ["'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text for text in texts]
    made = line(text_cell(text) for text in texts)
    assert made == written_by_csv_module(neutralised)
    assert next(csv.reader(io.StringIO(made, newline=""))) == neutralised


def test_formulas_get_an_apostrophe_and_numbers_written_by_us_stay_numbers():
    cells = [text_cell('=HYPERLINK("http://x")'), text_cell("-1"), "-1.5"]
    assert line(cells) == """"'=HYPERLINK(""http://x"")",'-1,-1.5\r\n"""
