"""The only code that talks to LLM APIs: one shared connection pool, timeouts, retries,
typed errors and events, and exactly one usage record per call.

Streaming calls are async context managers, so that leaving the block early (Stop, a
closed tab) closes the upstream request and still records the call:

    async with stream_chat(target, body, context=ctx) as events:
        async for event in events:
            ...
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import math
import random
import re
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import orjson
from asgiref.sync import sync_to_async
from django.conf import settings

from playground import later
from playground.upstream import errors, fastpath
from playground.upstream.events import (
    ChatResult,
    Finish,
    Logprobs,
    ModelInfo,
    References,
    Refusal,
    Retrying,
    StreamEvent,
    TextDelta,
    ToolCallAccumulator,
    ToolCallDelta,
    UnknownEvent,
    Usage,
)
from playground.upstream.fastpath import TextTemplate
from playground.upstream.network import AsyncioBackend
from playground.upstream.recorder import recorder
from playground.upstream.safety import PublicOnlyBackend, check_url
from playground.upstream.sse import SSEEvent, SSEParser
from playground.upstream.target import CallContext, Target, Timeouts
from playground.upstream.transport import Transport

logger = logging.getLogger(__name__)

ERROR_BODY_LIMIT = 64 * 1024
# After [DONE], the rest of the body (normally just its closing chunk) is read for up to this
# long and this many bytes, so that the connection goes back to the pool instead of being
# closed with the body unfinished; a server that keeps sending is cut, as before.
BODY_END_S = 0.25
BODY_END_BYTES = 64 * 1024
JSON_BODY_LIMIT = 64 * 1024 * 1024

# --- The shared clients --------------------------------------------------------------------

_clients: dict[bool, tuple[asyncio.AbstractEventLoop, httpx.AsyncClient]] = {}


def http_client(*, allow_local: bool) -> httpx.AsyncClient:
    """The process's client for public upstreams, or the one for staff-allowed local ones.

    Created lazily, once per event loop (a server process has one loop; tests have many).
    """
    loop = asyncio.get_running_loop()
    entry = _clients.get(allow_local)
    if entry is not None and entry[0] is loop and not entry[1].is_closed:
        return entry[1]
    limits = httpx.Limits(
        max_connections=settings.UPSTREAM_MAX_CONNECTIONS,
        max_keepalive_connections=settings.UPSTREAM_MAX_KEEPALIVE,
        keepalive_expiry=30,
    )
    transport = Transport(AsyncioBackend() if allow_local else PublicOnlyBackend(AsyncioBackend()), limits=limits)
    client = httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False, timeout=None)
    _clients[allow_local] = (loop, client)
    return client


async def close_clients(loop: asyncio.AbstractEventLoop | None = None) -> None:
    """Close the shared clients (only those made on `loop`, when given)."""
    for allow_local, (client_loop, client) in list(_clients.items()):
        if loop is None or client_loop is loop:
            await client.aclose()
            del _clients[allow_local]


# Event loops that live as long as the process (the ASGI server's); clients made on other
# loops are closed when the call that made them ends (see playground.upstream.sync).
_server_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def remember_server_loop() -> None:
    _server_loops.add(asyncio.get_running_loop())


def is_server_loop(loop: asyncio.AbstractEventLoop) -> bool:
    return loop in _server_loops


# --- One call ------------------------------------------------------------------------------


@dataclass
class _Call:
    """State of one upstream call, from the first attempt to its usage record."""

    target: Target
    endpoint: str
    body: dict[str, Any]
    context: CallContext
    timeouts: Timeouts = field(init=False)
    started: float = field(default_factory=time.monotonic)
    first_token_at: float | None = None
    retries: int = 0
    http_status: int | None = None
    usage: Usage | None = None
    fingerprint: str = ""  # the backend configuration the answer came from (system_fingerprint)
    error: errors.UpstreamError | None = None
    outcome: str = "cancelled"  # until the call ends otherwise: Stop, closed tab, task cancelled
    prompt_chars: int = 0
    answer_chars: int = 0

    def __post_init__(self) -> None:
        self.timeouts = self.target.timeouts or Timeouts.from_settings()
        self.total_deadline = self.started + self.timeouts.total

    @property
    def model(self) -> str:
        return str(self.body.get("model") or "")

    def deadline(self, seconds: float) -> float:
        """An asyncio loop-time deadline `seconds` from now, never past the call's cap."""
        loop = asyncio.get_running_loop()
        now_mono = time.monotonic()
        return loop.time() + min(seconds, max(0.0, self.total_deadline - now_mono))

    def timeout_error(self, phase: str) -> errors.UpstreamError:
        if time.monotonic() >= self.total_deadline - 0.001:
            return errors.TotalTimeout(
                f"The call took longer than the {self.timeouts.total:g} s limit and was stopped."
            )
        if phase == "first_byte":
            return errors.FirstByteTimeout(
                f"The provider did not start answering within {self.timeouts.first_byte:g} s."
            )
        return errors.IdleTimeout(f"The provider went silent for more than {self.timeouts.idle:g} s mid-answer.")

    def mark_first_token(self) -> None:
        if self.first_token_at is None:
            self.first_token_at = time.monotonic()

    async def refuse_over_budget(self) -> None:
        """Before the first attempt: refuse the call when a monthly budget of its team (or of
        its person there) is used up. The refusal is recorded with 0 tokens.

        A context from target_for carries the verdict, read in the trip that chose the key,
        so the call need not wait for the database thread (a chat send writes its rows there
        while the call starts); other contexts are checked here."""
        context = self.context
        if not context.record or context.team_id is None:
            return
        refusal = context.budget_refusal
        if not context.budget_checked:
            check = sync_to_async(recorder().budget_refusal, thread_sensitive=True)
            refusal = await check(team_id=context.team_id, user_id=context.user_id)
        if refusal is not None:
            self.usage = Usage(prompt_tokens=0, completion_tokens=0)
            raise errors.BudgetExceeded(refusal)

    async def attempt(self, *, stream: bool) -> httpx.Response:
        """One try: a response with status < 400 (body unread), or a typed error."""
        self.http_status = None
        url = self.target.url(self.endpoint)
        if not self.target.allow_local:
            check_url(url)
        client = http_client(allow_local=self.target.allow_local)
        request = self.request(client, url, stream=stream)
        try:
            async with asyncio.timeout_at(self.deadline(self.timeouts.first_byte)):
                response = await client.send(request, stream=True)
                self.http_status = response.status_code
                if response.status_code < 300:
                    return response
                if response.status_code < 400:
                    location = response.headers.get("location", "elsewhere")
                    await response.aclose()
                    raise errors.UrlNotAllowed(
                        f"The provider redirected to {location}; redirects are not followed. "
                        "Use the final address as the provider's base URL."
                    )
                raise await self._error_from(response)
        except TimeoutError:
            raise self.timeout_error("first_byte") from None
        except httpx.ConnectTimeout:
            raise errors.ConnectTimeout(
                f"Could not connect to the provider within {self.timeouts.connect:g} s."
            ) from None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise errors.ConnectionFailed(f"Could not reach the provider: {_describe(exc)}.") from None
        except httpx.UnsupportedProtocol:
            raise errors.UrlNotAllowed("Only http and https URLs can be used.") from None
        except httpx.LocalProtocolError:  # h11 refused what `request` let through; its text may hold a secret
            raise errors.HeaderNotAllowed(UNSENDABLE_HEADER.format(header="A header")) from None

    def request(self, client: httpx.AsyncClient, url: str, *, stream: bool) -> httpx.Request:
        """The request of one attempt. A body or a header that HTTP cannot carry is refused
        here, with an error that names it (never a header's value, which may be a secret)."""
        try:
            content = orjson.dumps(self.body) if self.body else None
        except TypeError as exc:  # an integer beyond 64 bits, say
            raise _unsendable_body(self.body, exc) from None
        if (unsendable := _unsendable_header(self.target)) is not None:
            raise unsendable
        headers = self.target.request_headers(stream=stream)
        if content is not None:
            headers["Content-Type"] = "application/json"
        timeout = httpx.Timeout(connect=self.timeouts.connect, read=None, write=self.timeouts.connect, pool=30)
        return client.build_request(
            "POST" if content else "GET", url, content=content, headers=headers, timeout=timeout
        )

    async def send(self, *, stream: bool, on_retry: Callable[[Retrying], Any] | None = None) -> httpx.Response:
        """`attempt` with retries; `on_retry` hears of each retry before the wait."""
        while True:
            try:
                return await self.attempt(stream=stream)
            except errors.UpstreamError as error:
                retrying = await self.retrying(error)
                if retrying is None:
                    raise
            if on_retry is not None:
                result = on_retry(retrying)
                if asyncio.iscoroutine(result):
                    await result
            await asyncio.sleep(retrying.delay_s)

    async def retrying(self, error: errors.UpstreamError) -> Retrying | None:
        """After a failed attempt: None when `error` must not be retried; else the attempt's
        record is written and the retry (its wait included) is announced by the Retrying."""
        delay = self.retry_delay(error)
        if delay is None:
            return None
        error.mask(*self.target.secrets())  # the caller shows it while waiting
        await self.record(retried=error)
        self.retries += 1
        return Retrying(attempt=self.retries, delay_s=delay, error=error)

    def retry_delay(self, error: errors.UpstreamError) -> float | None:
        """Seconds to wait before retrying after `error`, or None when it must not be retried."""
        if not error.retryable or self.retries >= settings.UPSTREAM_MAX_RETRIES:
            return None
        backoff = settings.UPSTREAM_BACKOFF_BASE * (2**self.retries)
        delay = backoff / 2 + random.uniform(0, backoff / 2)
        if isinstance(error, errors.RateLimited) and error.retry_after is not None:
            if error.retry_after > settings.UPSTREAM_RETRY_AFTER_CAP:
                return None  # the upstream wants a longer pause than we will wait: tell the user
            delay = max(delay, error.retry_after)
        if time.monotonic() + delay >= self.total_deadline:
            return None
        return delay

    async def _error_from(self, response: httpx.Response) -> errors.UpstreamError:
        body = b""
        try:
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > ERROR_BODY_LIMIT:
                    break
        except httpx.HTTPError:
            pass
        finally:
            await response.aclose()
        secrets = self.target.secrets()
        try:
            message = errors.upstream_message_of(orjson.loads(body), secrets)
        except orjson.JSONDecodeError:
            text = body.decode("utf-8", errors="replace").strip()
            message = errors.cut(errors.redact(text, *secrets), 300) if text and not text.startswith("<") else None
        return errors.error_for_status(response.status_code, message, response.headers)

    async def read_json(self, response: httpx.Response) -> Any:
        body = bytearray()
        try:
            async with asyncio.timeout_at(self.deadline(self.timeouts.first_byte)):
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > JSON_BODY_LIMIT:
                        raise errors.InvalidResponse("The provider's answer was larger than 64 MB.")
        except TimeoutError:
            raise self.timeout_error("first_byte") from None
        except httpx.HTTPError as exc:
            raise errors.StreamBroken(f"The connection to the provider broke: {_describe(exc)}.") from None
        finally:
            await response.aclose()
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise errors.InvalidResponse("The provider's answer was not valid JSON.") from None

    def final_usage(self) -> Usage | None:
        """The tokens the call's record counts: as the provider reported them, or estimated
        from the characters sent and received once the provider accepted the request (a
        stopped answer is counted as far as it came)."""
        if self.usage is not None or self.endpoint not in ("chat", "completions"):
            return self.usage
        if self.http_status is None or self.http_status >= 300:
            return None  # refused, unreachable or stopped before the provider answered
        return Usage(
            prompt_tokens=_estimate_tokens(self.prompt_chars),
            completion_tokens=_estimate_tokens(self.answer_chars),
            estimated=True,
        )

    async def record(self, retried: errors.UpstreamError | None = None) -> None:
        """Write the call's usage record; with `retried`, the record of one failed attempt
        that is retried (a 429 absorbed by a retry still counts as rate limited)."""
        if not self.context.record:
            return
        ended = time.monotonic()
        usage = None if retried else self.final_usage()
        error = retried or self.error
        fields = {
            "team_id": self.context.team_id,
            "project_id": self.context.project_id,
            "user_id": self.context.user_id,
            "provider_id": self.context.provider_id,
            "key_id": self.context.key_id,
            "provider_name": self.target.name[:100],
            "model": self.model[:200],
            "endpoint": self.endpoint,
            "prompt_tokens": usage.prompt_tokens if usage else None,
            "completion_tokens": usage.completion_tokens if usage else None,
            "tokens_estimated": bool(usage and usage.estimated),
            "ttft_ms": round((self.first_token_at - self.started) * 1000) if self.first_token_at else None,
            "total_ms": round((ended - self.started) * 1000),
            "retries": self.retries,
            "status": retried.outcome if retried else self.outcome,
            "http_status": self.http_status,
            "error_kind": error.kind if error else "",
            "error_message": errors.redact(error.message, *self.target.secrets()) if error else "",
        }
        if retried:
            fields["error_message"] = f"Retried: {fields['error_message']}"
        write = recorder().record
        try:
            await asyncio.shield(sync_to_async(write, thread_sensitive=True)(**fields))
        except asyncio.CancelledError:
            raise
        except Exception:  # the database is away: written when it is back
            later.keep(f"usage record of a {self.endpoint} call", functools.partial(write, **fields))

    def finish(self, error: BaseException | None) -> None:
        if error is None:
            self.outcome = "ok"
        elif isinstance(error, errors.UpstreamError):
            # Whatever the error repeats of the provider's words, mid-answer too, goes to
            # sockets, pages and the database: none of it may show a secret.
            error.mask(*self.target.secrets())
            self.error = error
            self.outcome = error.outcome
        elif isinstance(error, Exception):  # a fault of ours; the call did not end well
            self.error = errors.UpstreamError("The call failed inside Playground.")
            self.error.kind = "internal"
            self.outcome = "error"
        # GeneratorExit / CancelledError: Stop, a closed tab or shutdown; stays "cancelled".


