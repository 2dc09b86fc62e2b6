"""The headers a profile declares (JamAI's X-PROJECT-ID and X-USER-ID) are offered by name in the
provider form, stored encrypted, shown masked, required where the profile says so, and sent."""

from __future__ import annotations

import json
import re

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse

from playground.providers import profiles
from playground.providers.models import ApiKey, Provider, ProviderHeader
from tests.factories import ApiKeyFactory
from tests.upstream.raw_server import RawServer, json_reply

PROJECT_ID = "proj_0a1b2c3d4e5f6789"
NO_FREE_ROWS = {"headers-TOTAL_FORMS": "0", "headers-INITIAL_FORMS": "0"}


def jamai_data(base_url: str = "https://api.jamaibase.com", **fields) -> dict:
    data = {"name": "JamAI", "base_url": base_url, "profile": "jamai-base", "default_model": ""}
    return {**data, **NO_FREE_ROWS, **fields}


def field_html(page: str, field_id: str) -> str:
    """The `<div class="field">` holding the control with this id."""
    at = page.index(f'id="{field_id}"')
    start = page.rindex('<div class="field', 0, at)
    return page[start : page.index("</div>", page.index("<input", start)) + 6]


def test_the_add_form_offers_the_profiles_headers_by_name(client, team_with_roles):
    client.force_login(team_with_roles.users["admin"])
    page = client.get(reverse("provider_list", args=[team_with_roles.team.pk])).content.decode()
    group = page[page.index('id="profile-headers-jamai-base"') : page.index("</fieldset>", page.index("jamai-base"))]
    assert "Headers for the JamAI Base profile" in group
    assert re.search(r'<label for="id_header-jamai-base-0">X-PROJECT-ID:</label>', group)
    assert re.search(r'<label for="id_header-jamai-base-1">X-USER-ID:</label>', group)
    assert "Needed with a service key" in group


def test_a_header_value_is_stored_encrypted_shown_masked_kept_and_removed(client, team_with_roles):
    client.force_login(team_with_roles.users["admin"])
    client.post(
        reverse("provider_list", args=[team_with_roles.team.pk]), jamai_data(**{"header-jamai-base-0": PROJECT_ID})
    )
    provider = Provider.objects.get(name="JamAI")
    header = ProviderHeader.objects.get(provider=provider)
    assert (header.name, header.secret, header.value, header.plain_value()) == ("X-PROJECT-ID", True, "", PROJECT_ID)

    edit = reverse("provider_edit", args=[provider.pk])
    for page in (client.get(edit), client.get(reverse("provider_detail", args=[provider.pk]))):
        html = page.content.decode()
        assert PROJECT_ID not in html and PROJECT_ID[-8:] not in html
        assert "••••6789" in html
    box = field_html(client.get(edit).content.decode(), "id_header-jamai-base-0")
    assert "Set (••••6789); leave empty to keep it." in box

    client.post(edit, jamai_data())  # the box left empty keeps the value
    assert ProviderHeader.objects.get(provider=provider).plain_value() == PROJECT_ID
    client.post(edit, jamai_data(**{"header-jamai-base-0": "proj_new_value_0000"}))
    assert ProviderHeader.objects.get(provider=provider).plain_value() == "proj_new_value_0000"
    client.post(edit, jamai_data(**{"header-jamai-base-0-clear": "on"}))
    assert not ProviderHeader.objects.filter(provider=provider).exists()


def test_a_header_value_with_a_line_break_is_refused_beside_its_box(client, team_with_roles):
    client.force_login(team_with_roles.users["admin"])
    data = jamai_data(**{"header-jamai-base-1": "user\r\nX-Evil: 1"})
    page = client.post(reverse("provider_list", args=[team_with_roles.team.pk]), data).content.decode()
    box = field_html(page, "id_header-jamai-base-1")
    assert "has-error" in box and "cannot contain line breaks" in box
    assert not Provider.objects.filter(name="JamAI").exists()


