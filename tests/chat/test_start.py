"""Sign-in leads straight to a chat: the current project's latest conversation (or a new one)
for people who may send, the conversation list for viewers, the teams page without a project."""

from __future__ import annotations

import pytest
from django.urls import reverse

from playground.chat.models import Conversation
from tests.factories import (
    ConversationFactory,
    MembershipFactory,
    ProjectFactory,
    ProviderFactory,
    TeamFactory,
    UserFactory,
)


def follow(client, url: str = "") -> str:
    """Where a person ends up from `url` (the home page by default), redirects followed."""
    response = client.get(url or reverse("home"), follow=True)
    assert response.status_code == 200
    return response.redirect_chain[-1][0] if response.redirect_chain else url


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_people_who_may_chat_land_on_the_latest_conversation(client, team_with_roles, role):
    project = team_with_roles.project
    older = ConversationFactory(project=project)
    latest = ConversationFactory(project=project)
    Conversation.objects.filter(pk=older.pk).update(updated_at=latest.updated_at.replace(year=2000))
    client.force_login(team_with_roles.users[role])
    assert follow(client) == reverse("conversation_detail", args=[latest.pk])


def test_a_project_without_conversations_gets_a_new_one_once(client, team_with_roles):
    provider = ProviderFactory(team=team_with_roles.team, name="Demo", default_model="demo-chat")
    client.force_login(team_with_roles.users["member"])
    landed = follow(client)
    conversation = Conversation.objects.get()
    assert landed == reverse("conversation_detail", args=[conversation.pk])
    assert (conversation.project, conversation.provider, conversation.model) == (
        team_with_roles.project,
        provider,
        "demo-chat",
    )
    assert follow(client) == landed and Conversation.objects.count() == 1  # no pile of empty ones


def test_viewers_land_on_the_conversation_list(client, team_with_roles):
    client.force_login(team_with_roles.users["viewer"])
    assert follow(client) == reverse("conversation_list", args=[team_with_roles.project.pk])
    assert not Conversation.objects.exists()


def test_a_new_member_lands_in_their_teams_chat_and_the_top_bar_shows_chat(client, team_with_roles):
    newcomer = UserFactory()
    MembershipFactory(team=team_with_roles.team, user=newcomer, role="member")
    client.force_login(newcomer)
    landed = follow(client)
    assert landed.startswith("/conversations/")
    page = client.get(landed).content.decode()
    assert f'href="{reverse("conversation_list", args=[team_with_roles.project.pk])}">Chat</a>' in page
    newcomer.refresh_from_db()
    assert newcomer.current_project == team_with_roles.project


def test_archived_projects_are_not_chosen_for_a_newcomer(client, team_with_roles):
    team_with_roles.project.archived_at = team_with_roles.project.created_at
    team_with_roles.project.save()
    open_project = ProjectFactory(team=team_with_roles.team, name="Zeta")
    newcomer = UserFactory()
    MembershipFactory(team=team_with_roles.team, user=newcomer, role="member")
    client.force_login(newcomer)
    assert follow(client) == reverse("conversation_detail", args=[Conversation.objects.get(project=open_project).pk])


@pytest.mark.django_db
def test_someone_in_no_team_lands_on_the_teams_page(client):
    client.force_login(UserFactory())
    assert follow(client) == reverse("team_list")


def test_another_teams_project_is_not_found(client, team_with_roles):
    foreign = ProjectFactory(team=TeamFactory())
    client.force_login(team_with_roles.users["owner"])
    assert client.get(reverse("conversation_start", args=[foreign.pk])).status_code == 404
    assert not Conversation.objects.exists()
