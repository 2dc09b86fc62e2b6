"""Embeddings maths and page: similarity, similar-together order and 2-D projection of
1,000 texts × 1,024 dimensions, and the server time of that run's page."""

from __future__ import annotations

import gc
import random
import statistics
import time

import numpy as np

RUNS = 7
TEXTS = 1_000
DIMENSIONS = 1_024
TOPICS = 25


def texts(count: int = TEXTS) -> list[str]:
    """Short texts on a few dozen topics, each with its own words and some shared ones."""
    rng = random.Random(7)
    topics = [[f"topic{t}word{w}" for w in range(12)] for t in range(TOPICS)]
    common = [f"common{w}" for w in range(200)]
    return [" ".join(rng.sample(topics[n % TOPICS], 4) + rng.sample(common, 6) + [f"unique{n}"]) for n in range(count)]


def vectors() -> np.ndarray:
    from playground.demo.embeddings import embed

    return embed(texts(), DIMENSIONS)


def maths_ms(data: np.ndarray) -> float:
    from playground.embeddings import maths

    maths.analyse(data[:50])  # warm up
    timings = []
    for _ in range(RUNS):
        gc.collect()
        started = time.perf_counter()
        maths.analyse(data)
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 1)


def page_ms(data: np.ndarray) -> float:
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment, teardown_test_environment

    from playground.embeddings.models import EmbeddingRun, Status
    from tests.factories import MembershipFactory, ProjectFactory

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        membership = MembershipFactory(role="member")
        project = ProjectFactory(team=membership.team)
        all_texts = texts()
        labels = [f"topic {n % 8}" for n in range(TEXTS)]
        run = EmbeddingRun(
            project=project, user=membership.user, model="demo-embed", texts=all_texts, labels=labels,
            text_count=TEXTS, first_text=all_texts[0], status=Status.DONE,
        )  # fmt: skip
        run.set_matrix(data)
        run.save()
        client = Client()
        client.force_login(membership.user)
        url = f"/embeddings/{run.pk}/"
        assert client.get(url).status_code == 200  # warm up
        timings = []
        for _ in range(RUNS):
            gc.collect()
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            timings.append((time.perf_counter() - started) * 1000)
        return round(statistics.median(timings), 1)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()  # the next benchmark may set it up again


def run() -> dict[str, float]:
    data = vectors()
    return {"embeddings_1000x1024_ms": maths_ms(data), "embeddings_page_1000x1024_ms": page_ms(data)}


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    print(run())
