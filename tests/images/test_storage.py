"""Keeping pictures: only real raster images, named by content hash, within the size cap, in the private folder."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
from PIL import Image

from playground.images import storage
from playground.images.models import ImageGeneration
from tests.images.conftest import png_bytes


def test_a_real_png_is_kept_under_its_sha256_with_a_thumbnail(media):
    data = png_bytes(900, 600)
    stored = storage.store(data)
    digest = hashlib.sha256(data).hexdigest()
    assert stored == storage.StoredImage(
        file_name=f"{digest}.png", content_type="image/png", width=900, height=600, bytes=len(data)
    )
    path = storage.path_of(stored.file_name)
    assert path.read_bytes() == data
    assert path.is_relative_to(media)
    with Image.open(storage.thumbnail_path_of(stored.file_name)) as thumbnail:
        assert thumbnail.format == "WEBP" and thumbnail.size == (512, 341)


def test_the_real_type_decides_not_what_the_provider_says():
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), "navy").save(buffer, "JPEG")
    stored = storage.store(buffer.getvalue())
    assert stored.file_name.endswith(".jpg") and stored.content_type == "image/jpeg"


def test_the_same_picture_is_stored_once():
    data = png_bytes()
    assert storage.store(data).file_name == storage.store(data).file_name
    assert len(list(storage.images_dir().rglob("*.png"))) == 1


@pytest.mark.parametrize(
    "data",
    [
        b"not an image at all",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"<!doctype html><html><script>alert(1)</script></html>",
        b"",
    ],
    ids=["text", "svg", "html", "empty"],
)
def test_what_is_not_a_picture_is_rejected(data, media):
    with pytest.raises(storage.ImageRejected, match="not a picture"):
        storage.store(data)
    assert not media.exists() or not list(media.rglob("*.*"))


def test_a_truncated_picture_is_rejected():
    data = png_bytes(300, 300, colour=(1, 2, 3))
    with pytest.raises(storage.ImageRejected, match="damaged"):
        storage.store(data[: len(data) // 2])


def test_other_image_formats_than_the_raster_four_are_rejected():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "BMP")
    with pytest.raises(storage.ImageRejected, match="BMP"):
        storage.store(buffer.getvalue())


def test_pictures_over_the_size_cap_are_rejected(settings):
    data = png_bytes()
    settings.IMAGE_MAX_BYTES = len(data) - 1
    with pytest.raises(storage.ImageRejected, match="larger than"):
        storage.store(data)
    settings.IMAGE_MAX_BYTES = len(data)
    assert storage.store(data).bytes == len(data)


def png_header(width: int, height: int) -> bytes:
    """The start of a PNG claiming width × height pixels: all Pillow reads before decoding."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


@pytest.mark.parametrize("edge", [9_000, 30_000], ids=["over our limit", "over Pillow's"])
def test_decompression_bombs_are_rejected_before_decoding(edge):
    with pytest.raises(storage.ImageRejected, match="too many pixels"):
        storage.store(png_header(edge, edge))


@pytest.mark.parametrize("name", ["../../secret_key", "a" * 64 + ".svg", "A" * 64 + ".png", "x.png"])
def test_stored_names_cannot_point_elsewhere(name):
    with pytest.raises(ValueError):
        storage.path_of(name)


@pytest.mark.django_db(transaction=True)
def test_a_file_goes_with_the_last_picture_that_names_it(make_image):
    first = make_image("member")
    second = make_image("admin")  # the same pixels, so the same file
    path = storage.path_of(first.file_name)
    assert first.file_name == second.file_name
    first.delete()
    assert path.exists()
    ImageGeneration.objects.all().delete()  # a cascade, as when a project is deleted
    assert not path.exists() and not storage.thumbnail_path_of(first.file_name).exists()
