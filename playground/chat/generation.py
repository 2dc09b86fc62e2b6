"""The generation task: streams one answer from the upstream, independent of any socket.

It coalesces tokens into deltas about every 40 ms (more under heavy load, see
coalesce_window), numbers them (`seq`), publishes them to
this process's sockets (hub) and, in batches, to other processes (channel layer group). The
text is saved at the end, and once a second meanwhile by one task for all of a process's
answers (_checkpoint_all). Stop cancels the task; whatever
arrived is kept. Closing a tab does not stop it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import DataError, IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from playground import later, upstream
from playground.chat import hub
from playground.chat.models import ANSWER_LEASE, INTERRUPTED_TEXT, Message, Status
from playground.upstream import errors
from playground.upstream.events import (
    Finish,
    Logprobs,
    References,
    Refusal,
    Retrying,
    TextDelta,
    ToolCallAccumulator,
    ToolCallDelta,
    storable,
)

logger = logging.getLogger(__name__)

COALESCE_S = 0.04
# Under load the window widens: with more than STREAMS_PER_STEP answers streaming in this
# process it grows in proportion, up to MAX_COALESCE_S, so the frames a process sends stay
# within what Daphne can send (see bench/RESULTS.md, streams_1000).
STREAMS_PER_STEP = 100
MAX_COALESCE_S = 0.5
CHECKPOINT_S = 1.0
UNSAVED = "Not saved yet: the database cannot be reached. The answer is kept and saved when it is back."
# Leases (models.ANSWER_LEASE, 10 s) are renewed this often; orphans are looked for this
# often by every process with sockets open: a dead owner's answer ends within 15 s.
RENEW_S = 3.0
SWEEP_S = 3.0
RELAY_S = 0.25
SERVE_RETRY_S = 1.0  # after the channel layer failed a read
# Markdown of a streaming answer is re-rendered at most this often, and never more often than
# 20 times its own rendering time, so that the cost stays linear in the answer's length.
RENDER_S = 1.0
RENDER_COST_FACTOR = 20
RENDER_SHARE = 0.2
MAX_LOGPROB_TOKENS = 4096  # kept per answer when logprobs were asked for
PROCESS = f"{os.uname().nodename}:{os.getpid()}"


def group_name(conversation_id: int) -> str:
    return f"chat-{conversation_id}"


@dataclass
class Live:
    """A generation running in this process."""

    message_id: int
    conversation_id: int
    text: str = ""
    seq: int = 0
    task: asyncio.Task | None = None
    pending: list[str] = field(default_factory=list)
    relay: list[dict[str, Any]] = field(default_factory=list)
    # False with the in-memory channel layer: then every socket is in this process.
    relaying: bool = True
    next_render: float = 0.0
    saved_seq: int = 0  # the seq of the text last written to the database
    ended: bool = False  # the final save is under way: no more checkpoints
    shut_down: bool = False  # cancelled because the server is stopping, not by Stop

    def publish(self, event: dict[str, Any]) -> None:
        """To this process's sockets now; to other processes' with the next batch."""
        hub.publish(self.conversation_id, event)
        if self.relaying:
            self.relay.append(event)


LIVE: dict[int, Live] = {}
_checkpointers: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}
_sweepers: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}
# This process's own channel, in the group of every conversation it generates in: it answers
# snapshot requests and Stop from other workers whether or not a socket is open here.
_servers: dict[asyncio.AbstractEventLoop, tuple[str, asyncio.Task]] = {}
_membership_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}


def snapshot(message_id: int) -> dict[str, Any] | None:
    """The text so far and its seq, for a socket joining mid-stream (None if not live here)."""
    live = LIVE.get(message_id)
    if live is None:
        return None
    # Text not yet flushed belongs to the next delta, so it is not part of the snapshot.
    return {"type": "snapshot", "message": message_id, "seq": live.seq, "text": live.text}


def coalesce_window() -> float:
    """Seconds between two deltas of one answer: COALESCE_S, more with many answers live."""
    return min(MAX_COALESCE_S, COALESCE_S * max(1.0, len(LIVE) / STREAMS_PER_STEP))


def _spans_processes() -> bool:
    """Whether the channel layer reaches other processes (the in-memory one does not, and
    its group sends cost time in proportion to all its groups)."""
    return not isinstance(get_channel_layer(), InMemoryChannelLayer)


def start(
    message_id: int,
    conversation_id: int,
    request: dict[str, Any],
    call: tuple,
    *,
    endpoint: str = "chat",
    announce: dict[str, Any] | None = None,
) -> Live:
    """Start the task for an assistant message that services.message_send created.

    `announce` (the "started" event) goes to this process's sockets now and leads the first
    batch to other processes, so watchers everywhere learn of the answer before its text.
    """
    live = Live(message_id=message_id, conversation_id=conversation_id, relaying=_spans_processes())
    _register(live, announce)
    live.task = asyncio.get_running_loop().create_task(_run(live, _stream_of(endpoint), request, call))
    return live


def start_before_rows(
    conversation_id: int,
    request: dict[str, Any],
    call: tuple,
    rows: Callable[[], Awaitable[tuple[int, dict[str, Any]]]],
    *,
    endpoint: str = "chat",
) -> asyncio.Task:
    """Start the upstream call at once and write the answer's rows meanwhile: `rows()`
    writes them and gives the answer's id and its "started" event. The database work then
    overlaps the upstream's own time to first token instead of coming before it.

    If writing the rows fails, the upstream call is cancelled and nothing is published.
    """
    live = Live(message_id=0, conversation_id=conversation_id, relaying=_spans_processes())
    live.task = asyncio.get_running_loop().create_task(_run(live, _stream_of(endpoint), request, call, rows=rows))
    return live.task


# --- Stopping the server (SIGTERM) ---------------------------------------------------------

_draining = False  # SIGTERM came: finish what streams, take nothing new
_shutdown_installed = False
EXIT_AFTER_DRAIN_S = 5.0


def accepting() -> bool:
    """False once the server was asked to stop: new answers go to another worker."""
    return not _draining


def install_shutdown() -> None:
    """On SIGTERM, drain before the server's own handler stops it (once per process)."""
    global _shutdown_installed
    if _shutdown_installed:
        return
    _shutdown_installed = True
    loop, pid = asyncio.get_running_loop(), os.getpid()
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame) -> None:
        if os.getpid() == pid and loop.is_running():
            loop.call_soon_threadsafe(lambda: loop.create_task(_drain(previous, signum)))
        else:  # a forked child, or a loop that is gone (tests): stop as before
            _stop_as_before(previous, signum)

    signal.signal(signal.SIGTERM, on_term)


