"""Typed events of a streamed answer, and typed results of non-streamed calls."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class TextDelta:
    text: str
    role: str = "assistant"
    index: int = 0


@dataclass(slots=True)
class ToolCallDelta:
    """A fragment of a tool call; fragments with the same `index` belong together."""

    index: int
    id: str | None = None
    type: str | None = None
    name: str | None = None
    arguments: str = ""
    choice: int = 0


@dataclass(slots=True)
class Refusal:
    text: str
    index: int = 0


@dataclass(slots=True)
class Logprobs:
    tokens: list[dict[str, Any]]
    index: int = 0


@dataclass(slots=True)
class References:
    """Citations sent by the upstream (JamAI's references event with RAG)."""

    data: dict[str, Any]


@dataclass(slots=True)
class Usage:
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None = None
    estimated: bool = False


@dataclass(slots=True)
class Finish:
    reason: str
    index: int = 0


@dataclass(slots=True)
class Retrying:
    """Sent before waiting to retry, so the UI can say "rate limited, retrying in 2 s".

    `error` is the UpstreamError that caused the retry (a RateLimited one carries the
    upstream's Retry-After, X-RateLimit-Limit and X-RateLimit-Burst values).
    """

    attempt: int
    delay_s: float
    error: Any

    @property
    def message(self) -> str:
        return f"{self.error.message} Retrying in {self.delay_s:.1f} s (attempt {self.attempt + 1})."


@dataclass(slots=True)
class UnknownEvent:
    """An event kind this client does not know; passed on rather than dropped."""

    event: str
    data: Any


StreamEvent = TextDelta | ToolCallDelta | Refusal | Logprobs | References | Usage | Finish | Retrying | UnknownEvent


@dataclass
class ToolCall:
    id: str | None
    type: str
    name: str
    arguments: str


@dataclass
class ToolCallAccumulator:
    """Merges ToolCallDelta fragments by index into whole tool calls."""

    calls: dict[int, ToolCall] = field(default_factory=dict)

    def add(self, delta: ToolCallDelta) -> None:
        call = self.calls.get(delta.index)
        if call is None:
            call = self.calls[delta.index] = ToolCall(id=None, type="function", name="", arguments="")
        if delta.id:
            call.id = delta.id
        if delta.type:
            call.type = delta.type
        if delta.name:
            call.name += delta.name
        call.arguments += delta.arguments

    def result(self) -> list[ToolCall]:
        return [self.calls[index] for index in sorted(self.calls)]


@dataclass
class ChatResult:
    text: str | None
    role: str
    finish_reason: str | None
    usage: Usage | None
    tool_calls: list[ToolCall] = field(default_factory=list)
    refusal: str | None = None
    logprobs: list[dict[str, Any]] | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelInfo:
    id: str
    owned_by: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


# Deeper JSON is of no use to a page and would exhaust the stack of code that walks it
# (orjson reads up to 1,024 levels; Python recurses about 1,000 deep).
MAX_STORED_DEPTH = 64


def storable(value: Any, depth: int = 0) -> Any:
    """JSON a provider sent, as every database stores it: NUL characters (refused by
    PostgreSQL in text and jsonb) become U+FFFD, numbers that are not finite become null,
    and so do objects and lists nested more than MAX_STORED_DEPTH levels deep."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict | list | tuple) and depth >= MAX_STORED_DEPTH:
        return None
    if isinstance(value, dict):
        return {storable(str(key)): storable(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable(item, depth + 1) for item in value]
    return value
