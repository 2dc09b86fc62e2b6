"""ASGI plumbing for the demo upstream: the request, OpenAI-style errors, JSON bodies and server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Where the demo is mounted; the main ASGI app passes the full path through.
DEMO_PREFIX = "/demo/v1"
MAX_BODY_BYTES = 32 * 1024 * 1024
# A stream that waits longer than this sends an SSE comment, so proxies and idle timeouts see life.
KEEP_ALIVE_AFTER_S = 1.0
KEEP_ALIVE = b": keep-alive\n\n"


class ApiError(Exception):
    """An error answered as `{"error": {"message", "type", "code"?, "param"?}}`, as OpenAI does."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = list(headers)

    def payload(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.param is not None:
            error["param"] = self.param
        if self.code is not None:
            error["code"] = self.code
        return {"error": error}


class Request:
    """One HTTP request to the demo: its path below the prefix, headers, body, and whether the client left."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        self.scope = scope
        self.path = path
        self.method: str = scope["method"]
        self.headers: dict[str, str] = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])
        }
        self.body = b""
        self.started = False
        self.disconnected = asyncio.Event()
        self._receive = receive
        self._send = send
        self._watcher: asyncio.Task | None = None

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    async def read_body(self) -> None:
        """Read the whole body, then watch for the client going away while we answer."""
        chunks = []
        size = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.disconnected.set()
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise ApiError(413, f"The request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB.")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        self.body = b"".join(chunks)
        self._watcher = asyncio.create_task(self._watch_disconnect())

    async def _watch_disconnect(self) -> None:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.disconnected.set()
                return

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher

    @property
    def bearer_token(self) -> str:
        """The bearer token, or "" when there is none."""
        scheme, _, token = self.headers.get("authorization", "").strip().partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def json_object(self) -> dict[str, Any]:
        try:
            body = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise ApiError(
                400,
                "We could not parse the JSON body of your request. Send a JSON object with "
                "Content-Type: application/json.",
            ) from None
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        return body

    def absolute_url(self, path: str) -> str:
        """`path` (starting with /) as an absolute URL on the host and scheme this request came to."""
        host = self.headers.get("host")
        if not host:
            server_host, server_port = self.scope.get("server") or ("127.0.0.1", 80)
            host = f"{server_host}:{server_port}"
        return f"{self.scope.get('scheme', 'http')}://{host}{path}"

    async def pause(self, seconds: float) -> bool:
        """Wait, ending early if the client leaves; True when the client is still there."""
        if seconds > 0 and not self.disconnected.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.disconnected.wait(), seconds)
        return not self.disconnected.is_set()


def _header_list(content_type: str, headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """The headers of every demo response (JSON, errors, streams, images): each says what it is, and nosniff
    keeps a browser from taking it for something else."""
    return [(b"content-type", content_type.encode()), (b"x-content-type-options", b"nosniff")] + [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers
    ]


async def send_bytes(
    request: Request, status: int, body: bytes, content_type: str, headers: Iterable[tuple[str, str]] = ()
) -> None:
    await request.send(
        {"type": "http.response.start", "status": status, "headers": _header_list(content_type, headers)}
    )
    await request.send({"type": "http.response.body", "body": body})


async def send_json(request: Request, status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
    await send_bytes(request, status, orjson.dumps(payload), "application/json", headers)


async def send_error(request: Request, error: ApiError) -> None:
    await send_json(request, error.status, error.payload(), error.headers)


def sse_event(payload: Any) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


class EventStream:
    """A `text/event-stream` response: events, keep-alive comments, `[DONE]`."""

    def __init__(self, request: Request) -> None:
        self.request = request

    @property
    def open(self) -> bool:
        return not self.request.disconnected.is_set()

    async def start(self) -> None:
        await self.request.send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": _header_list(
                    "text/event-stream; charset=utf-8", [("Cache-Control", "no-cache"), ("X-Accel-Buffering", "no")]
                ),
            }
        )

    async def write(self, data: bytes) -> bool:
        """Send raw SSE bytes (one or more whole events); False when the client has gone."""
        if not self.open:
            return False
        await self.request.send({"type": "http.response.body", "body": data, "more_body": True})
        return True

    async def event(self, payload: Any) -> bool:
        return await self.write(sse_event(payload))

    async def pause(self, seconds: float) -> bool:
        """Wait, sending a keep-alive comment for every second of a long wait; False when the client has gone."""
        while seconds > KEEP_ALIVE_AFTER_S:
            if not await self.request.pause(KEEP_ALIVE_AFTER_S) or not await self.write(KEEP_ALIVE):
                return False
            seconds -= KEEP_ALIVE_AFTER_S
        return await self.request.pause(seconds)

    async def end(self, *, done: bool = True) -> None:
        """Close the body, after `data: [DONE]` unless `done` is False (a stream that broke)."""
        if self.open:
            await self.request.send({"type": "http.response.body", "body": b"data: [DONE]\n\n" if done else b""})