def _stop_as_before(previous, signum: int) -> None:
    if callable(previous):
        previous(signum, None)
    else:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


async def _drain(previous, signum: int) -> None:
    """Stop taking answers, save every live answer's text now, let them finish within
    settings.SHUTDOWN_GRACE_S, end the rest as interrupted (text kept), then stop."""
    global _draining
    if _draining:
        return
    _draining = True
    live = [each for each in LIVE.values() if not each.ended]
    logger.warning("Stopping: %d answers streaming, %s s to finish", len(live), settings.SHUTDOWN_GRACE_S)
    try:
        await _save_texts([(each.text, each.seq, each.message_id) for each in live])
    except Exception:  # their final saves write it anyway
        logger.warning("Could not save the streaming answers before stopping", exc_info=True)
    tasks = {each.task for each in LIVE.values() if each.task is not None}
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=settings.SHUTDOWN_GRACE_S)
        for each in list(LIVE.values()):
            if each.task in pending:
                each.shut_down = True
                each.task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=10)  # their final saves
    if not await later.flush():
        logger.error("Stopping with %d writes the database did not take; they are lost", later.waiting())
    # Everything is saved. Daphne's own stop can wait on open sockets for good (seen here
    # about one time in three), so the process ends at the latest EXIT_AFTER_DRAIN_S later.
    threading.Timer(EXIT_AFTER_DRAIN_S, os._exit, args=(0,)).start()
    _stop_as_before(previous, signum)


def _stream_of(endpoint: str):
    return upstream.stream_completion if endpoint == "completions" else upstream.stream_chat


def _register(live: Live, announce: dict[str, Any] | None) -> None:
    """The answer is live in this process from now on: found by Stop and snapshots, saved
    by the checkpoint task, announced to the sockets."""
    loop = asyncio.get_running_loop()
    live.next_render = loop.time() + RENDER_S
    LIVE[live.message_id] = live
    install_shutdown()
    if loop not in _checkpointers:
        _checkpointers[loop] = loop.create_task(_checkpoint_all(loop))
    if live.relaying:
        loop.create_task(_serve_conversation(live.conversation_id))
    if announce is not None:
        live.publish(announce)


