"""Creating teams and managing their members."""

from __future__ import annotations

from django.urls import reverse

from playground.accounts.models import Membership, Role, Team
from tests.factories import MembershipFactory, UserFactory


def role_of(team, user) -> str:
    return Membership.objects.get(team=team, user=user).role


def test_creating_a_team_makes_you_its_owner(client, user):
    client.force_login(user)
    response = client.post(reverse("team_list"), {"name": "  Research  "})
    team = Team.objects.get()
    assert team.name == "Research"
    assert response.url == reverse("team_detail", args=[team.pk])
    assert role_of(team, user) == Role.OWNER
    assert "Research" in client.get(reverse("team_list")).content.decode()


def test_a_team_needs_a_name(client, user):
    client.force_login(user)
    response = client.post(reverse("team_list"), {"name": "   "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Team.objects.exists()


def test_team_list_shows_only_your_teams(client, team_with_roles):
    client.force_login(team_with_roles.users["nonmember"])
    assert "Acme" not in client.get(reverse("team_list")).content.decode()


def test_admin_adds_a_member_by_email(client, team_with_roles):
    newcomer = UserFactory(username="newcomer", email="New.Comer@example.com")
    client.force_login(team_with_roles.users["admin"])
    url = reverse("member_list", args=[team_with_roles.team.pk])
    client.post(url, {"identifier": "new.comer@EXAMPLE.com", "role": "viewer"})
    assert role_of(team_with_roles.team, newcomer) == Role.VIEWER


def test_adding_an_unknown_user_says_so_beside_the_field(client, team_with_roles):
    client.force_login(team_with_roles.users["admin"])
    url = reverse("member_list", args=[team_with_roles.team.pk])
    response = client.post(url, {"identifier": "nobody", "role": "member"})
    assert "No user has the username or email “nobody”." in response.content.decode()


def test_adding_someone_twice_is_refused(client, team_with_roles):
    client.force_login(team_with_roles.users["admin"])
    url = reverse("member_list", args=[team_with_roles.team.pk])
    response = client.post(url, {"identifier": "viewer", "role": "member"})
    assert "viewer is already a member of Acme." in response.content.decode()
    assert role_of(team_with_roles.team, team_with_roles.users["viewer"]) == Role.VIEWER


def test_an_admin_cannot_make_an_owner(client, team_with_roles):
    team, users = team_with_roles.team, team_with_roles.users
    client.force_login(users["admin"])
    membership = Membership.objects.get(team=team, user=users["member"])
    client.post(reverse("member_role", args=[team.pk, membership.pk]), {"role": "owner"})
    assert role_of(team, users["member"]) == Role.MEMBER
    page = client.get(reverse("member_list", args=[team.pk])).content.decode()
    assert "Only an owner can make someone an owner" in page


def test_owner_changes_a_role(client, team_with_roles):
    team, users = team_with_roles.team, team_with_roles.users
    client.force_login(users["owner"])
    membership = Membership.objects.get(team=team, user=users["member"])
    client.post(reverse("member_role", args=[team.pk, membership.pk]), {"role": "admin"})
    assert role_of(team, users["member"]) == Role.ADMIN


def test_role_change_through_htmx_returns_the_table_with_the_notice(client, team_with_roles):
    team, users = team_with_roles.team, team_with_roles.users
    client.force_login(users["owner"])
    membership = Membership.objects.get(team=team, user=users["viewer"])
    url = reverse("member_role", args=[team.pk, membership.pk])
    response = client.post(url, {"role": "member"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="members-table">')
    assert "viewer is now Member." in html
    assert "<html" not in html


def test_the_last_owner_cannot_be_demoted(client, team_with_roles):
    team, users = team_with_roles.team, team_with_roles.users
    client.force_login(users["owner"])
    membership = Membership.objects.get(team=team, user=users["owner"])
    response = client.post(reverse("member_role", args=[team.pk, membership.pk]), {"role": "admin"}, follow=True)
    assert role_of(team, users["owner"]) == Role.OWNER
    assert "A team needs at least one owner" in response.content.decode()


def test_the_last_owner_cannot_leave(client, team_with_roles):
    team, users = team_with_roles.team, team_with_roles.users
    client.force_login(users["owner"])
    membership = Membership.objects.get(team=team, user=users["owner"])
    client.post(reverse("member_remove", args=[team.pk, membership.pk]))
    assert role_of(team, users["owner"]) == Role.OWNER


def test_an_owner_can_step_down_once_there_is_another_owner(client, team_with_roles):
    team, users = team_with_roles.team, team_with_roles.users
    MembershipFactory(team=team, role=Role.OWNER)
    client.force_login(users["owner"])
    membership = Membership.objects.get(team=team, user=users["owner"])
    client.post(reverse("member_role", args=[team.pk, membership.pk]), {"role": "member"})
    assert role_of(team, users["owner"]) == Role.MEMBER


def test_an_admin_cannot_remove_an_owner(client, team_with_roles):
    team, users = team_with_roles.team, team_with_roles.users
    MembershipFactory(team=team, role=Role.OWNER)
    client.force_login(users["admin"])
    membership = Membership.objects.get(team=team, user=users["owner"])
    client.post(reverse("member_remove", args=[team.pk, membership.pk]))
    assert role_of(team, users["owner"]) == Role.OWNER


def test_a_viewer_can_leave(client, team_with_roles):
    team, users = team_with_roles.team, team_with_roles.users
    client.force_login(users["viewer"])
    membership = Membership.objects.get(team=team, user=users["viewer"])
    response = client.post(reverse("member_remove", args=[team.pk, membership.pk]))
    assert response.url == reverse("team_list")
    assert not Membership.objects.filter(team=team, user=users["viewer"]).exists()
    assert client.get(reverse("team_detail", args=[team.pk])).status_code == 404


def test_admin_removes_a_member(client, team_with_roles):
    team, users = team_with_roles.team, team_with_roles.users
    client.force_login(users["admin"])
    membership = Membership.objects.get(team=team, user=users["member"])
    client.post(reverse("member_remove", args=[team.pk, membership.pk]))
    assert not Membership.objects.filter(team=team, user=users["member"]).exists()


def test_members_page_shows_controls_by_role(client, team_with_roles):
    team, users = team_with_roles.team, team_with_roles.users
    url = reverse("member_list", args=[team.pk])
    client.force_login(users["viewer"])
    viewer_page = client.get(url).content.decode()
    assert "Add a member" not in viewer_page
    assert "Change role of" not in viewer_page
    client.force_login(users["admin"])
    admin_page = client.get(url).content.decode()
    assert "Add a member" in admin_page
    assert "Change role of member" in admin_page
    assert "Change role of owner" not in admin_page


def test_owner_deletes_the_team_after_confirming(client, team_with_roles):
    team = team_with_roles.team
    client.force_login(team_with_roles.users["owner"])
    confirm = client.get(reverse("team_delete", args=[team.pk])).content.decode()
    assert "Delete team “Acme”?" in confirm
    assert Team.objects.filter(pk=team.pk).exists()
    client.post(reverse("team_delete", args=[team.pk]))
    assert not Team.objects.filter(pk=team.pk).exists()
