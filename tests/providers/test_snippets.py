""" "View code": each snippet runs as shown, sends what the chat sends, and never holds a key."""

from __future__ import annotations

import ast
import asyncio
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from playground import upstream
from playground.chat import services
from playground.providers.models import ProviderHeader
from playground.providers.snippets import SAMPLE_TEXT, SDK_KEYWORDS, SDK_METHODS
from tests.factories import SHARED_KEY, ConversationFactory, ProviderFactory
from tests.upstream.raw_server import RawServer, Reply, sse_chunks

RUN_TIMEOUT_S = 60
# The chat form's parameters, as a person fills them in: numbers, a list, a boolean, JSON.
FIELDS = {
    "temperature": "0.3",
    "max_tokens": "20",
    "stop": "END",
    "logprobs": "true",
    "response_format": '{"type": "text"}',
}


def build(client: Client, provider, endpoint: str = "chat", model: str = "", **fields: str) -> str:
    """The parameters page after "Build request", with `fields` set."""
    data = {"model": model or provider.default_model, **{f"p-{name}": value for name, value in fields.items()}}
    response = client.post(reverse("parameters", args=[provider.pk, endpoint]), data)
    assert response.status_code == 200, response.content.decode()
    return response.content.decode()


def snippet(page: str, title: str) -> str:
    found = re.search(rf"<h3>{re.escape(title)}</h3>\s*<pre[^>]*><code>(.*?)</code></pre>", page, re.DOTALL)
    assert found, title
    return html.unescape(found.group(1))


def shown_body(page: str) -> dict:
    found = re.search(r"<h2>Request body</h2>.*?<pre><code>(.*?)</code></pre>", page, re.DOTALL)
    return json.loads(html.unescape(found.group(1)))


def pasted(**variables: str) -> dict[str, str]:
    """The environment of someone who exported their key (and secret headers) to run a snippet."""
    return {**os.environ, **variables}


async def run(*command: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT_S)
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
def member_client(team_with_roles):
    client = Client()
    client.force_login(team_with_roles.users["member"])
    return client


@pytest.mark.django_db(transaction=True)
async def test_the_httpx_snippet_runs_and_sends_exactly_what_the_chat_sends(
    demo_provider, member_client, team_with_roles
):
    page = await sync_to_async(build)(member_client, demo_provider, **FIELDS)
    assert SHARED_KEY not in page and "DEMO_API_KEY" in page
    code = snippet(page, "Python (httpx)")
    returncode, out, err = await run(sys.executable, "-c", code, env=pasted(DEMO_API_KEY=SHARED_KEY))
    assert returncode == 0, err
    assert "data: [DONE]" in out and "Hello!" in out  # the demo answered the sample message

    member = team_with_roles.users["member"]
    async with RawServer(Reply(parts=[(0, sse_chunks("Hi"))])) as server:
        demo_provider.base_url = demo_provider.local_url = server.url  # as staff would allow it
        await sync_to_async(demo_provider.save)()
        code = snippet(await sync_to_async(build)(member_client, demo_provider, **FIELDS), "Python (httpx)")
        returncode, _, err = await run(sys.executable, "-c", code, env=pasted(DEMO_API_KEY=SHARED_KEY))
        assert returncode == 0, err

        # The chat, with the same parameters saved through its own settings form.
        conversation = await sync_to_async(ConversationFactory)(project=team_with_roles.project, provider=demo_provider)
        settings = {"provider": demo_provider.pk, "model": "demo-chat", "mode": "chat"}
        settings.update({f"p-{name}": value for name, value in FIELDS.items()})
        await sync_to_async(member_client.post)(reverse("conversation_detail", args=[conversation.pk]), settings)
        await sync_to_async(conversation.refresh_from_db)()
        send = await sync_to_async(services.message_prepare)(conversation=conversation, user=member, text=SAMPLE_TEXT)
        target, context = send.call
        async with upstream.stream_chat(target, send.request, context=context) as events:
            async for _ in events:
                pass

    (_, snippet_headers, snippet_body), (_, chat_headers, chat_body) = server.requests
    sent_by_snippet, sent_by_chat = json.loads(snippet_body), json.loads(chat_body)
    assert sent_by_snippet == sent_by_chat
    assert sent_by_chat["temperature"] == 0.3 and sent_by_chat["logprobs"] is True  # the fields did arrive
    assert snippet_headers["authorization"] == chat_headers["authorization"] == f"Bearer {SHARED_KEY}"


@pytest.mark.django_db(transaction=True)
async def test_an_httpx_snippet_of_a_one_answer_endpoint_runs(demo_provider, member_client):
    page = await sync_to_async(build)(member_client, demo_provider, "embeddings", "demo-embed", dimensions="8")
    assert shown_body(page) == {"model": "demo-embed", "input": [SAMPLE_TEXT], "dimensions": 8}
    code = snippet(page, "Python (httpx)")
    returncode, out, err = await run(sys.executable, "-c", code, env=pasted(DEMO_API_KEY=SHARED_KEY))
    assert returncode == 0, err
    assert "'embedding'" in out


