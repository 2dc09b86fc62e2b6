"""Every URL of teams, members and projects, tried by every kind of user.

Anonymous users are sent to sign in, non-members get 404 (nothing is revealed), members whose
role is too low get 403, and everyone with enough rights gets the page or the change.
"""

from __future__ import annotations

import pytest
from django.http import Http404
from django.urls import reverse

from playground.accounts.models import Role
from tests.access import ACTORS, assert_access
from tests.factories import ConversationFactory, MembershipFactory

# (url name, method, lowest role allowed, form data); {team}, {project} and {target} are
# filled in with the team's ids; target is a plain member other than the actor.
ENDPOINTS = [
    ("team_detail", "get", Role.VIEWER, None),
    ("team_detail", "post", Role.MEMBER, {"name": "New project"}),
    ("team_delete", "get", Role.OWNER, None),
    ("team_delete", "post", Role.OWNER, {}),
    ("member_list", "get", Role.VIEWER, None),
    ("member_list", "post", Role.ADMIN, {"identifier": "newcomer", "role": "member"}),
    ("member_role", "post", Role.ADMIN, {"role": "viewer"}),
    ("member_remove", "post", Role.ADMIN, {}),
    ("project_detail", "get", Role.VIEWER, None),
    ("project_rename", "post", Role.MEMBER, {"name": "Renamed"}),
    ("project_archive", "post", Role.ADMIN, {"archived": "1"}),
    ("project_delete", "get", Role.ADMIN, None),
    ("project_delete", "post", Role.ADMIN, {}),
    ("project_switch", "post", Role.VIEWER, {"project": "{project}"}),
]


def url_for(name: str, team, project, target) -> str:
    if name.startswith("member_") and name != "member_list":
        return reverse(name, args=[team.pk, target.pk])
    if name.startswith("team_") or name == "member_list":
        return reverse(name, args=[team.pk])
    if name == "project_switch":
        return reverse(name)
    return reverse(name, args=[project.pk])


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("name", "method", "lowest_role", "data"), ENDPOINTS)
def test_access(client, team_with_roles, django_user_model, actor, name, method, lowest_role, data):
    team, project = team_with_roles.team, team_with_roles.project
    django_user_model.objects.create_user("newcomer", password="x-long-password-1")
    target = MembershipFactory(team=team, role=Role.MEMBER)
    if actor != "anonymous":
        client.force_login(team_with_roles.users[actor])
    url = url_for(name, team, project, target)
    if data is not None:
        data = {key: value.format(project=project.pk) for key, value in data.items()}
        response = client.post(url, data)
    else:
        response = client.get(url)

    assert_access(response, actor, lowest_role)


@pytest.mark.parametrize("name", ["home", "team_list", "password_change"])
def test_anonymous_is_sent_to_sign_in(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={reverse(name)}"


def test_a_team_id_of_another_team_is_not_found_even_for_its_own_owner(client, team_with_roles):
    # The outsider owns a team of their own, yet the ids of this team stay hidden from them.
    client.force_login(team_with_roles.users["nonmember"])
    assert client.get(reverse("team_detail", args=[team_with_roles.team.pk])).status_code == 404
    assert client.get(reverse("project_detail", args=[team_with_roles.project.pk])).status_code == 404


def test_a_membership_id_of_another_team_is_not_found(client, team_with_roles):
    other = MembershipFactory(role=Role.MEMBER)
    client.force_login(team_with_roles.users["owner"])
    url = reverse("member_role", args=[team_with_roles.team.pk, other.pk])
    assert client.post(url, {"role": "viewer"}).status_code == 404
    other.refresh_from_db()
    assert other.role == Role.MEMBER


def test_the_scoping_helper_gives_each_person_their_own_role(team_with_roles):
    """In a team of four roles, whatever the path from the object to its team."""
    from playground.accounts.scoping import project_for, scoped_get, team_for
    from playground.chat.models import Conversation

    team, project = team_with_roles.team, team_with_roles.project
    conversation = ConversationFactory(project=project)
    for role in Role:
        user = team_with_roles.users[role.value]
        assert team_for(user, team.pk).member_role == role
        assert project_for(user, project.pk).member_role == role
        found = scoped_get(user, Conversation, team_field="project__team", pk=conversation.pk)
        assert found.member_role == role
    with pytest.raises(Http404):
        project_for(team_with_roles.users["nonmember"], project.pk)
