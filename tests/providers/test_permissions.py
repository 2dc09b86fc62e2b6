"""Every provider and key URL, tried by every kind of user.

Viewers see provider names only; members use providers and keep personal keys; admins
manage providers, shared keys and schemas. Non-members get 404, anonymous users sign in.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from playground.accounts.models import Role
from playground.providers.models import ApiKey
from tests.access import ACTORS, assert_access

PROVIDER_DATA = {
    "name": "OpenAI",
    "base_url": "https://api.openai.com/v1",
    "profile": "openai",
    "default_model": "",
    "headers-TOTAL_FORMS": "0",
    "headers-INITIAL_FORMS": "0",
}
ENDPOINTS = [
    ("provider_list", "get", Role.VIEWER, None),
    ("provider_list", "post", Role.ADMIN, PROVIDER_DATA),
    ("provider_detail", "get", Role.MEMBER, None),
    ("provider_edit", "get", Role.ADMIN, None),
    ("provider_edit", "post", Role.ADMIN, {**PROVIDER_DATA, "name": "Demo"}),
    ("provider_delete", "get", Role.ADMIN, None),
    ("provider_delete", "post", Role.ADMIN, {}),
    ("key_add", "post", Role.MEMBER, {"key": "sk-personal-0000000000001234", "label": "mine"}),
    ("models_refresh", "post", Role.MEMBER, {}),
    ("schema_upload", "post", Role.ADMIN, {"document": "{}"}),
    ("schema_refresh", "post", Role.ADMIN, {}),
    ("schema_reset", "post", Role.ADMIN, {}),
    ("parameters", "get", Role.MEMBER, None),
    ("parameters", "post", Role.MEMBER, {"model": "demo-chat"}),
    ("key_test", "post", Role.MEMBER, {}),
    ("key_revoke", "post", Role.ADMIN, {}),  # the team's shared key
]


def url_for(name, provider, key):
    if name == "provider_list":
        return reverse(name, args=[provider.team_id])
    if name == "parameters":
        return reverse(name, args=[provider.pk, "chat"])
    if name.startswith("key_") and name != "key_add":
        return reverse(name, args=[key.pk])
    return reverse(name, args=[provider.pk])


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("name", "method", "lowest_role", "data"), ENDPOINTS)
def test_access(client, team_with_roles, demo_provider, actor, name, method, lowest_role, data):
    shared_key = ApiKey.objects.get(provider=demo_provider, owner=None)
    if actor != "anonymous":
        client.force_login(team_with_roles.users[actor])
    url = url_for(name, demo_provider, shared_key)
    response = client.post(url, data) if data is not None else client.get(url)
    assert_access(response, actor, lowest_role)


def test_another_members_personal_key_is_not_found(client, team_with_roles, demo_provider):
    users = team_with_roles.users
    client.force_login(users["member"])
    client.post(reverse("key_add", args=[demo_provider.pk]), {"key": "sk-member-own-key-99998888", "label": "mine"})
    personal = ApiKey.objects.get(owner=users["member"])
    client.force_login(users["viewer"])
    assert client.post(reverse("key_test", args=[personal.pk])).status_code in (403, 404)
    # Admins may revoke it (a leaked key must be stoppable) but never use it.
    client.force_login(users["admin"])
    assert client.post(reverse("key_test", args=[personal.pk])).status_code == 404
    assert client.post(reverse("key_revoke", args=[personal.pk])).status_code == 302
    personal.refresh_from_db()
    assert personal.revoked_at is not None


def test_a_member_cannot_share_a_key(client, team_with_roles, demo_provider):
    client.force_login(team_with_roles.users["member"])
    data = {"key": "sk-member-tries-to-share-1234", "label": "x", "shared": "on"}
    client.post(reverse("key_add", args=[demo_provider.pk]), data)
    key = ApiKey.objects.get(label="x")
    assert key.owner == team_with_roles.users["member"]


def test_viewer_sees_provider_names_only(client, team_with_roles, demo_provider):
    client.force_login(team_with_roles.users["viewer"])
    page = client.get(reverse("provider_list", args=[demo_provider.team_id])).content.decode()
    assert "Demo" in page
    assert reverse("provider_detail", args=[demo_provider.pk]) not in page
    assert demo_provider.base_url not in page
