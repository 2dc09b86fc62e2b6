"""The one door to LLM APIs. Everything else in Playground calls these functions."""

from __future__ import annotations

from playground.upstream.client import (
    EmbeddingResult,
    ImageResult,
    chat,
    close_clients,
    completion,
    embeddings,
    images,
    models,
    openapi,
    stream_chat,
    stream_completion,
    streamed_body,
)
from playground.upstream.rerank import RerankHit, RerankResult, rerank
from playground.upstream.target import DEFAULT_PATHS, CallContext, Target, Timeouts

__all__ = [
    "DEFAULT_PATHS",
    "CallContext",
    "EmbeddingResult",
    "ImageResult",
    "RerankHit",
    "RerankResult",
    "Target",
    "Timeouts",
    "chat",
    "close_clients",
    "completion",
    "embeddings",
    "images",
    "models",
    "openapi",
    "rerank",
    "stream_chat",
    "stream_completion",
    "streamed_body",
]
