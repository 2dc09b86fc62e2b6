"""Reading the texts of a run: typed one per line, or an uploaded .txt or .csv file.

A CSV file has a text column and, optionally, a label column. Its first row is taken as a
header when one of its cells names a known column ("text", "label", ...); the columns are
then chosen by name. Without a header the first column is the text and the second the label.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

MAX_TEXTS = 2_000
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TEXT_CHARS = 30_000
MAX_LABEL_CHARS = 200

TEXT_HEADERS = ("text", "texts", "sentence", "sentences", "document", "content", "input", "query", "passage")
LABEL_HEADERS = ("label", "labels", "category", "class", "group", "tag", "topic", "cluster")


class InputError(ValueError):
    """The input cannot be used; the message says why in plain words."""


@dataclass
class ParsedInput:
    texts: list[str]
    labels: list[str] = field(default_factory=list)  # empty, or one per text
    skipped: int = 0  # rows or lines left out because they had no text
    notes: list[str] = field(default_factory=list)


def parse_lines(text: str) -> ParsedInput:
    """One text per line; blank lines are skipped."""
    texts = [line.strip() for line in text.splitlines()]
    return _checked(ParsedInput(texts=[line for line in texts if line]))


def parse_upload(name: str, data: bytes) -> ParsedInput:
    """A .txt (one text per line) or .csv file, decoded as UTF-8 (a byte-order mark is fine)."""
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    lowered = name.lower()
    if not lowered.endswith((".txt", ".csv", ".tsv")):
        raise InputError("Upload a .txt file (one text per line) or a .csv file (a text column and a label column).")
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("The file is not UTF-8 text. Save it as UTF-8 and upload it again.") from None
    if "\x00" in decoded:
        raise InputError("The file looks binary, not like text.")
    if lowered.endswith(".txt"):
        return parse_lines(decoded)
    return parse_csv(decoded, delimiter="\t" if lowered.endswith(".tsv") else None)


def parse_csv(content: str, *, delimiter: str | None = None) -> ParsedInput:
    delimiter = delimiter or _delimiter(content)
    try:
        rows = list(csv.reader(io.StringIO(content, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as error:
        line = f" near line {error.args[1]}" if len(error.args) > 1 else ""
        raise InputError(f"The CSV file could not be read{line}: {error}.") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise InputError("The CSV file has no rows.")
    text_column, label_column, has_header = _columns(rows[0])
    parsed = ParsedInput(texts=[])
    if has_header:
        rows = rows[1:]
        parsed.notes.append("The first row was read as a header.")
    labels: list[str] = []
    for row in rows:
        text = row[text_column].strip() if text_column < len(row) else ""
        if not text:
            parsed.skipped += 1
            continue
        parsed.texts.append(text)
        if label_column is not None:
            labels.append(row[label_column].strip() if label_column < len(row) else "")
    if any(labels):
        parsed.labels = labels
    return _checked(parsed)


def _delimiter(content: str) -> str:
    """Comma unless the first line clearly uses semicolons or tabs (as some spreadsheets export)."""
    first = content.split("\n", 1)[0]
    counts = {sep: first.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


def _columns(first_row: list[str]) -> tuple[int, int | None, bool]:
    """(text column, label column or None, whether the first row is a header)."""
    names = [cell.strip().lower() for cell in first_row]
    text_column = next((i for i, name in enumerate(names) if name in TEXT_HEADERS), None)
    label_column = next((i for i, name in enumerate(names) if name in LABEL_HEADERS), None)
    if text_column is None and label_column is None:
        return 0, (1 if len(first_row) > 1 else None), False
    if text_column is None:
        text_column = next(i for i in range(len(names)) if i != label_column) if len(names) > 1 else 0
    return text_column, label_column, True


def _checked(parsed: ParsedInput) -> ParsedInput:
    if not parsed.texts:
        raise InputError("There are no texts to embed: write one text per line, or upload a file.")
    if len(parsed.texts) > MAX_TEXTS:
        raise InputError(
            f"There are {len(parsed.texts):,} texts; a run can embed at most {MAX_TEXTS:,}. "
            "Split them into several runs."
        )
    long = next((i for i, text in enumerate(parsed.texts) if len(text) > MAX_TEXT_CHARS), None)
    if long is not None:
        raise InputError(f"Text {long + 1} is longer than {MAX_TEXT_CHARS:,} characters.")
    parsed.labels = [label[:MAX_LABEL_CHARS] for label in parsed.labels]
    if parsed.skipped:
        parsed.notes.append(f"{parsed.skipped} row{'s' if parsed.skipped != 1 else ''} without text left out.")
    return parsed
