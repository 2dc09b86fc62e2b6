"""The process's own channel hands other workers' batches to this process's sockets, and a
malformed message or a failed read does not stop it."""

from __future__ import annotations

import asyncio

from channels.layers import InMemoryChannelLayer

from playground.chat import generation, hub


async def test_other_workers_batches_reach_the_sockets_here_even_after_a_bad_message(monkeypatch):
    layer = InMemoryChannelLayer()
    monkeypatch.setattr(generation, "get_channel_layer", lambda: layer)
    monkeypatch.setattr(generation, "SERVE_RETRY_S", 0)
    channel = await layer.new_channel()
    got: asyncio.Queue = asyncio.Queue()
    hub.subscribe(41, got.put_nowait)
    server = asyncio.ensure_future(generation._serve(channel))
    try:
        await layer.send(channel, {"type": "chat.relay", "origin": "elsewhere", "conversation": 41})  # no events
        delta = {"type": "delta", "message": 7, "seq": 1, "text": "Hi"}
        await layer.send(channel, generation._batch(41, [delta]) | {"origin": "elsewhere"})
        mine = {"type": "delta", "message": 8, "seq": 1, "text": "mine"}
        await layer.send(channel, generation._batch(41, [mine]))  # this process's own: already sent here
        await layer.send(channel, generation._batch(41, [delta | {"seq": 2}]) | {"origin": "elsewhere"})
        assert await asyncio.wait_for(got.get(), 10) == delta
        assert await asyncio.wait_for(got.get(), 10) == delta | {"seq": 2}
    finally:
        server.cancel()
        hub.unsubscribe(41, got.put_nowait)
