"""Gallery, picture, file, download and delete: who may do what, and how files are handed out."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from playground.accounts.models import Role
from playground.images import selectors, storage
from playground.images.models import GeneratedImage, ImageGeneration
from tests.access import ACTORS, assert_access
from tests.factories import SHARED_KEY, ProjectFactory
from tests.test_security import inline_code

ENDPOINTS = [
    ("image_gallery", "get", Role.VIEWER),
    ("image_generate", "post", Role.MEMBER),
    ("image_detail", "get", Role.VIEWER),
    ("image_file", "get", Role.VIEWER),
    ("image_thumbnail", "get", Role.VIEWER),
    ("image_download", "get", Role.VIEWER),
    ("image_delete", "get", Role.MEMBER),  # the picture is the member's own
    ("image_delete", "post", Role.MEMBER),
]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("name", "method", "lowest_role"), ENDPOINTS)
def test_access(client, team_with_roles, demo_provider, make_image, actor, name, method, lowest_role):
    image = make_image("member")
    if actor != "anonymous":
        client.force_login(team_with_roles.users[actor])
    if name in ("image_gallery", "image_generate"):
        url = reverse(name, args=[team_with_roles.project.pk])
    else:
        url = reverse(name, args=[image.pk])
    if method == "post":
        data = {"prompt": "A boat", "provider": demo_provider.pk, "params_for": demo_provider.pk}
        response = client.post(url, {**data, "model": "demo-image", "p-size": "256x256"})
    else:
        response = client.get(url)
    assert_access(response, actor, lowest_role)


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_member_cannot_delete_someone_elses_picture(client, team_with_roles, make_image, method):
    image = make_image("admin")
    client.force_login(team_with_roles.users["member"])
    response = getattr(client, method)(reverse("image_delete", args=[image.pk]))
    assert response.status_code == 403
    assert "Only admins can delete other people" in response.content.decode()
    assert GeneratedImage.objects.filter(pk=image.pk).exists()


def test_the_detail_page_offers_delete_only_to_who_may_delete(client, team_with_roles, make_image):
    image = make_image("admin")
    url = reverse("image_detail", args=[image.pk])
    delete = reverse("image_delete", args=[image.pk])
    client.force_login(team_with_roles.users["member"])
    assert delete not in client.get(url).content.decode()
    client.force_login(team_with_roles.users["owner"])
    assert delete in client.get(url).content.decode()


def test_an_admin_deletes_anyones_picture_and_its_file_goes(
    client, team_with_roles, make_image, django_capture_on_commit_callbacks
):
    image = make_image("member")
    path = storage.path_of(image.file_name)
    client.force_login(team_with_roles.users["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("image_delete", args=[image.pk]))
    assert response.status_code == 302 and response.url == reverse("image_gallery", args=[team_with_roles.project.pk])
    assert not GeneratedImage.objects.exists() and not ImageGeneration.objects.exists()
    assert not path.exists()


def test_deleting_one_of_several_pictures_keeps_the_others(client, team_with_roles, make_image):
    first = make_image("member")
    second = GeneratedImage.objects.create(
        generation=first.generation,
        index=1,
        **{f: getattr(first, f) for f in ("file_name", "content_type", "width", "height", "bytes")},
    )
    client.force_login(team_with_roles.users["member"])
    client.post(reverse("image_delete", args=[first.pk]))
    assert list(GeneratedImage.objects.all()) == [second]
    assert storage.path_of(second.file_name).exists()


def test_other_teams_pictures_are_not_found_by_id(client, team_with_roles, make_image):
    elsewhere = make_image("member", project=ProjectFactory(name="Elsewhere"))
    client.force_login(team_with_roles.users["owner"])  # owner here, stranger there
    for name in ("image_detail", "image_file", "image_thumbnail", "image_download", "image_delete"):
        assert client.get(reverse(name, args=[elsewhere.pk])).status_code == 404, name
    assert client.post(reverse("image_delete", args=[elsewhere.pk])).status_code == 404
    assert client.get(reverse("image_file", args=[987654])).status_code == 404


def test_files_are_served_with_their_checked_type_and_nosniff(client, team_with_roles, make_image):
    image = make_image("member")
    client.force_login(team_with_roles.users["viewer"])
    response = client.get(reverse("image_file", args=[image.pk]))
    assert response.status_code == 200
    assert response.content == storage.path_of(image.file_name).read_bytes()
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="{image.download_name}"'
    assert response["Cache-Control"] == "private, max-age=86400"
    again = client.get(reverse("image_file", args=[image.pk]), headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304
    thumbnail = client.get(reverse("image_thumbnail", args=[image.pk]))
    assert (thumbnail["Content-Type"], thumbnail["X-Content-Type-Options"]) == ("image/webp", "nosniff")
    assert thumbnail.content.startswith(b"RIFF") and thumbnail["ETag"] != response["ETag"]


def test_the_private_folder_is_not_served_by_any_other_address(client, team_with_roles, make_image):
    image = make_image("member")
    client.force_login(team_with_roles.users["owner"])
    relative = storage.path_of(image.file_name).relative_to(storage.images_dir().parent)
    for prefix in ("/media/", "/static/", "/data/media/"):
        assert client.get(f"{prefix}{relative}").status_code == 404, prefix


def test_download_is_an_attachment(client, team_with_roles, make_image):
    image = make_image("member")
    client.force_login(team_with_roles.users["viewer"])
    response = client.get(reverse("image_download", args=[image.pk]))
    assert response["Content-Disposition"] == f'attachment; filename="image-{image.generation_id}-1.png"'
    assert (response["Content-Type"], response["X-Content-Type-Options"]) == ("image/png", "nosniff")


def test_a_missing_file_is_not_found(client, team_with_roles, make_image):
    image = make_image("member")
    storage.remove(image.file_name)
    client.force_login(team_with_roles.users["member"])
    assert client.get(reverse("image_file", args=[image.pk])).status_code == 404
    assert client.get(reverse("image_thumbnail", args=[image.pk])).status_code == 404


def test_the_gallery_shows_newest_first_with_the_prompt_as_alt_text(client, team_with_roles, make_image, monkeypatch):
    now = timezone.now()
    for age, prompt in enumerate(["Newest", "Middle", "Oldest"]):
        image = make_image("member", prompt=prompt, colour=(age, 0, 0))
        ImageGeneration.objects.filter(pk=image.generation_id).update(created_at=now - timedelta(hours=age))
    monkeypatch.setattr(selectors, "GALLERY_PAGE_SIZE", 2)
    client.force_login(team_with_roles.users["viewer"])
    url = reverse("image_gallery", args=[team_with_roles.project.pk])
    first = client.get(url).content.decode()
    assert re.findall(r'<img src="[^"]+" alt="([^"]+)"', first) == ["Newest", "Middle"]
    assert 'href="?page=2#gallery">Older</a>' in first
    assert re.findall(r'<img src="[^"]+" alt="([^"]+)"', client.get(url, {"page": 2}).content.decode()) == ["Oldest"]


def test_pages_never_show_the_api_key_and_have_no_inline_code(client, team_with_roles, demo_provider, make_image):
    image = make_image("member")
    ImageGeneration.objects.filter(pk=image.generation_id).update(provider=demo_provider)
    client.force_login(team_with_roles.users["owner"])
    pages = [
        reverse("image_gallery", args=[team_with_roles.project.pk]),
        reverse("image_gallery", args=[team_with_roles.project.pk]) + f"?again={image.generation_id}",
        reverse("image_detail", args=[image.pk]),
        reverse("image_delete", args=[image.pk]),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert SHARED_KEY not in html and SHARED_KEY[-8:] not in html, url
        assert inline_code(html) == [], url


def test_the_main_nav_and_the_project_page_link_to_images(client, team_with_roles):
    user = team_with_roles.users["viewer"]
    user.current_project = team_with_roles.project
    user.save()
    client.force_login(user)
    url = reverse("image_gallery", args=[team_with_roles.project.pk])
    assert (
        f'<a href="{url}">Images</a>'
        in client.get(reverse("project_detail", args=[team_with_roles.project.pk])).content.decode()
    )
    assert f'<li><a href="{url}">Images</a></li>' in client.get(reverse("team_list")).content.decode()
