"""SSE parsing speed: typical chat-completion chunks, fed in network-sized reads."""

from __future__ import annotations

import time

import orjson

from playground.upstream.client import _sse_events
from playground.upstream.sse import SSEParser

EVENTS = 200_000
READ_SIZE = 4096


def typical_stream(count: int) -> bytes:
    """A chat stream as OpenAI-compatible servers send it: one small JSON chunk per token."""
    pieces = []
    for n in range(count):
        chunk = {
            "id": "chatcmpl-9f8e7d6c5b4a",
            "object": "chat.completion.chunk",
            "created": 1732350000,
            "model": "meta-llama/Llama-3.3-70B-Instruct",
            "system_fingerprint": "fp_44709d6fcb",
            "choices": [{"index": 0, "delta": {"content": f" word{n % 97}"}, "logprobs": None, "finish_reason": None}],
        }
        pieces.append(b"data: " + orjson.dumps(chunk) + b"\n\n")
    pieces.append(b"data: [DONE]\n\n")
    return b"".join(pieces)


def reads(raw: bytes) -> list[bytes]:
    return [raw[i : i + READ_SIZE] for i in range(0, len(raw), READ_SIZE)]


def best_of(runs: int, work) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def run() -> dict[str, float]:
    chunks = reads(typical_stream(EVENTS))

    def parse_and_decode() -> None:
        parser = SSEParser()
        count = 0
        for chunk in chunks:
            for event in parser.feed(chunk):
                if event.data != b"[DONE]":
                    orjson.loads(event.data)
                    count += 1
        assert count == EVENTS

    def parse_to_typed_events() -> None:
        parser = SSEParser()
        count = 0
        for chunk in chunks:
            for event in parser.feed(chunk):
                count += len(_sse_events(event, "delta"))
        assert count == EVENTS + 1

    return {
        "sse_parser_events_per_s": round(EVENTS / best_of(5, parse_and_decode)),
        "sse_typed_events_per_s": round(EVENTS / best_of(5, parse_to_typed_events)),
    }


if __name__ == "__main__":
    print(run())
