"""CSV downloads of a run: its vectors, and its cosine-similarity matrix.

Text cells that a spreadsheet would read as a formula (starting with = + - @, a tab or a
carriage return) get a leading apostrophe. Numbers are written by us and stay numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

import numpy as np

from playground.embeddings.models import EmbeddingRun

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


class _Line:
    """A file-like object whose write() hands back the line csv.writer wrote."""

    def write(self, line: str) -> str:
        return line


def vectors_csv(run: EmbeddingRun) -> Iterator[str]:
    """index, text, label, then one column per dimension."""
    writer = csv.writer(_Line())
    vectors = run.matrix()
    yield writer.writerow(["index", "text", "label", *(f"d{i}" for i in range(vectors.shape[1]))])
    for index, text in enumerate(run.texts):
        numbers = np.char.mod("%.9g", vectors[index]).tolist()
        yield writer.writerow([index, safe_cell(text), safe_cell(run.label_of(index)), *numbers])


def similarity_csv(run: EmbeddingRun, similarity: np.ndarray) -> Iterator[str]:
    """A square table: the texts down the first column and across the first row."""
    writer = csv.writer(_Line())
    texts = [safe_cell(text) for text in run.texts]
    yield writer.writerow(["text", *texts])
    for index, text in enumerate(texts):
        yield writer.writerow([text, *np.char.mod("%.6f", similarity[index]).tolist()])
