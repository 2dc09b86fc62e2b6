"""The /rerank endpoint: documents ranked by how close their demo embeddings lie to the query's.

The relevance score is the cosine similarity of the two vectors mapped onto 0..1, so texts
that share words with the query rank first, and the same request always gets the same answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import orjson

from playground.demo import catalog
from playground.demo.embeddings import embed
from playground.demo.validation import validate
from playground.demo.wire import Request, send_bytes

DIMENSIONS = 256


def relevance_scores(query: str, documents: list[str]) -> list[float]:
    """(1 + cosine similarity) / 2 of each document's demo embedding with the query's."""
    vectors = embed([query, *documents], DIMENSIONS).astype(np.float64)
    cosines = vectors[1:] @ vectors[0]  # embed returns unit vectors
    return [float(value) for value in np.clip((1 + cosines) / 2, 0.0, 1.0)]


def _tokens(query: str, documents: list[str]) -> int:
    # A cross-encoder reads the query once with every document.
    query_tokens = len(query.split())
    return sum(query_tokens + len(document.split()) for document in documents)


def _response_body(body: dict[str, Any], model: str) -> bytes:
    query, documents = body["query"], body["documents"]
    scores = relevance_scores(query, documents)
    order = sorted(range(len(documents)), key=lambda index: (-scores[index], index))
    top_n = body.get("top_n")
    if top_n is not None:
        order = order[: int(top_n)]
    results: list[dict[str, Any]] = []
    for index in order:
        result: dict[str, Any] = {"index": index, "relevance_score": scores[index]}
        if body.get("return_documents"):
            result["document"] = {"text": documents[index]}
        results.append(result)
    tokens = _tokens(query, documents)
    answer = {
        "object": "list",
        "model": model,
        "results": results,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return orjson.dumps(answer)


async def create(request: Request) -> None:
    body = request.json_object()
    validate(body, "CreateRerankRequest")
    model = catalog.model_for(body["model"], "rerank")
    payload = await asyncio.to_thread(_response_body, body, model.id)
    await send_bytes(request, 200, payload, "application/json")
