"""The /chat/completions and legacy /completions endpoints, answered whole or streamed as server-sent events."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from playground.demo import catalog, content
from playground.demo.openapi import SCHEMAS
from playground.demo.validation import validate
from playground.demo.wire import KEEP_ALIVE, ApiError, EventStream, Request, send_json, sse_event

# Fields that shape the transport rather than the answer: a streamed answer and a whole one
# to the same request must read the same, so these are not echoed in "Parameters received".
_NOT_ECHOED = {"model", "messages", "prompt", "stream", "stream_options"}
# demo-fast sends this many tokens' events per ASGI send, so a benchmark of the client is not
# limited by the demo. A stream still arrives as many body chunks, so clients see events split
# across reads.
FAST_EVENTS_PER_SEND = 16
# Let other connections run now and then while demo-fast streams without ever sleeping.
_FAST_YIELD_EVERY = 32


@dataclass
class Generation:
    """One answer, independent of the wire format it is sent in."""

    model: str
    n: int
    tokens: list[str]
    finish_reason: str
    prompt_tokens: int
    timing: catalog.Timing
    include_usage: bool = False
    top_logprobs: int | None = None  # None: no logprobs
    tool_call: dict[str, str] | None = None
    broken: bool = False
    references: dict[str, Any] | None = None  # JamAI-style, for requests with rag_params
    id: str = field(default_factory=lambda: secrets.token_hex(12))
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def pieces(self) -> list[str]:
        """What is streamed one event at a time: text tokens, or fragments of the tool-call arguments."""
        if self.tool_call is not None:
            return content.fragments(self.tool_call["arguments"])
        if self.broken:
            return self.tokens[: catalog.BROKEN_AFTER_TOKENS]
        return self.tokens

    def usage(self) -> dict[str, int]:
        completion = len(self.pieces) * self.n
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }


def _echoed(body: dict[str, Any], schema_name: str) -> list[tuple[str, Any]]:
    known = SCHEMAS[schema_name]["properties"]
    return [
        (name, value) for name, value in body.items() if name in known and name not in _NOT_ECHOED and value is not None
    ]


def _stop_list(stop: str | list[str] | None) -> list[str]:
    if stop is None:
        return []
    return [stop] if isinstance(stop, str) else stop


def _message_text(message: dict[str, Any]) -> str:
    value = message.get("content")
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(part.get("text", "") for part in value if part.get("type") == "text")
    return ""


def _model_and_turn(request: Request, body: dict[str, Any]) -> catalog.DemoModel:
    model = catalog.model_for(body["model"], "chat")
    catalog.refuse_if_due(model.id, request.bearer_token)
    if model.id == "demo-broken" and not body.get("stream"):
        raise ApiError(500, catalog.BROKEN_MESSAGE, type="server_error")
    return model


def _check_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools") or []
    choice = body.get("tool_choice")
    if choice in (None, "none", "auto"):
        return
    if not tools:
        raise ApiError(400, "tool_choice is only allowed when tools are given", param="tool_choice")
    if isinstance(choice, dict):
        names = [tool["function"]["name"] for tool in tools]
        if choice["function"]["name"] not in names:
            raise ApiError(
                400,
                f"tool_choice names the function `{choice['function']['name']}`, which is not in tools",
                param="tool_choice",
            )


def chat_generation(request: Request, body: dict[str, Any]) -> Generation:
    """Validate a chat request and decide its answer (raising ApiError for a bad or refused call)."""
    validate(body, "CreateChatCompletionRequest")
    if body.get("top_logprobs") is not None and not body.get("logprobs"):
        raise ApiError(400, "top_logprobs requires logprobs to be true", param="top_logprobs")
    _check_tools(body)
    model = _model_and_turn(request, body)
    messages = body["messages"]
    users = [message for message in messages if message["role"] == "user"]
    last_user_text = _message_text(users[-1]) if users else None
    parameters = _echoed(body, "CreateChatCompletionRequest")
    generation = Generation(
        model=model.id,
        n=int(body.get("n") or 1),
        tokens=[],
        finish_reason="stop",
        prompt_tokens=sum(content.count_words(_message_text(message)) + 3 for message in messages),
        timing=catalog.timing_for(model.id),
        include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
        top_logprobs=int(body.get("top_logprobs") or 0) if body.get("logprobs") else None,
        broken=model.id == "demo-broken",
    )
    if isinstance(body.get("rag_params"), dict):
        generation.references = content.references_for(last_user_text or "", body["rag_params"])
    function = content.tool_to_call(body.get("tools") or [], body.get("tool_choice"), last_user_text or "")
    if function is not None:
        arguments = orjson.dumps(content.example_for(function.get("parameters") or {"type": "object"})).decode()
        generation.tool_call = {
            "id": content.tool_call_id(function["name"], arguments, 0),
            "name": function["name"],
            "arguments": arguments,
        }
        generation.finish_reason = "tool_calls"
        return generation
    text = content.chat_answer(last_user_text=last_user_text, parameters=parameters, long=model.id == "demo-long")
    response_format = body.get("response_format") or {"type": "text"}
    if response_format["type"] != "text":
        text = content.json_answer(answer=text, parameters=parameters, response_format=response_format)
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    generation.tokens, generation.finish_reason = content.cut(
        text, stop=_stop_list(body.get("stop")), max_tokens=max_tokens
    )
    return generation


def completion_generation(request: Request, body: dict[str, Any]) -> tuple[Generation, str]:
    """Validate a legacy completion request; the answer and the prompt it continues."""
    validate(body, "CreateCompletionRequest")
    model = _model_and_turn(request, body)
    prompt = body["prompt"] if isinstance(body["prompt"], str) else body["prompt"][0]
    text = content.completion_answer(
        prompt=prompt, parameters=_echoed(body, "CreateCompletionRequest"), long=model.id == "demo-long"
    )
    tokens, finish_reason = content.cut(text, stop=_stop_list(body.get("stop")), max_tokens=body.get("max_tokens"))
    generation = Generation(
        model=model.id,
        n=int(body.get("n") or 1),
        tokens=tokens,
        finish_reason=finish_reason,
        prompt_tokens=content.count_words(prompt),
        timing=catalog.timing_for(model.id),
        include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
        top_logprobs=body.get("logprobs"),
        broken=model.id == "demo-broken",
    )
    return generation, prompt


class ChatWire:
    """Chat completion objects and chunks."""

    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        self.id = f"chatcmpl-demo-{generation.id}"

    def _chunk(self, index: int, delta: dict[str, Any], logprobs: Any = None, finish: str | None = None) -> dict:
        generation = self.generation
        chunk = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": generation.created,
            "model": generation.model,
            "system_fingerprint": "demo",
            "choices": [{"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}],
        }
        if generation.include_usage:
            chunk["usage"] = None
        return chunk

    def openings(self) -> list[dict]:
        references = [self.generation.references] if self.generation.references else []
        return references + [
            self._chunk(index, {"role": "assistant", "content": ""}) for index in range(self.generation.n)
        ]

    def pieces_at(self, index: int, position: int, piece: str) -> list[dict]:
        generation = self.generation
        call = generation.tool_call
        if call is None:
            logprobs = None
            if generation.top_logprobs is not None:
                logprobs = {"content": [content.chat_logprobs(piece, position, generation.top_logprobs)]}
            return [self._chunk(index, {"content": piece}, logprobs)]
        chunks = []
        if position == 0:
            # The call's id and name come first with empty arguments; then the arguments in pieces.
            function = {"name": call["name"], "arguments": ""}
            first = {"index": 0, "id": call["id"], "type": "function", "function": function}
            chunks.append(self._chunk(index, {"tool_calls": [first]}))
        chunks.append(self._chunk(index, {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
        return chunks

    def finish(self, index: int) -> dict:
        return self._chunk(index, {}, finish=self.generation.finish_reason)

    def usage_chunk(self) -> dict:
        generation = self.generation
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": generation.created,
            "model": generation.model,
            "system_fingerprint": "demo",
            "choices": [],
            "usage": generation.usage(),
        }

    def response(self) -> dict:
        generation = self.generation
        call = generation.tool_call
        if call is None:
            message: dict[str, Any] = {"role": "assistant", "content": "".join(generation.tokens)}
        else:
            function = {"name": call["name"], "arguments": call["arguments"]}
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": call["id"], "type": "function", "function": function}],
            }
        logprobs = None
        if generation.top_logprobs is not None and call is None:
            logprobs = {
                "content": [
                    content.chat_logprobs(token, position, generation.top_logprobs)
                    for position, token in enumerate(generation.tokens)
                ]
            }
        choice = {"message": message, "logprobs": logprobs, "finish_reason": generation.finish_reason}
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": generation.created,
            "model": generation.model,
            "system_fingerprint": "demo",
            "choices": [{"index": index, **choice} for index in range(generation.n)],
            "usage": generation.usage(),
            **({"references": generation.references} if generation.references else {}),
        }


class TextWire:
    """Legacy text completion objects and chunks."""

    def __init__(self, generation: Generation, prompt: str) -> None:
        self.generation = generation
        self.id = f"cmpl-demo-{generation.id}"
        self.offsets: list[int] = []
        offset = len(prompt)
        for token in generation.tokens:
            self.offsets.append(offset)
            offset += len(token)

    def _logprobs(self, tokens: list[str], position: int) -> dict | None:
        top = self.generation.top_logprobs
        if top is None or not tokens:
            return None
        return content.text_logprobs(tokens, position, self.offsets[position], top)

    def _chunk(self, index: int, text: str, logprobs: Any = None, finish: str | None = None) -> dict:
        generation = self.generation
        chunk = {
            "id": self.id,
            "object": "text_completion",
            "created": generation.created,
            "model": generation.model,
            "system_fingerprint": "demo",
            "choices": [{"index": index, "text": text, "logprobs": logprobs, "finish_reason": finish}],
        }
        if generation.include_usage:
            chunk["usage"] = None
        return chunk

    def openings(self) -> list[dict]:
        return []

    def pieces_at(self, index: int, position: int, piece: str) -> list[dict]:
        return [self._chunk(index, piece, self._logprobs([piece], position))]

    def finish(self, index: int) -> dict:
        return self._chunk(index, "", finish=self.generation.finish_reason)

    def usage_chunk(self) -> dict:
        generation = self.generation
        return {
            "id": self.id,
            "object": "text_completion",
            "created": generation.created,
            "model": generation.model,
            "system_fingerprint": "demo",
            "choices": [],
            "usage": generation.usage(),
        }

    def response(self) -> dict:
        generation = self.generation
        choice = {
            "text": "".join(generation.tokens),
            "logprobs": self._logprobs(generation.tokens, 0),
            "finish_reason": generation.finish_reason,
        }
        return {
            "id": self.id,
            "object": "text_completion",
            "created": generation.created,
            "model": generation.model,
            "system_fingerprint": "demo",
            "choices": [{"index": index, **choice} for index in range(generation.n)],
            "usage": generation.usage(),
        }


async def _answer(request: Request, generation: Generation, wire: ChatWire | TextWire, stream: bool) -> None:
    timing = generation.timing
    # demo-slow waits before the status line, so a client's first-byte timeout can fire.
    if not await request.pause(timing.before_response):
        return
    if not stream:
        if await request.pause(timing.first_token + timing.per_token * len(generation.pieces)):
            await send_json(request, 200, wire.response())
        return
    events = EventStream(request)
    await events.start()
    if timing.before_response:
        await events.write(KEEP_ALIVE)
    if not await events.pause(timing.first_token):
        return
    openings = b"".join(sse_event(chunk) for chunk in wire.openings())
    if openings and not await events.write(openings):
        return
    if not await _send_pieces(events, generation, wire):
        return
    if generation.broken:
        await events.event({"error": {"message": catalog.BROKEN_MESSAGE, "type": "server_error"}})
        await events.end(done=False)
        return
    closing = [wire.finish(index) for index in range(generation.n)]
    if generation.include_usage:
        closing.append(wire.usage_chunk())
    if await events.write(b"".join(sse_event(chunk) for chunk in closing)):
        await events.end()


async def _send_pieces(events: EventStream, generation: Generation, wire: ChatWire | TextWire) -> bool:
    """Send every piece at the model's pace (or as fast as possible); False when the client left."""
    per_token = generation.timing.per_token
    loop = asyncio.get_running_loop()
    started = loop.time()
    pending: list[bytes] = []
    sends = 0
    for position, piece in enumerate(generation.pieces):
        data = b"".join(
            sse_event(chunk) for index in range(generation.n) for chunk in wire.pieces_at(index, position, piece)
        )
        if per_token:
            # Keep to a schedule rather than sleeping a fixed time per token, so timer
            # granularity does not stretch a long answer; late tokens go out together.
            delay = started + position * per_token - loop.time()
            if delay > 0 and not await events.pause(delay):
                return False
            if not await events.write(data):
                return False
            continue
        pending.append(data)
        if len(pending) >= FAST_EVENTS_PER_SEND:
            if not await events.write(b"".join(pending)):
                return False
            pending.clear()
            sends += 1
            if sends % _FAST_YIELD_EVERY == 0:
                await asyncio.sleep(0)
    return not pending or await events.write(b"".join(pending))


async def chat_completions(request: Request) -> None:
    body = request.json_object()
    generation = chat_generation(request, body)
    await _answer(request, generation, ChatWire(generation), bool(body.get("stream")))


async def completions(request: Request) -> None:
    body = request.json_object()
    generation, prompt = completion_generation(request, body)
    await _answer(request, generation, TextWire(generation, prompt), bool(body.get("stream")))
