"""Paths from a provider's own document, an uploaded one or a profile reach the right URL:
a document whose paths start from the server's root (vLLM's) is not doubled under `/v1`."""

from __future__ import annotations

import copy
import json

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse

from playground import upstream
from playground.demo.openapi import document as demo_document
from playground.providers.keys import target_for
from playground.providers.models import ApiKey
from playground.upstream.sync import call_sync
from playground.upstream.target import endpoint_url
from playground.usage.models import UsageRecord
from tests.factories import ApiKeyFactory, ProviderFactory
from tests.upstream.raw_server import RawServer, json_reply

HELLO = {"model": "demo-chat", "messages": [{"role": "user", "content": "Hello"}]}


@pytest.mark.parametrize(
    ("base_url", "path", "url"),
    [
        ("http://h/v1", "/chat/completions", "http://h/v1/chat/completions"),
        ("http://h/v1/", "/v1/chat/completions", "http://h/v1/chat/completions"),
        ("http://h/demo/v1", "/demo/v1/models", "http://h/demo/v1/models"),
        ("http://h/vllm/v1", "/v1/models", "http://h/vllm/v1/models"),
        ("https://api.jamaibase.com", "/api/v1/chat/completions", "https://api.jamaibase.com/api/v1/chat/completions"),
        ("https://api.jamaibase.com/api", "/api/v1/embeddings", "https://api.jamaibase.com/api/v1/embeddings"),
        ("http://h/proxy/openai", "/chat/completions", "http://h/proxy/openai/chat/completions"),
    ],
)
def test_a_documents_path_joins_the_base_url_without_repeating_segments(base_url, path, url):
    assert endpoint_url(base_url, path) == url


def chat_text(user, provider) -> str:
    target, context = target_for(user, provider)
    return call_sync(upstream.chat, target, HELLO, context=context).text


def test_after_loading_the_demos_own_document_chat_and_the_key_test_work(client, team_with_roles, demo_provider):
    admin = team_with_roles.users["admin"]
    client.force_login(admin)
    client.post(reverse("schema_refresh", args=[demo_provider.pk]))
    demo_provider.refresh_from_db()
    assert demo_provider.schema_source == "fetched"

    key = ApiKey.objects.get(provider=demo_provider)
    page = client.post(reverse("key_test", args=[key.pk]), follow=True).content.decode()
    assert "The key works: Demo lists" in page
    assert chat_text(admin, demo_provider)


def test_an_uploaded_document_with_the_base_urls_prefix_in_its_paths_is_not_doubled(
    client, team_with_roles, demo_provider
):
    # The demo's document as a server would publish it from its root: /demo/v1/chat/completions.
    document = copy.deepcopy(demo_document())
    document.pop("servers")
    document["paths"] = {f"/demo/v1{path}": item for path, item in document["paths"].items()}
    admin = team_with_roles.users["admin"]
    client.force_login(admin)
    client.post(reverse("schema_upload", args=[demo_provider.pk]), {"document": json.dumps(document)})
    demo_provider.refresh_from_db()
    assert demo_provider.schema_source == "uploaded"

    key = ApiKey.objects.get(provider=demo_provider)
    assert "The key works: Demo lists" in client.post(reverse("key_test", args=[key.pk]), follow=True).content.decode()
    assert chat_text(admin, demo_provider)
    snippet = client.post(reverse("parameters", args=[demo_provider.pk, "chat"]), {"model": "demo-chat"})
    assert f"{demo_provider.base_url}/chat/completions" in snippet.content.decode()
    assert "/v1/demo/v1/" not in snippet.content.decode()


