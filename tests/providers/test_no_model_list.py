"""An API without a models endpoint (the research API) is tested and used without one: the key
is tried with a one-token chat request, models come from its schema or are typed in, and a
404 from a models endpoint never reads as a refused key."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse

from playground.providers.models import ApiKey, Provider
from tests.factories import ApiKeyFactory, ProviderFactory
from tests.upstream.raw_server import RawServer, json_reply

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER = {
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "H"}, "finish_reason": "length"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


@pytest.fixture
async def admin_client(async_client, team_with_roles):
    await async_client.aforce_login(team_with_roles.users["admin"])
    return async_client


async def research_at(team_with_roles, server: RawServer) -> tuple[Provider, ApiKey]:
    provider = await sync_to_async(ProviderFactory)(
        team=team_with_roles.team, name="Research", base_url=server.url, profile="research", allow_local=True
    )
    key = await sync_to_async(ApiKeyFactory)(provider=provider, owner=None, plain="sk-research-key-00009876")
    return provider, key


def notice(response) -> str:
    page = response.content.decode()
    start = page.index('<div id="notices"')
    return page[start : page.index("</div>\n  <main", start)]


async def test_the_key_is_tried_with_a_one_token_chat_request(admin_client, team_with_roles):
    async with RawServer(json_reply(200, ANSWER)) as server:
        provider, key = await research_at(team_with_roles, server)
        response = await admin_client.post(reverse("key_test", args=[key.pk]), follow=True)
    assert (
        "The key works: Research has no model list (its API description has none), so a one-token chat "
        "request to researcher was sent, and it was answered."
    ) in notice(response)
    [(line, headers, body)] = server.requests
    assert line == "POST /v1/chat/completions HTTP/1.1"
    assert headers["authorization"] == "Bearer sk-research-key-00009876"
    sent = json.loads(body)
    assert (sent["model"], sent["max_tokens"], sent["messages"][0]["role"]) == ("researcher", 1, "user")


async def test_a_refused_key_is_said_with_what_was_tried(admin_client, team_with_roles):
    async with RawServer(json_reply(401, {"detail": "Invalid token"})) as server:
        provider, key = await research_at(team_with_roles, server)
        said = notice(await admin_client.post(reverse("key_test", args=[key.pk]), follow=True))
    assert "so a one-token chat request to researcher was sent: The API key was refused (401): Invalid token." in said
    assert [request[0] for request in server.requests] == ["POST /v1/chat/completions HTTP/1.1"]


async def test_models_come_from_the_schema_and_refresh_is_not_offered(admin_client, team_with_roles):
    async with RawServer(json_reply(200, ANSWER)) as server:
        page = await admin_client.get(reverse("provider_list", args=[team_with_roles.team.pk]))
        assert page.status_code == 200
        data = {
            "name": "Research",
            "base_url": server.url,
            "profile": "research",
            "default_model": "",
            "headers-TOTAL_FORMS": "0",
            "headers-INITIAL_FORMS": "0",
        }
        team_with_roles.users["admin"].is_staff = True  # a local address needs staff
        await sync_to_async(team_with_roles.users["admin"].save)()
        await admin_client.post(reverse("provider_list", args=[team_with_roles.team.pk]), {**data, "allow_local": "on"})
        provider = await Provider.objects.aget(name="Research")
        assert provider.models_cache == ["researcher"]

        detail = (await admin_client.get(reverse("provider_detail", args=[provider.pk]))).content.decode()
        assert "Refresh models" not in detail
        assert "This API has no model list" in detail and "<code>researcher</code>" in detail
        parameters = await admin_client.get(reverse("parameters", args=[provider.pk, "chat"]))
        assert '<option value="researcher">' in parameters.content.decode()

        # Asked anyway (an old page), it explains rather than calling a models endpoint.
        refreshed = await admin_client.post(reverse("models_refresh", args=[provider.pk]), follow=True)
    assert "Research has no model list: its API description has no models endpoint." in notice(refreshed)
    assert "Its description suggests researcher." in notice(refreshed)
    assert server.requests == []


async def test_a_404_from_the_models_endpoint_is_not_a_bad_key(admin_client, team_with_roles):
    not_found = json_reply(404, {"detail": "Not Found"})
    async with RawServer(not_found, json_reply(200, ANSWER)) as server:
        provider = await sync_to_async(ProviderFactory)(
            team=team_with_roles.team,
            name="Gateway",
            base_url=server.url,
            profile="openai",
            allow_local=True,
            default_model="house-model",
        )
        key = await sync_to_async(ApiKeyFactory)(provider=provider, owner=None)
        said = notice(await admin_client.post(reverse("key_test", args=[key.pk]), follow=True))
        assert (
            f"The key works: Gateway has no model list at {server.url}/models (404), so a one-token chat "
            "request to house-model was sent, and it was answered."
        ) in said
        assert "refused" not in said

        server.replies = [not_found]
        listed = notice(await admin_client.post(reverse("models_refresh", args=[provider.pk]), follow=True))
        models_url = f"{server.url}/models"
    assert f"Gateway answered 404 at {models_url}: it has no model list there." in listed
    assert "refused" not in listed and "key" not in listed.lower()
