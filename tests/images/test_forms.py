"""The generate form follows each provider's schema: IONOS's "1024*1024" sizes and b64_json only,
OpenAI's "1024x1024", the schema's defaults, the cached models; "use these settings again"."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from playground.images.forms import generate_forms
from tests.factories import ImageGenerationFactory, ProviderFactory


def options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def selected(html: str, name: str) -> str | None:
    select = re.search(rf'<select name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S).group(1)
    found = re.search(r'<option value="([^"]*)" selected>', select)
    return found.group(1) if found else None


@pytest.fixture
def ionos(team_with_roles):
    return ProviderFactory(team=team_with_roles.team, name="IONOS", profile="ionos-model-hub")


@pytest.fixture
def openai(team_with_roles):
    return ProviderFactory(
        team=team_with_roles.team, name="OpenAI", profile="openai", models_cache=["gpt-4o", "gpt-image-1"]
    )


def gallery(client, team_with_roles, **query) -> str:
    client.force_login(team_with_roles.users["member"])
    response = client.get(reverse("image_gallery", args=[team_with_roles.project.pk]), query)
    assert response.status_code == 200
    return response.content.decode()


def test_ionos_sizes_are_written_with_an_asterisk_and_only_b64_json_is_offered(client, team_with_roles, ionos):
    html = gallery(client, team_with_roles, provider=ionos.pk)
    assert options(html, "p-size") == ["", "1024*1024", "1792*1024", "1024*1792"]
    assert re.search(r'<option value=""( selected)?>Default \(1024\*1024\)</option>', html)
    assert options(html, "p-response_format") == ["", "b64_json"]
    assert "1024x1024" not in html


def test_openai_sizes_are_written_with_an_x_and_stream_is_not_offered(client, team_with_roles, ionos, openai):
    html = gallery(client, team_with_roles, provider=openai.pk)
    assert selected(html, "provider") == str(openai.pk)
    sizes = options(html, "p-size")
    assert "1024x1024" in sizes and "1792x1024" in sizes and not any("*" in size for size in sizes)
    assert options(html, "p-response_format") == ["", "url", "b64_json"]
    assert 'name="p-stream"' not in html
    # Models: the provider's cached list, then the schema's default and examples; the schema's default first.
    assert re.findall(r'<option value="([^"]+)"></option>', html) == ["gpt-4o", "gpt-image-1", "dall-e-2", "dall-e-3"]
    assert 'name="model" value="dall-e-2"' in html


def test_providers_without_an_images_endpoint_are_not_offered(client, team_with_roles, ionos):
    ProviderFactory(team=team_with_roles.team, name="Local vLLM", profile="vllm")
    assert options(gallery(client, team_with_roles), "provider") == [str(ionos.pk)]


def test_a_team_without_image_providers_is_told_so(client, team_with_roles):
    html = gallery(client, team_with_roles)
    assert "No provider of Acme offers image generation yet." in html and 'id="image-form"' not in html


@pytest.mark.parametrize(
    ("size", "valid"), [("1024*1024", True), ("1792*1024", True), ("1024x1024", False), ("256*256", False)]
)
def test_the_body_is_checked_against_the_providers_schema(team_with_roles, ionos, size, valid):
    data = {"prompt": "A fox", "provider": ionos.pk, "params_for": ionos.pk, "model": "sdxl", "p-size": size}
    forms = generate_forms(team_with_roles.project, data)
    body = forms.request_body()
    if valid:
        assert body == {"model": "sdxl", "prompt": "A fox", "size": size}
    else:
        assert body is None and forms.params.errors["size"]


def test_a_required_model_is_asked_for_beside_the_model_box(team_with_roles, ionos):
    data = {"prompt": "A fox", "provider": ionos.pk, "params_for": ionos.pk, "model": " "}
    forms = generate_forms(team_with_roles.project, data)
    assert forms.request_body() is None
    assert forms.form.errors["model"] == ["This field is required."]


def test_use_these_settings_again_fills_the_form(client, team_with_roles, openai):
    generation = ImageGenerationFactory(
        project=team_with_roles.project,
        user=team_with_roles.users["admin"],
        provider=openai,
        model="gpt-image-1",
        prompt="A watercolour harbour",
        params={"size": "1536x1024", "n": 2, "quality": "high"},
    )
    html = gallery(client, team_with_roles, again=generation.pk)
    assert ">\nA watercolour harbour</textarea>" in html
    assert 'name="model" value="gpt-image-1"' in html
    assert selected(html, "provider") == str(openai.pk)
    assert selected(html, "p-size") == "1536x1024" and selected(html, "p-quality") == "high"
    assert re.search(r'<input type="number" name="p-n" value="2"', html)


def test_settings_of_another_projects_generation_are_not_found(client, team_with_roles, openai):
    elsewhere = ImageGenerationFactory(prompt="Secret")
    client.force_login(team_with_roles.users["member"])
    url = reverse("image_gallery", args=[team_with_roles.project.pk])
    assert client.get(url, {"again": elsewhere.pk}).status_code == 404


def test_settings_of_a_deleted_provider_keep_only_the_prompt(client, team_with_roles, ionos, openai):
    generation = ImageGenerationFactory(
        project=team_with_roles.project, provider=None, model="old-model", prompt="A kite", params={"size": "9x9"}
    )
    html = gallery(client, team_with_roles, again=generation.pk)
    assert ">\nA kite</textarea>" in html and "old-model" not in html and selected(html, "p-size") == ""


def test_the_provider_select_fetches_that_providers_form_with_htmx(client, team_with_roles, ionos, openai):
    client.force_login(team_with_roles.users["member"])
    url = reverse("image_gallery", args=[team_with_roles.project.pk])
    select = re.search(r'<select name="provider"[^>]*>', client.get(url).content.decode()).group(0)
    assert f'hx-get="{url}"' in select and 'hx-target="#image-form"' in select
    response = client.get(
        url, {"provider": ionos.pk, "prompt": "Kept"}, headers={"HX-Request": "true", "HX-Target": "image-form"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="image-form"') and html.rstrip().endswith("</form>")
    assert options(html, "p-size") == ["", "1024*1024", "1792*1024", "1024*1792"]
    assert ">\nKept</textarea>" in html


def test_viewers_see_the_gallery_without_the_form(client, team_with_roles, ionos):
    client.force_login(team_with_roles.users["viewer"])
    html = client.get(reverse("image_gallery", args=[team_with_roles.project.pk])).content.decode()
    assert 'id="gallery"' in html and 'id="image-form"' not in html
