"""Save a chat as a prompt, fill in variables, preview, and open a version as a new conversation."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient
from django.urls import reverse

from playground.chat import generation
from playground.chat.models import Conversation, Message
from playground.prompts.models import Prompt
from tests.factories import ConversationFactory, MessageFactory
from tests.prompts.conftest import make_prompt


@pytest.fixture
def chat_with_branches(team_with_roles, offline_provider):
    """A conversation with a system prompt, two turns on the branch shown and an older answer beside it."""
    conversation = ConversationFactory(
        project=team_with_roles.project,
        provider=offline_provider,
        model="demo-fast",
        params={"temperature": 0.4},
        system="You are a sailor.",
    )

    def add(parent, role, content, **extra):
        return MessageFactory(conversation=conversation, parent=parent, role=role, content=content, **extra)

    first = add(None, "user", "What is a knot?")
    add(first, "assistant", "An older answer on another branch.")
    answer = add(first, "assistant", "A unit of speed.")
    second = add(answer, "user", "And a fathom?")
    failed = add(second, "assistant", "", status="error", error="Upstream failed")
    last = add(second, "assistant", "Six feet.")
    conversation.current_leaf = last
    conversation.save()
    del failed
    return conversation


@pytest.mark.django_db
def test_save_as_prompt_fills_the_form_from_the_conversation(client, team_with_roles, chat_with_branches):
    client.force_login(team_with_roles.users["member"])
    chat_page = client.get(reverse("conversation_detail", args=[chat_with_branches.pk])).content.decode()
    create_url = reverse("prompt_create", args=[team_with_roles.team.pk]) + f"?conversation={chat_with_branches.pk}"
    assert create_url in chat_page

    response = client.get(create_url)
    editor = response.context["editor"]
    assert editor.setup.initial["system"] == "You are a sailor."
    assert editor.setup.initial["model"] == "demo-fast"
    assert editor.setup.initial["provider"] == chat_with_branches.provider
    assert editor.params.initial["temperature"] == "0.4"
    # The branch shown, without the last answer (so that running it asks the model again).
    assert editor.messages.initial == [
        {"role": "user", "content": "What is a knot?"},
        {"role": "assistant", "content": "A unit of speed."},
        {"role": "user", "content": "And a fathom?"},
    ]


@pytest.mark.django_db
def test_save_as_prompt_refuses_a_conversation_of_another_team(client, team_with_roles):
    foreign = ConversationFactory(system="Secret")  # of another team
    client.force_login(team_with_roles.users["member"])
    url = reverse("prompt_create", args=[team_with_roles.team.pk]) + f"?conversation={foreign.pk}"
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_viewers_get_no_save_as_prompt_link(client, team_with_roles, chat_with_branches):
    client.force_login(team_with_roles.users["viewer"])
    page = client.get(reverse("conversation_detail", args=[chat_with_branches.pk])).content.decode()
    assert "Save as prompt" not in page


@pytest.mark.django_db
def test_saving_the_form_makes_the_prompt_with_version_one(client, team_with_roles, chat_with_branches):
    client.force_login(team_with_roles.users["member"])
    provider = chat_with_branches.provider
    data = {
        "prompt-name": "Sailing quiz",
        "prompt-tags": "sea, quiz",
        "prompt-visibility": "private",
        "v-system": "You are a sailor.",
        "v-provider": str(provider.pk),
        "v-params_provider": str(provider.pk),
        "v-model": "demo-fast",
        "p-temperature": "0.4",
        "m-TOTAL_FORMS": "2",
        "m-INITIAL_FORMS": "2",
        "m-0-role": "user",
        "m-0-content": "What is a {{unit}}?",
        "m-1-role": "assistant",
        "m-1-content": "",
        "var-unit__default": "knot",
        "save": "1",
    }
    url = reverse("prompt_create", args=[team_with_roles.team.pk]) + f"?conversation={chat_with_branches.pk}"
    response = client.post(url, data)
    prompt = Prompt.objects.get()
    assert response.url == reverse("prompt_detail", args=[prompt.pk])
    assert (prompt.visibility, prompt.owner, prompt.tag_names) == (
        "private",
        team_with_roles.users["member"],
        ["quiz", "sea"],
    )
    version = prompt.current_version
    assert version.number == 1 and version.note == "First version"
    assert version.messages == [{"role": "user", "content": "What is a {{unit}}?"}]
    assert version.variables == {"unit": {"description": "", "default": "knot"}}
    assert version.params == {"temperature": 0.4} and version.provider == provider


@pytest.mark.django_db
def test_the_run_page_prefills_defaults_and_previews_the_messages(client, team_with_roles, prompt):
    client.force_login(team_with_roles.users["member"])
    page = client.get(reverse("version_run", args=[prompt.pk, 2]))
    form = page.context["form"]
    assert form["var_length"].value() == "50" and form["var_topic"].value() == ""
    html = page.content.decode()
    assert '<mark class="filled">50</mark>' in html
    assert '<span class="missing">{{topic}}' in html
    assert "backslash" in html  # how to write braces literally is on the page


@pytest.mark.django_db
def test_the_preview_follows_the_values_typed(client, team_with_roles, prompt):
    client.force_login(team_with_roles.users["viewer"])
    data = {"var_topic": "tides", "var_length": "20", "var_article": "The moon pulls."}
    html = client.post(reverse("version_preview", args=[prompt.pk, 2]), data).content.decode()
    assert html.lstrip().startswith('<section id="preview"')
    assert '<mark class="filled">tides</mark>' in html and "The moon pulls." in html


@pytest.mark.django_db
def test_running_with_an_empty_variable_is_refused_next_to_the_field(client, team_with_roles, prompt):
    client.force_login(team_with_roles.users["member"])
    data = {"var_topic": "  ", "var_length": "20", "var_article": "Text", "project": team_with_roles.project.pk}
    response = client.post(reverse("version_run", args=[prompt.pk, 2]), {**data, "action": "open"})
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "var_topic": ["Give a value for {{topic}}: the prompt uses it, so it cannot be empty."]
    }
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Conversation.objects.exists()


@pytest.mark.django_db(transaction=True)
async def test_open_as_conversation_sends_the_last_question_and_streams_its_answer(team_with_roles, demo_provider):
    member = team_with_roles.users["member"]
    prompt = await sync_to_async(make_prompt)(
        team_with_roles.team,
        member,
        provider=demo_provider,
        system="Audience: {{audience}}",
        messages=[
            {"role": "user", "content": "Say hi"},
            {"role": "assistant", "content": "Hi!"},
            {"role": "user", "content": r"Now explain {{topic}} and keep \{{this}} as it is"},
        ],
    )
    client = AsyncClient()
    await client.aforce_login(member)
    data = {"var_audience": "children", "var_topic": "tides", "project": team_with_roles.project.pk, "action": "open"}

    response = await client.post(reverse("version_run", args=[prompt.pk, 1]), data)

    conversation = await Conversation.objects.select_related("current_leaf").aget()
    assert response.url == reverse("conversation_detail", args=[conversation.pk])
    answer = conversation.current_leaf
    await generation.LIVE[answer.pk].task
    thread = [m async for m in Message.objects.filter(conversation=conversation).order_by("pk")]
    assert [(m.role, m.content) for m in thread[:4]] == [
        ("user", "Say hi"),
        ("assistant", "Hi!"),
        ("user", "Now explain tides and keep {{this}} as it is"),
        ("assistant", thread[3].content),
    ]
    assert thread[3].status == "done" and "Now explain tides" in thread[3].content
    assert conversation.system == "Audience: children" and conversation.title == "Summary (v1)"
    assert conversation.model == "demo-chat" and conversation.provider_id == demo_provider.pk
    await prompt.arefresh_from_db()
    assert prompt.last_used_at is not None
