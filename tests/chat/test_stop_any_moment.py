"""Stop at any moment of an answer: before its request leaves, before its first token,
mid-stream and after its last token. Each time the answer ends as stopped for the asker and
for a teammate watching, on the page and in the database, with the text that was shown, and
the tokens the answer shows are the tokens its usage record counts."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from playground.chat.models import Message
from playground.usage.models import UsageRecord
from tests.chat.conftest import frames_until_done
from tests.chat.test_consumer import answered_by
from tests.upstream.raw_server import RawServer, Reply, json_reply, sse_chunks

pytestmark = pytest.mark.django_db(transaction=True)

HOLD = 60.0  # the provider keeps the connection open this long: the stop comes first


def waiting(reply: Reply) -> Reply:
    reply.parts.append((HOLD, b"data: [DONE]\n\n"))
    return reply


MOMENTS = {
    # A 429 asks for a pause; the stop comes during it, so the retry never leaves.
    "before the request leaves": (
        [json_reply(429, {"error": {"message": "Slow down"}}, **{"Retry-After": "15"}), Reply()],
        "notice",
        "",
    ),
    "before the provider answers": ([Reply(delay_before_headers=HOLD)], "started", ""),
    "before the first token": ([waiting(Reply())], "started", ""),
    "mid-stream": (
        [waiting(Reply(parts=[(0, sse_chunks("Hello ", "there", done=False, finish=None))]))],
        "delta",
        "Hello there",
    ),
    "after the last token": (
        [waiting(Reply(parts=[(0, sse_chunks("The whole answer.", done=False, finish="stop"))]))],
        "delta",
        "The whole answer.",
    ),
}


async def until(socket, kind: str) -> list[dict]:
    frames = []
    while not frames or frames[-1]["type"] != kind:
        frames.append(await socket.receive_json_from(timeout=20))
        assert frames[-1]["type"] != "done", frames
    return frames


@pytest.mark.parametrize("moment", MOMENTS)
async def test_a_stop_at_any_moment_ends_the_answer_as_stopped_everywhere(
    moment, conversation, connect, team_with_roles
):
    replies, stop_after, text = MOMENTS[moment]
    async with RawServer(*replies) as server:
        await answered_by(server, conversation)
        asker, _, _ = await connect(conversation, who="member")
        watcher, _, _ = await connect(conversation, who="viewer")
        await asker.send_json_to({"type": "send", "text": "Tell me"})
        seen = await until(asker, stop_after)
        if stop_after == "delta":  # the whole text of the moment is on screen
            while "".join(frame["text"] for frame in seen if frame["type"] == "delta") != text:
                seen += await until(asker, "delta")
        answer_id = seen[0]["message"]
        await asker.send_json_to({"type": "stop", "message": answer_id})
        seen += await frames_until_done(asker)
        watched = await frames_until_done(watcher)
        requests = len(server.requests)
        await asker.disconnect()
        await watcher.disconnect()
    assert seen[-1]["status"] == watched[-1]["status"] == "stopped"
    assert "".join(frame["text"] for frame in seen if frame["type"] == "delta") == text
    if moment == "before the request leaves":
        assert requests == 1, "the retry must not have left"

    answer = await Message.objects.aget(pk=answer_id)
    assert (answer.status, answer.content) == ("stopped", text)
    call = await UsageRecord.objects.filter(status="cancelled").alast()
    assert (call.prompt_tokens, call.completion_tokens) == (answer.prompt_tokens, answer.completion_tokens)
    if moment in ("before the request leaves", "before the provider answers"):
        assert answer.completion_tokens is None  # nothing reached the provider's model, nothing is counted
    else:
        assert answer.tokens_estimated and answer.completion_tokens == round(len(text) / 4)

    def page() -> str:
        client = Client()
        client.force_login(team_with_roles.users["viewer"])
        return client.get(reverse("conversation_detail", args=[conversation.pk])).content.decode()

    html = await sync_to_async(page)()
    status = html.split(f'id="message-{answer_id}-status">')[1].split("<")[0]
    assert status == "Stopped"
    if answer.completion_tokens is not None:
        shown = f"{answer.prompt_tokens} in / {answer.completion_tokens} out (estimated)"
        assert shown in html.split(f'id="message-{answer_id}"')[1].split("</article>")[0]