@pytest.fixture
def profile_with_a_required_header(tmp_path, monkeypatch):
    """A profile directory holding OpenAI's profile and one whose API needs an X-Tenant header."""
    document = json.loads((profiles.PROFILES_DIR / "openai.json").read_text())
    (tmp_path / "openai.json").write_text(json.dumps(document))
    document["x-playground"] = {**document["x-playground"], "profile": "tenanted", "label": "Tenanted API"}
    document["x-playground-headers"] = [
        {"name": "X-Tenant", "required": True, "secret": True, "description": "Your tenant."}
    ]
    (tmp_path / "tenanted.json").write_text(json.dumps(document))
    monkeypatch.setattr(profiles, "PROFILES_DIR", tmp_path)
    profiles._load.cache_clear()
    yield
    profiles._load.cache_clear()


def test_a_required_header_is_marked_and_missing_it_is_said_beside_its_box(
    client, team_with_roles, profile_with_a_required_header
):
    client.force_login(team_with_roles.users["admin"])
    url = reverse("provider_list", args=[team_with_roles.team.pk])
    page = client.get(url).content.decode()
    box = field_html(page, "id_header-tenanted-0")
    assert "X-Tenant (required):</label>" in box and 'aria-required="true"' in box

    data = {"name": "T", "base_url": "https://api.example.com/v1", "profile": "tenanted", **NO_FREE_ROWS}
    page = client.post(url, data).content.decode()
    box = field_html(page, "id_header-tenanted-0")
    assert "has-error" in box and "Tenanted API needs the X-Tenant header: enter its value." in box
    assert not Provider.objects.filter(name="T").exists()

    # Another profile does not need it.
    client.post(url, {**data, "profile": "openai"})
    assert Provider.objects.filter(name="T", profile="openai").exists()


@pytest.mark.django_db(transaction=True)
async def test_calls_carry_the_headers_set_in_the_form(async_client, team_with_roles):
    admin = team_with_roles.users["admin"]
    admin.is_staff = True  # the test server is on this machine
    await sync_to_async(admin.save)()
    await async_client.aforce_login(admin)
    models = json_reply(200, {"object": "list", "data": [{"id": "openai/gpt-4o-mini", "object": "model"}]})
    async with RawServer(models) as server:
        origin = server.url.removesuffix("/v1")
        data = jamai_data(origin, allow_local="on", **{"header-jamai-base-0": PROJECT_ID, "header-jamai-base-1": "u1"})
        await async_client.post(reverse("provider_list", args=[team_with_roles.team.pk]), data)
        provider = await Provider.objects.aget(name="JamAI")
        key = await sync_to_async(ApiKeyFactory)(provider=provider, owner=None, plain="jamai_pat_0123456789")
        page = (await async_client.post(reverse("key_test", args=[key.pk]), follow=True)).content.decode()
    assert "The key works: JamAI lists 1 model." in page
    [(line, headers, _)] = server.requests
    assert line == "GET /api/v1/models HTTP/1.1"
    assert (headers["x-project-id"], headers["x-user-id"]) == (PROJECT_ID, "u1")


@pytest.mark.django_db(transaction=True)
async def test_a_refused_key_names_the_profiles_headers_that_are_not_set(async_client, team_with_roles):
    admin = team_with_roles.users["admin"]
    await async_client.aforce_login(admin)
    body = {"object": "error", "error": "unauthorized", "message": "You are not authorized to access this project."}
    async with RawServer(json_reply(401, body)) as server:
        provider = await Provider.objects.acreate(
            team=team_with_roles.team,
            name="JamAI",
            base_url=server.url.removesuffix("/v1"),
            profile="jamai-base",
            allow_local=True,
            local_url=server.url.removesuffix("/v1"),
        )
        key = await sync_to_async(ApiKeyFactory)(provider=provider, owner=None, plain="jamai_pat_0123456789")
        page = (await async_client.post(reverse("key_test", args=[key.pk]), follow=True)).content.decode()
    assert (
        f"Key {(await ApiKey.objects.aget(pk=key.pk)).masked}: The API key was refused (401): You are not authorized "
        "to access this project. Check the key in the provider settings. JamAI Base also takes the headers "
        "X-PROJECT-ID, X-USER-ID, not set here."
    ) in page


def test_switching_profile_keeps_the_headers_the_old_one_declared(client, team_with_roles):
    client.force_login(team_with_roles.users["admin"])
    client.post(
        reverse("provider_list", args=[team_with_roles.team.pk]), jamai_data(**{"header-jamai-base-0": PROJECT_ID})
    )
    provider = Provider.objects.get(name="JamAI")
    edit = reverse("provider_edit", args=[provider.pk])
    client.post(edit, jamai_data(profile="openai"))
    assert ProviderHeader.objects.get(provider=provider).plain_value() == PROJECT_ID
    # Now an extra header like any other, in the free rows, its value still not shown.
    page = client.get(edit).content.decode()
    assert 'name="headers-0-name" value="X-PROJECT-ID"' in page and PROJECT_ID not in page


