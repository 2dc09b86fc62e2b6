"""Who may do what with prompts: every URL by every kind of user, private prompts, the viewer-run setting."""

from __future__ import annotations

import pytest
from django.urls import reverse

from playground.accounts.models import Role
from playground.prompts import services
from playground.prompts.models import Prompt, PromptVersion
from tests.access import ACTORS, assert_access
from tests.factories import MembershipFactory

NEW_PROMPT = {
    "prompt-name": "New",
    "prompt-visibility": "team",
    "m-TOTAL_FORMS": "1",
    "m-INITIAL_FORMS": "0",
    "m-0-role": "user",
    "m-0-content": "Hello {{name}}",
}

# (url name, method, lowest role, POST data). The prompt belongs to the member; versions 1 and 2.
ENDPOINTS = [
    ("project_prompts", "get", Role.VIEWER, None),
    ("prompt_library", "get", Role.VIEWER, None),
    ("prompt_create", "get", Role.MEMBER, None),
    ("prompt_create", "post", Role.MEMBER, {**NEW_PROMPT, "save": "1"}),
    ("prompt_import", "get", Role.MEMBER, None),
    ("prompt_export_all", "get", Role.VIEWER, None),
    ("prompts_deleted", "get", Role.ADMIN, None),
    ("prompt_settings", "post", Role.ADMIN, {"viewers_may_run": "on"}),
    ("prompt_detail", "get", Role.VIEWER, None),
    ("prompt_edit", "get", Role.MEMBER, None),
    ("prompt_edit", "post", Role.MEMBER, {"prompt-name": "Renamed", "prompt-tags": "a, b"}),
    ("prompt_visibility", "post", Role.MEMBER, {"visibility": "team"}),  # the member owns it
    ("prompt_delete", "get", Role.ADMIN, None),
    ("prompt_delete", "post", Role.ADMIN, {}),
    ("prompt_export", "get", Role.VIEWER, None),
    ("version_create", "get", Role.MEMBER, None),
    ("versions_diff", "get", Role.VIEWER, None),
    ("version_detail", "get", Role.VIEWER, None),
    ("version_current", "post", Role.MEMBER, {}),
    ("version_restore", "post", Role.MEMBER, {}),
    ("version_run", "get", Role.MEMBER, None),
    ("version_run", "post", Role.MEMBER, {"action": "preview"}),
    ("version_preview", "post", Role.VIEWER, {}),
    ("version_compare", "get", Role.MEMBER, None),
    ("compare_detail", "get", Role.VIEWER, None),
    ("compare_column", "get", Role.VIEWER, None),
    ("compare_save", "post", Role.MEMBER, {}),
]


@pytest.fixture
def compare_run(team_with_roles, prompt):
    """A compare run whose questions are not sent (these tests only read pages)."""
    version = prompt.current_version
    setup = services.Setup(version.provider, "demo-chat", {})
    run = services.compare_create(
        version=version,
        project=team_with_roles.project,
        user=team_with_roles.users["member"],
        values={"topic": "tides", "length": "20", "article": "Text"},
        setups=[setup],
    )
    return run


def url_for(name: str, team_with_roles, prompt, run) -> str:
    if name == "project_prompts":
        return reverse(name, args=[team_with_roles.project.pk])
    if name.startswith("prompt") and name in {
        "prompt_library",
        "prompt_create",
        "prompt_import",
        "prompt_export_all",
        "prompts_deleted",
        "prompt_settings",
    }:
        return reverse(name, args=[team_with_roles.team.pk])
    if name == "versions_diff":
        return reverse("version_diff", args=[prompt.pk]) + "?old=1&new=2"
    if name in {"version_detail", "version_current", "version_restore", "version_run", "version_preview"}:
        return reverse(name, args=[prompt.pk, 1])
    if name == "version_compare":
        return reverse(name, args=[prompt.pk, 2])
    if name == "compare_detail":
        return reverse(name, args=[run.pk])
    if name in {"compare_column", "compare_save"}:
        return reverse(name, args=[run.pk, 1])
    return reverse(name, args=[prompt.pk])


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("name", "method", "lowest_role", "data"), ENDPOINTS)
def test_access(client, team_with_roles, prompt, compare_run, actor, name, method, lowest_role, data):
    if actor != "anonymous":
        client.force_login(team_with_roles.users[actor])
    url = url_for(name, team_with_roles, prompt, compare_run)
    response = client.post(url, data) if method == "post" else client.get(url)
    assert_access(response, actor, lowest_role)


