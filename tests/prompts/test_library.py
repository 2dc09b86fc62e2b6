"""The library page: search, filters, sorting, settings; delete with undo and the purge after 30 days."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from playground.prompts import selectors, services
from playground.prompts.models import Prompt, PromptSettings
from tests.prompts.conftest import make_prompt

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(team_with_roles):
    team, users = team_with_roles.team, team_with_roles.users
    tides = make_prompt(team, users["member"], name="Tide tables", messages=[{"role": "user", "content": "Moon pull"}])
    poems = make_prompt(team, users["admin"], name="Haiku", messages=[{"role": "user", "content": "Write ünïcode"}])
    services.prompt_update(prompt=poems, name="Haiku", description="Short poems", tags=["poetry", "fun"])
    Prompt.objects.filter(pk=tides.pk).update(
        changed_at=timezone.now() - timedelta(days=2), last_used_at=timezone.now()
    )
    return tides, poems


def names(team, user, **filters) -> list[str]:
    return [prompt.name for prompt in selectors.library(team, user, **filters)]


def test_search_matches_name_description_tag_and_text(team_with_roles, shelf):
    team, viewer = team_with_roles.team, team_with_roles.users["viewer"]
    assert names(team, viewer, search="tide") == ["Tide tables"]
    assert names(team, viewer, search="short poems") == ["Haiku"]
    assert names(team, viewer, search="poetry") == ["Haiku"]
    assert names(team, viewer, search="MOON") == ["Tide tables"]
    assert names(team, viewer, search="ÜNÏCODE") == ["Haiku"]
    assert names(team, viewer, search="nothing like it") == []


def test_filters_by_tag_and_owner(team_with_roles, shelf):
    team, users = team_with_roles.team, team_with_roles.users
    assert names(team, users["viewer"], tag="fun") == ["Haiku"]
    assert names(team, users["viewer"], tag="summaries") == ["Tide tables"]
    assert names(team, users["viewer"], owner_id=users["member"].pk) == ["Tide tables"]


def test_sorts_by_recently_changed_or_used(team_with_roles, shelf):
    team, viewer = team_with_roles.team, team_with_roles.users["viewer"]
    assert names(team, viewer, sort="changed") == ["Haiku", "Tide tables"]
    assert names(team, viewer, sort="used") == ["Tide tables", "Haiku"]


def test_the_library_page_lists_filters_and_offers_what_the_role_allows(client, team_with_roles, shelf):
    url = reverse("prompt_library", args=[team_with_roles.team.pk])
    client.force_login(team_with_roles.users["viewer"])
    page = client.get(url, {"tag": "fun"}).content.decode()
    assert "Haiku" in page and "Tide tables" not in page.split("<tbody>")[1]
    assert "New prompt" not in page and "Recently deleted" not in page and "Team settings" not in page
    client.force_login(team_with_roles.users["admin"])
    page = client.get(url).content.decode()
    assert "New prompt" in page and "Recently deleted" in page and "Viewers may run prompts" in page


def test_project_prompts_leads_to_the_teams_library(client, team_with_roles):
    client.force_login(team_with_roles.users["viewer"])
    response = client.get(reverse("project_prompts", args=[team_with_roles.project.pk]))
    assert response.url == reverse("prompt_library", args=[team_with_roles.team.pk])


def test_admins_switch_the_viewer_run_setting(client, team_with_roles):
    client.force_login(team_with_roles.users["admin"])
    url = reverse("prompt_settings", args=[team_with_roles.team.pk])
    client.post(url, {"viewers_may_run": "on"})
    assert PromptSettings.objects.get(team=team_with_roles.team).viewers_may_run
    client.post(url, {})
    assert not PromptSettings.objects.get(team=team_with_roles.team).viewers_may_run


def test_rename_describe_and_tag(client, team_with_roles, prompt):
    client.force_login(team_with_roles.users["member"])
    data = {"prompt-name": " Digest ", "prompt-description": "Daily", "prompt-tags": "News, news,  Daily  digest "}
    assert client.post(reverse("prompt_edit", args=[prompt.pk]), data).status_code == 302
    prompt.refresh_from_db()
    assert (prompt.name, prompt.description, prompt.tag_names) == ("Digest", "Daily", ["daily digest", "news"])
    assert prompt.versions.count() == 2  # details are not versioned


def test_delete_hides_the_prompt_and_undo_brings_it_back(client, team_with_roles, prompt):
    client.force_login(team_with_roles.users["admin"])
    client.post(reverse("prompt_delete", args=[prompt.pk]))
    library = client.get(reverse("prompt_library", args=[team_with_roles.team.pk]))
    assert list(library.context["prompts"]) == []
    deleted = client.get(reverse("prompts_deleted", args=[team_with_roles.team.pk])).content.decode()
    assert "Undo delete of “Summary”" in deleted
    client.post(reverse("prompt_undelete", args=[prompt.pk]))
    assert list(client.get(reverse("prompt_library", args=[team_with_roles.team.pk])).context["prompts"]) == [prompt]


def test_after_30_days_a_deleted_prompt_cannot_be_undone_and_is_purged(client, team_with_roles, prompt):
    admin = team_with_roles.users["admin"]
    services.prompt_delete(prompt=prompt, user=admin)
    Prompt.objects.filter(pk=prompt.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    client.force_login(admin)
    assert client.post(reverse("prompt_undelete", args=[prompt.pk])).status_code == 404
    assert "Summary" not in client.get(reverse("prompts_deleted", args=[team_with_roles.team.pk])).content.decode()
    fresh = make_prompt(team_with_roles.team, admin, name="Fresh")
    services.prompt_delete(prompt=fresh, user=admin)
    output = io.StringIO()
    call_command("purge_deleted_prompts", stdout=output)
    assert output.getvalue() == "Removed 1 prompt deleted more than 30 days ago.\n"
    assert list(Prompt.objects.values_list("name", flat=True)) == ["Fresh"]
