"""Reading a demo server-sent-event stream in tests: JSON events, comments, and whether it ended with [DONE]."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Stream:
    status: int
    headers: httpx.Headers
    events: list[dict[str, Any]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    done: bool = False
    # Every non-empty line, in order, to check what came first or last.
    lines: list[str] = field(default_factory=list)

    def choice_events(self, index: int = 0) -> list[dict[str, Any]]:
        return [choice for event in self.events for choice in event.get("choices", []) if choice["index"] == index]

    def chat_text(self, index: int = 0) -> str:
        return "".join(choice["delta"].get("content") or "" for choice in self.choice_events(index))

    def finish_reasons(self, index: int = 0) -> list[str]:
        return [choice["finish_reason"] for choice in self.choice_events(index) if choice["finish_reason"]]


def read_stream(client: httpx.Client, path: str, body: dict[str, Any]) -> Stream:
    with client.stream("POST", path, json={**body, "stream": True}) as response:
        stream = Stream(status=response.status_code, headers=response.headers)
        for line in response.iter_lines():
            if not line:
                continue
            assert not stream.done, f"{line!r} came after [DONE]"
            stream.lines.append(line)
            if line.startswith(":"):
                stream.comments.append(line[1:].strip())
            elif line == "data: [DONE]":
                stream.done = True
            else:
                assert line.startswith("data: "), line
                stream.events.append(json.loads(line.removeprefix("data: ")))
    return stream