PROMPT_URLS = [
    ("prompt_detail", "get", ()),
    ("prompt_export", "get", ()),
    ("version_detail", "get", (1,)),
    ("version_run", "get", (1,)),
    ("version_create", "get", ()),
    ("prompt_edit", "post", ()),
    ("prompt_visibility", "post", ()),
    ("prompt_delete", "post", ()),
]


@pytest.mark.parametrize("actor", ["viewer", "admin", "owner", "nonmember"])
@pytest.mark.parametrize(("name", "method", "args"), PROMPT_URLS)
def test_private_prompts_of_others_are_not_found_even_by_team_admins(
    client, team_with_roles, private_prompt, actor, name, method, args
):
    client.force_login(team_with_roles.users[actor])
    url = reverse(name, args=[private_prompt.pk, *args])
    response = client.post(url, {"visibility": "team"}) if method == "post" else client.get(url)
    assert response.status_code == 404
    private_prompt.refresh_from_db()
    assert private_prompt.visibility == "private" and private_prompt.deleted_at is None


def test_private_prompts_are_listed_and_exported_only_for_their_owner(client, team_with_roles, private_prompt):
    library = reverse("prompt_library", args=[team_with_roles.team.pk])
    export = reverse("prompt_export_all", args=[team_with_roles.team.pk])
    client.force_login(team_with_roles.users["owner"])
    assert "Secret plan" not in client.get(library).content.decode()
    assert "Secret plan" not in client.get(export).content.decode()
    client.force_login(team_with_roles.users["member"])
    assert "Secret plan" in client.get(library).content.decode()
    assert "Secret plan" in client.get(export).content.decode()
    assert client.get(reverse("prompt_detail", args=[private_prompt.pk])).status_code == 200


def test_a_member_cannot_change_the_visibility_of_someone_elses_prompt(client, team_with_roles, prompt):
    other = MembershipFactory(team=team_with_roles.team, role=Role.MEMBER).user
    client.force_login(other)
    response = client.post(reverse("prompt_visibility", args=[prompt.pk]), {"visibility": "private"})
    assert response.status_code == 403
    prompt.refresh_from_db()
    assert prompt.visibility == "team"


def test_an_admin_can_make_someone_elses_prompt_private_and_then_no_longer_sees_it(client, team_with_roles, prompt):
    client.force_login(team_with_roles.users["admin"])
    response = client.post(reverse("prompt_visibility", args=[prompt.pk]), {"visibility": "private"})
    assert response.status_code == 302
    assert response.url == reverse("prompt_library", args=[team_with_roles.team.pk])
    prompt.refresh_from_db()
    assert prompt.visibility == "private"
    assert client.get(reverse("prompt_detail", args=[prompt.pk])).status_code == 404
    client.force_login(team_with_roles.users["member"])  # its owner still has it
    assert client.get(reverse("prompt_detail", args=[prompt.pk])).status_code == 200


@pytest.mark.parametrize("name", ["version_run", "version_compare"])
def test_viewers_run_prompts_only_when_the_team_allows_it(client, team_with_roles, prompt, name):
    client.force_login(team_with_roles.users["viewer"])
    url = reverse(name, args=[prompt.pk, 2])
    refused = client.get(url)
    assert refused.status_code == 403
    detail = client.get(reverse("prompt_detail", args=[prompt.pk])).content.decode()
    assert url not in detail  # no Run link offered either

    services.settings_update(team=team_with_roles.team, viewers_may_run=True)
    assert client.get(url).status_code == 200
    assert url in client.get(reverse("prompt_detail", args=[prompt.pk])).content.decode()


def test_deleted_prompts_are_hidden_and_only_admins_undo(client, team_with_roles, prompt):
    services.prompt_delete(prompt=prompt, user=team_with_roles.users["admin"])
    client.force_login(team_with_roles.users["member"])
    assert client.get(reverse("prompt_detail", args=[prompt.pk])).status_code == 404
    assert client.post(reverse("prompt_undelete", args=[prompt.pk])).status_code == 403
    client.force_login(team_with_roles.users["admin"])
    listing = client.get(reverse("prompts_deleted", args=[team_with_roles.team.pk])).content.decode()
    assert prompt.name in listing
    assert client.post(reverse("prompt_undelete", args=[prompt.pk])).status_code == 302
    prompt.refresh_from_db()
    assert prompt.deleted_at is None
    assert Prompt.objects.count() == 1 and PromptVersion.objects.filter(prompt=prompt).count() == 2
