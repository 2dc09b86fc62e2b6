"""Two Daphne workers on PostgreSQL and a Redis of this module's own, behind a proxy that can
cut it off: sockets held idle, and Redis gone while answers stream.

In `make test`'s PostgreSQL pass, like test_two_workers.py.
"""

from __future__ import annotations

import asyncio
import io
import json
import signal

import pytest
from asgiref.sync import sync_to_async

from playground.chat.models import Message
from tests.chat.test_two_workers import (
    _start_worker,
    first_frame,
    frames_until_done,
    stop_workers,
    text_and_seqs,
    worker_env,
)
from tests.faults import RedisServer, TcpProxy

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

IDLE_S = 30


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


async def still_open_after(socket, seconds: float) -> None:
    """The socket is still open after `seconds` (its closing ends the wait early)."""
    closed = asyncio.ensure_future(socket.wait_closed())
    done, _ = await asyncio.wait({closed}, timeout=seconds)
    closed.cancel()
    assert not done, f"The socket closed: {socket.close_code} {socket.close_reason}"


async def test_sockets_held_idle_for_30_s_stay_open_and_work(workers, conversation, open_socket):
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
    open_socket,
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


# --- Owners and leases: a dead worker's answers end everywhere, a live worker's are left alone


@pytest.fixture
def start_workers(django_db_setup, django_db_blocker, redis_behind_proxy):
    """Start `count` workers of the test's own (the first will be killed or stopped), the
    first with `first_env` added: [(process, port), ...]."""
    _, proxy = redis_behind_proxy
    env = worker_env(django_db_blocker, f"redis://127.0.0.1:{proxy.port}/0")
    started = []

    def start(count: int = 2, **first_env: str):
        started.extend([_start_worker({**env, **first_env}), *(_start_worker(env) for _ in range(count - 1))])
        return [(process, port) for process, port, _ in started]

    yield start
    stop_workers(started)


async def saved_text(message_id: int, timeout: float = 10) -> str:
    """The answer's text in the database, once there is some."""
    async with asyncio.timeout(timeout):
        while True:
            content = await sync_to_async(Message.objects.values_list("content", flat=True).get)(pk=message_id)
            if content:
                return content
            await asyncio.sleep(0.1)  # polling a condition: the next checkpoint


async def test_when_the_generating_worker_is_killed_every_watcher_sees_the_answer_end(
    start_workers,
    long_conversation,
    open_socket,
):
    """Three workers; the one generating is killed. Its lease (10 s) runs out, a worker with
    sockets open marks the answer interrupted, with the text last saved, and watchers on both
    others see it end: no reload, no "Streaming…" for good."""
    (process_a, port_a), (_, port_b), (_, port_c) = start_workers(3)
    watchers = [await open_socket(port, long_conversation, who="viewer") for port in (port_b, port_c)]
    sender = await open_socket(port_a, long_conversation)
    await sender.send(json.dumps({"type": "send", "text": "Tell me everything"}))
    seen = [await first_frame(watcher, "delta") for watcher in watchers]
    checkpointed = await saved_text(seen[0][0]["message"])  # once a second while it streams
    process_a.kill()
    ended = await asyncio.gather(*(frames_until_done(watcher, timeout=25) for watcher in watchers))  # bound: 13 s
    message = await sync_to_async(Message.objects.get)(pk=seen[0][0]["message"])
    assert message.status == "interrupted" and message.error
    assert message.content.startswith(checkpointed)  # what was saved before the kill is kept
    for (_, before), frames in zip(seen, ended, strict=True):
        assert frames[-1]["status"] == "interrupted"
        # Watchers here were sent the text in batches (every 0.25 s), the database got it once
        # a second: one may be ahead of the other when the worker dies, but they never differ.
        shown = text_and_seqs(before + frames)[0]
        assert shown.startswith(message.content) or message.content.startswith(shown)


async def test_start_up_on_one_worker_leaves_another_workers_live_answer_alone(
    workers,
    long_conversation,
    open_socket,
):
    from django.core.management import call_command

    port_a, _ = workers
    sender = await open_socket(port_a, long_conversation)
    await sender.send(json.dumps({"type": "send", "text": "Tell me everything"}))
    delta, before = await first_frame(sender, "delta")
    await sync_to_async(call_command)("bootstrap", username="root", stdout=io.StringIO())  # a worker starting
    message = await sync_to_async(Message.objects.get)(pk=delta["message"])
    assert message.status == "streaming"
    frames = before + await frames_until_done(sender, timeout=60)
    assert frames[-1]["status"] == "done"
    await sender.close()


async def test_a_watcher_on_another_worker_follows_an_answer_nobody_watches_where_it_is_made(
    workers,
    long_conversation,
    open_socket,
):
    """The asker closed the tab: no socket on the generating worker. A teammate opening the
    conversation on another worker still gets the text so far and the rest, live."""
    port_a, port_b = workers
    sender = await open_socket(port_a, long_conversation)
    await sender.send(json.dumps({"type": "send", "text": "Tell me everything"}))
    delta, _ = await first_frame(sender, "delta")
    await sender.close()
    late = await open_socket(port_b, long_conversation, who="viewer")
    snapshot, _ = await first_frame(late, "snapshot")
    rest = await frames_until_done(late, timeout=60)
    tail, seqs = text_and_seqs(rest)
    assert seqs == list(range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(seqs)))
    message = await sync_to_async(Message.objects.get)(pk=delta["message"])
    assert message.status == "done" and snapshot["text"] + tail == message.content
    await late.close()