def free_rows(*rows: tuple[str, str]) -> dict:
    data = {"headers-TOTAL_FORMS": str(len(rows)), "headers-INITIAL_FORMS": "0"}
    for index, (name, value) in enumerate(rows):
        data |= {f"headers-{index}-name": name, f"headers-{index}-value": value}
    return data


@pytest.mark.parametrize("value", ["próject-1234", "naïve", "a\u2028b"])
def test_a_header_value_outside_ascii_is_refused_beside_its_box(client, team_with_roles, value):
    client.force_login(team_with_roles.users["admin"])
    url = reverse("provider_list", args=[team_with_roles.team.pk])
    page = client.post(url, jamai_data(**{"header-jamai-base-0": value})).content.decode()
    box = field_html(page, "id_header-jamai-base-0")
    assert "has-error" in box and "outside ASCII" in box
    page = client.post(url, jamai_data(**free_rows(("X-Tenant", value)))).content.decode()
    assert "has-error" in field_html(page, "id_headers-0-value") and "outside ASCII" in page
    assert not Provider.objects.filter(name="JamAI").exists()


@pytest.mark.parametrize("name", ["X-Prójekt", "X Tenant", "X-Tenant:", "X-Ten\u2028ant"])
def test_a_header_name_that_is_not_an_http_token_is_refused_beside_it(client, team_with_roles, name):
    client.force_login(team_with_roles.users["admin"])
    url = reverse("provider_list", args=[team_with_roles.team.pk])
    page = client.post(url, jamai_data(**free_rows((name, "1")))).content.decode()
    box = field_html(page, "id_headers-0-name")
    assert "has-error" in box and "Header names may contain ASCII letters, digits and" in box
    assert not Provider.objects.filter(name="JamAI").exists()


def test_a_header_name_with_any_http_token_character_is_kept(client, team_with_roles):
    client.force_login(team_with_roles.users["admin"])
    url = reverse("provider_list", args=[team_with_roles.team.pk])
    client.post(url, jamai_data(**free_rows(("X-Api.Version~2", "2024-01-01"))))
    header = ProviderHeader.objects.get(provider__name="JamAI")
    assert (header.name, header.plain_value()) == ("X-Api.Version~2", "2024-01-01")


@pytest.fixture
def profile_with_a_nameless_header(tmp_path, monkeypatch):
    """OpenAI's profile, and one whose header list has an entry without a name before X-Tenant."""
    document = json.loads((profiles.PROFILES_DIR / "openai.json").read_text())
    (tmp_path / "openai.json").write_text(json.dumps(document))
    document["x-playground"] = {**document["x-playground"], "profile": "tenanted", "label": "Tenanted API"}
    document["x-playground-headers"] = [{"description": "Not a header yet."}, {"name": "X-Tenant", "secret": True}]
    (tmp_path / "tenanted.json").write_text(json.dumps(document))
    monkeypatch.setattr(profiles, "PROFILES_DIR", tmp_path)
    profiles._load.cache_clear()
    yield
    profiles._load.cache_clear()


@pytest.mark.django_db(transaction=True)
async def test_a_refused_key_names_the_declared_headers_skipping_an_entry_without_a_name(
    async_client, team_with_roles, profile_with_a_nameless_header
):
    await async_client.aforce_login(team_with_roles.users["admin"])
    async with RawServer(json_reply(401, {"error": {"message": "Who are you?"}})) as server:
        provider = await Provider.objects.acreate(
            team=team_with_roles.team, name="T", base_url=server.url, profile="tenanted", allow_local=True,
            local_url=server.url,
        )  # fmt: skip
        key = await sync_to_async(ApiKeyFactory)(provider=provider, owner=None, plain="sk-tenant-0123456789")
        response = await async_client.post(reverse("key_test", args=[key.pk]), follow=True)
    assert response.status_code == 200
    assert "Tenanted API also takes the header X-Tenant, not set here." in response.content.decode()
