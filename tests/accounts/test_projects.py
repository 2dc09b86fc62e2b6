"""Projects inside a team, and the switcher that remembers the current one."""

from __future__ import annotations

from django.urls import reverse

from playground.accounts.models import Project
from tests.factories import ProjectFactory


def test_member_creates_a_project_and_it_becomes_current(client, team_with_roles):
    member = team_with_roles.users["member"]
    client.force_login(member)
    response = client.post(reverse("team_detail", args=[team_with_roles.team.pk]), {"name": "Eval"})
    project = Project.objects.get(name="Eval")
    assert response.url == reverse("project_detail", args=[project.pk])
    member.refresh_from_db()
    assert member.current_project == project


def test_project_names_are_unique_within_a_team(client, team_with_roles):
    client.force_login(team_with_roles.users["member"])
    response = client.post(reverse("team_detail", args=[team_with_roles.team.pk]), {"name": "Launch"})
    assert "Acme already has a project named “Launch”." in response.content.decode()
    assert Project.objects.filter(name="Launch").count() == 1


def test_rename(client, team_with_roles):
    project = team_with_roles.project
    client.force_login(team_with_roles.users["member"])
    client.post(reverse("project_rename", args=[project.pk]), {"name": "Launch v2"})
    project.refresh_from_db()
    assert project.name == "Launch v2"


def test_rename_to_a_taken_name_shows_the_error_and_keeps_the_name(client, team_with_roles):
    project = team_with_roles.project
    ProjectFactory(team=team_with_roles.team, name="Other")
    client.force_login(team_with_roles.users["member"])
    response = client.post(reverse("project_rename", args=[project.pk]), {"name": "Other"})
    assert response.status_code == 400
    assert "Acme already has a project named “Other”." in response.content.decode()
    project.refresh_from_db()
    assert project.name == "Launch"


def test_archive_and_restore(client, team_with_roles):
    project = team_with_roles.project
    client.force_login(team_with_roles.users["admin"])
    client.post(reverse("project_archive", args=[project.pk]), {"archived": "1"})
    project.refresh_from_db()
    assert project.is_archived
    # Archived projects leave the switcher but stay listed on the team page.
    switcher = client.get(reverse("team_list")).content.decode()
    assert f'<option value="{project.pk}"' not in switcher
    assert "archived" in client.get(reverse("team_detail", args=[project.team_id])).content.decode()
    client.post(reverse("project_archive", args=[project.pk]), {"archived": "0"})
    project.refresh_from_db()
    assert not project.is_archived


def test_delete_asks_first(client, team_with_roles):
    project = team_with_roles.project
    client.force_login(team_with_roles.users["admin"])
    assert "This cannot be undone." in client.get(reverse("project_delete", args=[project.pk])).content.decode()
    assert Project.objects.filter(pk=project.pk).exists()
    client.post(reverse("project_delete", args=[project.pk]))
    assert not Project.objects.filter(pk=project.pk).exists()


def test_switcher_lists_your_projects_and_remembers_the_choice(client, team_with_roles):
    member = team_with_roles.users["member"]
    other = ProjectFactory(team=team_with_roles.team, name="Second")
    client.force_login(member)
    page = client.get(reverse("team_list")).content.decode()
    assert '<optgroup label="Acme">' in page
    assert f'<option value="{other.pk}"' in page
    response = client.post(reverse("project_switch"), {"project": other.pk})
    assert response.url == reverse("project_detail", args=[other.pk])
    # The home page brings the person back to the chat of the project they chose last.
    assert client.get(reverse("home")).url == reverse("conversation_start", args=[other.pk])


def test_switching_to_another_teams_project_is_not_found(client, team_with_roles):
    foreign = ProjectFactory(name="Secret")
    client.force_login(team_with_roles.users["owner"])
    assert client.post(reverse("project_switch"), {"project": foreign.pk}).status_code == 404
    assert "Secret" not in client.get(reverse("team_list")).content.decode()


def test_home_without_a_project_goes_to_teams(client, user):
    client.force_login(user)
    assert client.get(reverse("home")).url == reverse("team_list")


def test_home_forgets_a_project_you_lost_access_to(client, team_with_roles):
    member = team_with_roles.users["member"]
    member.current_project = team_with_roles.project
    member.save()
    team_with_roles.team.memberships.filter(user=member).delete()
    client.force_login(member)
    assert client.get(reverse("home")).url == reverse("team_list")
