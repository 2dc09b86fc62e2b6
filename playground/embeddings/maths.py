"""The numbers behind an embedding run: cosine similarity, an order that keeps similar texts
together, a 2-D projection, nearest neighbours and how two runs' neighbour rankings agree.

numpy only. Everything here is O(n²) in the number of texts at most (no O(n³) step), so
that 1,000 texts of 1,024 dimensions take well under a second (bench/embeddings.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A fixed seed: the same run always gets the same projection and the same picture.
_SEED = 20_241_107
# Randomised PCA: directions sketched at once and refinement rounds, enough to capture the
# top two components' variance to within 0.1 % on clustered data (tests/embeddings).
_SKETCH_WIDTH = 24
_POWER_ITERATIONS = 5


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (float32); an all-zero row stays zero rather than becoming NaN."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return vectors / norms


def cosine_similarity(vectors: np.ndarray) -> np.ndarray:
    """The n × n matrix of cosine similarities (float32, symmetric, clipped to [-1, 1])."""
    unit = unit_rows(vectors)
    similarity = unit @ unit.T
    similarity = (similarity + similarity.T) / 2  # exact symmetry despite float rounding
    np.clip(similarity, -1, 1, out=similarity)
    return similarity


def similar_order(similarity: np.ndarray) -> np.ndarray:
    """An order of the texts in which similar ones sit together: the leaf order of an
    average-linkage hierarchical clustering on cosine distance.

    The clustering uses the nearest-neighbour-chain algorithm, which finds the same tree as
    the textbook method in O(n²) time instead of O(n³). When two clusters merge, each may be
    flipped so that the two texts meeting at the seam are as similar as possible.
    """
    n = similarity.shape[0]
    if n <= 2:
        return np.arange(n)
    distance = 1.0 - similarity.astype(np.float64)
    np.fill_diagonal(distance, np.inf)
    size = np.ones(n)
    leaves: list[list[int] | None] = [[i] for i in range(n)]
    chain: list[int] = []
    remaining = n
    while remaining > 1:
        if not chain:
            chain.append(next(i for i in range(n) if leaves[i] is not None))
        current = chain[-1]
        row = distance[current]
        nearest = int(np.argmin(row))
        # On a tie, prefer the previous link of the chain: that is what makes it terminate.
        if len(chain) > 1 and row[chain[-2]] <= row[nearest]:
            nearest = chain[-2]
        if len(chain) > 1 and nearest == chain[-2]:
            chain.pop()
            chain.pop()
            _merge(distance, size, leaves, similarity, current, nearest)
            remaining -= 1
        else:
            chain.append(nearest)
    return np.asarray(next(found for found in leaves if found is not None))


def _merge(distance, size, leaves, similarity, a: int, b: int) -> None:
    """Merge cluster b into cluster a (Lance–Williams update for average linkage)."""
    keep, gone = min(a, b), max(a, b)
    merged_row = (size[keep] * distance[keep] + size[gone] * distance[gone]) / (size[keep] + size[gone])
    distance[keep, :] = merged_row
    distance[:, keep] = merged_row
    distance[gone, :] = np.inf
    distance[:, gone] = np.inf
    distance[keep, keep] = np.inf
    size[keep] += size[gone]
    leaves[keep] = _joined(leaves[keep], leaves[gone], similarity)
    leaves[gone] = None


def _joined(left: list[int], right: list[int], similarity: np.ndarray) -> list[int]:
    """left + right, each maybe reversed, so that the texts meeting in the middle are most alike."""
    ends = [
        (similarity[left[-1], right[0]], False, False),
        (similarity[left[-1], right[-1]], False, True),
        (similarity[left[0], right[0]], True, False),
        (similarity[left[0], right[-1]], True, True),
    ]
    _, flip_left, flip_right = max(ends, key=lambda end: end[0])
    return (left[::-1] if flip_left else left) + (right[::-1] if flip_right else right)


@dataclass(frozen=True)
class Projection:
    points: np.ndarray  # n × 2
    explained: tuple[float, float]  # share of the variance along each axis, 0..1


def pca_2d(vectors: np.ndarray) -> Projection:
    """The texts projected on their first two principal components.

    A randomised SVD with a few power iterations (Halko, Martinsson and Tropp): the top two
    components of 1,000 × 1,024 in milliseconds, where a full SVD takes a large part of a second.
    Signs are fixed (the largest loading of each axis is positive) so a run always looks the same.
    """
    data = np.asarray(vectors, dtype=np.float64)
    n, dim = data.shape
    centred = data - data.mean(axis=0)
    total = float(np.square(centred).sum())
    if n < 2 or total == 0:
        return Projection(points=np.zeros((n, 2)), explained=(0.0, 0.0))
    width = min(dim, n, _SKETCH_WIDTH)
    rng = np.random.default_rng(_SEED)
    basis = _orthonormal(centred.T @ rng.standard_normal((n, width)))  # dim × width
    for _ in range(_POWER_ITERATIONS):
        basis = _orthonormal(centred.T @ _orthonormal(centred @ basis))
    _, singular, right = np.linalg.svd(centred @ basis, full_matrices=False)
    axes = (basis @ right.T)[:, :2]  # dim × k, k ≤ 2
    for column in range(axes.shape[1]):
        if axes[np.argmax(np.abs(axes[:, column])), column] < 0:
            axes[:, column] *= -1
    points = np.zeros((n, 2))
    points[:, : axes.shape[1]] = centred @ axes
    shares = [float(value**2 / total) for value in singular[:2]] + [0.0, 0.0]
    return Projection(points=points, explained=(shares[0], shares[1]))


def _orthonormal(matrix: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the span of the columns, from the eigenvectors of their small
    Gram matrix (twice, the second pass restoring what rounding lost). Not np.linalg.qr: with
    OpenBLAS it takes a quarter of a second when called from a thread other than the main one,
    and Django runs views in threads. Directions the columns hardly span are dropped."""
    for _ in range(2):
        values, vectors = np.linalg.eigh(matrix.T @ matrix)
        keep = values > max(float(values.max()), 0.0) * 1e-12
        if not keep.any():
            return matrix[:, :0]
        matrix = matrix @ (vectors[:, keep] / np.sqrt(values[keep]))
    return matrix


