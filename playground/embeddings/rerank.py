"""Reranking: documents ordered by a rerank model's relevance to a query, in one upstream call.

A ranking is shown once and not stored; the call's usage record is what remains of it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from playground import upstream
from playground.upstream.sync import call_sync

MAX_DOCUMENTS = 1_000
MAX_DOCUMENT_CHARS = 10_000
MAX_QUERY_CHARS = 4_000


@dataclass(frozen=True)
class RankedDocument:
    rank: int  # 1 for the most relevant
    position: int  # 1 for the first document of the list sent
    score: float
    text: str


@dataclass(frozen=True)
class Ranking:
    query: str
    documents: list[RankedDocument]  # most relevant first; fewer than sent when top_n asked so
    sent: int
    model: str
    duration_ms: int

    @property
    def score_range(self) -> tuple[float, float]:
        """The lowest and highest score shown, for the bars: 0 to 1 when the scores fit there."""
        scores = [document.score for document in self.documents]
        low, high = min(scores, default=0.0), max(scores, default=1.0)
        return min(low, 0.0), max(high, 1.0)


def request_body(model: str, params: dict[str, Any], query: str, documents: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model} if model else {}
    return {**body, "query": query, "documents": documents, **params}


def rerank_documents(*, target: upstream.Target, context: upstream.CallContext, body: dict[str, Any]) -> Ranking:
    """Call the provider's rerank endpoint once. Raises UpstreamError (the call is recorded either way)."""
    started = time.monotonic()
    result = call_sync(upstream.rerank, target, body, context=context)
    documents = body["documents"]
    ranked = [
        RankedDocument(rank=rank, position=hit.index + 1, score=hit.score, text=documents[hit.index])
        for rank, hit in enumerate(result.hits, start=1)
    ]
    return Ranking(
        query=body["query"],
        documents=ranked,
        sent=len(documents),
        model=result.raw_model or str(body.get("model") or ""),
        duration_ms=round((time.monotonic() - started) * 1000),
    )
