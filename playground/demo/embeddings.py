"""The /embeddings endpoint: deterministic unit vectors in which texts that share words point the same way."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from functools import lru_cache
from typing import Any

import numpy as np
import orjson

from playground.demo import catalog
from playground.demo.validation import validate
from playground.demo.wire import Request, send_bytes

_WORD = re.compile(r"\w+")
# How much of each vector is the text's own, so texts with the same words still differ a little.
_OWN_SHARE = 0.35


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


@lru_cache(maxsize=4096)
def _word_vector(word: str, dimensions: int) -> np.ndarray:
    vector = np.random.default_rng(_seed(word)).standard_normal(dimensions).astype(np.float32)
    vector.flags.writeable = False
    return vector


def embed(texts: list[str], dimensions: int) -> np.ndarray:
    """One unit-length float32 row per text: the sum of its lower-cased words' vectors plus a little of its own."""
    rows = np.empty((len(texts), dimensions), dtype=np.float32)
    for row, text in enumerate(texts):
        total = np.zeros(dimensions, dtype=np.float64)
        words = _WORD.findall(text.lower())
        for word in words:
            total += _word_vector(word, dimensions)
        own = np.random.default_rng(_seed("\x00text\x00" + text)).standard_normal(dimensions)
        total += own * _OWN_SHARE * max(1.0, np.sqrt(len(words)))
        rows[row] = total / np.linalg.norm(total)
    return rows


def _response_body(texts: list[str], dimensions: int, encoding: str, model: str) -> bytes:
    vectors = embed(texts, dimensions)
    data: list[dict[str, Any]] = []
    for index, vector in enumerate(vectors):
        if encoding == "base64":
            value: Any = base64.b64encode(vector.astype("<f4").tobytes()).decode()
        else:
            value = vector
        data.append({"object": "embedding", "index": index, "embedding": value})
    tokens = sum(len(text.split()) for text in texts)
    body = {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


async def create(request: Request) -> None:
    body = request.json_object()
    validate(body, "CreateEmbeddingRequest")
    model = catalog.model_for(body["model"], "embedding")
    texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
    dimensions = int(body.get("dimensions") or 256)
    encoding = body.get("encoding_format") or "float"
    payload = await asyncio.to_thread(_response_body, texts, dimensions, encoding, model.id)
    await send_bytes(request, 200, payload, "application/json")