def nearest(vectors: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and cosine similarities of the k rows most similar to `query`, best first."""
    scores = unit_rows(vectors) @ unit_rows(np.asarray(query)[None, :])[0]
    k = min(k, len(scores))
    if k <= 0:
        return np.empty(0, dtype=int), np.empty(0, dtype=np.float32)
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.lexsort((top, -scores[top]))]
    return top, scores[top]


def neighbour_lists(similarity: np.ndarray, k: int) -> np.ndarray:
    """For each text, the indices of its k most similar other texts, best first (n × k)."""
    n = similarity.shape[0]
    k = min(k, n - 1)
    if k <= 0:
        return np.empty((n, 0), dtype=int)
    masked = similarity.astype(np.float64, copy=True)
    np.fill_diagonal(masked, -np.inf)
    top = np.argpartition(-masked, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(masked, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


@dataclass(frozen=True)
class Agreement:
    k: int
    overlap: np.ndarray  # per text: share of its k nearest neighbours both runs agree on, 0..1
    spearman: np.ndarray  # per text: rank correlation of its similarities to all other texts
    neighbours_a: np.ndarray  # n × k
    neighbours_b: np.ndarray  # n × k

    @property
    def mean_overlap(self) -> float:
        return float(self.overlap.mean()) if len(self.overlap) else 0.0

    @property
    def mean_spearman(self) -> float:
        return float(np.nanmean(self.spearman)) if len(self.spearman) and not np.isnan(self.spearman).all() else 0.0


def ranking_agreement(similarity_a: np.ndarray, similarity_b: np.ndarray, k: int) -> Agreement:
    """How far two runs over the same texts agree on which texts are near which.

    overlap@k: |neighbours in A ∩ neighbours in B| / k per text. Spearman: the correlation
    of the ranks of a text's similarities to every other text, in A and in B (ties get the
    mean of their ranks). NaN where a row is constant in either run.
    """
    n = similarity_a.shape[0]
    neighbours_a = neighbour_lists(similarity_a, k)
    neighbours_b = neighbour_lists(similarity_b, k)
    k = neighbours_a.shape[1]
    if k == 0:
        empty = np.zeros(n)
        return Agreement(k, empty, np.full(n, np.nan), neighbours_a, neighbours_b)
    in_b = np.zeros((n, n), dtype=bool)
    np.put_along_axis(in_b, neighbours_b, True, axis=1)
    overlap = np.take_along_axis(in_b, neighbours_a, axis=1).sum(axis=1) / k
    others = ~np.eye(n, dtype=bool)
    ranks_a = _row_ranks(similarity_a[others].reshape(n, n - 1))
    ranks_b = _row_ranks(similarity_b[others].reshape(n, n - 1))
    ranks_a -= ranks_a.mean(axis=1, keepdims=True)
    ranks_b -= ranks_b.mean(axis=1, keepdims=True)
    numerator = (ranks_a * ranks_b).sum(axis=1)
    denominator = np.sqrt(np.square(ranks_a).sum(axis=1) * np.square(ranks_b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        spearman = np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)
    return Agreement(k, overlap, spearman, neighbours_a, neighbours_b)


def _row_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks within each row, 0-based, ties sharing the mean of their ranks (float64)."""
    rows, cols = values.shape
    order = np.argsort(values, axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    positions = np.broadcast_to(np.arange(cols), (rows, cols))
    starts = np.ones((rows, cols), dtype=bool)  # where a group of equal values begins
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ends = np.ones((rows, cols), dtype=bool)  # where one ends
    ends[:, :-1] = starts[:, 1:]
    first = np.maximum.accumulate(np.where(starts, positions, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends, positions, cols)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty((rows, cols))
    np.put_along_axis(ranks, order, (first + last) / 2, axis=1)
    return ranks


@dataclass(frozen=True)
class Analysis:
    similarity: np.ndarray
    order: np.ndarray
    projection: Projection


def analyse(vectors: np.ndarray) -> Analysis:
    """Similarity, similar-together order and projection: what a run's page shows."""
    similarity = cosine_similarity(vectors)
    return Analysis(similarity=similarity, order=similar_order(similarity), projection=pca_2d(vectors))
