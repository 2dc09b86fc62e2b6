"""Under the ASGI server a run embeds in a task of its own; its page follows the progress."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from playground.embeddings import services
from playground.embeddings.models import EmbeddingRun, Status
from playground.upstream.client import remember_server_loop
from tests.factories import ApiKeyFactory, EmbeddingRunFactory, ProviderFactory
from tests.upstream.raw_server import RawServer, Reply


def embedding_reply(count: int, delay: float = 0.0) -> Reply:
    payload = {"data": [{"index": i, "embedding": [1.0, float(i), 0.5]} for i in range(count)], "model": "m"}
    return Reply(
        headers={"Content-Type": "application/json"},
        parts=[(0, json.dumps(payload).encode())],
        delay_before_headers=delay,
    )


@pytest.mark.django_db(transaction=True)
async def test_on_the_server_loop_the_run_continues_after_the_request_and_its_progress_shows(team_with_roles):
    member, project = team_with_roles.users["member"], team_with_roles.project
    async with RawServer(embedding_reply(2), embedding_reply(2), embedding_reply(2, delay=1.5)) as server:

        def make_provider():
            provider = ProviderFactory(team=project.team, base_url=server.url, profile="openai", allow_local=True)
            ApiKeyFactory(provider=provider, owner=None)
            return provider

        provider = await sync_to_async(make_provider)()
        client = Client()
        await sync_to_async(client.force_login)(member)
        remember_server_loop()  # this test's loop plays the ASGI server's
        data = {"provider": provider.pk, "model": "m", "texts": "\n".join(f"text {n}" for n in range(6))}
        with override_settings(EMBEDDINGS_BATCH_SIZE=2):
            response = await sync_to_async(client.post)(reverse("embedding_run_create", args=[project.pk]), data)
        assert response.status_code == 302
        [task] = services._running
        assert not task.done()  # the request has ended; the run goes on
        run = await EmbeddingRun.objects.aget()

        progress_url = reverse("embedding_run_progress", args=[run.pk])
        for _ in range(100):
            await asyncio.sleep(0.02)
            if (await EmbeddingRun.objects.aget(pk=run.pk)).done_count == 4:
                break
        page = await sync_to_async(client.get)(progress_url, headers={"HX-Request": "true"})
        body = page.content.decode()
        assert "Embedded 4 of 6 texts" in body and 'hx-trigger="every 1s"' in body
        assert '<progress id="run-progress-bar" max="6" value="4">' in body

        await task
    run = await EmbeddingRun.objects.aget(pk=run.pk)
    assert run.status == Status.DONE, run.error
    assert run.dim == 3 and run.done_count == 6 and len(server.requests) == 3
    finished = await sync_to_async(client.get)(progress_url, headers={"HX-Request": "true"})
    assert finished.status_code == 200 and finished["HX-Refresh"] == "true"


def test_a_waiting_run_page_polls_its_progress(client, team_with_roles):
    member = team_with_roles.users["member"]
    run = EmbeddingRunFactory(project=team_with_roles.project, user=member, texts=["a", "b"], status=Status.RUNNING)
    client.force_login(member)
    page = client.get(reverse("embedding_run_detail", args=[run.pk])).content.decode()
    assert f'hx-get="{reverse("embedding_run_progress", args=[run.pk])}"' in page
    assert "Embedded 0 of 2 texts" in page


def test_a_run_left_running_by_a_stopped_server_is_shown_as_interrupted(client, team_with_roles, settings):
    member = team_with_roles.users["member"]
    run = EmbeddingRunFactory(project=team_with_roles.project, user=member, texts=["a"], status=Status.RUNNING)
    long_ago = timezone.now() - timedelta(seconds=settings.UPSTREAM_TOTAL_TIMEOUT + 120)
    EmbeddingRun.objects.filter(pk=run.pk).update(updated_at=long_ago)
    client.force_login(team_with_roles.users["viewer"])
    page = client.get(reverse("embedding_run_detail", args=[run.pk])).content.decode()
    run.refresh_from_db()
    assert run.status == Status.ERROR and run.error_kind == "interrupted"
    assert "The server stopped while this run was in progress" in page and "hx-trigger" not in page
