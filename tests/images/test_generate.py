"""Generating pictures from the page, end to end against the demo upstream over a real socket:
what is kept, what is sent, and what people are told when the provider says no."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from playground.images import storage
from playground.images.models import GeneratedImage, ImageGeneration
from playground.usage.models import UsageRecord
from tests.factories import SHARED_KEY, ProviderFactory

PROMPT = "A lighthouse at dusk"


def generate(client, project, provider, *, htmx: bool = False, **fields):
    data = {"prompt": PROMPT, "provider": provider.pk, "params_for": provider.pk, "model": "demo-image"}
    data.update({name.replace("p_", "p-", 1): value for name, value in fields.items()})
    headers = {"HX-Request": "true", "HX-Target": "image-form"} if htmx else {}
    return client.post(reverse("image_generate", args=[project.pk]), data, headers=headers)


def error_box(response) -> str:
    match = re.search(
        r'<div class="form-errors image-error" id="generate-error" role="alert"[^>]*>(.*?)</div>',
        response.content.decode(),
        re.S,
    )
    assert match, response.content.decode()[:3000]
    return re.sub(r"<[^>]+>", "", match.group(1))


@pytest.fixture
def member(client, team_with_roles):
    client.force_login(team_with_roles.users["member"])
    return team_with_roles.users["member"]


def test_a_member_generates_a_picture_and_it_is_kept_privately(client, team_with_roles, demo_provider, member, media):
    project = team_with_roles.project
    response = generate(client, project, demo_provider, p_size="256x256")
    assert response.status_code == 302 and response.url == reverse("image_gallery", args=[project.pk]) + "#gallery"
    generation = ImageGeneration.objects.get()
    assert (generation.project, generation.user, generation.provider) == (project, member, demo_provider)
    assert (generation.model, generation.prompt, generation.params) == ("demo-image", PROMPT, {"size": "256x256"})
    assert generation.error == "" and generation.duration_ms > 0 and generation.provider_name == "Demo"
    image = GeneratedImage.objects.get()
    assert (image.content_type, image.width, image.height, image.revised_prompt) == ("image/png", 256, 256, PROMPT)
    assert re.fullmatch(r"[0-9a-f]{64}\.png", image.file_name)
    assert storage.path_of(image.file_name).stat().st_size == image.bytes
    assert storage.path_of(image.file_name).is_relative_to(media)
    [record] = UsageRecord.objects.all()
    assert (record.endpoint, record.status, record.http_status, record.model) == ("images", "ok", 200, "demo-image")
    assert (record.project, record.user_id, record.provider_id) == (project, member.pk, demo_provider.pk)
    gallery = client.get(response.url).content.decode()
    assert f'<img src="{reverse("image_thumbnail", args=[image.pk])}" alt="{PROMPT}"' in gallery
    assert SHARED_KEY not in gallery


def test_with_htmx_the_page_part_comes_back_with_the_new_pictures_first(client, team_with_roles, demo_provider, member):
    response = generate(client, team_with_roles.project, demo_provider, htmx=True, p_size="256*256", p_n="2")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="image-workspace" id="image-workspace">')
    assert "2 new pictures in" in html and html.count(f'alt="{PROMPT}"') == 2
    assert "<html" not in html
    assert [image.index for image in GeneratedImage.objects.order_by("index")] == [0, 1]
    assert ImageGeneration.objects.get().params == {"size": "256*256", "n": 2}


def test_a_url_answer_is_downloaded_by_the_server(client, team_with_roles, demo_provider, member):
    response = generate(client, team_with_roles.project, demo_provider, p_size="256x256", p_response_format="url")
    assert response.status_code == 302
    image = GeneratedImage.objects.get()
    assert (image.width, image.height, image.content_type) == (256, 256, "image/png")
    assert ImageGeneration.objects.get().params == {"size": "256x256", "response_format": "url"}


def test_a_content_policy_refusal_is_shown_beside_the_form_in_the_providers_words(
    client, team_with_roles, demo_provider, member
):
    response = generate(client, team_with_roles.project, demo_provider, prompt="A forbidden picture", p_size="256x256")
    assert response.status_code == 502
    said = error_box(response)
    assert "No picture this time." in said
    assert "rejected by the demo safety system: the prompt contains a forbidden word" in said
    assert not GeneratedImage.objects.exists()
    assert "safety system" in ImageGeneration.objects.get().error
    [record] = UsageRecord.objects.all()
    assert (record.endpoint, record.status, record.http_status) == ("images", "error", 400)


def test_with_htmx_a_refusal_is_swapped_in_too(client, team_with_roles, demo_provider, member):
    response = generate(client, team_with_roles.project, demo_provider, htmx=True, prompt="forbidden", p_size="256x256")
    assert response.status_code == 200  # htmx swaps only successful responses
    assert "forbidden word" in error_box(response)


def test_an_unknown_model_is_named_by_the_provider(client, team_with_roles, demo_provider, member):
    response = generate(client, team_with_roles.project, demo_provider, model="demo-chat", p_size="256x256")
    assert "cannot be used here" in error_box(response) and "demo-image" in error_box(response)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"prompt": "   "}, "prompt", "Describe the picture you want."),
        ({"prompt": "x" * 4001}, "prompt", "at most 4000"),
        ({"p_n": "9"}, "n", "≤ 4"),
        ({"p_size": "640x480"}, "size", "size must be one of: 256x256"),
    ],
    ids=["empty prompt", "long prompt", "too many", "unknown size"],
)
def test_bad_input_is_reported_beside_its_field_and_nothing_is_sent(
    client, team_with_roles, demo_provider, member, fields, field, message
):
    response = generate(client, team_with_roles.project, demo_provider, **fields)
    assert response.status_code == 400
    html = response.content.decode()
    if field == "prompt":
        errors = re.search(r'<label for="id_prompt">.*?<ul class="errorlist"[^>]*>(.*?)</ul>', html, re.S)
    else:
        errors = re.search(rf'<ul class="param-errors" id="param-{field}-errors">(.*?)</ul>', html, re.S)
    assert errors and message in errors.group(1), html[:4000]
    assert not UsageRecord.objects.exists() and not ImageGeneration.objects.exists()


def test_changing_the_provider_without_javascript_shows_its_parameters_before_sending(
    client, team_with_roles, demo_provider, member
):
    ionos = ProviderFactory(team=team_with_roles.team, name="IONOS", profile="ionos-model-hub")
    data = {"prompt": PROMPT, "provider": ionos.pk, "params_for": demo_provider.pk, "model": "demo-image"}
    response = client.post(reverse("image_generate", args=[team_with_roles.project.pk]), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "These are the parameters of IONOS" in html
    assert '<option value="1024*1024">1024*1024</option>' in html and "1024x1024" not in html
    assert f">\n{PROMPT}</textarea>" in html
    assert f'name="params_for" value="{ionos.pk}"' in html
    assert not UsageRecord.objects.exists()


def test_no_key_is_said_plainly(client, team_with_roles, demo_provider, member):
    demo_provider.api_keys.all().delete()
    response = generate(client, team_with_roles.project, demo_provider, p_size="256x256")
    assert "There is no API key for Demo yet" in error_box(response)
