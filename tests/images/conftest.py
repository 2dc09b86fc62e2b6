"""Fixtures of the images tests: a private media folder per test, small real pictures, stored pictures."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from playground.images import storage
from playground.images.models import GeneratedImage
from tests.factories import ImageGenerationFactory


def png_bytes(width: int = 64, height: int = 48, colour=(200, 60, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Each test keeps its pictures in a folder of its own."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "media"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def make_image(team_with_roles):
    """A stored picture of the team's project made by `user` (a role name), with a real file."""

    def make(user: str = "member", *, prompt: str = "A red fox in the snow", colour=(200, 60, 30), project=None):
        stored = storage.store(png_bytes(colour=colour))
        generation = ImageGenerationFactory(
            project=project or team_with_roles.project,
            user=team_with_roles.users[user],
            provider=None,
            provider_name="Demo",
            model="demo-image",
            prompt=prompt,
            params={"size": "256x256"},
            duration_ms=12,
        )
        return GeneratedImage.objects.create(
            generation=generation,
            file_name=stored.file_name,
            content_type=stored.content_type,
            width=stored.width,
            height=stored.height,
            bytes=stored.bytes,
        )

    return make