# What HTTP/1.1 (h11) sends: a token as the name; printable ASCII, no space at either end, as the value.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?")
UNSENDABLE_HEADER = (
    "{header} of this provider cannot be sent (only printable ASCII is allowed, with no space at either end); "
    "an admin can change it on the provider's page."
)


def _unsendable_header(target: Target) -> errors.HeaderNotAllowed | None:
    """The error of a header of the provider, or its key, that HTTP cannot carry: non-ASCII,
    a line break or another control character (settable in the Django admin). It names the
    header, never the value, which may be a secret."""
    if target.api_key and not _HEADER_VALUE.fullmatch(target.api_key):
        return errors.HeaderNotAllowed(
            "The API key cannot be sent (only printable ASCII is allowed, with no space at either end); "
            "check the key in the provider settings."
        )
    for name, value in target.headers.items():
        if not (_HEADER_NAME.fullmatch(name) and _HEADER_VALUE.fullmatch(value)):
            return errors.HeaderNotAllowed(UNSENDABLE_HEADER.format(header=f"The header {name}"))
    return None


def _unsendable_body(body: dict[str, Any], error: TypeError) -> errors.BadRequest:
    """The error of a body that cannot be written as JSON, naming the field at fault."""
    reason = "it is too large (whole numbers must fit in 64 bits)" if "64-bit" in str(error) else str(error)
    for name, value in body.items():
        try:
            orjson.dumps(value)
        except TypeError:
            return errors.BadRequest(f"The value of {name} cannot be sent: {reason}.")
    return errors.BadRequest(f"The request cannot be sent: {reason}.")


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    return text[:200] if text else exc.__class__.__name__


