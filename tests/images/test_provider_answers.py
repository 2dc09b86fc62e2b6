"""What people are told when a provider refuses, limits or answers oddly: shapes the demo does not
produce, served by a tiny local server over a real socket. Also: waiting for one provider blocks no one."""

from __future__ import annotations

import asyncio
import base64
import html as html_module
import json
import re

import pytest
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.db import connections
from django.urls import reverse

from playground.images import services
from playground.images.models import GeneratedImage, ImageGeneration
from playground.upstream.client import remember_server_loop
from playground.usage.models import UsageRecord
from tests.factories import ApiKeyFactory, ProviderFactory
from tests.images.conftest import png_bytes
from tests.upstream.raw_server import RawServer, Reply, json_reply

pytestmark = pytest.mark.django_db(transaction=True)
KEY = "sk-live-SECRET-abcdefghijklmnop1234"
PNG = png_bytes()


def images_reply(*items: dict) -> Reply:
    return json_reply(200, {"created": 1, "data": list(items)})


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
async def member_client(async_client, team_with_roles):
    await async_client.aforce_login(team_with_roles.users["member"])
    return async_client


async def provider_at(team_with_roles, server: RawServer, name: str = "Raw"):
    provider = await sync_to_async(ProviderFactory)(
        team=team_with_roles.team, name=name, base_url=server.url, profile="openai", allow_local=True
    )
    await sync_to_async(ApiKeyFactory)(provider=provider, owner=None, plain=KEY)
    return provider


async def generate(client, team_with_roles, provider, **extra):
    data = {"prompt": "A harbour", "provider": provider.pk, "params_for": provider.pk, "model": "img-1", **extra}
    url = reverse("image_generate", args=[team_with_roles.project.pk])
    return await client.post(url, data, headers={"HX-Request": "true"})


def said(response) -> str:
    html = response.content.decode()
    match = re.search(r'id="generate-error" role="alert"[^>]*>(.*?)</div>', html, re.S)
    assert match, html[:3000]
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


async def test_a_rate_limit_says_when_to_try_again_and_the_providers_limits(member_client, team_with_roles):
    reply = json_reply(
        429,
        {"error": {"message": "Too many requests"}},
        **{"Retry-After": "100", "X-RateLimit-Limit": "60", "X-RateLimit-Burst": "10"},
    )
    async with RawServer(reply) as server:
        response = await generate(member_client, team_with_roles, await provider_at(team_with_roles, server))
    assert "Rate limited by the provider: Too many requests. Try again in 100 s." in said(response)
    assert "The provider's limits: limit 60, burst 10." in said(response)
    record = await UsageRecord.objects.aget()
    assert (record.endpoint, record.status, record.http_status) == ("images", "rate_limited", 429)


async def test_a_refused_key_is_said_plainly_and_the_key_never_reaches_the_page(member_client, team_with_roles):
    reply = json_reply(401, {"error": {"message": f"Incorrect API key provided: {KEY}."}})
    async with RawServer(reply) as server:
        response = await generate(member_client, team_with_roles, await provider_at(team_with_roles, server))
        [(_, headers, _)] = server.requests
    assert headers["authorization"] == f"Bearer {KEY}"
    assert "The API key was refused (401)" in said(response)
    assert KEY not in response.content.decode() and KEY[-12:] not in response.content.decode()
    assert KEY not in (await ImageGeneration.objects.aget()).error


async def test_the_providers_own_words_about_an_invalid_size_are_shown(member_client, team_with_roles):
    reply = json_reply(400, {"error": {"message": "Invalid size '1536x1024' for dall-e-2.", "param": "size"}})
    async with RawServer(reply) as server:
        provider = await provider_at(team_with_roles, server)
        response = await generate(member_client, team_with_roles, provider, **{"p-size": "1536x1024"})
        [(_, _, body)] = server.requests
    assert json.loads(body) == {"model": "img-1", "prompt": "A harbour", "size": "1536x1024"}
    assert "The provider rejected the request (400): Invalid size '1536x1024' for dall-e-2." in said(response)


async def test_bytes_that_are_not_a_picture_are_not_kept(member_client, team_with_roles):
    async with RawServer(images_reply({"b64_json": b64(b"<html><script>alert(1)</script></html>")})) as server:
        response = await generate(member_client, team_with_roles, await provider_at(team_with_roles, server))
    assert "The picture could not be kept: The provider sent something that is not a picture." in said(response)
    assert not await GeneratedImage.objects.aexists()


