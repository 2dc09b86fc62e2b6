"""The demo's models: what each is for, how fast it answers, and which calls it fails on purpose."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from playground.demo.wire import ApiError
from playground.env import env_float

# A fixed "created" time (2025-01-01) so the model list never changes between runs.
CREATED = 1735689600
OWNER = "playground-demo"
DEFAULT_PACE_MS = 25.0


@dataclass(frozen=True)
class DemoModel:
    id: str
    kind: str  # "chat", "image", "embedding" or "rerank"
    purpose: str


MODELS: dict[str, DemoModel] = {
    model.id: model
    for model in [
        DemoModel("demo-chat", "chat", "a realistic pace: first token after about 150 ms, then one every 25 ms"),
        DemoModel("demo-fast", "chat", "no waiting at all, for benchmarks"),
        DemoModel("demo-slow", "chat", "waits 3 s before the response starts, to trigger first-byte timeouts"),
        DemoModel("demo-flaky", "chat", "fails with HTTP 500 on every other call, to exercise retries"),
        DemoModel("demo-ratelimited", "chat", "answers every other call with HTTP 429 and Retry-After: 1"),
        DemoModel("demo-broken", "chat", "breaks its stream after about ten tokens with an error event"),
        DemoModel("demo-long", "chat", "a long answer of more than 3,000 tokens, at 2 ms a token"),
        DemoModel("demo-image", "image", "draws a picture from the prompt"),
        DemoModel("demo-embed", "embedding", "embeddings in which texts that share words are similar"),
        DemoModel("demo-rerank", "rerank", "ranks documents by how many words they share with the query"),
    ]
}
CHAT_MODELS = [model.id for model in MODELS.values() if model.kind == "chat"]
ENDPOINT_KINDS = {
    "chat": "/chat/completions and /completions",
    "image": "/images/generations",
    "embedding": "/embeddings",
    "rerank": "/rerank",
}


def model_object(model: DemoModel) -> dict[str, Any]:
    return {"id": model.id, "object": "model", "created": CREATED, "owned_by": OWNER}


def models_list() -> dict[str, Any]:
    return {"object": "list", "data": [model_object(model) for model in MODELS.values()]}


def model_for(model_id: str, kind: str) -> DemoModel:
    """The model named in a request, or the error OpenAI gives for an unknown or unsuitable one."""
    model = MODELS.get(model_id)
    if model is None:
        raise ApiError(404, f"The model `{model_id}` does not exist.", code="model_not_found", param="model")
    if model.kind != kind:
        suitable = ", ".join(name for name, other in MODELS.items() if other.kind == kind)
        raise ApiError(
            400,
            f"The model `{model_id}` cannot be used here; it serves {ENDPOINT_KINDS[model.kind]}. Use {suitable}.",
            code="model_not_supported",
            param="model",
        )
    return model


@dataclass(frozen=True)
class Timing:
    """Seconds before the response starts, before the first token, and between tokens."""

    before_response: float
    first_token: float
    per_token: float


def pace_ms() -> float:
    """Milliseconds per token for the paced models; DEMO_PACE_MS lets tests run them quickly."""
    return max(0.0, env_float("DEMO_PACE_MS", DEFAULT_PACE_MS))


def timing_for(model_id: str) -> Timing:
    if model_id == "demo-fast":
        return Timing(0.0, 0.0, 0.0)
    pace = pace_ms() / 1000
    # At the default pace this is the 150 ms a hosted model typically takes to its first token.
    first_token = 6 * pace
    if model_id == "demo-slow":
        return Timing(3.0, first_token, pace)
    if model_id == "demo-long":
        # DEMO_LONG_PACE_MS paces it for load benchmarks (1,000 answers at 20 tokens/s).
        return Timing(0.0, first_token, env_float("DEMO_LONG_PACE_MS", min(2.0, pace * 1000)) / 1000)
    return Timing(0.0, first_token, pace)


# Calls per (model, bearer token), so concurrent clients with different tokens do not
# see each other's turns. Bounded so a long-running server does not grow without limit.
_calls: OrderedDict[tuple[str, str], int] = OrderedDict()
_MAX_COUNTERS = 10_000


def _next_call(model_id: str, token: str) -> int:
    key = (model_id, token)
    count = _calls.pop(key, 0) + 1
    _calls[key] = count
    if len(_calls) > _MAX_COUNTERS:
        _calls.popitem(last=False)
    return count


def refuse_if_due(model_id: str, token: str) -> None:
    """Fail the odd-numbered calls of demo-flaky (500) and demo-ratelimited (429)."""
    if model_id not in ("demo-flaky", "demo-ratelimited"):
        return
    if _next_call(model_id, token) % 2 == 0:
        return
    if model_id == "demo-flaky":
        raise ApiError(500, "The demo model failed on purpose (every other call).", type="server_error")
    raise ApiError(
        429,
        "Rate limit reached for demo-ratelimited: every other call is refused on purpose. Retry after 1 s.",
        type="rate_limit_exceeded",
        code="rate_limit_exceeded",
        headers=[("Retry-After", "1"), ("X-RateLimit-Limit", "10"), ("X-RateLimit-Burst", "2")],
    )


BROKEN_AFTER_TOKENS = 10
BROKEN_MESSAGE = "The demo stream broke on purpose."