def _estimate_tokens(chars: int) -> int:
    return max(1, round(chars / 4)) if chars else 0


def _prompt_chars(body: dict[str, Any]) -> int:
    if "messages" in body:
        total = 0
        for message in body.get("messages") or ():
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str):
                total += len(content)
            elif isinstance(content, list):
                total += sum(len(part.get("text", "")) for part in content if isinstance(part, dict))
        return total
    prompt = body.get("prompt")
    return len(prompt) if isinstance(prompt, str) else 0


# --- Reading what a provider sends ----------------------------------------------------------
# Providers send any JSON: each reader takes the parts it knows in the types it expects and
# leaves out the rest, so that an odd answer never breaks a page or an answer's save.

MAX_TOKENS_COUNTED = 2**31 - 1  # what an integer column holds
MAX_CHOICES = 128  # choices of one answer kept apart (the OpenAI API's largest n)
MAX_TOOL_CALLS = 128  # tool calls of one choice kept apart


def _count(value: Any) -> int | None:
    """A token count: a JSON integer a column can hold, else unknown."""
    return value if type(value) is int and 0 <= value <= MAX_TOKENS_COUNTED else None


def _number(value: Any) -> float | None:
    return float(value) if type(value) in (int, float) and math.isfinite(value) else None


def _string(value: Any) -> str:
    return value if type(value) is str else ""


