"""Adding providers and keys, testing keys, listing models, and choosing the schema source."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse
from django.utils import timezone

from playground.providers.models import ApiKey, Provider, ProviderHeader
from tests.factories import SHARED_KEY

MANAGEMENT = {"headers-TOTAL_FORMS": "1", "headers-INITIAL_FORMS": "0"}


def provider_data(**overrides) -> dict:
    data = {
        "name": "JamAI",
        "base_url": "https://api.jamaibase.com",
        "profile": "jamai-base",
        "default_model": "",
        **MANAGEMENT,
        "headers-0-name": "X-PROJECT-ID",
        "headers-0-value": "proj_1234_secret",
        "headers-0-secret": "on",
    }
    data.update(overrides)
    return data


def test_admin_adds_a_provider_with_a_secret_header(client, team_with_roles):
    client.force_login(team_with_roles.users["admin"])
    response = client.post(reverse("provider_list", args=[team_with_roles.team.pk]), provider_data())
    provider = Provider.objects.get(name="JamAI")
    assert response.url == reverse("provider_detail", args=[provider.pk])
    header = ProviderHeader.objects.get(provider=provider)
    assert header.secret and header.value == "" and header.plain_value() == "proj_1234_secret"
    edit_page = client.get(reverse("provider_edit", args=[provider.pk])).content.decode()
    assert "proj_1234_secret" not in edit_page
    # Saving the form again with the secret left empty keeps it.
    client.post(reverse("provider_edit", args=[provider.pk]), provider_data(**{"headers-0-value": ""}))
    assert ProviderHeader.objects.get(provider=provider).plain_value() == "proj_1234_secret"


@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:11434/v1", "http://localhost:8000/v1", "http://169.254.169.254/", "http://10.0.0.8/v1"],
)
def test_non_staff_cannot_point_a_provider_at_local_addresses(client, team_with_roles, base_url):
    client.force_login(team_with_roles.users["owner"])
    response = client.post(reverse("provider_list", args=[team_with_roles.team.pk]), provider_data(base_url=base_url))
    assert response.status_code == 200
    assert "local or private network" in response.content.decode()
    assert not Provider.objects.filter(name="JamAI").exists()


def test_non_staff_cannot_switch_on_local_access(client, team_with_roles):
    client.force_login(team_with_roles.users["owner"])
    data = provider_data(base_url="http://127.0.0.1:11434/v1", allow_local="on")
    client.post(reverse("provider_list", args=[team_with_roles.team.pk]), data)
    assert not Provider.objects.filter(name="JamAI").exists()


def test_staff_may_allow_a_local_provider(client, team_with_roles):
    owner = team_with_roles.users["owner"]
    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    data = provider_data(name="Ollama", base_url="http://127.0.0.1:11434/v1", profile="ollama", allow_local="on")
    client.post(reverse("provider_list", args=[team_with_roles.team.pk]), data)
    assert Provider.objects.get(name="Ollama").allow_local


def test_key_is_masked_and_testing_it_lists_the_models(client, team_with_roles, demo_provider):
    client.force_login(team_with_roles.users["member"])
    page = client.get(reverse("provider_detail", args=[demo_provider.pk])).content.decode()
    assert f"••••{SHARED_KEY[-4:]}" in page
    key = ApiKey.objects.get(provider=demo_provider)
    response = client.post(reverse("key_test", args=[key.pk]), follow=True)
    assert "The key works: Demo lists" in response.content.decode()
    demo_provider.refresh_from_db()
    assert "demo-chat" in demo_provider.models_cache
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_a_failing_key_test_reports_the_upstreams_answer(client, team_with_roles, demo_provider):
    demo_provider.base_url += "/nowhere"
    demo_provider.local_url = demo_provider.base_url  # as staff would allow it
    demo_provider.save()
    client.force_login(team_with_roles.users["member"])
    key = ApiKey.objects.get(provider=demo_provider)
    response = client.post(reverse("key_test", args=[key.pk]), follow=True)
    assert "Not found at the provider (404)" in response.content.decode()


def test_revoked_keys_are_not_used(client, team_with_roles, demo_provider):
    client.force_login(team_with_roles.users["admin"])
    key = ApiKey.objects.get(provider=demo_provider)
    client.post(reverse("key_revoke", args=[key.pk]))
    response = client.post(reverse("models_refresh", args=[demo_provider.pk]), follow=True)
    assert "There is no API key for Demo yet" in response.content.decode()


def test_personal_key_is_preferred_over_the_shared_one(team_with_roles, demo_provider):
    from playground.providers.keys import target_for
    from tests.factories import ApiKeyFactory

    member = team_with_roles.users["member"]
    ApiKeyFactory(provider=demo_provider, owner=member, plain="sk-personal-member-key-4321")
    target, context = target_for(member, demo_provider)
    assert target.api_key == "sk-personal-member-key-4321"
    other_target, _ = target_for(team_with_roles.users["admin"], demo_provider)
    assert other_target.api_key == SHARED_KEY


def test_the_newest_usable_key_is_chosen_and_never_another_members(team_with_roles, demo_provider):
    from playground.providers.keys import target_for
    from tests.factories import ApiKeyFactory

    member, admin = team_with_roles.users["member"], team_with_roles.users["admin"]
    ApiKeyFactory(provider=demo_provider, owner=admin, plain="sk-admins-own-key-00000000AAAA")
    newer_shared = ApiKeyFactory(provider=demo_provider, owner=None, plain="sk-newer-shared-key-0000BBBB")
    target, context = target_for(member, demo_provider)
    assert (target.api_key, context.key_id) == ("sk-newer-shared-key-0000BBBB", newer_shared.pk)

    revoked = ApiKeyFactory(provider=demo_provider, owner=member, plain="sk-members-revoked-key-CCCC")
    revoked.revoked_at = timezone.now()
    revoked.save()
    assert target_for(member, demo_provider)[0].api_key == "sk-newer-shared-key-0000BBBB"
    assert target_for(admin, demo_provider)[0].api_key == "sk-admins-own-key-00000000AAAA"


YAML_SCHEMA = """
openapi: 3.1.0
info: {title: Uploaded, version: "1"}
paths:
  /chat/completions:
    post:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [model, messages]
              properties:
                model: {type: string}
                messages: {type: array, items: {type: object}}
                warp_factor: {type: integer, minimum: 1, maximum: 9, default: 5, description: How fast.}
