"""A tiny HTTP server on a real socket that answers with exactly the bytes a test scripts.

It is for the shapes a well-behaved server does not produce: bytes split anywhere, CR line
ends, bodies that stall or trickle, connections that drop mid-answer.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/event-stream"})
    # Body pieces, each sent after waiting its delay (seconds).
    parts: list[tuple[float, bytes]] = field(default_factory=list)
    delay_before_headers: float = 0.0
    # Headers wait until the test sets this (a provider that answers exactly when told).
    gate: asyncio.Event | None = None
    drop_connection: bool = False  # close without finishing the body


class RawServer:
    """Answers request N with replies[N] (the last reply repeats)."""

    def __init__(self, *replies: Reply, tls: ssl.SSLContext | None = None):
        self.replies = list(replies)
        self.tls = tls
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.request_times: list[float] = []
        self.connections = 0  # accepted so far
        self.parts_sent = 0  # body pieces written, over all replies
        self._progress = asyncio.Condition()  # notified on each request and each piece sent
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._closing = asyncio.Event()  # set on exit: pauses in replies end at once
        self._handlers: set[asyncio.Task] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> RawServer:
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        return self

    async def __aexit__(self, *exc) -> None:
        # Close the connections a client keeps alive, so handlers end on their own rather
        # than being cancelled by the server's shutdown.
        self._closing.set()
        self.close_connections()
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=5)
        self._server.close()
        await self._server.wait_closed()

    def close_connections(self) -> None:
        """Close every open connection, as a server ending idle keep-alive connections does."""
        for writer in list(self._writers):
            writer.close()

    async def until(self, condition: Callable[[RawServer], bool], timeout: float = 10) -> None:
        """Wait until `condition(server)` holds, e.g. `lambda s: s.requests` (TimeoutError after `timeout`)."""
        async with self._progress:
            await asyncio.wait_for(self._progress.wait_for(lambda: condition(self)), timeout)

    def until_from_thread(self, condition: Callable[[RawServer], bool], timeout: float = 10) -> None:
        """`until`, from a thread other than the server's (a database thread, say)."""
        asyncio.run_coroutine_threadsafe(self.until(condition, timeout), self._loop).result()

    async def _notify(self) -> None:
        async with self._progress:
            self._progress.notify_all()

    @property
    def url(self) -> str:
        port = self._server.sockets[0].getsockname()[1]
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{port}/v1"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self.connections += 1
        self._handlers.add(task)
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((lines[0], headers, body))
                self.request_times.append(asyncio.get_running_loop().time())
                await self._notify()
                reply = self.replies[min(len(self.requests) - 1, len(self.replies) - 1)]
                await self._send(writer, reply)
                if reply.drop_connection:
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)
            self._handlers.discard(task)

    async def _pause(self, seconds: float) -> bool:
        """Wait `seconds`; False when the server is closing meanwhile (the reply ends)."""
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            return True
        return False

    async def _send(self, writer: asyncio.StreamWriter, reply: Reply) -> None:
        if reply.delay_before_headers and not await self._pause(reply.delay_before_headers):
            return
        if reply.gate is not None:
            await reply.gate.wait()
        head = [f"HTTP/1.1 {reply.status} X"]
        head += [f"{name}: {value}" for name, value in reply.headers.items()]
        if reply.drop_connection:
            head.append("Content-Length: 1000000")
        else:
            head.append("Transfer-Encoding: chunked")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        await writer.drain()
        for delay, piece in reply.parts:
            if delay and not await self._pause(delay):
                return
            if reply.drop_connection:
                writer.write(piece)
            elif piece:
                writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            await writer.drain()
            self.parts_sent += 1
            await self._notify()
        if not reply.drop_connection:
            writer.write(b"0\r\n\r\n")
            await writer.drain()


def sse_chunks(*texts: str, done: bool = True, finish: str | None = "stop") -> bytes:
    """An OpenAI-style chat stream with one chunk per text."""
    import json

    out = b""
    for text in texts:
        chunk = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
        out += b"data: " + json.dumps(chunk).encode() + b"\n\n"
    if finish:
        out += b"data: " + json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}).encode()
        out += b"\n\n"
    if done:
        out += b"data: [DONE]\n\n"
    return out


def json_reply(status: int, payload: dict, **headers: str) -> Reply:
    import json

    return Reply(
        status=status,
        headers={"Content-Type": "application/json", **headers},
        parts=[(0, json.dumps(payload).encode())],
    )
