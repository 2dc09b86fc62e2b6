"""Two Daphne workers on PostgreSQL and a Redis of this module's own, behind a proxy that can
cut it off: sockets held idle, and Redis gone while answers stream.

In `make test`'s PostgreSQL pass, like test_two_workers.py.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async

from playground.chat.models import Message
from tests.chat.test_two_workers import (
    _start_worker,
    first_frame,
    frames_until_done,
    open_socket,  # noqa: F401 (a fixture)
    stop_workers,
    text_and_seqs,
    worker_env,
)
from tests.faults import RedisServer, TcpProxy

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

IDLE_S = float(__import__("os").environ.get("IDLE_S", 30))


@pytest.fixture(scope="module")
def redis_behind_proxy():
    server = RedisServer()
    server.start()
    proxy = TcpProxy(server.port)
    yield server, proxy
    proxy.close()
    server.close()


@pytest.fixture(scope="module")
def workers(django_db_setup, django_db_blocker, redis_behind_proxy):
    _, proxy = redis_behind_proxy
    env = worker_env(django_db_blocker, f"redis://127.0.0.1:{proxy.port}/0")
    started = [_start_worker(env), _start_worker(env)]
    yield [port for _, port, _ in started]
    stop_workers(started)


@pytest.fixture
def long_conversation(conversation):
    conversation.model = "demo-long"
    conversation.save()
    return conversation


async def still_open_after(socket, seconds: float) -> None:
    """The socket is still open after `seconds` (its closing ends the wait early)."""
    closed = asyncio.ensure_future(socket.wait_closed())
    done, _ = await asyncio.wait({closed}, timeout=seconds)
    closed.cancel()
    assert not done, f"The socket closed: {socket.close_code} {socket.close_reason}"


async def test_sockets_held_idle_for_30_s_stay_open_and_work(workers, conversation, open_socket):  # noqa: F811
    """redis-py 8's 5 s socket timeout closed every idle socket with 1011 about every 6 s."""
    port_a, port_b = workers
    sender = await open_socket(port_a, conversation)
    watcher = await open_socket(port_b, conversation, who="viewer")
    await asyncio.gather(still_open_after(sender, IDLE_S), still_open_after(watcher, IDLE_S))
    await sender.send(json.dumps({"type": "send", "text": "Still there?"}))
    sent, watched = await asyncio.gather(frames_until_done(sender), frames_until_done(watcher))
    assert text_and_seqs(watched)[0] == text_and_seqs(sent)[0] != ""
    await sender.close()
    await watcher.close()


async def test_redis_cut_off_mid_answer_drops_no_socket_and_the_relay_comes_back(
    workers,
    long_conversation,
    open_socket,  # noqa: F811
    redis_behind_proxy,
):
    """A watcher on the generating worker needs no Redis: it sees the whole answer through
    the outage. The watcher on the other worker keeps its socket and, once Redis is back,
    sees the next answer whole."""
    _, proxy = redis_behind_proxy
    port_a, port_b = workers
    sender = await open_socket(port_a, long_conversation)
    elsewhere = await open_socket(port_b, long_conversation, who="viewer")
    await sender.send(json.dumps({"type": "send", "text": "Tell me everything"}))
    _, before = await first_frame(sender, "delta")
    proxy.cut()
    try:
        sent = before + await frames_until_done(sender, timeout=60)
    finally:
        proxy.restore()
    message = await sync_to_async(Message.objects.get)(pk=sent[0]["message"])
    assert sent[-1]["status"] == "done" and message.content == text_and_seqs(sent)[0]

    # The other worker's socket is still open; its relay resumes by itself.
    long_conversation.model = "demo-chat"
    await sync_to_async(long_conversation.save)()
    async with asyncio.timeout(30):
        while True:  # a send relayed before the layer reconnected would not reach it: again
            await sender.send(json.dumps({"type": "send", "text": "And now?"}))
            again = await frames_until_done(sender)
            watched = await frames_of(elsewhere, again[-1]["message"], timeout=5)
            if watched is not None:
                break
    assert text_and_seqs(watched)[0] == text_and_seqs(again)[0] != ""
    await sender.close()
    await elsewhere.close()


async def frames_of(socket, message_id: int, timeout: float) -> list[dict] | None:
    """The frames of one answer up to its "done" (others are passed over), or None if its
    "done" does not come within `timeout` seconds."""
    frames = []
    try:
        async with asyncio.timeout(timeout):
            async for raw in socket:
                frame = json.loads(raw)
                if frame.get("message") == message_id:
                    frames.append(frame)
                    if frame["type"] == "done":
                        return frames
    except TimeoutError:
        return None
    raise AssertionError("The socket closed")
