"""The chat websocket: send and stream, stop, join mid-stream, permissions and bad frames."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from asgiref.sync import sync_to_async

from playground.chat.models import Message
from tests.chat.conftest import frames_until_done
from tests.factories import ConversationFactory, MembershipFactory, MessageFactory
from tests.upstream.raw_server import RawServer, Reply, sse_chunks

pytestmark = pytest.mark.django_db(transaction=True)


async def answer_of(frames) -> tuple[str, list[int]]:
    deltas = [frame for frame in frames if frame["type"] == "delta"]
    return "".join(frame["text"] for frame in deltas), [frame["seq"] for frame in deltas]


async def saved(message_id: int) -> Message:
    return await sync_to_async(Message.objects.get)(pk=message_id)


async def test_send_streams_numbered_deltas_and_saves_the_answer(conversation, connect):
    socket, connected, _ = await connect(conversation)
    assert connected
    await socket.send_json_to({"type": "send", "text": "Show me a list please"})
    frames = await frames_until_done(socket)
    started = frames[0]
    assert started["type"] == "started"
    text, seqs = await answer_of(frames)
    assert seqs == list(range(1, len(seqs) + 1))
    message = await saved(started["message"])
    assert message.status == "done" and message.content == text
    assert "Show me a list please" in text and "- " in text
    assert message.completion_tokens and message.ttft_ms is not None
    assert frames[-1] == {"type": "done", "message": message.pk, "seq": seqs[-1], "status": "done", "error": ""}
    await socket.disconnect()


async def test_a_streaming_answer_is_saved_every_second_before_it_ends(conversation, connect):
    conversation.model = "demo-long"  # about 6 s of text in tests
    await sync_to_async(conversation.save)()
    socket, _, _ = await connect(conversation)
    await socket.send_json_to({"type": "send", "text": "Tell me everything"})
    started = await socket.receive_json_from(timeout=10)
    received = []
    loop = asyncio.get_running_loop()
    until = loop.time() + 2.5  # two checkpoints and a half
    while loop.time() < until:
        frame = await socket.receive_json_from(timeout=10)
        assert frame["type"] != "done", "the answer must still be streaming for this test"
        if frame["type"] == "delta":
            received.append(frame["text"])
    message = await saved(started["message"])
    assert message.status == "streaming"
    assert len(message.content) > 100 and "".join(received).startswith(message.content)
    assert message.seq >= 1
    await socket.send_json_to({"type": "stop", "message": started["message"]})
    await frames_until_done(socket)
    await socket.disconnect()


async def test_stop_keeps_the_partial_text(conversation, connect):
    conversation.model = "demo-long"
    await sync_to_async(conversation.save)()
    socket, _, _ = await connect(conversation)
    await socket.send_json_to({"type": "send", "text": "Tell me everything"})
    started = await socket.receive_json_from(timeout=10)
    first = await socket.receive_json_from(timeout=10)
    assert first["type"] == "delta"
    await socket.send_json_to({"type": "stop", "message": started["message"]})
    frames = [started, first, *await frames_until_done(socket)]
    text, _ = await answer_of(frames)
    message = await saved(started["message"])
    assert frames[-1]["status"] == "stopped"
    assert message.status == "stopped" and message.content == text and text
    assert len(text) < 10_000  # stopped long before the end of the 3,000-token answer
    await socket.disconnect()


async def test_a_second_socket_joins_mid_stream_with_no_gap_and_no_duplicate(conversation, connect):
    conversation.model = "demo-long"
    await sync_to_async(conversation.save)()
    first, _, _ = await connect(conversation)
    await first.send_json_to({"type": "send", "text": "Tell me everything"})
    frames_first = [await first.receive_json_from(timeout=10) for _ in range(5)]
    second, _, _ = await connect(conversation, who="viewer")  # a teammate watching
    snapshot = await second.receive_json_from(timeout=10)
    assert snapshot["type"] == "snapshot"
    frames_second = await frames_until_done(second)
    frames_first += await frames_until_done(first)
    whole, _ = await answer_of(frames_first)
    rest, seqs = await answer_of(frames_second)
    assert snapshot["text"] + rest == whole
    assert seqs == list(range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(seqs)))
    await first.disconnect()
    await second.disconnect()


async def test_closing_the_socket_does_not_stop_the_answer(conversation, connect):
    socket, _, _ = await connect(conversation)
    await socket.send_json_to({"type": "send", "text": "Hello"})
    started = await socket.receive_json_from(timeout=10)
    await socket.disconnect()
    watcher, _, _ = await connect(conversation)
    await frames_until_done(watcher)
    message = await saved(started["message"])
    assert message.status == "done" and message.content
    await watcher.disconnect()


async def test_a_non_member_cannot_connect(conversation, connect):
    _, connected, code = await connect(conversation, who="nonmember")
    assert not connected


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://localhost:8001",  # another app on another port of the same host
        "https://localhost",  # same host, other scheme
        "http://localhost.evil.example",
        "null",
        "",
    ],
)
async def test_a_page_of_another_origin_cannot_open_the_socket(conversation, connect, origin):
    _, connected, _ = await connect(conversation, origin=origin)
    assert not connected


async def test_a_user_who_must_still_change_a_one_time_password_cannot_open_the_socket(
    conversation, connect, team_with_roles
):
    member = team_with_roles.users["member"]
    member.must_change_password = True
    await sync_to_async(member.save)()
    _, connected, _ = await connect(conversation)
    assert not connected
    member.must_change_password = False
    await sync_to_async(member.save)()
    socket, connected, _ = await connect(conversation)
    assert connected
    await socket.disconnect()


async def test_a_viewer_may_watch_but_not_send(conversation, connect):
    socket, connected, _ = await connect(conversation, who="viewer")
    assert connected
    await socket.send_json_to({"type": "send", "text": "Hello"})
    frame = await socket.receive_json_from(timeout=5)
    assert frame == {"type": "error", "error": "Viewers can watch this conversation but not send or stop."}
    assert not await sync_to_async(Message.objects.exists)()
    await socket.disconnect()


async def test_membership_is_checked_on_every_action(conversation, connect, team_with_roles):
    socket, _, _ = await connect(conversation)
    member = team_with_roles.users["member"]
    await sync_to_async(team_with_roles.team.memberships.filter(user=member).delete)()
    await socket.send_json_to({"type": "send", "text": "Hello"})
    assert (await socket.receive_output(timeout=5))["type"] == "websocket.close"


async def test_bad_frames_get_an_error_and_the_socket_stays_usable(conversation, connect):
    socket, _, _ = await connect(conversation)
    await socket.send_to(text_data="{not json")
    assert (await socket.receive_json_from())["error"] == "The frame was not valid JSON."
    await socket.send_to(text_data=json.dumps({"type": "send", "text": "x" * 300_000}))
    assert "too large" in (await socket.receive_json_from())["error"]
    await socket.send_json_to({"type": "dance"})
    assert (await socket.receive_json_from())["error"] == "Unknown frame type “dance”."
    await socket.send_json_to({"type": "send", "text": "   "})
    assert (await socket.receive_json_from())["error"] == "Write a message first."
    await socket.send_json_to({"type": "send", "text": "Still here?"})
    frames = await frames_until_done(socket)
    assert frames[-1]["status"] == "done"
    await socket.disconnect()


async def test_bursts_over_the_rate_get_an_error(conversation, connect):
    socket, _, _ = await connect(conversation)
    for _ in range(15):
        await socket.send_json_to({"type": "dance"})
    errors = [(await socket.receive_json_from())["error"] for _ in range(15)]
    assert "Too many messages at once; wait a moment and try again." in errors
    await socket.disconnect()


async def test_an_upstream_error_is_shown_and_the_partial_text_kept(conversation, connect):
    conversation.model = "demo-broken"
    await sync_to_async(conversation.save)()
    socket, _, _ = await connect(conversation)
    await socket.send_json_to({"type": "send", "text": "Hello"})
    frames = await frames_until_done(socket)
    text, _ = await answer_of(frames)
    assert frames[-1]["status"] == "error" and "broke on purpose" in frames[-1]["error"]
    message = await saved(frames[0]["message"])
    assert message.content == text and text


async def answered_by(server: RawServer, conversation) -> None:
    provider = conversation.provider
    provider.base_url = provider.local_url = server.url  # as staff would allow it
    provider.profile = "openai"
    await sync_to_async(provider.save)()


async def frames_of_a_send(server: RawServer, conversation, connect):
    """A member's socket and the frames of one send answered by `server`, to the answer's end."""
    await answered_by(server, conversation)
    socket, _, _ = await connect(conversation)
    await socket.send_json_to({"type": "send", "text": "Hello"})
    return socket, await frames_until_done(socket)


async def test_the_upstream_call_starts_before_the_answer_is_written(conversation, connect, monkeypatch):
    """The rows are written while the upstream thinks: here the save waits until the
    provider has the request, which would never happen if the call came after the save."""
    from playground.chat import services

    save = services.message_save
    async with RawServer(Reply(parts=[(0.2, sse_chunks("Hi ", "there"))])) as server:

        def save_once_the_provider_has_the_request(send):
            server.until_from_thread(lambda server: server.requests)  # never, were the call after the save
            return save(send)

        monkeypatch.setattr(services, "message_save", save_once_the_provider_has_the_request)
        socket, frames = await frames_of_a_send(server, conversation, connect)
    assert frames[0]["type"] == "started" and frames[-1]["status"] == "done"
    assert (await answer_of(frames))[0] == "Hi there"
    await socket.disconnect()


async def test_an_answer_that_comes_before_its_rows_are_written_arrives_whole(conversation, connect, monkeypatch):
    """The whole answer is in before the save ends: its first event waits for the rows
    (the answer's id), and none of it is lost or comes before "started"."""
    from playground.chat import services

    save = services.message_save
    async with RawServer(Reply(parts=[(0, sse_chunks("Hi ", "there", ", all"))])) as server:

        def save_after_the_answer_was_sent(send):
            server.until_from_thread(lambda server: server.parts_sent == 1)  # the whole answer is sent
            return save(send)

        monkeypatch.setattr(services, "message_save", save_after_the_answer_was_sent)
        socket, frames = await frames_of_a_send(server, conversation, connect)
    assert frames[0]["type"] == "started" and frames[-1]["status"] == "done"
    assert (await answer_of(frames))[0] == "Hi there, all"
    assert (await saved(frames[0]["message"])).content == "Hi there, all"
    await socket.disconnect()


async def test_rows_that_fail_after_the_first_token_stop_the_call_and_nothing_is_shown(
    conversation, connect, monkeypatch
):
    from django.db import DatabaseError

    from playground.chat import services
    from playground.usage.models import UsageRecord

    reply = Reply(parts=[(0, sse_chunks("Hi ", done=False, finish=None)), (60, sse_chunks("there"))])
    async with RawServer(reply) as server:

        def disk_full_after_the_first_token(send):
            server.until_from_thread(lambda server: server.parts_sent == 1)  # the first token is sent
            raise DatabaseError("database or disk is full")  # a failure a test cannot cause for real

        monkeypatch.setattr(services, "message_save", disk_full_after_the_first_token)
        await answered_by(server, conversation)
        socket, _, _ = await connect(conversation)
        await socket.send_json_to({"type": "send", "text": "Hello"})
        frame = await socket.receive_json_from(timeout=10)
        assert frame == {"type": "error", "error": "The message could not be saved; try again."}
        assert await socket.receive_nothing(timeout=0.5)
        # Recorded as stopped while the provider still had the rest to send, not read to its end.
        records = await sync_to_async(list)(UsageRecord.objects.values_list("status", flat=True))
        assert records == ["cancelled"]
    assert not await sync_to_async(conversation.messages.exists)()
    await socket.disconnect()


async def test_an_answer_whose_rows_cannot_be_saved_cancels_its_upstream_call(conversation, connect, monkeypatch):
    from django.db import DatabaseError

    from playground.chat import services
    from playground.usage.models import UsageRecord

    async with RawServer(Reply(parts=[(60, sse_chunks("Hi"))])) as server:  # a provider slow to start

        def disk_full(send):
            server.until_from_thread(lambda server: server.requests)  # the call is under way
            raise DatabaseError("database or disk is full")

        monkeypatch.setattr(services, "message_save", disk_full)  # a failure a test cannot cause for real
        await answered_by(server, conversation)
        socket, _, _ = await connect(conversation)
        await socket.send_json_to({"type": "send", "text": "Hello"})
        # Told at once, not when the provider's first token comes (a minute later).
        frame = await socket.receive_json_from(timeout=20)
        assert frame == {"type": "error", "error": "The message could not be saved; try again."}
        assert server.requests  # the call had started…
        records = await sync_to_async(list)(UsageRecord.objects.values_list("status", flat=True))
        assert records == ["cancelled"]  # …and was stopped, not left running
    assert not await sync_to_async(conversation.messages.exists)()
    await socket.disconnect()


async def test_regenerate_keeps_the_old_answer_as_a_sibling(conversation, connect):
    socket, _, _ = await connect(conversation)
    await socket.send_json_to({"type": "send", "text": "Hello"})
    first = (await frames_until_done(socket))[0]["message"]
    await socket.send_json_to({"type": "regenerate", "message": first})
    second = (await frames_until_done(socket))[0]["message"]
    old, new = await saved(first), await saved(second)
    assert old.parent_id == new.parent_id and old.pk != new.pk
    assert old.content and new.status == "done"
    await socket.disconnect()


async def test_another_teams_message_cannot_be_regenerated(conversation, connect):
    other = await sync_to_async(MembershipFactory)()
    socket, _, _ = await connect(conversation)
    await socket.send_json_to({"type": "regenerate", "message": 999999})
    assert (await socket.receive_json_from())["error"] == "That message is not part of this conversation."
    assert other.pk
    await socket.disconnect()


async def test_a_long_answer_gets_throttled_markdown_renders_while_streaming(conversation, connect):
    conversation.model = "demo-long"
    await sync_to_async(conversation.save)()
    socket, _, _ = await connect(conversation)
    await socket.send_json_to({"type": "send", "text": "Tell me everything"})
    frames = await frames_until_done(socket, timeout=30)
    renders = [frame for frame in frames if frame["type"] == "render"]
    deltas = [frame for frame in frames if frame["type"] == "delta"]
    assert renders, "a long answer is rendered as markdown before it ends"
    assert len(renders) < len(deltas) / 10  # throttled, not once per delta
    for render in renders:
        assert "<p>" in render["html"] and "<script" not in render["html"]
    await socket.disconnect()


async def test_a_render_slower_than_the_deltas_still_lands_with_the_text_after_it(conversation, connect, monkeypatch):
    """A render is sent even when deltas went out while it was made (a slow machine): it carries
    the seq the page has reached and, as plain text, what those deltas added after its HTML."""
    from playground.chat import generation, markdown

    real_render, real_flush = markdown.render_markdown, generation._flush
    flushed = threading.Event()

    def flush(live) -> None:
        real_flush(live)
        flushed.set()

    def slow(text: str) -> str:
        # Rendered in a worker thread: it finishes once a delta has gone out meanwhile (or, if
        # no text was pending, after a bound); the assertions hold either way.
        flushed.clear()
        flushed.wait(timeout=2)
        return real_render(text)

    monkeypatch.setattr(generation, "_flush", flush)
    monkeypatch.setattr(markdown, "render_markdown", slow)
    conversation.model = "demo-long"
    await sync_to_async(conversation.save)()
    socket, _, _ = await connect(conversation)
    await socket.send_json_to({"type": "send", "text": "Tell me everything"})
    frames = await frames_until_done(socket, timeout=60)
    assert any(frame["type"] == "render" for frame in frames)
    streamed, seq = "", 0
    for frame in frames:
        if frame["type"] == "delta":
            streamed, seq = streamed + frame["text"], frame["seq"]
        elif frame["type"] == "render":
            assert frame["seq"] == seq  # the page applies it: it has every delta up to here
            assert streamed.endswith(frame["tail"])
    await socket.disconnect()


async def test_edit_and_resend_makes_a_sibling_question_and_keeps_the_old_one(conversation, connect):
    socket, _, _ = await connect(conversation)
    await socket.send_json_to({"type": "send", "text": "First question"})
    first_answer = (await frames_until_done(socket))[0]
    await socket.send_json_to({"type": "send", "text": "Follow-up"})
    follow_up = (await frames_until_done(socket))[0]
    # Edit the follow-up: same parent (the first answer) as the original follow-up.
    await socket.send_json_to({"type": "send", "text": "Better follow-up", "parent": first_answer["message"]})
    edited = (await frames_until_done(socket))[0]
    assert edited["question"]["text"] == "Better follow-up"
    original_question = await saved(follow_up["parent"])
    new_question = await saved(edited["parent"])
    assert original_question.parent_id == new_question.parent_id == first_answer["message"]
    # Editing the very first question starts a new root beside it.
    await socket.send_json_to({"type": "send", "text": "Another start", "parent": None})
    root = (await frames_until_done(socket))[0]
    assert (await saved(root["parent"])).parent_id is None
    assert await sync_to_async(Message.objects.filter(role="user").count)() == 4
    await socket.disconnect()


async def test_a_message_of_another_conversation_cannot_be_the_parent_of_a_resend(conversation, connect):
    def elsewhere() -> int:
        other = ConversationFactory(project=conversation.project, provider=conversation.provider)
        return MessageFactory(conversation=other, content="Somewhere else").pk

    foreign = await sync_to_async(elsewhere)()
    socket, _, _ = await connect(conversation)
    await socket.send_json_to({"type": "send", "text": "Grafted question", "parent": foreign})
    assert (await socket.receive_json_from())["error"] == "That message is not part of this conversation."
    assert not await sync_to_async(conversation.messages.exists)()
    await socket.send_json_to({"type": "send", "text": "Still usable"})  # the socket goes on working
    assert (await frames_until_done(socket))[-1]["status"] == "done"
    await socket.disconnect()


async def test_rate_limits_are_shown_while_retrying_and_the_answer_still_comes(conversation, connect):
    conversation.model = "demo-ratelimited"
    await sync_to_async(conversation.save)()
    socket, _, _ = await connect(conversation)
    await socket.send_json_to({"type": "send", "text": "Hello"})
    frames = await frames_until_done(socket)
    [notice] = [frame for frame in frames if frame["type"] == "notice"]
    assert "Rate limited by the provider" in notice["text"] and "limit 10, burst 2" in notice["text"]
    assert "Retrying in 1.0 s" in notice["text"]
    assert frames[-1]["status"] == "done"
    await socket.disconnect()


@pytest.mark.parametrize("path", ["/ws/chat/18446744073709551616/", "/ws/chat/abc/", "/ws/elsewhere/"])
async def test_a_socket_path_that_is_no_conversation_is_refused_quietly(conversation, connect, path):
    from channels.testing import WebsocketCommunicator

    from playground.asgi import application

    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect()
    assert not connected and code == 4404


async def test_with_other_encryption_keys_the_sender_is_told_what_to_do(conversation, connect, monkeypatch):
    from cryptography.fernet import Fernet

    monkeypatch.setenv("PLAYGROUND_ENCRYPTION_KEYS", Fernet.generate_key().decode())  # not the key it was saved with
    socket, _, _ = await connect(conversation)
    await socket.send_json_to({"type": "send", "text": "Hello"})
    frame = await socket.receive_json_from(timeout=10)
    assert frame["type"] == "error" and "Restore the key file" in frame["error"]
    assert not await sync_to_async(Message.objects.exists)()  # the page puts the text back in the box
    await socket.disconnect()


async def test_an_answer_whose_worker_died_ends_for_its_watchers_without_a_reload(conversation, connect):
    """Left "streaming" by a process that is gone (its lease ran out): a socket watching the
    conversation sees it end as interrupted, text kept; a live one's lease keeps it going."""
    from datetime import timedelta

    from django.utils import timezone

    def orphan_and_live():
        question = MessageFactory(conversation=conversation, content="Hi")
        past, future = timezone.now() - timedelta(seconds=1), timezone.now() + timedelta(minutes=5)
        orphan = MessageFactory(
            conversation=conversation,
            parent=question,
            role="assistant",
            status="streaming",
            content="Half an ans",
            seq=3,
            lease_until=past,
        )
        live = MessageFactory(
            conversation=conversation, parent=question, role="assistant", status="streaming", lease_until=future
        )
        return orphan, live

    orphan, live = await sync_to_async(orphan_and_live)()
    socket, _, _ = await connect(conversation)
    assert sorted(socket.live) == sorted([orphan.pk, live.pk])
    frame = await socket.receive_json_from(timeout=15)
    assert (
        frame == {"type": "done", "message": orphan.pk, "seq": 3, "status": "interrupted", "error": frame["error"]}
        and "kept" in frame["error"]
    )
    await sync_to_async(orphan.refresh_from_db)()
    await sync_to_async(live.refresh_from_db)()
    assert (orphan.status, orphan.content, live.status) == ("interrupted", "Half an ans", "streaming")
    await socket.disconnect()
