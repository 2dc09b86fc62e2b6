"""An incremental Server-Sent Events parser, written to the WHATWG specification.

Feed it bytes as they arrive, in pieces of any size; it yields complete events. It works
on bytes: line endings (LF, CR, CRLF) are ASCII and never occur inside a multi-byte UTF-8
character, so a character split across two reads is simply kept until its line is complete.
Data is kept as bytes, which `orjson.loads` reads directly; `SSEEvent.text` decodes it.
"""

from __future__ import annotations

from collections.abc import Iterator

_BOM = b"\xef\xbb\xbf"


class SSEEvent:
    __slots__ = ("event", "data", "id", "retry")

    def __init__(self, event: str, data: bytes, id: str | None = None, retry: int | None = None):
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SSEEvent):
            return NotImplemented
        return (self.event, self.data, self.id, self.retry) == (other.event, other.data, other.id, other.retry)

    def __repr__(self) -> str:
        return f"SSEEvent(event={self.event!r}, data={self.data!r}, id={self.id!r}, retry={self.retry!r})"


class SSEParser:
    """Turns a byte stream into SSEEvents. Call `feed()` per read and `close()` at the end."""

    def __init__(self) -> None:
        self._buffer = b""
        self._started = False
        self._pending_cr = False  # the last read ended in CR; a following LF belongs to it
        self._data: list[bytes] = []
        self._event = ""
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> Iterator[SSEEvent]:
        if not chunk:
            return
        if self._pending_cr:
            self._pending_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if not self._started:
            chunk = self._buffer + chunk
            self._buffer = b""
            if len(chunk) < 3 and _BOM.startswith(chunk):
                self._buffer = chunk  # maybe the start of a byte-order mark; wait for more
                return
            self._started = True
            if chunk.startswith(_BOM):
                chunk = chunk[3:]
        if b"\r" in chunk:
            if chunk.endswith(b"\r"):
                self._pending_cr = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buffer = self._buffer + chunk if self._buffer else chunk
        # Split into events at blank lines. The usual event, a single "data: ..." line, is
        # read without going through the general line-by-line path.
        blocks = buffer.split(b"\n\n")
        self._buffer = blocks.pop()
        for block in blocks:
            if block[:6] == b"data: " and not self._data and b"\n" not in block:
                yield SSEEvent(self._event or "message", block[6:], self._last_id, self._retry)
                self._event = ""
                self._retry = None
            else:
                yield from self._lines([*block.split(b"\n"), b""])

    def is_clean(self) -> bool:
        """Between events: nothing half-read but (maybe) the bytes of the next event."""
        return self._started and not self._pending_cr and not self._data

    def take_buffer(self) -> bytes:
        """The bytes of an unfinished event, handed back to feed again with what follows."""
        buffer, self._buffer = self._buffer, b""
        return buffer

    def keep(self, partial: bytes) -> None:
        """Hold `partial` (bytes with no blank line) as the start of the next event."""
        self._buffer = partial

    def feed_batch(self, chunk: bytes) -> list[bytes | SSEEvent]:
        """Like `feed`, as a list, with each plain event (one `data: ` line, no event name)
        given as its data bytes alone: a fast stream then costs no object per event."""
        if not chunk:
            return []
        if self._pending_cr or not self._started or self._data or b"\r" in chunk:
            return list(self.feed(chunk))
        blocks = (self._buffer + chunk if self._buffer else chunk).split(b"\n\n")
        self._buffer = blocks.pop()
        found: list[bytes | SSEEvent] = []
        for block in blocks:
            if block[:6] == b"data: " and b"\n" not in block:
                found.append(block[6:])
            else:
                found.extend(self._lines([*block.split(b"\n"), b""]))
        return found

    def close(self) -> Iterator[SSEEvent]:
        """End of the body: a last line without its newline still counts, and an event
        whose closing blank line never came is still delivered (the specification would
        drop it, but it holds text the upstream sent, often an error)."""
        lines, self._buffer = [*self._buffer.split(b"\n"), b""], b""
        yield from self._lines(lines)

    def _lines(self, lines: list[bytes]) -> Iterator[SSEEvent]:
        data = self._data
        for line in lines:
            if not line:
                if data:
                    yield SSEEvent(self._event or "message", b"\n".join(data), self._last_id, self._retry)
                    data.clear()
                self._event = ""
                self._retry = None
                continue
            if line[:5] == b"data:":
                value = line[5:]
                data.append(value[1:] if value[:1] == b" " else value)
                continue
            if line[:1] == b":":
                continue  # comment / keep-alive
            field, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if field == b"data":  # "data" with no colon: an empty data line
                data.append(b"")
            elif field == b"event":
                self._event = value.decode("utf-8", errors="replace")
            elif field == b"id":
                if b"\0" not in value:
                    self._last_id = value.decode("utf-8", errors="replace")
            elif field == b"retry" and value.isdigit():
                self._retry = int(value)
            # Other fields are ignored, as the specification says.
