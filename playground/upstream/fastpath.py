"""Reading the common streamed chunk without decoding its JSON.

In a stream, most chunks are one token of text in an envelope whose bytes never change:
`{"id":"…","object":"chat.completion.chunk",…,"delta":{"content":"` + text + `"},…}`.
A `TextTemplate` learns those envelope bytes from a chunk that was fully decoded and
checked, and then reads the text of any chunk with exactly the same envelope. It is exact:
when the bytes around the text are identical and the text holds no quote, the JSON can only
be the learned chunk with another string; escapes in the text are decoded by orjson, and
anything else (a quote, a bad escape, other bytes around it) goes back to the full decoder.
"""

from __future__ import annotations

from itertools import repeat
from operator import getitem
from typing import Any

import orjson

from playground.upstream.sse import SSEEvent, SSEParser

_CONTENT_KEY = b'"content":'


def _plain_text_chunk(payload: Any) -> str | None:
    """The text of a decoded chat chunk that is nothing but one choice's text, else None."""
    if not isinstance(payload, dict) or payload.get("usage") is not None or payload.get("error"):
        return None
    choices = payload.get("choices")
    if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], dict):
        return None
    choice = choices[0]
    delta = choice.get("delta")
    if choice.get("index", 0) != 0 or choice.get("finish_reason") or choice.get("logprobs"):
        return None
    if not isinstance(delta, dict) or len(delta) != 1 or type(delta.get("content")) is not str:
        return None
    if set(choice) - {"index", "delta", "logprobs", "finish_reason"}:
        return None
    return delta["content"] or None


class TextTemplate:
    """The envelope of one stream's plain text chunks, learned from a decoded one."""

    __slots__ = ("prefix", "suffix", "size", "lessons")

    # Upstreams whose envelope changes with every chunk (a new id each time) are not worth
    # learning from after this many tries.
    MAX_LESSONS = 8

    def __init__(self) -> None:
        self.prefix = self.suffix = b""
        self.size = 0
        self.lessons = 0

    def learn(self, data: bytes, payload: Any) -> None:
        """Remember the envelope of `data` if it is a plain text chunk (decoded as `payload`)."""
        if self.lessons >= self.MAX_LESSONS:
            return
        text = _plain_text_chunk(payload)
        if text is None or data.count(_CONTENT_KEY) != 1:
            return
        encoded = orjson.dumps(text)
        start = data.find(_CONTENT_KEY + encoded)
        if start < 0:  # the upstream escapes differently from orjson; keep decoding in full
            return
        self.lessons += 1
        text_start = start + len(_CONTENT_KEY) + 1
        self.prefix = data[:text_start]
        self.suffix = data[text_start + len(encoded) - 2 :]
        self.size = len(self.prefix) + len(self.suffix)

    def text_of(self, data: bytes) -> str | None:
        """The text of a chunk with the learned envelope, or None when it has another shape."""
        if (
            not self.size
            or len(data) <= self.size
            or not data.startswith(self.prefix)
            or not data.endswith(self.suffix)
        ):
            return None
        return self.text_between(data[len(self.prefix) : len(data) - len(self.suffix)])

    @staticmethod
    def text_between(middle: bytes) -> str | None:
        """The text of the bytes between prefix and suffix; None unless they can only be the
        inside of one JSON string (no quote, no line break; escapes decoded by orjson)."""
        if b'"' in middle or b"\n" in middle:
            return None
        try:
            if b"\\" in middle:
                return orjson.loads(b'"' + middle + b'"')
            return middle.decode()
        except (orjson.JSONDecodeError, UnicodeDecodeError):
            return None


