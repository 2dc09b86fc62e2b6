"""Rerank calls: documents ordered by a model's relevance to a query.

One reader for the answers of Cohere, Jina, vLLM and JamAI Base alike: `results` of
`{index, relevance_score, document?}`, where the document, when sent back, is a string or
`{"text": ...}`, and the token count is wherever that API keeps it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playground.upstream import errors
from playground.upstream.client import _Call, _call_json, _count, _number
from playground.upstream.events import Retrying, Usage
from playground.upstream.target import CallContext, Target


@dataclass(frozen=True)
class RerankHit:
    index: int  # the document's position in the request
    score: float
    text: str | None  # the document as the provider sent it back, if it did


@dataclass
class RerankResult:
    hits: list[RerankHit]  # most relevant first
    raw_model: str | None
    raw: dict[str, Any]


def _document_text(document: Any) -> str | None:
    if isinstance(document, str):
        return document
    if isinstance(document, dict) and isinstance(document.get("text"), str):
        return document["text"]
    return None


def _input_tokens(payload: dict[str, Any]) -> int | None:
    """Tokens read, where each API reports them: usage.prompt_tokens or total_tokens (Jina,
    vLLM), usage.input_tokens (JamAI), meta.billed_units or meta.tokens (Cohere)."""
    usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
    meta = payload.get("meta") if isinstance(payload.get("meta"), dict) else {}
    places = [usage, meta.get("billed_units"), meta.get("tokens")]
    for place in places:
        if not isinstance(place, dict):
            continue
        for name in ("prompt_tokens", "input_tokens", "total_tokens"):
            if (value := _count(place.get(name))) is not None:
                return value
    return None


def _read_rerank(call: _Call, payload: Any) -> RerankResult:
    results = payload.get("results", payload.get("data")) if isinstance(payload, dict) else None
    if not isinstance(results, list):
        raise errors.InvalidResponse("The provider's answer had no results.")
    sent = call.body.get("documents")
    count = len(sent) if isinstance(sent, list) else 0
    hits = []
    for item in results:
        if not isinstance(item, dict):
            raise errors.InvalidResponse("A result in the provider's answer is not an object.")
        index = item.get("index")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
            named = errors.cut(repr(index), 40)
            raise errors.InvalidResponse(
                f"A result in the provider's answer names document {named}, which was not sent."
            )
        score = _number(item.get("relevance_score", item.get("score")))
        if score is None:
            raise errors.InvalidResponse("A result in the provider's answer has no relevance score.")
        hits.append(RerankHit(index=index, score=score, text=_document_text(item.get("document"))))
    if len({hit.index for hit in hits}) != len(hits):
        raise errors.InvalidResponse("The provider's answer ranks the same document twice.")
    hits.sort(key=lambda hit: (-hit.score, hit.index))
    # Rerank APIs keep their token count elsewhere or under other names than chat's usage.
    tokens = _input_tokens(payload)
    if tokens is not None:
        call.usage = Usage(prompt_tokens=tokens, completion_tokens=None)
    meta = payload.get("meta")
    model = payload.get("model") or (meta.get("model") if isinstance(meta, dict) else None)
    return RerankResult(hits=hits, raw_model=model if isinstance(model, str) else None, raw=payload)


async def rerank(
    target: Target, body: dict[str, Any], *, context: CallContext, on_retry: Callable[[Retrying], Any] | None = None
) -> RerankResult:
    """Rank `body["documents"]` by their relevance to `body["query"]`; one usage record."""
    return await _call_json(target, "rerank", body, context, on_retry, _read_rerank)