def cancel_local(message_id: int, conversation_id: int) -> bool:
    """Stop the answer if it is generated here, and of that conversation (never by id alone)."""
    live = LIVE.get(message_id)
    if live is None or live.conversation_id != conversation_id or live.task is None or live.task.done():
        return False
    live.task.cancel()
    return True


async def cancel(message_id: int, conversation_id: int) -> None:
    """Stop a generation wherever it runs: here directly, elsewhere through the channel layer."""
    if not cancel_local(message_id, conversation_id):
        layer = get_channel_layer()
        stop = {"type": "chat.stop", "message": message_id, "conversation": conversation_id}
        await layer.group_send(group_name(conversation_id), stop)


def _flush(live: Live) -> None:
    if not live.pending:
        return
    text = storable("".join(live.pending))  # what is shown is what is saved
    live.pending.clear()
    live.text += text
    live.seq += 1
    event = {"type": "delta", "message": live.message_id, "seq": live.seq, "text": text}
    live.publish(event)


async def _render(live: Live) -> None:
    """Send the sanitised markdown of the text so far, for pages to swap in (throttled)."""
    from playground.chat.markdown import render_markdown

    loop = asyncio.get_running_loop()
    if loop.time() < live.next_render or not hub.watched(live.conversation_id) or not live.text:
        return
    started = time.perf_counter()
    text = live.text
    html = await asyncio.to_thread(render_markdown, text)
    cost = time.perf_counter() - started
    # With many answers streaming at once, each renders less often: together they spend
    # at most RENDER_SHARE of one core on renders that are replaced anyway.
    live.next_render = loop.time() + max(RENDER_S, RENDER_COST_FACTOR * cost, cost * len(LIVE) / RENDER_SHARE)
    # Deltas that arrived while it rendered follow it as plain text ("tail"), so that a render
    # slower than the deltas still lands; "inline": the rendered text ended mid-block, so what
    # follows continues its last block.
    event = {
        "type": "render",
        "message": live.message_id,
        "seq": live.seq,
        "html": html,
        "tail": live.text[len(text) :],
        "inline": not text.endswith("\n\n"),
    }
    live.publish(event)


