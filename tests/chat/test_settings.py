"""Conversation settings: changing the provider picks a model that provider has."""

from __future__ import annotations

import pytest
from django.urls import reverse

from playground.chat.models import Mode
from tests.factories import ConversationFactory, ProviderFactory


@pytest.fixture
def conversation(team_with_roles):
    demo = ProviderFactory(team=team_with_roles.team, name="Demo", profile="demo", default_model="demo-chat")
    return ConversationFactory(project=team_with_roles.project, provider=demo)


@pytest.fixture
def save(client, team_with_roles, conversation):
    """Submit the settings form as a member would: the fields shown, with the changes given."""
    client.force_login(team_with_roles.users["member"])

    def submit(**changes):
        data = {"provider": conversation.provider_id, "model": conversation.model, "mode": Mode.CHAT, **changes}
        response = client.post(reverse("conversation_detail", args=[conversation.pk]), data, follow=True)
        conversation.refresh_from_db()
        return response.content.decode()

    return submit


def ionos(team, **fields):
    return ProviderFactory(team=team, **{"name": "IONOS", "profile": "ionos-model-hub", **fields})


def test_a_new_provider_brings_its_default_model_not_the_old_one(save, conversation, team_with_roles):
    provider = ionos(team_with_roles.team, default_model="meta-llama/Llama-3.3-70B-Instruct", models_cache=["x"])
    page = save(provider=provider.pk)
    assert (conversation.provider, conversation.model) == (provider, "meta-llama/Llama-3.3-70B-Instruct")
    assert "Model set to meta-llama/Llama-3.3-70B-Instruct, IONOS&#x27;s default model." in page


def test_without_a_default_the_first_listed_model_is_taken(save, conversation, team_with_roles):
    provider = ionos(team_with_roles.team, models_cache=["mistralai/Mistral-Small", "openai/gpt-oss-120b"])
    save(provider=provider.pk)
    assert conversation.model == "mistralai/Mistral-Small"


def test_without_a_list_the_first_model_the_schema_names_is_taken(save, conversation, team_with_roles):
    research = ProviderFactory(team=team_with_roles.team, name="Research", profile="research")
    save(provider=research.pk)
    assert conversation.model == "researcher"


def test_with_no_model_known_the_model_is_left_empty_and_asked_for(save, conversation, team_with_roles):
    provider = ionos(team_with_roles.team)
    page = save(provider=provider.pk)
    assert (conversation.provider, conversation.model) == (provider, "")
    assert "IONOS names no models: type the model to use under Model." in page
    # Typing one then is saved as typed.
    save(model="meta-llama/Llama-3.3-70B-Instruct")
    assert conversation.model == "meta-llama/Llama-3.3-70B-Instruct"


def test_a_model_chosen_in_the_same_submit_is_kept_when_the_new_provider_accepts_it(
    save, conversation, team_with_roles
):
    provider = ionos(team_with_roles.team, default_model="a", models_cache=["a", "b"])
    save(provider=provider.pk, model="b")
    assert conversation.model == "b"
    unlisted = ionos(team_with_roles.team, name="IONOS 2")  # lists nothing: any model is taken
    save(provider=unlisted.pk, model="c")
    assert conversation.model == "c"


def test_a_model_chosen_with_the_change_that_the_provider_does_not_list_is_replaced_and_said(
    save, conversation, team_with_roles
):
    provider = ionos(team_with_roles.team, models_cache=["a", "b"])
    page = save(provider=provider.pk, model="demo-fast")
    assert conversation.model == "a"
    assert "IONOS does not list the model demo-fast. Model set to a, the first model IONOS lists." in page


def test_keeping_the_provider_keeps_the_model_typed_and_an_empty_one_is_refused(save, conversation):
    save(model="demo-fast")
    assert conversation.model == "demo-fast"
    page = save(model="  ")
    assert "Type the model to use." in page and conversation.model == "demo-fast"
