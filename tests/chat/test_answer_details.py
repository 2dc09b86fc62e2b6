"""What an answer shows besides its text: token probabilities, citations, JSON, tool calls;
and text-completion mode. Each one streamed from the demo upstream over a real socket."""

from __future__ import annotations

import json
import math

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from playground.chat.models import Message, Mode
from playground.usage.models import UsageRecord
from tests.chat.conftest import frames_until_done
from tests.factories import ApiKeyFactory, ProviderFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def ask(conversation, connect, text: str, **params) -> Message:
    conversation.params = params
    await sync_to_async(conversation.save)()
    socket, connected, _ = await connect(conversation)
    assert connected
    await socket.send_json_to({"type": "send", "text": text})
    frames = await frames_until_done(socket)
    await socket.disconnect()
    assert frames[-1]["status"] == "done", frames[-1]
    return await sync_to_async(Message.objects.get)(pk=frames[0]["message"])


async def page_of(conversation, user) -> str:
    client = Client()
    await sync_to_async(client.force_login)(user)
    response = await sync_to_async(client.get)(reverse("conversation_detail", args=[conversation.pk]))
    return response.content.decode()


async def test_token_probabilities_are_kept_and_shown_per_token(conversation, connect, team_with_roles):
    answer = await ask(conversation, connect, "Hello there", logprobs=True, top_logprobs=2)
    assert "".join(entry["token"] for entry in answer.logprobs) == answer.content
    assert all(len(entry["top_logprobs"]) == 2 for entry in answer.logprobs)
    page = await page_of(conversation, team_with_roles.users["viewer"])
    assert f"Token probabilities ({len(answer.logprobs)} tokens)" in page
    first = answer.logprobs[0]
    assert f"{math.exp(first['logprob']) * 100:.1f} %" in page


async def test_no_probabilities_are_shown_when_none_were_asked_for(conversation, connect, team_with_roles):
    answer = await ask(conversation, connect, "Hello there")
    assert answer.logprobs is None
    assert "Token probabilities" not in await page_of(conversation, team_with_roles.users["member"])


async def test_references_become_numbered_citations(conversation, connect, team_with_roles):
    answer = await ask(
        conversation, connect, "Does stopping an answer keep its text?", rag_params={"table_id": "kb", "k": 2}
    )
    chunks = answer.references["chunks"]
    assert len(chunks) == 2 and chunks[0]["title"] == "Streaming notes"
    page = await page_of(conversation, team_with_roles.users["member"])
    sources = page[page.index(">Sources</h3>") :]
    assert sources.index("Streaming notes") < sources.index("</ol>")
    assert sources.count("<li>", 0, sources.index("</ol>")) == 2
    assert "Stopping an answer keeps the text that already arrived." in sources


async def test_json_mode_answers_are_pretty_printed(conversation, connect, team_with_roles):
    answer = await ask(conversation, connect, "Give me JSON", response_format={"type": "json_object"})
    assert "\n" not in answer.content  # the model sent it compact
    value = json.loads(answer.content)
    page = await page_of(conversation, team_with_roles.users["member"])
    body = page[page.index(f'id="message-{answer.pk}-body"') :]
    assert "code-block" in body[:400]
    assert "\n  " in body[: body.index("</pre>")]  # indented, one key per line
    assert set(value) == {"answer", "parameters"}


async def test_tool_call_arguments_are_shown_as_indented_json(conversation, connect, team_with_roles):
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
    answer = await ask(conversation, connect, "What is the weather in Paris?", tools=[tool])
    assert answer.finish_reason == "tool_calls" and answer.tool_calls[0]["name"] == "get_weather"
    page = await page_of(conversation, team_with_roles.users["member"])
    calls = page[page.index("Tool calls") :]
    assert "get_weather" in calls[:300] and "{\n  &quot;city&quot;" in calls


async def test_text_completion_mode_continues_the_prompt(conversation, connect):
    conversation.mode = Mode.COMPLETION
    answer = await ask(conversation, connect, "Once upon a time", max_tokens=40)
    assert answer.status == "done" and answer.content
    assert "prompt" not in answer.params and answer.params["max_tokens"] == 40
    record = await sync_to_async(UsageRecord.objects.latest)("id")
    assert record.endpoint == "completions" and record.status == "ok"


def test_completion_mode_needs_the_endpoint_in_the_providers_schema(client, team_with_roles, conversation):
    jamai = ProviderFactory(
        team=team_with_roles.team, name="JamAI", profile="jamai-base", base_url="https://api.jamaibase.com"
    )
    ApiKeyFactory(provider=jamai, owner=None)
    client.force_login(team_with_roles.users["member"])
    url = reverse("conversation_detail", args=[conversation.pk])
    response = client.post(url, {"provider": jamai.pk, "model": "m", "mode": "completion"})
    assert response.status_code == 400
    assert "JamAI&#x27;s API schema has no text completions endpoint" in response.content.decode()
    response = client.post(url, {"provider": conversation.provider_id, "model": "demo-chat", "mode": "completion"})
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.mode == "completion"
    page = client.get(url).content.decode()
    assert "each message is a prompt for the model to continue" in page
    assert 'name="p-prompt"' not in page and 'name="p-max_tokens"' in page
