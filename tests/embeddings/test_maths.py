"""The numbers, checked against direct numpy computations written out in the tests."""

from __future__ import annotations

import numpy as np
import pytest

from playground.demo.embeddings import embed
from playground.embeddings import maths
from tests.embeddings.conftest import TOPICS


def clustered(n_clusters=5, per_cluster=8, dim=48, spread=0.4, seed=3):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, dim)) * 2
    labels = np.repeat(np.arange(n_clusters), per_cluster)
    vectors = centres[labels] + spread * rng.standard_normal((len(labels), dim))
    shuffle = rng.permutation(len(labels))
    return vectors[shuffle].astype(np.float32), labels[shuffle]


def test_cosine_similarity_matches_the_definition():
    vectors, _ = clustered()
    expected = np.array(
        [[float(a @ b) / (np.linalg.norm(a) * np.linalg.norm(b)) for b in vectors.astype(np.float64)] for a in vectors]
    )
    similarity = maths.cosine_similarity(vectors)
    np.testing.assert_allclose(similarity, expected, atol=1e-5)
    assert np.array_equal(similarity, similarity.T)


def test_a_zero_vector_has_similarity_zero_not_nan():
    vectors = np.array([[1, 0], [0, 0], [1, 1]], dtype=np.float32)
    similarity = maths.cosine_similarity(vectors)
    assert not np.isnan(similarity).any()
    assert similarity[0, 1] == 0 and similarity[1, 1] == 0


def test_the_order_puts_each_cluster_in_one_stretch():
    vectors, labels = clustered(n_clusters=6, per_cluster=10)
    order = maths.similar_order(maths.cosine_similarity(vectors))
    assert sorted(order.tolist()) == list(range(len(labels)))
    ordered_labels = labels[order]
    changes = int(np.count_nonzero(ordered_labels[1:] != ordered_labels[:-1]))
    assert changes == 5  # six clusters, each contiguous


def test_the_order_puts_demo_texts_about_one_topic_together():
    texts = [text for group in zip(*TOPICS.values(), strict=True) for text in group]  # interleaved topics
    topic_of = {text: topic for topic, group in TOPICS.items() for text in group}
    order = maths.similar_order(maths.cosine_similarity(embed(texts, 256)))
    topics = [topic_of[texts[i]] for i in order]
    assert sum(a != b for a, b in zip(topics, topics[1:], strict=False)) == 2


def test_the_order_is_the_leaf_order_of_average_linkage():
    """The clusters met along the order are those of a naive O(n³) average-linkage clustering."""
    vectors, _ = clustered(n_clusters=4, per_cluster=5, spread=1.0, seed=11)
    similarity = maths.cosine_similarity(vectors).astype(np.float64)
    order = maths.similar_order(similarity.astype(np.float32)).tolist()
    clusters = [[i] for i in range(len(vectors))]
    distance = 1 - similarity
    while len(clusters) > 1:
        pairs = [(a, b) for a in range(len(clusters)) for b in range(a + 1, len(clusters))]
        a, b = min(pairs, key=lambda p: distance[np.ix_(clusters[p[0]], clusters[p[1]])].mean())
        merged = clusters[a] + clusters[b]
        positions = sorted(order.index(i) for i in merged)
        assert positions == list(range(positions[0], positions[0] + len(merged)))  # contiguous in the order
        clusters = [c for i, c in enumerate(clusters) if i not in (a, b)] + [merged]


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_tiny_runs_have_an_order(n):
    vectors = np.eye(4, dtype=np.float32)[:n] + 0.1
    assert sorted(maths.similar_order(maths.cosine_similarity(vectors)).tolist()) == list(range(n))


