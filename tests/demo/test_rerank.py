"""POST /rerank on the demo: documents that share words with the query first, scores from its embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from playground.demo.embeddings import embed

QUERY = "cats purring on a warm sofa"
DOCUMENTS = [
    "Quarterly revenue grew by eight percent",
    "sleepy cats purr on the warm sofa",
    "rockets burn fuel to reach orbit",
    "cats chase mice",
]


def rerank(demo, **fields):
    body = {"model": "demo-rerank", "query": QUERY, "documents": DOCUMENTS, **fields}
    response = demo.post("/rerank", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_documents_come_back_most_relevant_first_with_their_index_and_score(demo):
    body = rerank(demo)
    assert body["object"] == "list"
    assert body["model"] == "demo-rerank"
    results = body["results"]
    assert sorted(result["index"] for result in results) == [0, 1, 2, 3]
    assert [result["index"] for result in results][:2] == [1, 3]  # the two about cats
    scores = [result["relevance_score"] for result in results]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= score <= 1 for score in scores)
    assert all("document" not in result for result in results)
    words = len(QUERY.split())
    assert body["usage"]["prompt_tokens"] == sum(words + len(text.split()) for text in DOCUMENTS)


def test_scores_are_the_cosine_similarity_of_the_demo_embeddings_mapped_to_0_to_1(demo):
    vectors = embed([QUERY, *DOCUMENTS], 256).astype(np.float64)
    expected = (1 + vectors[1:] @ vectors[0]) / 2
    scores = {result["index"]: result["relevance_score"] for result in rerank(demo)["results"]}
    assert [scores[index] for index in range(len(DOCUMENTS))] == pytest.approx(expected.tolist(), abs=1e-6)


def test_the_same_request_gets_the_same_answer(demo):
    assert rerank(demo) == rerank(demo)


def test_top_n_keeps_the_best_and_return_documents_repeats_their_text(demo):
    full = rerank(demo)["results"]
    body = rerank(demo, top_n=2, return_documents=True)
    assert [result["index"] for result in body["results"]] == [result["index"] for result in full[:2]]
    assert [result["document"] for result in body["results"]] == [
        {"text": DOCUMENTS[result["index"]]} for result in full[:2]
    ]
    assert len(rerank(demo, top_n=10)["results"]) == len(DOCUMENTS)


@pytest.mark.parametrize(
    ("fields", "param", "message"),
    [
        ({"documents": []}, "documents", "documents must have at least 1 item"),
        ({"documents": ["x"] * 1001}, "documents", "documents must have at most 1000 items (got 1001)"),
        ({"documents": ["fine", ""]}, "documents[1]", "documents[1] must not be empty"),
        ({"documents": "one text"}, "documents", 'documents must be an array (got "one text")'),
        ({"query": ""}, "query", "query must not be empty"),
        ({"top_n": 0}, "top_n", "top_n must be at least 1 (got 0)"),
        ({"return_documents": "yes"}, "return_documents", 'return_documents must be a boolean or null (got "yes")'),
    ],
)
def test_bad_values_are_refused(demo, fields, param, message):
    response = demo.post("/rerank", json={"model": "demo-rerank", "query": "q", "documents": ["a"], **fields})
    assert response.status_code == 400
    assert response.json()["error"] == {"message": message, "type": "invalid_request_error", "param": param}


def test_a_missing_query_is_named(demo):
    response = demo.post("/rerank", json={"model": "demo-rerank", "documents": ["a"]})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "query"


def test_an_embedding_model_cannot_rerank(demo):
    response = demo.post("/rerank", json={"model": "demo-embed", "query": "q", "documents": ["a"]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "model_not_supported"
    assert "Use demo-rerank" in error["message"]