# What vLLM serves at /openapi.json, beside /v1, cut down: its paths start from the root.
VLLM_DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "FastAPI", "version": "0.1.0"},
    "paths": {
        "/health": {"get": {"responses": {"200": {"description": "OK"}}}},
        "/v1/models": {"get": {"responses": {"200": {"description": "OK"}}}},
        "/v1/chat/completions": {
            "post": {
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["messages"],
                                "properties": {
                                    "model": {"type": "string"},
                                    "messages": {"type": "array", "items": {"type": "object"}},
                                    "top_k": {"type": "integer", "default": -1},
                                },
                            }
                        }
                    }
                },
                "responses": {"200": {"description": "OK"}},
            }
        },
    },
}
ANSWER = {
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi there"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}


@pytest.mark.django_db(transaction=True)
async def test_a_vllm_document_from_the_root_sends_calls_to_v1_not_v1_v1(async_client, team_with_roles):
    replies = [
        json_reply(404, {"detail": "Not Found"}),  # GET /v1/openapi.json
        json_reply(200, VLLM_DOCUMENT),  # GET /openapi.json
        json_reply(200, {"object": "list", "data": [{"id": "Qwen/Qwen3-8B", "object": "model"}]}),
        json_reply(200, ANSWER),
    ]
    admin = team_with_roles.users["admin"]
    await async_client.aforce_login(admin)
    async with RawServer(*replies) as server:
        provider = await sync_to_async(ProviderFactory)(
            team=team_with_roles.team, name="vLLM", base_url=server.url, profile="vllm", allow_local=True
        )
        key = await sync_to_async(ApiKeyFactory)(provider=provider, owner=None, plain="sk-vllm-key-00001234")

        await async_client.post(reverse("schema_refresh", args=[provider.pk]))
        tested = await async_client.post(reverse("key_test", args=[key.pk]), follow=True)
        await provider.arefresh_from_db()
        target, context = await sync_to_async(target_for)(admin, provider)
        answer = await upstream.chat(target, {**HELLO, "model": "Qwen/Qwen3-8B"}, context=context)

    assert provider.schema_source == "fetched"
    assert "The key works: vLLM lists 1 model." in tested.content.decode()
    assert answer.text == "Hi there"
    assert [request[0] for request in server.requests] == [
        "GET /v1/openapi.json HTTP/1.1",
        "GET /openapi.json HTTP/1.1",
        "GET /v1/models HTTP/1.1",
        "POST /v1/chat/completions HTTP/1.1",
    ]


@pytest.mark.django_db(transaction=True)
async def test_a_provider_without_any_document_says_where_it_looked(async_client, team_with_roles):
    await async_client.aforce_login(team_with_roles.users["admin"])
    async with RawServer(json_reply(404, {"detail": "Not Found"})) as server:
        base_url = server.url
        provider = await sync_to_async(ProviderFactory)(
            team=team_with_roles.team, name="Ollama", base_url=base_url, profile="ollama", allow_local=True
        )
        await sync_to_async(ApiKeyFactory)(provider=provider, owner=None)
        page = (await async_client.post(reverse("schema_refresh", args=[provider.pk]), follow=True)).content.decode()
    assert (
        f"Ollama serves no OpenAPI document: {base_url}/openapi.json, "
        f"{base_url.removesuffix('/v1')}/openapi.json answered 404." in page
    )
    await provider.arefresh_from_db()
    assert provider.schema_source == "profile"


@pytest.mark.django_db(transaction=True)
async def test_the_document_is_looked_for_at_most_four_folders_above_the_base_url(async_client, team_with_roles):
    await async_client.aforce_login(team_with_roles.users["admin"])
    async with RawServer(json_reply(404, {"detail": "Not Found"})) as server:
        provider = await sync_to_async(ProviderFactory)(
            team=team_with_roles.team,
            name="Deep",
            base_url=server.url.removesuffix("/v1") + "/a/b/c/d/e/v1",
            profile="vllm",
            allow_local=True,
        )
        await sync_to_async(ApiKeyFactory)(provider=provider, owner=None)
        page = (await async_client.post(reverse("schema_refresh", args=[provider.pk]), follow=True)).content.decode()
    assert [request[0] for request in server.requests] == [
        f"GET {folder}/openapi.json HTTP/1.1"
        for folder in ("/a/b/c/d/e/v1", "/a/b/c/d/e", "/a/b/c/d", "/a/b/c", "/a/b")
    ]
    assert await UsageRecord.objects.acount() == 5
    assert "/a/b/openapi.json answered 404. Only the base URL and the 4 folders above it are tried." in page
