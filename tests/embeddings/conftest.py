"""Embedding runs made through the pages against the demo upstream, and finished runs made directly."""

from __future__ import annotations

import numpy as np
import pytest
from django.urls import reverse

from playground.demo.embeddings import embed
from playground.embeddings.models import EmbeddingRun, Status

# The demo's vectors are alike when texts share words, so each topic shares its own words.
TOPICS = {
    "cats": ["cats purr on warm sofas", "sleepy cats purr softly", "cats chase mice then purr"],
    "rockets": ["rockets burn fuel to reach orbit", "engineers launch rockets into orbit", "rockets need fuel"],
    "bread": ["bread dough needs yeast", "fresh bread dough rising with yeast", "bakers knead bread dough"],
}


def finished_run(project, user, texts: list[str], *, labels=None, dimensions: int = 32, model="demo-embed", **fields):
    """A done run whose vectors are the demo upstream's, stored without calling any API."""
    run = EmbeddingRun(
        project=project,
        user=user,
        model=model,
        texts=texts,
        labels=labels or [],
        text_count=len(texts),
        first_text=texts[0],
        status=Status.DONE,
        **fields,
    )
    run.set_matrix(embed(texts, dimensions))
    run.save()
    return run


@pytest.fixture
def project(team_with_roles):
    return team_with_roles.project


@pytest.fixture
def member(team_with_roles):
    return team_with_roles.users["member"]


@pytest.fixture
def create_url(project):
    return reverse("embedding_run_create", args=[project.pk])


def post_run(client, url, provider, texts: str = "", **fields):
    data = {"provider": provider.pk, "model": "demo-embed", "texts": texts, **fields}
    return client.post(url, data)


def stored(run) -> np.ndarray:
    run.refresh_from_db()
    return run.matrix()
