"""The audit log: an entry, with who, when and the values before and after, for each change to
providers, keys, members, budgets and prices and each deleted prompt or conversation; never
any key material; a filterable list for staff and team admins only."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from playground.audit.models import AuditEntry
from playground.prompts.models import Prompt
from playground.providers.models import ApiKey, Provider
from playground.usage.models import Budget, Price
from tests.factories import (
    AuditEntryFactory,
    ConversationFactory,
    MembershipFactory,
    PromptFactory,
    ProviderFactory,
    UserFactory,
)

SECRET = "sk-live-AUDIT-secret-key-0123456789abcdefWXYZ"
HEADER_SECRET = "proj_AUDIT_header_secret_4242"
MANAGEMENT = {"headers-TOTAL_FORMS": "1", "headers-INITIAL_FORMS": "0"}


def provider_data(**overrides) -> dict:
    data = {
        "name": "JamAI",
        "base_url": "https://api.jamaibase.com",
        "profile": "jamai-base",
        "default_model": "",
        **MANAGEMENT,
        "headers-0-name": "X-PROJECT-ID",
        "headers-0-value": HEADER_SECRET,
        "headers-0-secret": "on",
    }
    return {**data, **overrides}


def last(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).latest("pk")


@pytest.fixture
def admin_client(client, team_with_roles):
    client.force_login(team_with_roles.users["admin"])
    return client


def test_providers_added_changed_and_deleted(admin_client, team_with_roles):
    team = team_with_roles.team
    admin_client.post(reverse("provider_list", args=[team.pk]), provider_data())
    provider = Provider.objects.get(name="JamAI")
    entry = last("provider.create")
    assert (entry.actor, entry.actor_name, entry.team, entry.object_id) == (
        team_with_roles.users["admin"], "admin", team, provider.pk,
    )  # fmt: skip
    assert entry.before is None and entry.after["base_url"] == "https://api.jamaibase.com"
    assert entry.after["headers"] == [{"name": "X-PROJECT-ID", "secret": True}]
    assert entry.after["new_secret_values"] == ["X-PROJECT-ID"]

    edited = provider_data(name="Jam", **{"headers-0-value": ""})
    admin_client.post(reverse("provider_edit", args=[provider.pk]), edited)
    entry = last("provider.update")
    assert entry.changes == [("name", "JamAI", "Jam")]
    admin_client.post(reverse("provider_edit", args=[provider.pk]), edited)
    assert last("provider.update") == entry  # saved again unchanged: no entry

    admin_client.post(reverse("schema_upload", args=[provider.pk]), {"document": DOCUMENT})
    assert last("provider.update").changes == [("schema", "profile", "uploaded")]

    admin_client.post(reverse("provider_delete", args=[provider.pk]))
    entry = last("provider.delete")
    assert not Provider.objects.filter(pk=provider.pk).exists()
    assert entry.object_label == "Jam" and entry.before["name"] == "Jam" and entry.after is None


def test_providers_and_keys_tested(admin_client, team_with_roles, demo_provider):
    admin_client.post(reverse("models_refresh", args=[demo_provider.pk]))
    entry = last("provider.test")
    assert entry.after["worked"] is True and entry.after["models"] > 0
    key = ApiKey.objects.get(provider=demo_provider)
    admin_client.post(reverse("key_test", args=[key.pk]))
    entry = last("key.test")
    assert entry.object_label == f"••••{key.last4} team (Demo)" and entry.after["worked"] is True


def test_a_failed_test_is_logged_with_what_the_provider_said(admin_client, demo_provider):
    demo_provider.base_url += "/nowhere"
    demo_provider.local_url = demo_provider.base_url  # as staff would allow it
    demo_provider.save()
    key = ApiKey.objects.get(provider=demo_provider)
    admin_client.post(reverse("key_test", args=[key.pk]))
    entry = last("key.test")
    assert entry.after["worked"] is False and "404" in entry.after["said"]


def test_keys_added_and_revoked(admin_client, team_with_roles):
    provider = ProviderFactory(team=team_with_roles.team, name="OpenAI")
    admin_client.post(reverse("key_add", args=[provider.pk]), {"key": SECRET, "label": "prod", "shared": "on"})
    key = ApiKey.objects.get(provider=provider)
    entry = last("key.add")
    assert entry.after == {"key": "••••WXYZ", "label": "prod", "shared": True, "owner": None, "revoked": False}
    admin_client.post(reverse("key_revoke", args=[key.pk]))
    assert last("key.revoke").changes == [("revoked", False, True)]


def test_members_added_changed_and_removed(admin_client, team_with_roles):
    team = team_with_roles.team
    newcomer = UserFactory(username="newcomer")
    admin_client.post(reverse("member_list", args=[team.pk]), {"identifier": "newcomer", "role": "viewer"})
    assert last("member.add").after == {"user": "newcomer", "role": "viewer"}
    membership = newcomer.memberships.get()
    admin_client.post(reverse("member_role", args=[team.pk, membership.pk]), {"role": "member"})
    assert last("member.role").changes == [("role", "viewer", "member")]
    admin_client.post(reverse("member_remove", args=[team.pk, membership.pk]))
    entry = last("member.remove")
    assert entry.before == {"user": "newcomer", "role": "member"} and entry.object_label == "newcomer in Acme"


def test_budgets_and_prices_set_and_removed(admin_client, team_with_roles):
    team = team_with_roles.team
    provider = ProviderFactory(team=team, name="OpenAI")
    admin_client.post(reverse("usage_budgets", args=[team.pk]), {"kind": "tokens", "limit": "1000"})
    admin_client.post(reverse("usage_budgets", args=[team.pk]), {"kind": "tokens", "limit": "2500"})
    assert last("budget.set").changes == [("limit", "1000.00", "2500.00")]
    admin_client.post(reverse("usage_budget_delete", args=[Budget.objects.get().pk]))
    assert last("budget.delete").before == {"person": None, "kind": "tokens", "limit": "2500.00"}
    data = {"provider": provider.pk, "model": "gpt-4o", "input_per_million": "2.5", "output_per_million": "10"}
    admin_client.post(reverse("usage_prices", args=[team.pk]), data)
    assert last("price.set").before is None
    admin_client.post(reverse("usage_prices", args=[team.pk]), {**data, "output_per_million": "12"})
    assert last("price.set").changes == [("output_per_million", "10.0000", "12.0000")]
    admin_client.post(reverse("usage_price_delete", args=[Price.objects.get().pk]))
    entry = last("price.delete")
    assert entry.object_label == "OpenAI: gpt-4o" and entry.team == team


def test_deleted_prompts_and_conversations(admin_client, team_with_roles):
    prompt = PromptFactory(team=team_with_roles.team, owner=team_with_roles.users["admin"], name="Greeting")
    admin_client.post(reverse("prompt_delete", args=[prompt.pk]))
    assert last("prompt.delete").changes == [("deleted", False, True)]
    admin_client.post(reverse("prompt_undelete", args=[prompt.pk]))
    assert last("prompt.restore").changes == [("deleted", True, False)]
    conversation = ConversationFactory(project=team_with_roles.project, title="Plans")
    admin_client.post(reverse("conversation_delete", args=[conversation.pk]))
    entry = last("conversation.delete")
    assert entry.object_label == "Plans" and entry.before == {"title": "Plans", "project": "Launch", "messages": 0}
    assert Prompt.objects.filter(pk=prompt.pk, deleted_at__isnull=True).exists()


def test_no_key_material_in_any_entry_or_on_the_page(admin_client, team_with_roles, client):
    team = team_with_roles.team
    admin_client.post(reverse("provider_list", args=[team.pk]), provider_data())
    provider = Provider.objects.get(name="JamAI")
    admin_client.post(reverse("provider_edit", args=[provider.pk]), provider_data(**{"headers-0-value": "proj_new_1"}))
    assert last("provider.update").changes == [("new_secret_values", None, ["X-PROJECT-ID"])]
    admin_client.post(reverse("key_add", args=[provider.pk]), {"key": SECRET, "label": "prod", "shared": "on"})
    key = ApiKey.objects.get(provider=provider)
    Provider.objects.filter(pk=provider.pk).update(base_url="http://127.0.0.1:9/v1", allow_local=True)
    admin_client.post(reverse("key_test", args=[key.pk]))  # fails (nothing listens there) but is logged
    assert last("key.test").after["worked"] is False
    admin_client.post(reverse("key_revoke", args=[key.pk]))
    entries = list(AuditEntry.objects.all())
    assert len(entries) == 5
    everything = json.dumps([{f.name: str(getattr(e, f.attname)) for f in e._meta.fields} for e in entries])
    ciphertexts = [bytes(key.ciphertext).decode(), bytes(provider.extra_headers.get().ciphertext).decode()]
    for secret in (SECRET, SECRET[4:-4], HEADER_SECRET, "proj_new_1", *ciphertexts):
        assert secret not in everything
    page = admin_client.get(reverse("audit_list")).content.decode()
    assert "••••WXYZ" in page
    for secret in (SECRET, SECRET[4:-4], HEADER_SECRET, "proj_new_1", *ciphertexts):
        assert secret not in page


def test_bytes_cannot_be_logged(team_with_roles):
    from playground.audit.services import audit_record

    with pytest.raises(TypeError):
        audit_record(actor=None, action="key.add", team=team_with_roles.team, after={"ciphertext": b"gAAAA"})


def test_team_admins_see_their_teams_entries_and_staff_all(client, team_with_roles):
    team, admin = team_with_roles.team, team_with_roles.users["admin"]
    other = MembershipFactory(role="owner").team
    AuditEntryFactory(actor=admin, action="budget.set", team=team, label="ours", after={"limit": "1"})
    AuditEntryFactory(actor=None, action="budget.set", team=other, label="theirs", after={"limit": "2"})
    client.force_login(admin)
    page = client.get(reverse("audit_list")).content.decode()
    assert "ours" in page and "theirs" not in page
    assert client.get(reverse("audit_list"), {"team": other.pk}).status_code == 404
    client.force_login(UserFactory(is_staff=True))
    page = client.get(reverse("audit_list")).content.decode()
    assert "ours" in page and "theirs" in page


def test_the_list_filters_by_action_actor_team_and_date(client, team_with_roles):
    team, admin, owner = team_with_roles.team, team_with_roles.users["admin"], team_with_roles.users["owner"]
    AuditEntryFactory(actor=admin, action="budget.set", team=team, label="budget by admin")
    AuditEntryFactory(actor=owner, action="price.set", team=team, label="price by owner")
    client.force_login(owner)
    url = reverse("audit_list")

    def labels(**query) -> list[str]:
        return [entry.object_label for entry in client.get(url, query).context["page"]]

    assert labels() == ["price by owner", "budget by admin"]
    assert labels(action="budget.set") == ["budget by admin"]
    assert labels(actor="own") == ["price by owner"]
    assert labels(team=team.pk) == ["price by owner", "budget by admin"]
    entry = AuditEntry.objects.get(object_label="budget by admin")
    day = entry.created_at.date()
    assert labels(start=day.isoformat(), end=day.isoformat()) == ["price by owner", "budget by admin"]
    assert labels(end=day.replace(year=day.year - 1).isoformat()) == []


DOCUMENT = json.dumps(
    {
        "openapi": "3.0.0",
        "info": {"title": "Tiny", "version": "1"},
        "paths": {
            "/chat/completions": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"model": {"type": "string"}, "messages": {"type": "array"}},
                                }
                            }
                        }
                    }
                }
            }
        },
    }
)
