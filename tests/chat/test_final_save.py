"""An answer's final save: whatever the provider sent and whatever fails while the answer
ends, it is saved with its text and how it ended, never left "streaming"."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.db import DataError, OperationalError
from django.test import Client
from django.urls import reverse

from playground import later
from playground.chat import generation, services
from playground.chat.models import Message
from tests.chat.conftest import frames_until_done
from tests.chat.test_choices import interleaved
from tests.chat.test_consumer import answered_by
from tests.upstream.raw_server import RawServer, Reply, sse_chunks

pytestmark = pytest.mark.django_db(transaction=True)


async def send_to(server: RawServer, conversation, connect) -> list[dict]:
    """The frames of one send answered by `server`, to the answer's end."""
    await answered_by(server, conversation)
    socket, _, _ = await connect(conversation)
    try:
        await socket.send_json_to({"type": "send", "text": "Hello"})
        return await frames_until_done(socket, timeout=10)
    finally:
        await socket.disconnect()


def shown(frames: list[dict]) -> str:
    return "".join(frame["text"] for frame in frames if frame["type"] == "delta")


async def test_references_nested_as_deep_as_json_goes_still_end_the_answer_with_its_text(
    conversation, connect, team_with_roles
):
    deep = b'data: {"object":"chat.references","chunks":' + b"[" * 1000 + b"]" * 1000 + b"}\n\n"
    async with RawServer(Reply(parts=[(0, deep + sse_chunks("Still ", "here"))])) as server:
        frames = await send_to(server, conversation, connect)
    assert frames[-1]["status"] == "done"
    answer = await Message.objects.aget(pk=frames[0]["message"])
    assert (answer.status, answer.content) == ("done", "Still here")
    assert answer.references["object"] == "chat.references"  # kept, as deep as a page can use

    def page() -> int:
        client = Client()
        client.force_login(team_with_roles.users["member"])
        return client.get(reverse("conversation_detail", args=[conversation.pk])).status_code

    assert await sync_to_async(page)() == 200


async def test_an_answer_whose_details_cannot_be_kept_is_saved_with_its_text(conversation, connect, monkeypatch):
    def broken(choice):
        raise RuntimeError("a fault of ours")

    monkeypatch.setattr(generation.Choice, "fields", broken)
    async with RawServer(Reply(parts=[(0, sse_chunks("Kept ", "anyway"))])) as server:
        frames = await send_to(server, conversation, connect)
    assert frames[-1]["status"] == "done"
    answer = await Message.objects.aget(pk=frames[0]["message"])
    assert (answer.status, answer.content) == ("done", "Kept anyway")


async def test_an_answer_the_database_refuses_once_it_is_back_still_ends_with_its_text(
    conversation, connect, monkeypatch
):
    """Saved later because the database was away, then a value refused: the text and how
    the answer ended are saved without it, as when the database refuses it at once."""

    async def database_away(*args):
        raise OperationalError("the database is away")

    def refused(**fields):
        raise DataError("a value the database cannot store")

    monkeypatch.setattr(generation, "_save_answer", database_away)
    monkeypatch.setattr(services, "answer_choices_add", refused)
    async with RawServer(Reply(parts=[(0, interleaved(["One ", "answer"], ["Another"]))])) as server:
        frames = await send_to(server, conversation, connect)
    assert "Not saved yet" in frames[-1]["notice"]
    retrier = later._retriers.get(asyncio.get_running_loop())
    if retrier is not None:  # the database is back: its first try
        await retrier
    assert later.waiting() == 0
    answer = await Message.objects.aget(pk=frames[0]["message"])
    assert shown(frames) == "One answer"
    assert (answer.status, answer.content) == ("done", "One answer")


async def test_the_backends_fingerprint_is_saved_with_the_answer(conversation, connect):
    chunks = [
        {"system_fingerprint": "fp_1", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
        *({"system_fingerprint": "fp_1", "choices": [{"index": 0, "delta": {"content": w}}]} for w in ("a", "b")),
        {"system_fingerprint": "fp_1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    raw = b"".join(b"data: " + json.dumps(chunk).encode() + b"\n\n" for chunk in chunks) + b"data: [DONE]\n\n"
    async with RawServer(Reply(parts=[(0, raw)])) as server:
        frames = await send_to(server, conversation, connect)
    answer = await Message.objects.aget(pk=frames[0]["message"])
    assert (answer.status, answer.content, answer.system_fingerprint) == ("done", "ab", "fp_1")
