"""Whatever JSON a provider sends, the answer ends, keeps the text that was shown, and every
page renders.

Hypothesis writes the provider's side: streamed chunks whose choices, tool calls, logprobs,
usage, finish reasons, fingerprints and references have any shape, error chunks and error
bodies, whole JSON answers, bytes split anywhere, with or without [DONE]. A raw server sends
them over a real socket to the real relay (the chat socket), and the conversation page is
rendered after each answer, with every odd answer before it still in the thread.
"""

from __future__ import annotations

import json
import os

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.chat import consumers
from playground.chat.models import Message
from playground.usage.models import UsageRecord
from tests.chat.conftest import frames_until_done
from tests.chat.test_consumer import answered_by
from tests.upstream.raw_server import RawServer, Reply

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = int(os.environ.get("PROVIDER_SHAPES_EXAMPLES", "40"))
ENDED = {"done", "error", "stopped", "interrupted"}

# Any JSON value, including the awkward ones: NUL characters, huge integers (beyond what
# orjson or a database column takes), infinities (not JSON at all once written out).
text = st.text(max_size=12)
scalar = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | text
anything = st.recursive(
    scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=8
)


def sometimes(strategy):
    """The expected shape, or any JSON at all in its place."""
    return strategy | anything


tool_call = st.fixed_dictionaries(
    {},
    optional={
        "index": sometimes(st.integers(0, 2)),
        "id": sometimes(text),
        "type": sometimes(st.just("function")),
        "function": sometimes(st.fixed_dictionaries({}, optional={"name": sometimes(text), "arguments": anything})),
    },
)
token = st.fixed_dictionaries(
    {"token": sometimes(text), "logprob": sometimes(st.floats(max_value=0))},
    optional={"top_logprobs": sometimes(st.lists(st.fixed_dictionaries({"token": text, "logprob": scalar})))},
)
delta = st.fixed_dictionaries(
    {},
    optional={
        "role": sometimes(st.sampled_from(["assistant", "tool"])),
        "content": sometimes(text | st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": text}))),
        "tool_calls": sometimes(st.lists(sometimes(tool_call), max_size=2)),
        "refusal": sometimes(text),
    },
)
choice = st.fixed_dictionaries(
    {},
    optional={
        "index": sometimes(st.integers(0, 3)),
        "delta": sometimes(delta),
        "message": sometimes(delta),
        "text": sometimes(text),
        "logprobs": sometimes(st.fixed_dictionaries({"content": sometimes(st.lists(token, max_size=3))})),
        "finish_reason": sometimes(st.sampled_from(["stop", "length", "tool_calls", "x" * 60])),
    },
)
usage = st.fixed_dictionaries(
    {}, optional={"prompt_tokens": sometimes(st.integers(-5, 2**40)), "completion_tokens": anything}
)
chunk = st.fixed_dictionaries(
    {"choices": sometimes(st.lists(sometimes(choice), max_size=3))},
    optional={
        "usage": sometimes(usage),
        "system_fingerprint": sometimes(text),
        "object": sometimes(st.just("chat.completion.chunk")),
        "error": anything,
    },
)
citation = st.fixed_dictionaries(
    {}, optional={"title": anything, "file_name": anything, "page": anything, "text": anything}
)
references = st.fixed_dictionaries(
    {"object": st.just("chat.references")}, optional={"chunks": sometimes(st.lists(sometimes(citation), max_size=3))}
)


def sse(event: str, payload) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {data}\n\n".encode()


sse_event = st.one_of(
    chunk.map(lambda payload: sse("", payload)),
    references.map(lambda payload: sse("", payload)),
    references.map(lambda payload: sse("references", payload)),
    anything.map(lambda payload: sse("error", payload)),
    st.text(alphabet=st.characters(exclude_characters="\r\n"), max_size=20).map(lambda line: sse("", line)),
)


@st.composite
def replies(draw) -> Reply:
    kind = draw(st.sampled_from(["stream", "stream", "stream", "json", "error"]))
    if kind == "stream":
        body = b"".join(draw(st.lists(sse_event, max_size=6)))
        if draw(st.booleans()):
            body += b"data: [DONE]\n\n"
        if draw(st.booleans()):
            body = body.replace(b"\n", b"\r\n")
        headers = {"Content-Type": "text/event-stream"}
    else:
        payload = draw(chunk if kind == "json" else anything)
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
    status = draw(st.sampled_from([400, 401, 404, 422, 500])) if kind == "error" else 200
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=3)))
    pieces = [body[start:end] for start, end in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    return Reply(status=status, headers=headers, parts=[(0, piece) for piece in pieces])


@pytest.fixture
def no_retries(settings):
    settings.UPSTREAM_MAX_RETRIES = 0


@pytest.mark.timeout(60 + EXAMPLES * 2)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI does not fail by chance
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(reply=replies())
async def test_any_provider_answer_ends_keeps_its_text_and_the_page_renders(
    reply, conversation, connect, team_with_roles, no_retries, close_upstream_clients
):
    consumers._buckets.clear()  # one person sends many questions here
    records_before = await UsageRecord.objects.acount()
    async with RawServer(reply) as server:
        await answered_by(server, conversation)
        socket, _, _ = await connect(conversation)
        try:
            await socket.send_json_to({"type": "send", "text": "Hello"})
            frames = await frames_until_done(socket, timeout=30)
        finally:
            await socket.disconnect()
    started, done = frames[0], frames[-1]
    assert started["type"] == "started", frames
    assert done["status"] in ENDED
    shown = "".join(frame["text"] for frame in frames if frame["type"] == "delta")
    answer = await Message.objects.aget(pk=started["message"])
    assert (answer.status, answer.content) == (done["status"], shown)
    if done["status"] == "error":
        assert answer.error and done["error"] == answer.error
    assert await UsageRecord.objects.acount() == records_before + 1

    def page() -> tuple[int, str]:
        client = Client()
        client.force_login(team_with_roles.users["member"])
        response = client.get(reverse("conversation_detail", args=[conversation.pk]))
        fragment = client.get(reverse("message_fragment", args=[answer.pk]))
        assert fragment.status_code == 200
        return response.status_code, response.content.decode()

    status, html = await sync_to_async(page)()
    assert status == 200
    assert f'id="message-{answer.pk}"' in html