@pytest.mark.django_db(transaction=True)
async def test_the_curl_snippet_keeps_hostile_values_as_one_argument_each(demo_provider, member_client, tmp_path: Path):
    marker = tmp_path / "ran"
    hostile = f'it\'s "$(touch {marker})" `touch {marker}` $HOME \\ ${{PATH}}\nnext line; touch {marker}'
    header_value = f"a'b\"$(touch {marker})`touch {marker}`"
    project_id = "proj-secret-4242"
    await sync_to_async(ProviderHeader.objects.create)(provider=demo_provider, name="X-Note", value=header_value)
    secret = ProviderHeader(provider=demo_provider, name="X-Project-Id", secret=True)
    secret.set_value(project_id)
    await sync_to_async(secret.save)()

    page = await sync_to_async(build)(member_client, demo_provider, user=hostile, **FIELDS)
    assert SHARED_KEY not in page and project_id not in page
    code = snippet(page, "curl")
    env = pasted(DEMO_API_KEY=SHARED_KEY, DEMO_X_PROJECT_ID=project_id)
    assert (await run("bash", "-n", "-c", code, env=env))[0] == 0

    # What curl would be given, word by word: a shell function stands in for it.
    returncode, out, err = await run("bash", "-c", 'curl() { printf "%s\\0" "$@"; }\n' + code, env=env)
    assert returncode == 0, err
    words = out.split("\0")[:-1]
    body = json.loads(words[words.index("-d") + 1])
    assert body == shown_body(page) and body["user"] == hostile
    assert f"X-Note: {header_value}" in words and f"X-Project-Id: {project_id}" in words
    assert f"Authorization: Bearer {SHARED_KEY}" in words

    returncode, out, err = await run("bash", "-c", code, env=env)
    assert returncode == 0, err
    assert "data: [DONE]" in out
    assert not marker.exists()


def test_the_openai_snippet_passes_fields_the_sdk_lacks_in_extra_body(team_with_roles, member_client):
    vllm = ProviderFactory(
        team=team_with_roles.team,
        name="vLLM",
        profile="vllm",
        base_url="https://vllm.example.com/v1",
        default_model="m",
    )
    page = build(member_client, vllm, temperature="0.5", top_k="40", min_p="0.1", logprobs="true")
    tree = ast.parse(snippet(page, "Python (openai SDK)"))
    calls = {ast.unparse(node.func): node for node in ast.walk(tree) if isinstance(node, ast.Call)}
    create = calls["client.chat.completions.create"]
    keywords = {keyword.arg: ast.literal_eval(keyword.value) for keyword in create.keywords}
    extra = keywords.pop("extra_body")
    assert {"model", "messages", "temperature", "logprobs", "stream"} <= set(keywords) <= SDK_KEYWORDS["chat"]
    assert set(extra) == {"top_k", "min_p"}
    assert {**keywords, **extra} == shown_body(page)
    assert keywords["messages"] == [{"role": "user", "content": SAMPLE_TEXT}] and keywords["model"] == "m"
    client = {keyword.arg: keyword.value for keyword in calls["OpenAI"].keywords}
    assert ast.literal_eval(client["base_url"]) == "https://vllm.example.com/v1"
    assert ast.unparse(client["api_key"]) == "os.environ['VLLM_API_KEY']"


def test_every_snippet_is_valid_code_for_every_endpoint(demo_provider, member_client):
    for endpoint in ("chat", "completions", "images", "embeddings"):
        page = build(member_client, demo_provider, endpoint, user='o\'neil "$(x)"')
        for title in ("Python (openai SDK)", "Python (httpx)"):
            compile(snippet(page, title), f"{endpoint} {title}", "exec")
        check = subprocess.run(["bash", "-n", "-c", snippet(page, "curl")], capture_output=True, timeout=RUN_TIMEOUT_S)
        assert check.returncode == 0, check.stderr


def test_the_openai_snippet_of_every_endpoint_the_sdk_has_points_the_client_at_the_base_url(
    demo_provider, member_client
):
    for endpoint, method in SDK_METHODS.items():
        tree = ast.parse(snippet(build(member_client, demo_provider, endpoint), "Python (openai SDK)"))
        calls = {ast.unparse(node.func): node for node in ast.walk(tree) if isinstance(node, ast.Call)}
        assert method in calls, endpoint
        client = {keyword.arg: keyword.value for keyword in calls["OpenAI"].keywords}
        assert ast.literal_eval(client["base_url"]) == demo_provider.base_url, endpoint