def _choice_index(value: Any) -> int:
    """A choice's index; a missing or odd one is the first choice's."""
    return value if type(value) is int and 0 <= value < MAX_CHOICES else 0


def _usage_of(payload: dict[str, Any]) -> Usage | None:
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        return None
    found = Usage(
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
        total_tokens=_count(usage.get("total_tokens")),
    )
    return found if found.prompt_tokens is not None or found.completion_tokens is not None else None


def _content_text(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if type(content) is str:
        return content
    if isinstance(content, list):
        return "".join(_string(part.get("text")) for part in content if isinstance(part, dict))
    return ""


def _chat_logprobs(items: Any) -> list[dict[str, Any]]:
    """Chat logprobs ({"content": [...]}) as [{"token", "logprob", "top_logprobs"}]."""
    if not isinstance(items, list):
        return []

    def entry(item: dict[str, Any]) -> dict[str, Any]:
        return {"token": _string(item.get("token")), "logprob": _number(item.get("logprob"))}

    found = []
    for item in items:
        if isinstance(item, dict):
            top = item.get("top_logprobs")
            alternatives = [entry(each) for each in top if isinstance(each, dict)] if isinstance(top, list) else []
            found.append({**entry(item), "top_logprobs": alternatives})
    return found


def _tool_call_deltas(calls: Any, choice: int) -> list[ToolCallDelta]:
    if not isinstance(calls, list):
        return []
    found = []
    for position, call in enumerate(calls):
        if not isinstance(call, dict):
            continue
        function = call.get("function")
        function = function if isinstance(function, dict) else {}
        arguments = function.get("arguments")
        if arguments is not None and type(arguments) is not str:  # sent as an object: kept as JSON
            try:
                arguments = orjson.dumps(arguments).decode()
            except TypeError:  # nested deeper than orjson writes (254 levels): no use to anyone
                arguments = ""
        index = call.get("index")
        found.append(
            ToolCallDelta(
                index=index if type(index) is int and 0 <= index < MAX_TOOL_CALLS else position,
                id=_string(call.get("id")) or None,
                type=_string(call.get("type")) or None,
                name=_string(function.get("name")) or None,
                arguments=arguments or "",
                choice=choice,
            )
        )
    return found


# --- Streams -------------------------------------------------------------------------------


def _chunk_events(payload: Any, text_key: str, call: _Call | None = None) -> list[StreamEvent]:
    """Typed events of one streamed JSON chunk (chat: text_key "delta"; completions: "text").

    What belongs to the whole answer rather than to a chunk (its fingerprint) is kept on
    `call`, read from the chunks the fast path leaves to the general one (the first and last).
    """
    if not isinstance(payload, dict):
        return [UnknownEvent("message", payload)]
    if payload.get("error"):
        message = errors.upstream_message_of(payload, call.target.secrets() if call else ()) or "unknown error"
        raise errors.StreamError(f"The provider reported an error mid-answer: {message}", upstream_message=message)
    choices = payload.get("choices")
    if text_key == "delta" and type(choices) is list and len(choices) == 1 and payload.get("usage") is None:
        # The common case, one token of text, without the general path's checks.
        choice = choices[0]
        delta = choice.get("delta") if type(choice) is dict else None
        if (
            type(delta) is dict
            and len(delta) <= 2
            and type(delta.get("content")) is str
            and delta["content"]
            and not choice.get("finish_reason")
            and not choice.get("logprobs")
            and (len(delta) == 1 or type(delta.get("role")) is str)
        ):
            return [TextDelta(delta["content"], delta.get("role") or "assistant", _choice_index(choice.get("index")))]
    kind = _string(payload.get("object"))
    if choices is None:
        if "references" in kind or "chunks" in payload:
            return [References(payload)]
        usage = _usage_of(payload)
        return [usage] if usage else [UnknownEvent(kind or "message", payload)]
    found: list[StreamEvent] = []
    fingerprint = payload.get("system_fingerprint")
    if call is not None and type(fingerprint) is str and fingerprint:
        call.fingerprint = fingerprint
    for choice in choices if isinstance(choices, list) else ():
        if not isinstance(choice, dict):
            continue
        index = _choice_index(choice.get("index"))
        if text_key == "delta":
            delta = choice.get("delta")
            delta = delta if isinstance(delta, dict) else {}
            content = _content_text(delta.get("content"))
            if content:
                found.append(TextDelta(content, _string(delta.get("role")) or "assistant", index))
            found.extend(_tool_call_deltas(delta.get("tool_calls"), index))
            if refusal := _string(delta.get("refusal")):
                found.append(Refusal(refusal, index))
            logprobs = choice.get("logprobs")
            logprobs = _chat_logprobs(logprobs.get("content")) if isinstance(logprobs, dict) else None
        else:
            if text := _string(choice.get("text")):
                found.append(TextDelta(text, "assistant", index))
            logprobs = _completion_logprobs(choice.get("logprobs"))
        if logprobs:
            found.append(Logprobs(logprobs, index))
        if reason := _string(choice.get("finish_reason")):
            found.append(Finish(reason, index))
    usage = _usage_of(payload)
    if usage:
        found.append(usage)
    return found


def _completion_logprobs(logprobs: Any) -> list[dict[str, Any]] | None:
    """Legacy completions send parallel lists; turn them into chat's per-token form."""
    if not isinstance(logprobs, dict) or not isinstance(logprobs.get("tokens"), list):
        return None
    values = logprobs.get("token_logprobs")
    values = values if isinstance(values, list) else []
    top = logprobs.get("top_logprobs")
    top = top if isinstance(top, list) else []

    def alternatives(i: int) -> list[dict[str, Any]]:
        found = top[i] if i < len(top) else None
        if not isinstance(found, dict):
            return []
        return [{"token": token, "logprob": _number(value)} for token, value in found.items()]

    return [
        {"token": _string(token), "logprob": _number(value), "top_logprobs": alternatives(i)}
        for i, (token, value) in enumerate(zip(logprobs["tokens"], values, strict=False))
    ]


async def _stream_events(call: _Call, response: httpx.Response, text_key: str) -> AsyncIterator[StreamEvent]:
    content_type = response.headers.get("content-type", "")
    if "event-stream" not in content_type:
        # Some servers ignore "stream": true and answer in one JSON body.
        payload = await call.read_json(response)
        for event in _result_events(payload, text_key, call):
            _note(call, event)
            yield event
        return
    parser = SSEParser()
    template = TextTemplate() if text_key == "delta" else None
    # Streams are asked for uncompressed (Accept-Encoding: identity); then the body's bytes
    # are read from httpx's stream itself, two generator layers per chunk fewer than
    # aiter_bytes, whose decoding would pass them through unchanged.
    encoded = response.headers.get("content-encoding", "identity").lower() not in ("", "identity")
    byte_iterator = (response.aiter_bytes() if encoded else response.stream).__aiter__()
    watch = _ReadWatch(call)
    try:
        while True:
            try:
                chunk = await watch.read(byte_iterator)
            except StopAsyncIteration:
                break
            except httpx.HTTPError as exc:
                raise errors.StreamBroken(
                    f"The connection to the provider broke mid-answer ({_describe(exc)}); the text so far is kept."
                ) from None
            items = fastpath.feed(parser, chunk, template) if template is not None else parser.feed_batch(chunk)
            events, done, error = _read_events(items, text_key, template, call)
            for event in events:
                _note(call, event)
                yield event
            if error is not None:
                raise error
            if done:
                await _read_body_end(byte_iterator)
                return
        events, _done, error = _read_events(parser.close(), text_key, call=call)
        for event in events:
            _note(call, event)
            yield event
        if error is not None:
            raise error
    finally:
        watch.close()
        await response.aclose()


async def _read_body_end(byte_iterator: AsyncIterator[bytes]) -> None:
    """What is left of a body after [DONE], within BODY_END_S and BODY_END_BYTES (see there)."""
    left = BODY_END_BYTES
    try:
        async with asyncio.timeout(BODY_END_S):
            while left > 0:
                left -= len(await byte_iterator.__anext__())
    except (StopAsyncIteration, TimeoutError, httpx.HTTPError):
        pass


class _ReadWatch:
    """The time limits of a stream's reads: the first within `first_byte`, each later one
    within `idle`, all within the call's cap. Only time spent waiting for the upstream
    counts, not the caller's time between reads.

    One timer, moved on lazily when it fires, instead of a timeout scope per read (which
    schedules and cancels a timer for every streamed token).
    """

    __slots__ = ("call", "loop", "task", "first", "limit", "cap", "since", "expired", "cancelling", "handle")

    def __init__(self, call: _Call) -> None:
        self.call = call
        self.loop = asyncio.get_running_loop()
        self.task: asyncio.Task | None = None
        self.first = True  # no byte of the body has come yet
        self.limit = call.timeouts.first_byte
        self.cap = self.loop.time() + max(0.0, call.total_deadline - time.monotonic())
        self.since: float | None = None  # when the read now waiting began
        self.expired = False
        self.cancelling = 0
        self.handle = self.loop.call_at(min(self.loop.time() + self.limit, self.cap), self._check)

    async def read(self, iterator: AsyncIterator[bytes]) -> bytes:
        self.task = asyncio.current_task()
        self.since = self.loop.time()
        try:
            chunk = await iterator.__anext__()
        except asyncio.CancelledError:
            if self.expired and self.task is not None and self.task.uncancel() <= self.cancelling:
                raise self.call.timeout_error("first_byte" if self.first else "idle") from None
            raise
        finally:
            self.since = None
        if self.first:
            self.first = False
            self.limit = self.call.timeouts.idle
            # The timer is set for the first byte's limit; the idle limit may be shorter.
            self.handle.cancel()
            self.handle = self.loop.call_at(min(self.loop.time() + self.limit, self.cap), self._check)
        return chunk

    def _check(self) -> None:
        now = self.loop.time()
        if self.since is None:  # the caller is busy, not the upstream: look again later
            self.handle = self.loop.call_at(min(now + self.limit, self.cap), self._check)
            return
        due = min(self.since + self.limit, self.cap)
        if now < due:
            self.handle = self.loop.call_at(due, self._check)
        elif self.task is not None and not self.expired:
            self.expired = True
            self.cancelling = self.task.cancelling()
            self.task.cancel()

    def close(self) -> None:
        self.handle.cancel()


def _read_events(
    sses, text_key: str, template: TextTemplate | None = None, call: _Call | None = None
) -> tuple[list[StreamEvent], bool, errors.UpstreamError | None]:
    """Typed events of the SSE events of one network read, whether [DONE] came, and an error
    the upstream sent after them (raised once the events before it are delivered).

    `sses` holds SSEEvents, for plain events just their data (SSEParser.feed_batch), and
    for chunks in the envelope `template` learned, their text (fastpath.feed), read without
    decoding JSON. Text deltas of the same choice that arrive in one read are joined into
    one: a fast stream then costs one event per read rather than one per token.
    """
    found: list[StreamEvent] = []
    texts: list[str] = []  # text of the run of template chunks now being read

    def end_run() -> None:
        last = found[-1] if found else None
        if type(last) is TextDelta and last.index == 0 and last.role == "assistant":
            texts.insert(0, last.text)
            last.text = "".join(texts)
        else:
            found.append(TextDelta("".join(texts)))
        texts.clear()

    for sse in sses:
        if type(sse) is str:
            texts.append(sse)
            continue
        if type(sse) is bytes:
            sse = SSEEvent("message", sse)
        if texts:
            end_run()
        try:
            converted = _sse_events(sse, text_key, template, call)
        except errors.UpstreamError as error:
            return found, True, error
        for event in converted:
            if event is None:
                return found, True, None
            if (
                type(event) is TextDelta
                and found
                and type(found[-1]) is TextDelta
                and found[-1].index == event.index
                and found[-1].role == event.role
            ):
                found[-1].text += event.text
            else:
                found.append(event)
    if texts:
        end_run()
    return found, False, None


def _sse_events(
    sse, text_key: str, template: TextTemplate | None = None, call: _Call | None = None
) -> list[StreamEvent | None]:
    data = sse.data
    if data == b"[DONE]":
        return [None]
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        return [UnknownEvent(sse.event, sse.text)]
    if template is not None and sse.event == "message":
        template.learn(data, payload)
    if sse.event not in ("message", "", "error") and not (isinstance(payload, dict) and "choices" in payload):
        if "reference" in sse.event:
            return [References(payload if isinstance(payload, dict) else {"data": payload})]
        return [UnknownEvent(sse.event, payload)]
    if sse.event == "error" and isinstance(payload, dict) and "error" not in payload:
        payload = {"error": payload}
    return _chunk_events(payload, text_key, call)


def _note(call: _Call, event: StreamEvent) -> None:
    if isinstance(event, TextDelta):
        call.mark_first_token()
        call.answer_chars += len(event.text)
    elif isinstance(event, ToolCallDelta | Refusal):
        call.mark_first_token()
        call.answer_chars += len(event.arguments) if isinstance(event, ToolCallDelta) else len(event.text)
    elif isinstance(event, Usage):
        call.usage = event


def _result_events(payload: Any, text_key: str, call: _Call) -> list[StreamEvent]:
    """Events equivalent to a whole (non-streamed) answer."""
    if not isinstance(payload, dict):
        raise errors.InvalidResponse("The provider's answer was not a JSON object.")
    if payload.get("error"):
        message = errors.upstream_message_of(payload, call.target.secrets()) or "unknown error"
        raise errors.StreamError(f"The provider reported an error: {message}", upstream_message=message)
    converted = dict(payload)
    choices = payload.get("choices")
    converted["choices"] = [
        {**choice, "delta": choice.get("message")} if text_key == "delta" else choice
        for choice in (choices if isinstance(choices, list) else ())
        if isinstance(choice, dict)
    ]
    return _chunk_events(converted, text_key, call)


def streamed_body(target: Target, body: dict[str, Any]) -> dict[str, Any]:
    """The exact JSON body a streamed call sends: the caller's fields and what the client adds
    (`stream`, and `stream_options` where the provider reports usage in streams)."""
    body = {**body, "stream": True}
    if target.stream_usage and "stream_options" not in body:
        body["stream_options"] = {"include_usage": True}
    return body


class AnswerStream:
    """The events of one streamed answer (`async for`), the tokens its usage record counts
    (`usage`) and the backend's `fingerprint`, final once the events have ended, however
    they ended."""

    __slots__ = ("_call", "_events")

    def __init__(self, call: _Call, events: AsyncIterator[StreamEvent]) -> None:
        self._call, self._events = call, events

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return self._events

    def __anext__(self) -> Awaitable[StreamEvent]:
        return self._events.__anext__()

    async def aclose(self) -> None:
        await self._events.aclose()

    @property
    def usage(self) -> Usage | None:
        return self._call.final_usage()

    @property
    def fingerprint(self) -> str:
        return self._call.fingerprint


@asynccontextmanager
async def _stream(
    target: Target, endpoint: str, body: dict[str, Any], context: CallContext
) -> AsyncIterator[AnswerStream]:
    body = streamed_body(target, body)
    call = _Call(target, endpoint, body, context)
    call.prompt_chars = _prompt_chars(body)
    text_key = "delta" if endpoint == "chat" else "text"
    events = _call_stream(call, text_key)
    try:
        yield AnswerStream(call, events)
    finally:
        await events.aclose()


async def _call_stream(call: _Call, text_key: str) -> AsyncIterator[StreamEvent]:
    error: BaseException | None = None
    try:
        await call.refuse_over_budget()
        while True:
            try:
                response = await call.attempt(stream=True)
                break
            except errors.UpstreamError as exc:
                retrying = await call.retrying(exc)
                if retrying is None:
                    raise
            yield retrying
            await asyncio.sleep(retrying.delay_s)
        async for event in _stream_events(call, response, text_key):
            yield event
    except BaseException as exc:
        error = exc
        raise
    finally:
        call.finish(error)
        await call.record()


# --- Public calls --------------------------------------------------------------------------


def stream_chat(target: Target, body: dict[str, Any], *, context: CallContext):
    """Stream a chat completion: `async with stream_chat(...) as events: async for ...`."""
    return _stream(target, "chat", body, context)


def stream_completion(target: Target, body: dict[str, Any], *, context: CallContext):
    """Stream a legacy text completion (`/completions`)."""
    return _stream(target, "completions", body, context)


async def _call_json(
    target: Target,
    endpoint: str,
    body: dict[str, Any] | None,
    context: CallContext,
    on_retry: Callable[[Retrying], Any] | None,
    read: Callable[[_Call, Any], Any],
) -> Any:
    """A non-streamed call: send with retries, read the JSON answer, turn it into a result."""
    call = _Call(target, endpoint, body or {}, context)
    call.prompt_chars = _prompt_chars(call.body)
    error: BaseException | None = None
    try:
        await call.refuse_over_budget()
        response = await call.send(stream=False, on_retry=on_retry)
        payload = await call.read_json(response)
        if isinstance(payload, dict) and payload.get("error"):
            message = errors.upstream_message_of(payload, target.secrets()) or "unknown error"
            raise errors.BadRequest(f"The provider returned an error: {message}", upstream_message=message)
        call.first_token_at = time.monotonic()
        if isinstance(payload, dict):
            call.usage = _usage_of(payload)  # a reader may count them otherwise (rerank)
        return read(call, payload)
    except BaseException as exc:
        error = exc
        raise
    finally:
        call.finish(error)
        await call.record()


def _read_chat(call: _Call, payload: Any) -> ChatResult:
    choices = payload.get("choices") if isinstance(payload, dict) else None
    choice = next((each for each in choices if isinstance(each, dict)), None) if isinstance(choices, list) else None
    if choice is None:
        raise errors.InvalidResponse("The provider's answer had no choices.")
    if "message" in choice:
        message = choice.get("message")
        message = message if isinstance(message, dict) else {}
        text = _content_text(message.get("content"))
        role = _string(message.get("role")) or "assistant"
        logprobs = choice.get("logprobs")
        logprobs = _chat_logprobs(logprobs.get("content")) if isinstance(logprobs, dict) else None
    else:
        message, text, role = {}, _string(choice.get("text")), "assistant"
        logprobs = _completion_logprobs(choice.get("logprobs"))
    accumulator = ToolCallAccumulator()
    for delta in _tool_call_deltas(message.get("tool_calls"), 0):
        accumulator.add(delta)
    call.answer_chars = len(text)
    return ChatResult(
        text=text or None,
        role=role,
        finish_reason=_string(choice.get("finish_reason")) or None,
        usage=_usage_of(payload),
        tool_calls=accumulator.result(),
        refusal=_string(message.get("refusal")) or None,
        logprobs=logprobs or None,
        raw=payload,
    )


async def chat(
    target: Target, body: dict[str, Any], *, context: CallContext, on_retry: Callable[[Retrying], Any] | None = None
) -> ChatResult:
    return await _call_json(target, "chat", {**body, "stream": False}, context, on_retry, _read_chat)


async def completion(
    target: Target, body: dict[str, Any], *, context: CallContext, on_retry: Callable[[Retrying], Any] | None = None
) -> ChatResult:
    return await _call_json(target, "completions", {**body, "stream": False}, context, on_retry, _read_chat)


@dataclass
class ImageResult:
    images: list[dict[str, Any]]  # each with "b64_json" or "url", and maybe "revised_prompt"
    raw: dict[str, Any]


def _read_images(call: _Call, payload: Any) -> ImageResult:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list) or not data:
        raise errors.InvalidResponse("The provider's answer had no images.")
    return ImageResult(images=[item for item in data if isinstance(item, dict)], raw=payload)


