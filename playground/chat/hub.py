"""In-process fan-out of a conversation's live events to the sockets watching it.

Deltas go straight to the sockets of this process, which is an order of magnitude faster
than a channel-layer message per frame; other workers' batches arrive on this process's
channel and are handed on here too (see generation._serve).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Listener = Callable[[dict[str, Any]], None]

_listeners: dict[int, set[Listener]] = defaultdict(set)


def subscribe(conversation_id: int, listener: Listener) -> None:
    _listeners[conversation_id].add(listener)


def unsubscribe(conversation_id: int, listener: Listener) -> None:
    listeners = _listeners.get(conversation_id)
    if listeners is not None:
        listeners.discard(listener)
        if not listeners:
            del _listeners[conversation_id]


def publish(conversation_id: int, event: dict[str, Any]) -> None:
    """Hand `event` to every local listener; each must only queue it, never block."""
    for listener in list(_listeners.get(conversation_id, ())):
        listener(event)


def watched(conversation_id: int) -> bool:
    return bool(_listeners.get(conversation_id))


def any_watched() -> bool:
    return bool(_listeners)
