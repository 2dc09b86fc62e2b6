"""What one socket is sent of the answers it watches: each delta once, in order, none after the end.

Deltas reach a socket from this process and, in batches, from other workers, and may overlap a
snapshot (the text so far, sent when a page connects mid-answer). `SocketStream.admit` takes
every event in arrival order and returns what the socket should get of it. No I/O: the
consumer feeds it and sends what comes out.
"""

from __future__ import annotations

from typing import Any

Event = dict[str, Any]


class SocketStream:
    def __init__(self, streaming: list[int]) -> None:
        # Per answer: the highest seq this socket has been sent.
        self.have: dict[int, int] = {}
        # Deltas of answers that were already streaming at connect, held until their snapshot.
        self.held: dict[int, list[Event]] = {message_id: [] for message_id in streaming}
        self.finished: set[int] = set()

    def admit(self, event: Event) -> list[Event]:
        kind, message_id = event.get("type"), event.get("message")
        if message_id in self.finished:
            return []  # a late batch or snapshot must not show an ended answer as partial
        if kind == "started":
            if message_id in self.have:
                return []  # a batch from another worker can arrive after this socket caught up
            return self._caught_up(event, message_id, 0)  # from the first delta on: nothing missed
        if kind == "snapshot":
            if event["seq"] <= self.have.get(message_id, -1):
                return []  # this socket already has all of it
            return self._caught_up(event, message_id, event["seq"])
        if kind == "delta":
            if message_id in self.held:
                self.held[message_id].append(event)
                return []
            return [event] if self._fresh(event) else []
        if kind == "done":
            self.held.pop(message_id, None)
            self.have.pop(message_id, None)
            self.finished.add(message_id)
        return [event]

    def _caught_up(self, event: Event, message_id: int, seq: int) -> list[Event]:
        self.have[message_id] = seq
        held = self.held.pop(message_id, [])
        return [event, *(delta for delta in held if self._fresh(delta))]

    def _fresh(self, delta: Event) -> bool:
        have = self.have.get(delta["message"])
        if have is not None and delta["seq"] <= have:
            return False
        self.have[delta["message"]] = delta["seq"]
        return True