async def images(
    target: Target, body: dict[str, Any], *, context: CallContext, on_retry: Callable[[Retrying], Any] | None = None
) -> ImageResult:
    return await _call_json(target, "images", body, context, on_retry, _read_images)


@dataclass
class EmbeddingResult:
    vectors: list[np.ndarray]  # float32, in input order
    usage: Usage | None
    raw_model: str | None


def _read_embeddings(call: _Call, payload: Any) -> EmbeddingResult:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        raise errors.InvalidResponse("The provider's answer had no embeddings.")
    vectors: list[np.ndarray] = []
    for item in sorted(data, key=lambda item: item.get("index", 0)):
        embedding = item.get("embedding")
        if isinstance(embedding, str):  # encoding_format "base64": little-endian float32
            vectors.append(np.frombuffer(base64.b64decode(embedding), dtype="<f4").astype(np.float32))
        elif isinstance(embedding, list):
            vectors.append(np.asarray(embedding, dtype=np.float32))
        else:
            raise errors.InvalidResponse("An embedding in the provider's answer was neither a list nor base64.")
    return EmbeddingResult(vectors=vectors, usage=_usage_of(payload), raw_model=payload.get("model"))


async def embeddings(
    target: Target, body: dict[str, Any], *, context: CallContext, on_retry: Callable[[Retrying], Any] | None = None
) -> EmbeddingResult:
    return await _call_json(target, "embeddings", body, context, on_retry, _read_embeddings)


def _read_models(call: _Call, payload: Any) -> list[ModelInfo]:
    data = payload.get("data", payload.get("models")) if isinstance(payload, dict) else payload
    if not isinstance(data, list):
        raise errors.InvalidResponse("The provider's model list was not a list.")
    found = []
    for item in data:
        if isinstance(item, dict) and (item.get("id") or item.get("name")):
            found.append(ModelInfo(id=str(item.get("id") or item.get("name")), owned_by=item.get("owned_by"), raw=item))
        elif isinstance(item, str):
            found.append(ModelInfo(id=item))
    return found


async def models(target: Target, *, context: CallContext) -> list[ModelInfo]:
    return await _call_json(target, "models", None, context, None, _read_models)


def _read_openapi(call: _Call, payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict) or "paths" not in payload:
        raise errors.InvalidResponse("The provider's /openapi.json is not an OpenAPI document.")
    return payload


async def openapi(target: Target, *, context: CallContext) -> dict[str, Any]:
    """The provider's own OpenAPI document, where it serves one (vLLM does)."""
    return await _call_json(target, "openapi", None, context, None, _read_openapi)
