"""An answer asked for with n > 1: each choice is its own version of the answer, never merged."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from playground.chat.models import Message
from tests.chat.conftest import frames_until_done
from tests.chat.test_consumer import answered_by
from tests.upstream.raw_server import RawServer, Reply

pytestmark = pytest.mark.django_db(transaction=True)


def interleaved(*choices: list[str]) -> bytes:
    """A stream that sends the choices' words in turns, as providers do with n > 1."""
    out = b""
    for position in range(max(len(words) for words in choices)):
        for index, words in enumerate(choices):
            if position < len(words):
                chunk = {"choices": [{"index": index, "delta": {"content": words[position]}}]}
                out += b"data: " + json.dumps(chunk).encode() + b"\n\n"
    for index in range(len(choices)):
        out += b"data: " + json.dumps({"choices": [{"index": index, "delta": {}, "finish_reason": "stop"}]}).encode()
        out += b"\n\n"
    return out + b"data: [DONE]\n\n"


async def test_two_choices_become_two_versions_of_the_answer(conversation, connect, team_with_roles):
    first, second = ["You ", "said: ", "hello"], ["Another ", "take ", "entirely"]
    async with RawServer(Reply(parts=[(0, interleaved(first, second))])) as server:
        await answered_by(server, conversation)
        socket, _, _ = await connect(conversation)
        await socket.send_json_to({"type": "send", "text": "Hello"})
        frames = await frames_until_done(socket)
        await socket.disconnect()
    shown = "".join(frame["text"] for frame in frames if frame["type"] == "delta")
    assert shown == "You said: hello"
    assert frames[-1]["choices"] == 2
    answer = await Message.objects.aget(pk=frames[0]["message"])
    versions = [m async for m in Message.objects.filter(parent_id=answer.parent_id).order_by("created_at", "id")]
    assert [(m.content, m.status, m.finish_reason) for m in versions] == [
        ("You said: hello", "done", "stop"),
        ("Another take entirely", "done", "stop"),
    ]

    def page() -> str:
        client = Client()
        client.force_login(team_with_roles.users["member"])
        return client.get(reverse("conversation_detail", args=[conversation.pk])).content.decode()

    html = await sync_to_async(page)()
    assert "You said: hello" in html and "1/2" in html and 'aria-label="Next version"' in html


async def test_the_other_choices_are_kept_when_the_first_cannot_be_rendered(conversation, connect, monkeypatch):
    from playground.chat import markdown

    render = markdown.render_answer

    def fails_for_the_first(text, request=None):
        if text == "You said: hello":
            raise RuntimeError("a renderer's fault")
        return render(text, request)

    monkeypatch.setattr(markdown, "render_answer", fails_for_the_first)
    async with RawServer(Reply(parts=[(0, interleaved(["You ", "said: ", "hello"], ["Another ", "take"]))])) as server:
        await answered_by(server, conversation)
        socket, _, _ = await connect(conversation)
        await socket.send_json_to({"type": "send", "text": "Hello"})
        frames = await frames_until_done(socket)
        await socket.disconnect()
    assert frames[-1]["choices"] == 2
    answer = await Message.objects.aget(pk=frames[0]["message"])
    versions = [m async for m in Message.objects.filter(parent_id=answer.parent_id).order_by("created_at", "id")]
    assert [(m.content, m.status, bool(m.html)) for m in versions] == [
        ("You said: hello", "done", False),  # rendered when the page first shows it
        ("Another take", "done", True),
    ]
