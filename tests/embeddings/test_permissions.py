"""Every embeddings URL by every kind of user: non-members 404, viewers read, members run."""

from __future__ import annotations

import pytest
from django.urls import reverse

from playground.accounts.models import Role
from playground.embeddings.models import EmbeddingRun
from tests.access import ACTORS, assert_access
from tests.embeddings.conftest import finished_run

TEXTS = ["cats purr", "sleepy cats", "rockets fly", "rockets burn fuel"]

ENDPOINTS = [
    ("embedding_runs", "get", Role.VIEWER, None),
    ("embedding_run_create", "get", Role.MEMBER, None),
    ("embedding_run_create", "post", Role.MEMBER, {"texts": "cats\nrockets", "model": "demo-embed"}),
    ("embedding_run_detail", "get", Role.VIEWER, None),
    ("embedding_run_progress", "get", Role.VIEWER, None),
    ("embedding_run_neighbours", "post", Role.MEMBER, {"query": "cats"}),
    ("embedding_run_compare", "get", Role.VIEWER, None),
    ("embedding_run_vectors_csv", "get", Role.VIEWER, None),
    ("embedding_run_similarity_csv", "get", Role.VIEWER, None),
    ("embedding_run_retry", "post", Role.MEMBER, {"model": "demo-embed"}),
    ("embedding_run_delete", "get", Role.MEMBER, None),
    ("embedding_run_delete", "post", Role.MEMBER, {}),
]


@pytest.fixture
def runs(team_with_roles, demo_provider):
    owner = team_with_roles.users["owner"]
    project = team_with_roles.project
    run = finished_run(project, owner, TEXTS, dimensions=256, provider=demo_provider)
    other = finished_run(project, owner, TEXTS, dimensions=64, provider=demo_provider, params={"dimensions": 64})
    return run, other


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("name", "method", "lowest_role", "data"), ENDPOINTS)
def test_access(client, team_with_roles, demo_provider, runs, actor, name, method, lowest_role, data):
    run, other = runs
    if actor != "anonymous":
        client.force_login(team_with_roles.users[actor])
    project_level = name in ("embedding_runs", "embedding_run_create")
    url = reverse(name, args=[team_with_roles.project.pk if project_level else run.pk])
    if name == "embedding_run_compare":
        url += f"?other={other.pk}&k=3"
    if data is not None and "model" in data:
        data = {**data, "provider": demo_provider.pk}
    response = client.post(url, data) if method == "post" else client.get(url)
    assert_access(response, actor, lowest_role)


def test_viewers_see_no_forms_that_call_the_api(client, team_with_roles, runs):
    run, _ = runs
    client.force_login(team_with_roles.users["viewer"])
    page = client.get(reverse("embedding_run_detail", args=[run.pk])).content.decode()
    assert "Cosine similarity values" in page
    assert "Find neighbours" not in page and "Run again" not in page and "Delete run" not in page


def test_a_run_of_another_project_of_the_team_cannot_be_compared_through_this_one(client, team_with_roles, runs):
    from tests.factories import ProjectFactory

    run, _ = runs
    elsewhere = finished_run(ProjectFactory(team=team_with_roles.team), team_with_roles.users["owner"], TEXTS)
    client.force_login(team_with_roles.users["owner"])
    response = client.get(reverse("embedding_run_compare", args=[run.pk]), {"other": elsewhere.pk})
    assert response.status_code == 400 and response.context["comparison"] is None


def test_members_delete_their_own_runs_and_admins_any(client, team_with_roles, runs):
    run, other = runs
    member = team_with_roles.users["member"]
    own = finished_run(team_with_roles.project, member, TEXTS)
    client.force_login(member)
    client.post(reverse("embedding_run_delete", args=[run.pk]))
    assert EmbeddingRun.objects.filter(pk=run.pk).exists()
    client.post(reverse("embedding_run_delete", args=[own.pk]))
    assert not EmbeddingRun.objects.filter(pk=own.pk).exists()
    client.force_login(team_with_roles.users["admin"])
    client.post(reverse("embedding_run_delete", args=[other.pk]))
    assert not EmbeddingRun.objects.filter(pk=other.pk).exists()