def feed(parser: SSEParser, chunk: bytes, template: TextTemplate) -> list[str | bytes | SSEEvent]:
    """`parser.feed_batch(chunk)`, with chunks in the template's envelope already read as
    text (str). Events are cut apart with one `bytes.split` on what lies between two texts
    (suffix, blank line, `data: `, prefix): bytes with raw line breaks and several quotes,
    which no JSON string can hold, so every cut is an event boundary.
    """
    if not template.size or not parser.is_clean() or b"\r" in chunk:
        return _texts_of(parser.feed_batch(chunk), template)
    head, tail = b"data: " + template.prefix, template.suffix + b"\n\n"
    buffer = parser.take_buffer() + chunk
    found = _plain_run(parser, buffer, template, head, tail)
    if found is not None:
        return found
    parts = buffer.split(tail + head)
    if len(parts) == 1:
        return _texts_of(parser.feed_batch(buffer), template)
    found: list[str | bytes | SSEEvent] = []
    first, last = parts[0], parts[-1]
    if first.startswith(head) and b"\n" not in first:  # the read starts inside such an event
        middles = [first[len(head) :], *parts[1:-1]]
    else:
        found = _texts_of(parser.feed_batch(first + tail), template)
        middles = parts[1:-1]
    end = last.find(tail)
    if end >= 0:
        middles.append(last[:end])
        rest = last[end + len(tail) :]
    else:
        rest = head + last
    run = _run_text(middles)
    if run is not None:
        if run:  # no empty text events (they would count as a first token)
            found.append(run)
    else:
        for middle in middles:
            text = template.text_between(middle)
            # Not the envelope's text after all (a quote, a bad escape): decode it in full.
            found.extend(parser.feed_batch(head + middle + tail) if text is None else [text])
    if b"\n\n" in rest:
        found.extend(_texts_of(parser.feed_batch(rest), template))
    else:
        parser.keep(rest)  # the start of the next event
    return found


def _plain_run(
    parser: SSEParser, buffer: bytes, template: TextTemplate, head: bytes, tail: bytes
) -> list[str | bytes | SSEEvent] | None:
    """The usual read: the buffer starts with a chunk in the template's envelope, and its
    complete events up to the last such chunk's end are all in that envelope. None when the
    buffer has another shape (the general path in `feed` reads it).

    It cuts at the short event boundary and then checks the whole read at once, by
    putting the envelopes back around the cut texts and comparing: C-level calls only,
    about half the cost of splitting at the whole separator (tail + head), which CPython
    searches for with an algorithm it sets up again for every occurrence.
    """
    if not buffer.startswith(head):
        return None
    end = buffer.rfind(tail)
    if end < len(head):
        return None
    prefix, suffix = template.prefix, template.suffix
    events = buffer[: end + len(tail)]
    pieces = events[len(head) - len(prefix) : end + len(suffix)].split(b"\n\ndata: ")
    texts = list(map(getitem, pieces, repeat(slice(len(prefix), -len(suffix)))))
    if head + (tail + head).join(texts) + tail != events:
        return None  # not every event is in the envelope
    text = _run_text(texts)
    if text is None:
        return None
    found: list[str | bytes | SSEEvent] = [text] if text else []
    rest = buffer[end + len(tail) :]
    if b"\n\n" in rest:
        found.extend(_texts_of(parser.feed_batch(rest), template))
    else:
        parser.keep(rest)  # the start of the next event
    return found


def _run_text(middles: list[bytes]) -> str | None:
    """The joined texts of a run, when every piece is the inside of a JSON string."""
    run = b"".join(middles)
    if b'"' in run:
        return None
    try:
        if b"\\" not in run and b"\n" not in run:
            return run.decode()
        if b"\\u" not in run and not any(map(bytes.endswith, middles, repeat(b"\\"))):
            # Every escape is whole inside its piece, so the pieces decode as one string.
            return orjson.loads(b'"' + run + b'"')
        # Every quote here is ours, so N strings parse only if no piece ended in an escape.
        texts = orjson.loads(b'["' + b'","'.join(middles) + b'"]')
    except (orjson.JSONDecodeError, UnicodeDecodeError):
        return None
    return "".join(texts) if len(texts) == len(middles) else None


def _texts_of(items: list[bytes | SSEEvent], template: TextTemplate) -> list[str | bytes | SSEEvent]:
    found: list[str | bytes | SSEEvent] = []
    for item in items:
        text = template.text_of(item) if type(item) is bytes else None
        found.append(item if text is None else text)
    return found
