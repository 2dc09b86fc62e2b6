"""Calling the upstream client from synchronous code (views, management commands).

Under the ASGI server, synchronous views run in a worker thread and `async_to_sync` runs the
call on the server's own event loop, with the shared client. Elsewhere (commands, the test
client) the call gets an event loop of its own that ends with it, so the connections it
opened are closed before that loop goes away.
"""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import async_to_sync

from playground.upstream.client import close_clients, is_server_loop


def call_sync(function, *args: Any, **kwargs: Any) -> Any:
    async def call():
        try:
            return await function(*args, **kwargs)
        finally:
            loop = asyncio.get_running_loop()
            if not is_server_loop(loop):
                await close_clients(loop)

    return async_to_sync(call)()