async def test_a_picture_over_the_size_cap_is_not_kept(member_client, team_with_roles, settings):
    settings.IMAGE_MAX_BYTES = len(PNG) - 10
    async with RawServer(images_reply({"b64_json": b64(PNG)})) as server:
        response = await generate(member_client, team_with_roles, await provider_at(team_with_roles, server))
    assert "is larger than the" in said(response)
    assert not await GeneratedImage.objects.aexists()


async def test_the_good_pictures_of_an_answer_are_kept_when_one_is_bad(member_client, team_with_roles):
    reply = images_reply({"b64_json": b64(PNG), "revised_prompt": "A calm harbour"}, {"b64_json": "@@not base64@@"})
    async with RawServer(reply) as server:
        response = await generate(member_client, team_with_roles, await provider_at(team_with_roles, server))
    assert said(response).startswith("Some pictures were not kept. 1 of 2 pictures could not be kept:")
    image = await GeneratedImage.objects.aget()
    assert (image.index, image.revised_prompt) == (0, "A calm harbour")


async def test_a_url_answer_that_is_not_a_picture_is_not_kept(member_client, team_with_roles):
    page = Reply(headers={"Content-Type": "image/png"}, parts=[(0, b"<!doctype html><p>Sign in</p>")])
    async with RawServer(page) as server:
        # The first reply points at the same server, whose next reply is the "picture".
        server.replies.insert(0, images_reply({"url": f"{server.url}/files/1.png"}))
        response = await generate(member_client, team_with_roles, await provider_at(team_with_roles, server))
        assert [request[0].split(" ")[:2] for request in server.requests] == [
            ["POST", "/v1/images/generations"],
            ["GET", "/v1/files/1.png"],
        ]
    assert "not a picture" in said(response)


async def test_a_url_on_a_private_address_is_refused_unless_it_is_the_allowed_providers_own():
    """Staff's permission to reach the local network covers the provider's own address, not
    whatever other local address its answer names."""
    async with RawServer(Reply(headers={"Content-Type": "image/png"}, parts=[(0, PNG)])) as server:
        items = [{"url": f"{server.url}/files/1.png"}]
        for local_origin in (None, services._origin("http://127.0.0.1:9/v1"), services._origin("https://127.0.0.1")):
            kept, failures = await services._keep_all(items, local_origin=local_origin, timeouts=None)
            assert kept == [] and "on a local or private network" in failures[0]
        assert server.requests == []
        kept, failures = await services._keep_all(items, local_origin=services._origin(server.url), timeouts=None)
        assert failures == [] and kept[0][1].width == 64


async def test_waiting_for_a_slow_provider_does_not_hold_up_another_generation(async_client, team_with_roles):
    """The view is async: while one provider takes its time, other requests are served."""
    remember_server_loop()  # as under Daphne: the shared client lives as long as the loop
    await async_client.aforce_login(team_with_roles.users["member"])
    slow_reply = images_reply({"b64_json": b64(PNG)})
    slow_reply.gate = asyncio.Event()  # the slow provider answers when the test says so

    async def timed(provider):
        # Django's ASGI handler gives each request a context of its own for synchronous
        # code (the test client does not), so a sync middleware of one request never waits
        # for another request's.
        async with ThreadSensitiveContext():
            response = await generate(async_client, team_with_roles, provider)
            # The request's thread ends with its context: close its connection there (the
            # server does so on request_finished, which the test client does not send).
            await sync_to_async(connections.close_all)()
        return response

    async with (
        RawServer(slow_reply) as slow_server,
        RawServer(images_reply({"b64_json": b64(png_bytes(colour=(1, 2, 3)))})) as fast_server,
    ):
        slow = await provider_at(team_with_roles, slow_server, "Slow")
        fast = await provider_at(team_with_roles, fast_server, "Fast")
        slow_task = asyncio.create_task(timed(slow))
        await slow_server.until(lambda server: server.requests)  # the slow provider has it and takes its time
        fast_response = await timed(fast)
        assert not slow_task.done(), "the fast generation was served while the slow one waited"
        slow_reply.gate.set()
        slow_response = await slow_task
    assert fast_response.status_code == slow_response.status_code == 200
    assert await GeneratedImage.objects.acount() == 2