def test_pca_matches_a_full_svd_up_to_sign():
    rng = np.random.default_rng(7)
    # Clearly separated top components, so the two axes are well defined.
    basis = np.linalg.qr(rng.standard_normal((64, 64)))[0]
    scales = np.array([10.0, 5.0] + [0.5] * 62)
    vectors = (rng.standard_normal((300, 64)) * scales) @ basis.T
    projection = maths.pca_2d(vectors)
    centred = vectors - vectors.mean(axis=0)
    _, singular, right = np.linalg.svd(centred, full_matrices=False)
    expected = centred @ right[:2].T
    for axis in range(2):
        sign = np.sign(expected[:, axis] @ projection.points[:, axis])
        np.testing.assert_allclose(projection.points[:, axis] * sign, expected[:, axis], atol=1e-6)
    shares = singular[:2] ** 2 / np.square(singular).sum()
    np.testing.assert_allclose(projection.explained, shares, rtol=1e-6)


def test_pca_captures_as_much_variance_as_the_exact_one_on_clustered_data():
    vectors, _ = clustered(n_clusters=20, per_cluster=50, dim=1024, spread=0.7)
    projection = maths.pca_2d(vectors)
    centred = vectors.astype(np.float64) - vectors.mean(axis=0)
    singular = np.linalg.svd(centred, compute_uv=False)
    assert np.square(projection.points).sum() >= 0.999 * np.square(singular[:2]).sum()


def test_pca_of_identical_vectors_is_all_zero():
    projection = maths.pca_2d(np.ones((5, 8)))
    assert not projection.points.any() and projection.explained == (0.0, 0.0)


def test_nearest_matches_a_direct_ranking():
    vectors, _ = clustered()
    query = vectors[3] + 0.2
    indices, scores = maths.nearest(vectors, query, 7)
    direct = [float(v @ query) / (np.linalg.norm(v) * np.linalg.norm(query)) for v in vectors.astype(np.float64)]
    expected = sorted(range(len(vectors)), key=lambda i: -direct[i])[:7]
    assert indices.tolist() == expected
    np.testing.assert_allclose(scores, [direct[i] for i in expected], atol=1e-5)


def test_ranking_agreement_of_a_run_with_itself_is_perfect():
    vectors, _ = clustered()
    similarity = maths.cosine_similarity(vectors)
    agreement = maths.ranking_agreement(similarity, similarity, 5)
    assert agreement.mean_overlap == 1.0
    np.testing.assert_allclose(agreement.spearman, 1.0)


def test_ranking_agreement_matches_sets_and_rank_correlations_computed_directly():
    vectors, _ = clustered(seed=5)
    other = vectors + np.random.default_rng(9).standard_normal(vectors.shape).astype(np.float32) * 1.5
    a, b = maths.cosine_similarity(vectors), maths.cosine_similarity(other)
    k = 4
    agreement = maths.ranking_agreement(a, b, k)
    n = len(vectors)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        top_a = set(sorted(others, key=lambda j: -a[i, j])[:k])
        top_b = set(sorted(others, key=lambda j: -b[i, j])[:k])
        assert agreement.overlap[i] == pytest.approx(len(top_a & top_b) / k)
        ranks_a = np.argsort(np.argsort(a[i, others])).astype(float)
        ranks_b = np.argsort(np.argsort(b[i, others])).astype(float)
        assert agreement.spearman[i] == pytest.approx(np.corrcoef(ranks_a, ranks_b)[0, 1], abs=1e-9)
    assert agreement.mean_overlap == pytest.approx(agreement.overlap.mean())


def test_tied_similarities_share_their_mean_rank():
    ranks = maths._row_ranks(np.array([[0.3, 0.1, 0.2, 0.2, 0.5], [1, 1, 1, 1, 1]]))
    assert ranks.tolist() == [[3, 0, 1.5, 1.5, 4], [2, 2, 2, 2, 2]]


def test_a_constant_row_has_no_rank_correlation():
    a = np.array([[1, 0.5, 0.5], [0.5, 1, 0.5], [0.5, 0.5, 1]], dtype=np.float32)
    b = np.array([[1, 0.9, 0.1], [0.9, 1, 0.3], [0.1, 0.3, 1]], dtype=np.float32)
    agreement = maths.ranking_agreement(a, b, 1)
    assert np.isnan(agreement.spearman).all()
    assert agreement.mean_spearman == 0.0
