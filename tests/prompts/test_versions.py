"""Versions never change: not through the model, not through a page. Edits, restores and current."""

from __future__ import annotations

import pytest
from django.urls import reverse

from playground.prompts import services
from playground.prompts.models import ImmutableVersion, PromptVersion

pytestmark = pytest.mark.django_db


def test_a_saved_version_refuses_to_be_saved_again(prompt):
    version = prompt.versions.get(number=1)
    version.note = "Rewritten history"
    with pytest.raises(ImmutableVersion):
        version.save()
    assert PromptVersion.objects.get(pk=version.pk).note == "First version"


def test_versions_refuse_queryset_updates_and_single_deletes(prompt):
    with pytest.raises(ImmutableVersion):
        PromptVersion.objects.filter(prompt=prompt).update(model="other")
    with pytest.raises(ImmutableVersion):
        prompt.versions.get(number=1).delete()
    assert set(prompt.versions.values_list("model", flat=True)) == {"demo-chat"}


def test_deleting_a_provider_clears_it_from_versions_but_keeps_its_name(prompt, offline_provider):
    offline_provider.delete()
    version = prompt.versions.get(number=2)
    assert version.provider is None and version.provider_name == "Demo"
    assert version.params == {"temperature": 0.7, "max_tokens": 200}


def test_new_versions_are_numbered_in_order_and_become_current(prompt, team_with_roles):
    content = services.Content.of(prompt.current_version)
    version = services.version_add(prompt=prompt, user=team_with_roles.users["admin"], content=content, note="Same")
    assert version.number == 3
    prompt.refresh_from_db()
    assert prompt.current_version == version
    kept = services.version_add(
        prompt=prompt, user=team_with_roles.users["admin"], content=content, note="Try", make_current=False
    )
    prompt.refresh_from_db()
    assert kept.number == 4 and prompt.current_version == version


def test_there_is_no_page_that_edits_a_version(client, team_with_roles, prompt):
    client.force_login(team_with_roles.users["owner"])
    url = reverse("version_detail", args=[prompt.pk, 1])
    assert client.post(url, {"note": "Changed", "system": "Changed"}).status_code == 405
    page = client.get(url).content.decode()
    assert "<form" not in page.split('<main id="main"')[1].split("</main>")[0]
    assert prompt.versions.get(number=1).note == "First version"


