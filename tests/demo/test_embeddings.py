"""POST /embeddings on the demo: deterministic unit vectors, dimensions, base64, and similarity by shared words."""

from __future__ import annotations

import base64

import numpy as np
import pytest


def embed(demo, texts, **fields):
    response = demo.post("/embeddings", json={"model": "demo-embed", "input": texts, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def vectors(body) -> np.ndarray:
    return np.array([item["embedding"] for item in body["data"]], dtype=np.float64)


def test_a_string_gets_one_unit_vector_of_256_numbers(demo):
    body = embed(demo, "The quick brown fox")
    assert body["object"] == "list"
    assert body["model"] == "demo-embed"
    assert body["usage"] == {"prompt_tokens": 4, "total_tokens": 4}
    [item] = body["data"]
    assert item["object"] == "embedding"
    assert item["index"] == 0
    assert len(item["embedding"]) == 256
    assert np.linalg.norm(item["embedding"]) == pytest.approx(1.0, abs=1e-5)


def test_a_list_gets_one_vector_per_text_in_order(demo):
    texts = ["first text", "second one here", "third"]
    body = embed(demo, texts, dimensions=64)
    assert [item["index"] for item in body["data"]] == [0, 1, 2]
    assert vectors(body).shape == (3, 64)
    assert body["usage"]["prompt_tokens"] == 6
    singles = np.vstack([vectors(embed(demo, text, dimensions=64)) for text in texts])
    assert np.array_equal(vectors(body), singles)


def test_base64_holds_the_same_float32_numbers(demo):
    texts = ["alpha beta", "gamma"]
    floats = vectors(embed(demo, texts, dimensions=32)).astype(np.float32)
    encoded = embed(demo, texts, dimensions=32, encoding_format="base64")
    decoded = np.vstack([np.frombuffer(base64.b64decode(item["embedding"]), dtype="<f4") for item in encoded["data"]])
    assert decoded.shape == (2, 32)
    assert np.array_equal(decoded, floats)


def test_texts_that_share_words_are_more_similar_than_unrelated_ones(demo):
    cat, kitten, finance = vectors(
        embed(
            demo,
            [
                "The cat sat on the warm mat",
                "A cat sat on the mat in the sun",
                "Quarterly revenue grew by eight percent",
            ],
        )
    )
    assert cat @ kitten > 0.5
    assert cat @ kitten > cat @ finance + 0.3
    assert abs(cat @ finance) < 0.3


def test_the_same_text_always_gets_the_same_vector_and_different_texts_differ(demo):
    first = vectors(embed(demo, ["cat sat", "sat cat", "cat sat"]))
    again = vectors(embed(demo, "cat sat"))
    assert np.array_equal(first[0], again[0])
    assert np.array_equal(first[0], first[2])
    assert not np.array_equal(first[0], first[1])


@pytest.mark.parametrize(
    ("fields", "param", "message"),
    [
        ({"input": ["x"] * 2049}, "input", "input must have at most 2048 items (got 2049)"),
        ({"input": []}, "input", "input must have at least 1 item"),
        ({"input": ""}, "input", "input must not be empty"),
        ({"input": ["fine", ""]}, "input[1]", "input[1] must not be empty"),
        ({"input": 42}, "input", "input must be a string or an array (got 42)"),
        ({"dimensions": 0}, "dimensions", "dimensions must be between 1 and 2048 (got 0)"),
        ({"dimensions": 2049}, "dimensions", "dimensions must be between 1 and 2048 (got 2049)"),
        ({"encoding_format": "hex"}, "encoding_format", 'encoding_format must be one of float, base64 (got "hex")'),
    ],
)
def test_bad_values_are_refused(demo, fields, param, message):
    response = demo.post("/embeddings", json={"model": "demo-embed", "input": "hello", **fields})
    assert response.status_code == 400
    assert response.json()["error"] == {"message": message, "type": "invalid_request_error", "param": param}


def test_the_maximum_of_2048_texts_is_accepted(demo):
    body = embed(demo, [f"text number {i}" for i in range(2048)], dimensions=8)
    assert len(body["data"]) == 2048


def test_a_chat_model_cannot_embed(demo):
    response = demo.post("/embeddings", json={"model": "demo-chat", "input": "hello"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "model_not_supported"