# --- SIGTERM: finish what streams, take nothing new, keep everything shown -------------------


async def frames_with_error(socket, timeout: float = 60) -> tuple[list[dict], list[str]]:
    frames, said = [], []
    async with asyncio.timeout(timeout):
        async for raw in socket:
            frame = json.loads(raw)
            (said.append(frame["error"]) if frame["type"] == "error" else frames.append(frame))
            if frame["type"] == "done":
                return frames, said
    raise AssertionError("The socket closed before the answer ended")


async def test_sigterm_lets_the_streaming_answer_finish_and_takes_no_new_one(
    start_workers,
    long_conversation,
    open_socket,
):
    (process_a, port_a), (_, port_b) = start_workers()
    watcher = await open_socket(port_b, long_conversation, who="viewer")
    sender = await open_socket(port_a, long_conversation)
    await sender.send(json.dumps({"type": "send", "text": "Tell me everything"}))
    _, before = await first_frame(sender, "delta")
    process_a.send_signal(signal.SIGTERM)
    await sender.send(json.dumps({"type": "send", "text": "One more thing"}))
    frames, said = await frames_with_error(sender)
    watched = await frames_until_done(watcher, timeout=60)
    assert any("restarting" in text for text in said)
    assert frames[-1]["status"] == "done" and watched[-1]["status"] == "done"
    message = await sync_to_async(Message.objects.get)(pk=frames[-1]["message"])
    assert message.status == "done" and message.content == text_and_seqs(before + frames)[0]
    assert await sync_to_async(Message.objects.count)() == 2  # the second question was not taken
    await asyncio.to_thread(process_a.wait, 30)  # and then it stops
    await watcher.close()


async def test_sigterm_past_the_grace_period_keeps_every_word_shown(
    start_workers,
    long_conversation,
    open_socket,
):
    """kill -9 loses up to a second of text; SIGTERM must not: the answer ends interrupted
    with all of the text its watchers saw."""
    (process_a, port_a), (_, port_b) = start_workers(SHUTDOWN_GRACE_S="0.5")
    watcher = await open_socket(port_b, long_conversation, who="viewer")
    sender = await open_socket(port_a, long_conversation)
    await sender.send(json.dumps({"type": "send", "text": "Tell me everything"}))
    _, before = await first_frame(sender, "delta")
    process_a.send_signal(signal.SIGTERM)
    frames = before + await frames_until_done(sender, timeout=30)
    assert frames[-1]["status"] == "interrupted"
    message = await sync_to_async(Message.objects.get)(pk=frames[-1]["message"])
    shown = text_and_seqs(frames)[0]
    assert message.status == "interrupted" and message.content == shown != ""
    watched = await frames_until_done(watcher, timeout=30)
    assert watched[-1]["status"] == "interrupted" and text_and_seqs(watched)[0] == shown
    await asyncio.to_thread(process_a.wait, 30)


# --- The database away when an answer ends ----------------------------------------------------


async def test_an_answer_that_ends_while_the_database_is_away_is_saved_when_it_is_back(
    django_db_setup,
    django_db_blocker,
    redis_behind_proxy,
    long_conversation,
    open_socket,
):
    """It was lost entirely (540 characters seen, 0 kept), with its usage record."""
    from django.db import connection

    from playground.usage.models import UsageRecord

    _, redis_proxy = redis_behind_proxy
    env = worker_env(django_db_blocker, f"redis://127.0.0.1:{redis_proxy.port}/0")
    database_port = int(connection.settings_dict["PORT"] or 5432)
    database = TcpProxy(database_port)
    env["DATABASE_URL"] = env["DATABASE_URL"].replace(f":{database_port}/", f":{database.port}/")
    started = [_start_worker(env)]
    try:
        sender = await open_socket(started[0][1], long_conversation)
        await sender.send(json.dumps({"type": "send", "text": "Tell me everything"}))
        _, before = await first_frame(sender, "delta")
        database.cut()
        frames = before + await frames_until_done(sender, timeout=60)
        assert frames[-1]["status"] == "done" and "Not saved yet" in frames[-1]["notice"]
        shown = text_and_seqs(frames)[0]
        database.restore()
        message_id = frames[-1]["message"]

        def saved() -> bool:
            message = Message.objects.get(pk=message_id)
            return message.status == "done" and message.content == shown

        async with asyncio.timeout(30):
            while not await sync_to_async(saved)():
                await asyncio.sleep(0.2)  # polling a condition: the worker retries every 2 s
        records = await sync_to_async(UsageRecord.objects.filter(endpoint="chat").count)()
        assert records == 1
        await sender.close()
    finally:
        stop_workers(started)
        database.close()
