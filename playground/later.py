"""Writes that must not be lost while the database is away: kept in memory and retried.

A finished answer's final save and its usage record were simply lost when the database was
unreachable at that moment (the person had seen the whole answer). Now such a write is kept
and retried every RETRY_S until it goes through; at most MAX_KEPT are kept per process (the
oldest is dropped, loudly, past that), and a worker asked to stop tries them once more.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.db import InterfaceError, OperationalError, close_old_connections

logger = logging.getLogger(__name__)

RETRY_S = 2.0
MAX_KEPT = 10_000

_kept: deque[tuple[str, Callable[[], object]]] = deque()
_retriers: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}


def keep(what: str, write: Callable[[], object]) -> None:
    """Retry `write` (a database write, run in the database thread) until it succeeds."""
    if len(_kept) >= MAX_KEPT:
        dropped, _ = _kept.popleft()
        logger.error("Too many writes waiting for the database; lost: %s", dropped)
    _kept.append((what, write))
    logger.warning("The database is unreachable; kept for later: %s", what)
    loop = asyncio.get_running_loop()
    if loop not in _retriers:
        _retriers[loop] = loop.create_task(_retry_all(loop))


def waiting() -> int:
    return len(_kept)


@sync_to_async
def _write(write: Callable[[], object]) -> None:
    close_old_connections()
    write()


async def flush() -> bool:
    """Try every kept write once, in order; stop at the first that fails because the
    database is away. True if none is left. A write the database refuses while it is there
    (a value it cannot store) would never go through: it is dropped, loudly."""
    while _kept:
        what, write = _kept[0]
        try:
            await _write(write)
        except (OperationalError, InterfaceError):
            return False
        except Exception:
            logger.exception("The database refused a kept write; lost: %s", what)
        else:
            logger.warning("Saved after the database came back: %s", what)
        _kept.popleft()
    return True


async def _retry_all(loop: asyncio.AbstractEventLoop) -> None:
    try:
        while not await flush():
            await asyncio.sleep(RETRY_S)
    finally:
        if _retriers.get(loop) is asyncio.current_task():
            del _retriers[loop]