def test_editing_saves_a_new_version_and_keeps_the_old_one(client, team_with_roles, prompt, offline_provider):
    client.force_login(team_with_roles.users["member"])
    url = reverse("version_create", args=[prompt.pk]) + "?from=1"
    page = client.get(url)
    assert page.status_code == 200
    editor = page.context["editor"]
    assert editor.messages.initial[0]["content"].startswith("Summarise this article")
    data = {
        "v-note": "Asks for bullet points",
        "v-system": "You are terse.",
        "v-provider": str(offline_provider.pk),
        "v-params_provider": str(offline_provider.pk),
        "v-model": "demo-fast",
        "v-make_current": "on",
        "p-temperature": "0.3",
        "m-TOTAL_FORMS": "2",
        "m-INITIAL_FORMS": "1",
        "m-0-role": "user",
        "m-0-content": "Summarise {{topic}} as bullet points.",
        "m-1-role": "user",
        "m-1-content": "",
        "var-topic__default": "tides",
        "var-topic__description": "What it is about",
        "save": "1",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["editor"].setup.errors
    new = prompt.versions.get(number=3)
    assert new.note == "Asks for bullet points" and new.author == team_with_roles.users["member"]
    assert new.messages == [{"role": "user", "content": "Summarise {{topic}} as bullet points."}]
    assert new.system == "You are terse." and new.model == "demo-fast" and new.params == {"temperature": 0.3}
    assert new.variables == {"topic": {"description": "What it is about", "default": "tides"}}
    old = prompt.versions.get(number=1)
    assert old.messages[0]["content"].startswith("Summarise this article") and old.params == {"temperature": 0.2}


def test_a_new_version_needs_a_note(client, team_with_roles, prompt):
    client.force_login(team_with_roles.users["member"])
    data = {
        "v-note": "",
        "v-params_provider": "",
        "m-TOTAL_FORMS": "1",
        "m-INITIAL_FORMS": "0",
        "m-0-role": "user",
        "m-0-content": "Hi",
        "save": "1",
    }
    response = client.post(reverse("version_create", args=[prompt.pk]), data)
    assert response.status_code == 400
    assert "Say briefly what changed" in response.content.decode()
    assert prompt.versions.count() == 2


def test_choosing_another_provider_shows_its_parameters_before_saving(client, team_with_roles, prompt):
    from tests.factories import ApiKeyFactory, ProviderFactory

    other = ProviderFactory(team=team_with_roles.team, name="Other", profile="openai")
    ApiKeyFactory(provider=other, owner=None)
    client.force_login(team_with_roles.users["member"])
    data = {
        "v-note": "Other provider",
        "v-provider": str(other.pk),
        "v-params_provider": str(prompt.current_version.provider_id),
        "v-model": "gpt-4o",
        "p-temperature": "0.5",
        "m-TOTAL_FORMS": "1",
        "m-INITIAL_FORMS": "0",
        "m-0-role": "user",
        "m-0-content": "Hi",
        "save": "1",
    }
    response = client.post(reverse("version_create", args=[prompt.pk]), data)
    assert response.status_code == 400
    assert "The parameters are now those of Other" in response.content.decode()
    assert prompt.versions.count() == 2
    editor = response.context["editor"]
    assert editor.params.initial == {"temperature": "0.5"}
    data["v-params_provider"] = str(other.pk)
    assert client.post(reverse("version_create", args=[prompt.pk]), data).status_code == 302
    assert prompt.versions.get(number=3).provider == other


def test_restoring_an_old_version_adds_a_copy_as_the_newest(client, team_with_roles, prompt):
    client.force_login(team_with_roles.users["member"])
    response = client.post(reverse("version_restore", args=[prompt.pk, 1]))
    assert response.status_code == 302
    restored = prompt.versions.get(number=3)
    first = prompt.versions.get(number=1)
    assert restored.note == "Restored version 1"
    assert (restored.messages, restored.params, restored.model) == (first.messages, first.params, first.model)
    prompt.refresh_from_db()
    assert prompt.current_version == restored and prompt.versions.count() == 3


def test_any_version_can_be_marked_current(client, team_with_roles, prompt):
    client.force_login(team_with_roles.users["member"])
    client.post(reverse("version_current", args=[prompt.pk, 1]))
    prompt.refresh_from_db()
    assert prompt.current_version.number == 1
    assert prompt.versions.count() == 2


def test_adding_a_message_row_or_finding_variables_does_not_save(client, team_with_roles, prompt):
    client.force_login(team_with_roles.users["member"])
    data = {
        "v-params_provider": "",
        "m-TOTAL_FORMS": "1",
        "m-INITIAL_FORMS": "0",
        "m-0-role": "user",
        "m-0-content": "Hello {{person}}",
    }
    added = client.post(reverse("version_create", args=[prompt.pk]), {**data, "add_message": "1"})
    assert added.status_code == 200 and len(added.context["editor"].messages.forms) == 2
    refreshed = client.post(reverse("version_create", args=[prompt.pk]), {**data, "refresh": "1"})
    assert refreshed.context["editor"].variables.names == ["person"]
    assert "Default for {{person}}" in refreshed.content.decode()
    assert prompt.versions.count() == 2


def test_deleting_an_author_keeps_their_versions(prompt, team_with_roles):
    team_with_roles.users["member"].delete()
    assert [version.author for version in prompt.versions.all()] == [None, None]
    prompt.refresh_from_db()
    assert prompt.owner is None and prompt.current_version.number == 2
