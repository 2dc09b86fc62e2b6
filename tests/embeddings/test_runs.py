"""A run end to end: the form, the demo upstream over a real socket, stored vectors, batching, usage."""

from __future__ import annotations

import numpy as np
import pytest
from django.test import override_settings
from django.urls import reverse

from playground.demo.embeddings import embed
from playground.embeddings.models import EmbeddingRun, Status
from playground.usage.models import UsageRecord
from tests.embeddings.conftest import TOPICS, post_run, stored

TEXTS = [text for texts in TOPICS.values() for text in texts]


def test_a_run_embeds_the_texts_and_stores_the_demo_vectors(client, member, demo_provider, create_url):
    client.force_login(member)
    response = post_run(client, create_url, demo_provider, "\n".join(TEXTS) + "\n\n")
    run = EmbeddingRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("embedding_run_detail", args=[run.pk])
    assert run.status == Status.DONE, run.error
    assert run.texts == TEXTS and run.text_count == len(TEXTS) and run.dim == 256
    vectors = stored(run)
    assert vectors.dtype == np.float32 and len(bytes(run.vectors)) == len(TEXTS) * 256 * 4
    np.testing.assert_allclose(vectors, embed(TEXTS, 256), atol=1e-6)
    assert run.duration_ms is not None and run.done_count == len(TEXTS)


@pytest.mark.parametrize("encoding", ["float", "base64"])
def test_dimensions_and_either_encoding_give_the_same_vectors(client, member, demo_provider, create_url, encoding):
    client.force_login(member)
    post_run(
        client, create_url, demo_provider, "\n".join(TEXTS), **{"p-dimensions": "64", "p-encoding_format": encoding}
    )
    run = EmbeddingRun.objects.get()
    assert run.status == Status.DONE, run.error
    assert run.params == {"dimensions": 64, "encoding_format": encoding}
    assert run.dim == 64
    np.testing.assert_allclose(stored(run), embed(TEXTS, 64), atol=1e-6)


@override_settings(EMBEDDINGS_BATCH_SIZE=256)
def test_600_texts_are_sent_in_three_requests_with_one_usage_record_each(client, member, demo_provider, create_url):
    client.force_login(member)
    texts = [f"text number {n} about topic {n % 7}" for n in range(600)]
    post_run(client, create_url, demo_provider, "\n".join(texts), **{"p-dimensions": "16"})
    run = EmbeddingRun.objects.get()
    assert run.status == Status.DONE, run.error
    assert (run.batch_size, run.batch_count) == (256, 3)
    records = UsageRecord.objects.filter(endpoint="embeddings").order_by("created_at")
    assert records.count() == 3
    assert {(r.status, r.model, r.project_id, r.user_id) for r in records} == {
        ("ok", "demo-embed", run.project_id, member.pk)
    }
    # The demo counts one token per word of each text it was sent.
    assert sum(r.prompt_tokens for r in records) == sum(len(t.split()) for t in texts)
    np.testing.assert_allclose(stored(run), embed(texts, 16), atol=1e-6)


def test_the_batch_size_follows_the_setting(client, member, demo_provider, create_url, settings):
    settings.EMBEDDINGS_BATCH_SIZE = 4
    client.force_login(member)
    post_run(client, create_url, demo_provider, "\n".join(TEXTS))
    run = EmbeddingRun.objects.get()
    assert run.status == Status.DONE and run.batch_size == 4
    assert UsageRecord.objects.filter(endpoint="embeddings").count() == 3  # 9 texts: 4 + 4 + 1


def test_a_run_reopens_without_calling_the_api(client, member, demo_provider, create_url):
    client.force_login(member)
    post_run(client, create_url, demo_provider, "\n".join(TEXTS))
    run = EmbeddingRun.objects.get()
    calls = UsageRecord.objects.count()
    demo_provider.base_url = demo_provider.local_url = "http://127.0.0.1:9/nothing-listens-here"
    demo_provider.save()
    page = client.get(reverse("embedding_run_detail", args=[run.pk]))
    assert page.status_code == 200
    assert "Cosine similarity values" in page.content.decode()
    assert UsageRecord.objects.count() == calls


def test_the_batch_size_is_lowered_to_the_schemas_limit_on_input(team_with_roles, settings):
    from playground.embeddings.services import batch_size_for
    from playground.providers.profiles import profile_document
    from tests.factories import ProviderFactory

    settings.EMBEDDINGS_BATCH_SIZE = 256
    document = profile_document("openai")
    request = document["components"]["schemas"]["EmbeddingRequest"]
    for shape in request["properties"]["input"]["anyOf"]:
        if shape.get("type") == "array":
            shape["maxItems"] = 96
    provider = ProviderFactory(team=team_with_roles.team, uploaded_schema=document, uploaded_at="2026-01-01T00:00Z")
    assert batch_size_for(provider) == 96
    assert batch_size_for(ProviderFactory(team=team_with_roles.team, profile="openai")) == 256  # 2048 allowed
    settings.EMBEDDINGS_BATCH_SIZE = 64
    assert batch_size_for(provider) == 64