def _batch(conversation_id: int, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Events for the other workers' sockets on the conversation, as one channel-layer message."""
    return {"type": "chat.relay", "origin": PROCESS, "conversation": conversation_id, "events": events}


async def _relay(live: Live) -> None:
    """Send what other processes' sockets have not seen yet, as one channel-layer message."""
    if not live.relay:
        return
    events, live.relay = live.relay, []
    try:
        await get_channel_layer().group_send(group_name(live.conversation_id), _batch(live.conversation_id, events))
    except Exception:  # a full or unreachable layer must not break the answer itself
        logger.warning("Could not relay %d events of message %s", len(events), live.message_id, exc_info=True)


def _save_now(message_id: int, fields: dict[str, Any]) -> None:
    Message.objects.filter(pk=message_id).update(**fields)


@sync_to_async
def _save_texts(rows: list[tuple[str, int, int]]) -> None:
    """(content, seq, id) of several answers, in one transaction and one statement."""
    close_old_connections()
    table = connection.ops.quote_name(Message._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET content = %s, seq = %s WHERE id = %s", rows)


async def _checkpoint_all(loop: asyncio.AbstractEventLoop) -> None:
    """Every CHECKPOINT_S, the text of every answer streaming in this process that grew.

    One task and one trip to the database thread for all of them: with a hundred answers
    streaming, a save each would queue a hundred trips a second ahead of every page load
    and send in that one thread.
    """
    next_renewal = loop.time() + RENEW_S
    try:
        while LIVE:
            await asyncio.sleep(CHECKPOINT_S)
            if loop.time() >= next_renewal:
                next_renewal = loop.time() + RENEW_S
                try:
                    await _renew([live.message_id for live in list(LIVE.values()) if not live.ended])
                except Exception:  # the lease has 10 s; the next renewal may get through
                    logger.warning("Could not renew the leases of %d streaming answers", len(LIVE), exc_info=True)
            rows = [
                (live.text, live.seq, live.message_id)
                for live in list(LIVE.values())
                if not live.ended and live.seq > live.saved_seq
            ]
            if not rows:
                continue
            try:
                await _save_texts(rows)
            except Exception:  # the next round, or the answer's final save, writes it
                logger.warning("Could not save the text of %d streaming answers", len(rows), exc_info=True)
                continue
            for _text, seq, message_id in rows:
                live = LIVE.get(message_id)
                if live is not None:
                    live.saved_seq = max(live.saved_seq, seq)
    finally:
        if _checkpointers.get(loop) is asyncio.current_task():
            del _checkpointers[loop]


@sync_to_async
def _renew(message_ids: list[int]) -> None:
    close_old_connections()
    until = timezone.now() + ANSWER_LEASE
    Message.objects.filter(pk__in=message_ids, status=Status.STREAMING).update(lease_until=until)


@sync_to_async
def _interrupt_orphans() -> list[tuple[int, int, int]]:
    """Mark answers whose owner is gone interrupted: (id, conversation, seq) of those this
    process marked (a row another process marked first is not counted twice)."""
    from playground.chat.services import orphans

    close_old_connections()
    marked = []
    for message_id, conversation_id, seq in orphans().values_list("pk", "conversation_id", "seq"):
        if message_id in LIVE:
            continue  # ours, alive: its renewal was late (a busy moment); the next one comes
        changed = (
            orphans().filter(pk=message_id).update(status=Status.INTERRUPTED, error=INTERRUPTED_TEXT, lease_until=None)
        )
        if changed:
            marked.append((message_id, conversation_id, seq))
    return marked


def watching_started() -> None:
    """A socket opened in this process: look for orphaned answers while any socket is open."""
    loop = asyncio.get_running_loop()
    if loop not in _sweepers:
        _sweepers[loop] = loop.create_task(_sweep(loop))


def watching_ended() -> None:
    """A socket closed: with none left and nothing generating, stop looking."""
    loop = asyncio.get_running_loop()
    if not hub.any_watched() and not LIVE and (sweeper := _sweepers.pop(loop, None)) is not None:
        sweeper.cancel()


async def _sweep(loop: asyncio.AbstractEventLoop) -> None:
    """Every SWEEP_S, end the answers whose owner died, for every watcher on every worker."""
    try:
        while hub.any_watched() or LIVE:
            await asyncio.sleep(SWEEP_S)
            try:
                marked = await _interrupt_orphans()
            except Exception:  # the database is away: the next round tries again
                logger.warning("Could not look for answers whose worker stopped", exc_info=True)
                continue
            for message_id, conversation_id, seq in marked:
                done = {
                    "type": "done",
                    "message": message_id,
                    "seq": seq,
                    "status": str(Status.INTERRUPTED),
                    "error": INTERRUPTED_TEXT,
                }
                hub.publish(conversation_id, done)
                if _spans_processes():
                    try:
                        layer = get_channel_layer()
                        await layer.group_send(group_name(conversation_id), _batch(conversation_id, [done]))
                    except Exception:  # pages elsewhere learn it on their next reconnect
                        logger.warning("Could not tell other workers that %s was interrupted", message_id)
    finally:
        if _sweepers.get(loop) is asyncio.current_task():
            del _sweepers[loop]


def _membership_lock(loop: asyncio.AbstractEventLoop) -> asyncio.Lock:
    """Joining and leaving groups one at a time, so a leave never undoes a join made meanwhile."""
    return _membership_locks.setdefault(loop, asyncio.Lock())


async def watch(conversation_id: int) -> None:
    """A socket of this process opened on the conversation (after subscribing to the hub):
    other workers' batches for it reach this process's channel, and the hub hands them on."""
    watching_started()
    if _spans_processes():
        await _serve_conversation(conversation_id)


async def unwatch(conversation_id: int) -> None:
    """A socket of this process closed (after unsubscribing from the hub)."""
    watching_ended()
    if _spans_processes():
        await _leave_conversation(asyncio.get_running_loop(), conversation_id)


async def _serve_conversation(conversation_id: int) -> None:
    """Put this process's own channel in the conversation's group (made on first use)."""
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    async with _membership_lock(loop):
        if loop not in _servers:
            channel = await layer.new_channel()
            _servers[loop] = (channel, loop.create_task(_serve(channel)))
        try:
            await layer.group_add(group_name(conversation_id), _servers[loop][0])
        except Exception:
            logger.warning("Could not join conversation %s's group", conversation_id, exc_info=True)


async def _serve(channel: str) -> None:
    """This process's part in the conversations it generates in or has sockets on: other
    workers' batches go to the sockets here; snapshot requests and Stops are answered for
    the answers generated here."""
    layer = get_channel_layer()
    while True:
        try:
            await _serve_one(layer, await layer.receive(channel))
        except asyncio.CancelledError:
            raise
        except Exception:  # the layer is away, or a message is malformed: keep serving
            logger.warning("Could not serve a message on this process's channel", exc_info=True)
            await asyncio.sleep(SERVE_RETRY_S)


async def _serve_one(layer, message: dict[str, Any]) -> None:
    kind, conversation_id = message.get("type"), message.get("conversation")
    if kind == "chat.relay":
        if message.get("origin") != PROCESS:
            for event in message["events"]:
                hub.publish(conversation_id, event)
    elif kind == "chat.sync":
        for live in list(LIVE.values()):
            if live.conversation_id == conversation_id and (found := snapshot(live.message_id)) is not None:
                await layer.send(message["reply_to"], {"type": "chat.snapshot", "event": found})
    elif kind == "chat.stop":
        cancel_local(message["message"], conversation_id)


async def _leave_conversation(loop: asyncio.AbstractEventLoop, conversation_id: int) -> None:
    """Leave the conversation's group once no answer of it is generated here and no socket
    here watches it (and, with nothing at all, stop serving)."""
    async with _membership_lock(loop):
        server = _servers.get(loop)
        here = any(live.conversation_id == conversation_id for live in LIVE.values())
        if server is None or here or hub.watched(conversation_id):
            return
        channel, task = server
        try:
            await get_channel_layer().group_discard(group_name(conversation_id), channel)
        except Exception:
            logger.warning("Could not leave conversation %s's group", conversation_id, exc_info=True)
        if not LIVE and not hub.any_watched() and _servers.get(loop) == server:
            del _servers[loop]
            task.cancel()


async def _first_then(first: asyncio.Future, rest: AsyncIterator) -> AsyncIterator:
    """The event in the done future `first` (or its error), then the rest of the stream."""
    try:
        yield await first
    except StopAsyncIteration:
        return
    async for event in rest:
        yield event


async def _run(live: Live, stream, request: dict[str, Any], call: tuple, rows=None) -> None:
    target, context = call
    started = time.monotonic()
    async with stream(target, request, context=context) as answer:
        if rows is None:
            await _relay_answer(live, answer, answer, request, started)
            return
        first = await _first_while_rows(live, rows, answer)
        if first is None:
            return
        joined = _first_then(first, answer)
        try:
            await _relay_answer(live, joined, answer, request, started)
        finally:
            await joined.aclose()


async def _write_rows(live: Live, rows) -> None:
    live.message_id, announce = await rows()
    _register(live, announce)


def _failed(task: asyncio.Task) -> bool:
    return task.done() and not task.cancelled() and task.exception() is not None


async def _first_while_rows(live: Live, rows, events: AsyncIterator) -> asyncio.Future | None:
    """Read the answer's first event while another task writes its rows and announces it.

    The first event comes back in a done future (with the call's error if it failed before
    its first event, cancelled if it was stopped before it), or None when the rows could not
    be written: the call is cancelled and the sockets told. Reading in this task, not in one
    of its own, saves the first token a trip through the event loop; and the rows' task
    starts only after the request has left.
    """
    reader = asyncio.current_task()
    first = asyncio.get_running_loop().create_future()
    written = asyncio.ensure_future(_write_rows(live, rows))

    def on_written(task: asyncio.Task) -> None:
        if not first.done() and _failed(task):
            reader.cancel()  # stop the upstream call: there is no answer to put its text in

    written.add_done_callback(on_written)
    try:
        first.set_result(await anext(events))
    except asyncio.CancelledError:
        if written.done() and not written.cancelled() and not _failed(written):
            # Stop before the first token (it finds only answers whose rows are written):
            # _relay_answer ends the answer as stopped, as it does a Stop mid-stream.
            reader.uncancel()
            first.cancel()
        elif not _failed(written):
            written.cancel()  # cancelled from elsewhere (the server stopping)
            raise
        else:
            reader.uncancel()  # by on_written
    except Exception as error:  # the call failed (or ended empty): _relay_answer tells how
        first.set_exception(error)
    try:
        await written
    except Exception:
        if first.done():
            first.exception()  # the call's own outcome does not matter any more
        logger.exception("Could not save a message of conversation %s", live.conversation_id)
        hub.publish(live.conversation_id, {"type": "error", "error": "The message could not be saved; try again."})
        return None
    return first


@dataclass
class Choice:
    """What one choice of an answer brought besides its text (with n > 1, the others' text too)."""

    text: list[str] = field(default_factory=list)
    tools: ToolCallAccumulator = field(default_factory=ToolCallAccumulator)
    finish_reason: str = ""
    refusal: str = ""
    logprobs: list[dict[str, Any]] = field(default_factory=list)

    def fields(self) -> dict[str, Any]:
        """The message fields of this choice, storable whatever the provider sent."""
        return storable(
            {
                "finish_reason": self.finish_reason[:40],
                "tool_calls": [call.__dict__ for call in self.tools.result()] or None,
                "logprobs": self.logprobs or None,
            }
        )


def _take(choices: dict[int, Choice], event) -> None:
    """File a choice's event (text of choice 0 is streamed instead)."""
    if isinstance(event, TextDelta):
        choices.setdefault(event.index, Choice()).text.append(event.text)
    elif isinstance(event, ToolCallDelta):
        choices.setdefault(event.choice, Choice()).tools.add(event)
    elif isinstance(event, Finish):
        choices.setdefault(event.index, Choice()).finish_reason = event.reason
    elif isinstance(event, Refusal):
        choices.setdefault(event.index, Choice()).refusal += event.text
    elif isinstance(event, Logprobs):
        kept = choices.setdefault(event.index, Choice()).logprobs
        if len(kept) < MAX_LOGPROB_TOKENS:
            kept.extend(event.tokens[: MAX_LOGPROB_TOKENS - len(kept)])


def _details(first: Choice, references: Any, answer) -> dict[str, Any]:
    """The message fields of an answer besides its text and how it ended: its first
    choice's, its citations, and what the call learned of it (`answer` is its stream)."""
    fields = {
        **first.fields(),
        "references": storable(references),
        "system_fingerprint": storable(answer.fingerprint[:100]),
    }
    if (usage := answer.usage) is not None:
        fields.update(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            tokens_estimated=usage.estimated,
        )
    return fields


def _rendered(message_id: int, text: str, request: dict[str, Any]) -> dict[str, str]:
    """The `html` field of a finished answer's text; none when rendering fails (the page
    renders it on first view instead)."""
    from playground.chat.markdown import render_answer

    try:
        return {"html": render_answer(text, request)}
    except Exception:
        logger.exception("Could not render message %s", message_id)
        return {}


def _others(
    message_id: int, choices: dict[int, Choice], status: Status, request: dict[str, Any]
) -> list[dict[str, Any]]:
    """The message fields of the choices after the first (n > 1), in index order."""
    found = []
    for index in sorted(choices):
        if index == 0:
            continue
        choice = choices[index]
        text = storable("".join(choice.text))
        refused = f"The model refused: {choice.refusal}" if choice.refusal else ""
        found.append(
            {**choice.fields(), "content": text, "status": status, "error": storable(refused)}
            | _rendered(message_id, text, request)
        )
    return found


async def _relay_answer(live: Live, events: AsyncIterator, answer, request: dict[str, Any], started: float) -> None:
    """Deliver an answer's events as they come, and save it when it ends, however it ends.

    `answer` is the call's stream: once it has ended it gives the tokens its usage record
    counts, which the answer shows too. Choices after the first (n > 1) are saved beside it.
    """
    loop = asyncio.get_running_loop()
    last_relay = loop.time()
    last_flush = float("-inf")  # the first text goes out at once
    flush_handle: asyncio.TimerHandle | None = None

    def flush_now() -> None:
        nonlocal last_flush, flush_handle
        flush_handle = None
        _flush(live)
        last_flush = loop.time()

    first_token: float | None = None
    choices: dict[int, Choice] = {0: Choice()}
    references = None
    status, error_text = Status.DONE, ""
    try:
        async for event in events:
            if type(event) is TextDelta and event.index == 0:
                if first_token is None:
                    first_token = time.monotonic()
                live.pending.append(event.text)
                # At most one delta per window: text arriving sooner waits for a timer.
                # (Pausing the reads instead would not batch them: the upstream client
                # hands over each HTTP chunk, often one token, separately.)
                if flush_handle is None:
                    due = last_flush + coalesce_window()
                    if loop.time() >= due:
                        flush_now()
                    else:
                        flush_handle = loop.call_at(due, flush_now)
            elif isinstance(event, TextDelta | ToolCallDelta | Finish | Refusal | Logprobs):
                _take(choices, event)
            elif isinstance(event, References):
                references = event.data
            elif isinstance(event, Retrying):
                notice = {"type": "notice", "message": live.message_id, "text": event.message}
                live.publish(notice)
            now = loop.time()
            if now >= live.next_render:
                await _render(live)
            if now - last_relay >= RELAY_S:
                last_relay = now
                await _relay(live)
    except asyncio.CancelledError:
        status = Status.STOPPED
        if live.shut_down:
            status, error_text = Status.INTERRUPTED, INTERRUPTED_TEXT
    except errors.UpstreamError as error:
        status, error_text = Status.ERROR, error.message
    except Exception:
        logger.exception("Generation of message %s failed", live.message_id)
        status, error_text = Status.ERROR, "The answer failed inside Playground; what arrived is kept."
    finally:
        if flush_handle:
            flush_handle.cancel()
        _flush(live)
        live.ended = True
        first = choices[0]
        if first.refusal and not error_text:
            error_text = f"The model refused: {first.refusal}"
        fields = {
            "content": live.text,
            "seq": live.seq,
            "status": status,
            "error": storable(error_text),
            "ttft_ms": round((first_token - started) * 1000) if first_token else None,
            "total_ms": round((time.monotonic() - started) * 1000),
        }
        # Whatever fails in what the answer brought besides its text, the answer is saved
        # with its text and ends (a fault of ours must not leave it "streaming").
        others: list[dict[str, Any]] = []
        try:
            fields |= _details(first, references, answer)
        except Exception:
            logger.exception("Could not keep the details of message %s", live.message_id)
        try:
            fields |= await asyncio.shield(asyncio.to_thread(_rendered, live.message_id, live.text, request))
            others = await asyncio.shield(asyncio.to_thread(_others, live.message_id, choices, status, request))
        except Exception:
            logger.exception("Could not keep the other choices of message %s", live.message_id)
        done = {"type": "done", "message": live.message_id, "seq": live.seq, "status": str(status), "error": error_text}
        if others:
            done["choices"] = len(others) + 1
        try:
            await asyncio.shield(_save_answer(live.message_id, fields, others))
        except Exception:  # the database is away: keep the answer and save it when it is back
            later.keep(
                f"answer {live.message_id}", functools.partial(_save_now_or_less, live.message_id, fields, others)
            )
            done["notice"] = UNSAVED
        live.publish(done)
        await _relay(live)
        LIVE.pop(live.message_id, None)
        if live.relaying:
            await _leave_conversation(loop, live.conversation_id)
        if not LIVE:  # nothing left to checkpoint: no task lingers (a test's loop can close)
            checkpointer = _checkpointers.pop(loop, None)
            if checkpointer is not None:
                checkpointer.cancel()
            watching_ended()


def _save_answer_now(message_id: int, fields: dict[str, Any], others: list[dict[str, Any]]) -> None:
    """An answer's final save, and its other choices beside it, in one transaction."""
    from playground.chat.services import answer_choices_add

    with transaction.atomic():
        _save_now(message_id, fields)
        if others:
            answer_choices_add(answer_id=message_id, choices=others)


@sync_to_async
def _save_answer(message_id: int, fields: dict[str, Any], others: list[dict[str, Any]]) -> None:
    close_old_connections()
    _save_now_or_less(message_id, fields, others)


def _save_now_or_less(message_id: int, fields: dict[str, Any], others: list[dict[str, Any]]) -> None:
    """Save the answer; should the database refuse a value (not be away), save at least its
    text and how it ended, so that it never stays "streaming"."""
    try:
        _save_answer_now(message_id, fields, others)
    except (DataError, IntegrityError):
        logger.exception("The database refused a field of answer %s; saving its text and status only", message_id)
        _save_now(message_id, {name: fields[name] for name in ("content", "seq", "status", "error")})