"""


def test_schema_source_order_upload_then_provider_then_profile(client, team_with_roles, demo_provider):
    client.force_login(team_with_roles.users["admin"])
    detail = reverse("provider_detail", args=[demo_provider.pk])
    assert "Built-in profile" in client.get(detail).content.decode()

    client.post(reverse("schema_refresh", args=[demo_provider.pk]))
    demo_provider.refresh_from_db()
    assert demo_provider.schema_source == "fetched" and demo_provider.fetched_at is not None
    assert "The provider&#x27;s own /openapi.json" in client.get(detail).content.decode()

    client.post(reverse("schema_upload", args=[demo_provider.pk]), {"document": YAML_SCHEMA})
    demo_provider.refresh_from_db()
    assert demo_provider.schema_source == "uploaded"
    form_page = client.get(reverse("parameters", args=[demo_provider.pk, "chat"])).content.decode()
    assert "warp_factor" in form_page and "temperature" not in form_page

    client.post(reverse("schema_reset", args=[demo_provider.pk]))
    demo_provider.refresh_from_db()
    assert demo_provider.schema_source == "profile"


def test_a_document_that_is_not_openapi_is_refused_with_a_reason(client, team_with_roles, demo_provider):
    client.force_login(team_with_roles.users["admin"])
    response = client.post(reverse("schema_upload", args=[demo_provider.pk]), {"document": "just: text"})
    page = response.content.decode()
    # The reason is beside the box (in its field), and what was pasted is still in it.
    box = page.index('id="id_document"')
    field = page[page.rindex('<div class="field', 0, box) : page.index("</textarea>", box)]
    assert "has-error" in field and "not an OpenAPI document" in field
    assert "just: text</textarea>" in page
    demo_provider.refresh_from_db()
    assert demo_provider.schema_source == "profile"


def test_the_key_is_in_no_page_log_or_snippet(client, team_with_roles, demo_provider, caplog):
    caplog.set_level(logging.DEBUG)
    client.force_login(team_with_roles.users["admin"])
    personal = "sk-admin-personal-key-QWERTY987654"
    client.post(reverse("key_add", args=[demo_provider.pk]), {"key": personal, "label": "mine"})
    pages = [
        client.get(reverse("provider_detail", args=[demo_provider.pk])),
        client.post(reverse("key_test", args=[ApiKey.objects.get(label="mine").pk]), follow=True),
        client.post(reverse("models_refresh", args=[demo_provider.pk]), follow=True),
        client.get(reverse("provider_list", args=[demo_provider.team_id])),
        client.post(reverse("parameters", args=[demo_provider.pk, "chat"]), {"model": "demo-chat"}),
    ]
    snippet_page = pages[-1].content.decode()
    assert "DEMO_API_KEY" in snippet_page and "curl" in snippet_page
    for secret in (personal, SHARED_KEY):
        for response in pages:
            assert secret not in response.content.decode()
            assert secret[-10:] not in response.content.decode()
        assert secret not in caplog.text


def test_last_used_is_kept_to_the_minute_without_a_write_per_call(team_with_roles, demo_provider):
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from playground.providers.keys import target_for

    member = team_with_roles.users["member"]
    target_for(member, demo_provider)
    first = ApiKey.objects.get(provider=demo_provider).last_used_at
    with CaptureQueriesContext(connection) as queries:
        target_for(member, demo_provider)
    assert not any(query["sql"].startswith("UPDATE") for query in queries.captured_queries)
    assert ApiKey.objects.get(provider=demo_provider).last_used_at == first
    ApiKey.objects.filter(provider=demo_provider).update(last_used_at=timezone.now() - timedelta(minutes=2))
    target_for(member, demo_provider)
    assert ApiKey.objects.get(provider=demo_provider).last_used_at > first
