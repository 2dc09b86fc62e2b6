"""CSV downloads of a run: its vectors, and its cosine-similarity matrix."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from playground.embeddings.models import EmbeddingRun
from playground.spreadsheet import line, text_cell


def vectors_csv(run: EmbeddingRun) -> Iterator[str]:
    """index, text, label, then one column per dimension."""
    vectors = run.matrix()
    yield line(["index", "text", "label", *(f"d{i}" for i in range(vectors.shape[1]))])
    for index, text in enumerate(run.texts):
        numbers = np.char.mod("%.9g", vectors[index]).tolist()
        yield line([str(index), text_cell(text), text_cell(run.label_of(index)), *numbers])


def similarity_csv(run: EmbeddingRun, similarity: np.ndarray) -> Iterator[str]:
    """A square table: the texts down the first column and across the first row."""
    texts = [text_cell(text) for text in run.texts]
    yield line(["text", *texts])
    for index, text in enumerate(texts):
        yield line([text, *np.char.mod("%.6f", similarity[index]).tolist()])
