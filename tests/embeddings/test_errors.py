"""Problems shown in plain words beside the field they concern: before sending (schema, key) and
from the provider (refused key, rate limit, a parameter it rejects), on a server over a real socket."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from playground.embeddings.models import EmbeddingRun, Status
from playground.usage.models import UsageRecord
from tests.embeddings.conftest import post_run
from tests.factories import ApiKeyFactory, ProviderFactory
from tests.upstream.raw_server import RawServer, json_reply


def test_a_parameter_out_of_the_schemas_range_is_refused_before_sending(client, member, demo_provider, create_url):
    client.force_login(member)
    response = post_run(client, create_url, demo_provider, "one\ntwo", **{"p-dimensions": "5000"})
    assert response.status_code == 400
    assert "dimensions must be ≤ 2048" in str(response.context["params"].errors["dimensions"])
    assert not EmbeddingRun.objects.exists() and not UsageRecord.objects.exists()


def test_a_provider_without_a_usable_key_is_named_beside_the_provider(client, member, demo_provider, create_url):
    demo_provider.api_keys.update(revoked_at="2025-01-01T00:00:00Z")
    client.force_login(member)
    response = post_run(client, create_url, demo_provider, "one\ntwo")
    assert response.status_code == 400
    assert "There is no API key for Demo" in str(response.context["form"].errors["provider"])


def test_an_unknown_model_fails_the_run_with_the_providers_words(client, member, demo_provider, create_url):
    client.force_login(member)
    post_run(client, create_url, demo_provider, "one\ntwo", model="no-such-model")
    run = EmbeddingRun.objects.get()
    assert run.status == Status.ERROR
    assert "The model `no-such-model` does not exist" in run.error
    page = client.get(reverse("embedding_run_detail", args=[run.pk]))
    assert "does not exist" in str(page.context["retry_form"].errors["model"])


@pytest.fixture
def raw_provider(team_with_roles):
    def make(url):
        provider = ProviderFactory(
            team=team_with_roles.team, name="Raw", base_url=url, profile="openai", allow_local=True
        )
        ApiKeyFactory(provider=provider, owner=None)
        return provider

    return make


async def run_against(server, raw_provider, member, project, **fields):
    provider = await sync_to_async(raw_provider)(server.url)
    client = Client()
    await sync_to_async(client.force_login)(member)
    url = reverse("embedding_run_create", args=[project.pk])
    data = {"provider": provider.pk, "model": "text-embedding-3-small", "texts": "one\ntwo", **fields}
    response = await sync_to_async(client.post)(url, data)
    assert response.status_code == 302
    run = await EmbeddingRun.objects.aget()
    page = await sync_to_async(client.get)(reverse("embedding_run_detail", args=[run.pk]))
    return run, page


@pytest.mark.django_db(transaction=True)
async def test_a_refused_key_is_shown_beside_the_provider(team_with_roles, raw_provider):
    refusal = json_reply(401, {"error": {"message": "Incorrect API key provided."}})
    async with RawServer(refusal) as server:
        run, page = await run_against(server, raw_provider, team_with_roles.users["member"], team_with_roles.project)
    assert run.status == Status.ERROR and run.error_kind == "authentication"
    message = str(page.context["retry_form"].errors["provider"])
    assert "The API key was refused (401): Incorrect API key provided." in message
    assert "Check the key in the provider settings" in message


@pytest.mark.django_db(transaction=True)
async def test_a_rate_limit_says_when_to_try_again_and_the_limits(team_with_roles, raw_provider):
    limited = json_reply(
        429,
        {"error": {"message": "Too many requests"}},
        **{"Retry-After": "60", "X-RateLimit-Limit": "100", "X-RateLimit-Burst": "10"},
    )
    async with RawServer(limited) as server:
        run, page = await run_against(server, raw_provider, team_with_roles.users["member"], team_with_roles.project)
        assert len(server.requests) == 1  # a 60 s wait is longer than we retry for: the person decides
    assert run.status == Status.ERROR and run.error_kind == "rate_limited"
    shown = page.content.decode()
    assert "Rate limited by the provider: Too many requests. Try again in 60 s." in shown
    assert "limit 100, burst 10" in shown
    record = await UsageRecord.objects.aget()
    assert (record.endpoint, record.status, record.http_status) == ("embeddings", "rate_limited", 429)


@pytest.mark.django_db(transaction=True)
async def test_a_parameter_the_provider_rejects_is_shown_beside_it_with_its_words(team_with_roles, raw_provider):
    rejection = json_reply(400, {"error": {"message": "This model does not support dimensions above 512."}})
    async with RawServer(rejection) as server:
        run, page = await run_against(
            server, raw_provider, team_with_roles.users["member"], team_with_roles.project, **{"p-dimensions": "1024"}
        )
        assert b'"dimensions":1024' in server.requests[0][2]
    assert run.status == Status.ERROR and run.error_kind == "bad_request"
    message = str(page.context["retry_params"].errors["dimensions"])
    assert "The provider rejected the request (400): This model does not support dimensions above 512." in message
    # The retry form shows the parameters as they were sent.
    assert page.context["retry_params"]["dimensions"].value() == "1024"


@pytest.mark.django_db(transaction=True)
async def test_running_again_with_changed_settings_reuses_the_texts(team_with_roles, raw_provider):
    answer = {"data": [{"index": i, "embedding": [1.0, float(i)]} for i in range(2)], "model": "m"}
    rejection = json_reply(400, {"error": {"message": "dimensions too large"}})
    async with RawServer(rejection, json_reply(200, answer)) as server:
        member = team_with_roles.users["member"]
        run, _ = await run_against(server, raw_provider, member, team_with_roles.project, **{"p-dimensions": "9999"})
        client = Client()
        await sync_to_async(client.force_login)(member)
        data = {"provider": run.provider_id, "model": "text-embedding-3-small", "p-dimensions": "2"}
        response = await sync_to_async(client.post)(reverse("embedding_run_retry", args=[run.pk]), data)
    again = await EmbeddingRun.objects.exclude(pk=run.pk).aget()
    assert response.status_code == 302 and response.url == reverse("embedding_run_detail", args=[again.pk])
    assert again.status == Status.DONE and again.texts == ["one", "two"] and again.params == {"dimensions": 2}
    assert again.dim == 2
