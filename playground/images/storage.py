"""The private folder generated pictures live in: every file checked with Pillow, named by its sha256, never
served directly (views hand files out after a membership check).

Files are shared by content: the same picture made twice is stored once, and removed when
no GeneratedImage names it any more.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from PIL import Image, UnidentifiedImageError

# Pillow format -> (file extension, content type). Raster formats only: nothing a browser
# would run as a document (SVG, HTML) can ever be stored or served.
FORMATS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
MAX_PIXELS = 64_000_000  # far beyond any API's largest size; refuses decompression bombs
THUMBNAIL_EDGE = 512  # two pixels per CSS pixel for the gallery's ~16rem cells
THUMBNAIL_TYPE = "image/webp"
_FILE_NAME = re.compile(r"^[0-9a-f]{64}\.(?:png|jpg|webp|gif)$")


class ImageRejected(Exception):
    """The bytes are not a picture we keep; `message` says why in plain words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class StoredImage:
    file_name: str
    content_type: str
    width: int
    height: int
    bytes: int


def max_bytes() -> int:
    return settings.IMAGE_MAX_BYTES


def too_large_message(size: int | None = None) -> str:
    limit = f"{max_bytes() / 1_000_000:g} MB"
    found = f" ({size / 1_000_000:.1f} MB)" if size else ""
    return f"The picture{found} is larger than the {limit} this site keeps."


def images_dir() -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / "images"


def path_of(file_name: str) -> Path:
    """The stored file; the name is checked so that it can never point outside the folder."""
    if not _FILE_NAME.match(file_name):
        raise ValueError(f"Not a stored image name: {file_name!r}")
    return images_dir() / file_name[:2] / file_name


def thumbnail_path_of(file_name: str) -> Path:
    original = path_of(file_name)
    return original.with_name(original.name.split(".", 1)[0] + ".thumb.webp")


def inspect(data: bytes) -> tuple[str, int, int]:
    """(Pillow format, width, height) of `data`, or ImageRejected."""
    if len(data) > max_bytes():
        raise ImageRejected(too_large_message(len(data)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image_format, (width, height) = image.format, image.size
                if width * height > MAX_PIXELS:
                    raise ImageRejected(f"The picture has too many pixels ({width}×{height}).")
                image.verify()
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("The picture has too many pixels.") from None
    except UnidentifiedImageError:
        raise ImageRejected("The provider sent something that is not a picture.") from None
    except (OSError, SyntaxError, ValueError):
        raise ImageRejected("The provider sent a damaged picture.") from None
    if image_format not in FORMATS:
        kind = image_format or "unknown"
        raise ImageRejected(f"The provider sent a {kind} file; only PNG, JPEG, WebP and GIF pictures are kept.")
    return image_format, width, height


def store(data: bytes) -> StoredImage:
    """Check `data` and keep it (once per content); the thumbnail is made at the same time."""
    image_format, width, height = inspect(data)
    extension, content_type = FORMATS[image_format]
    file_name = f"{hashlib.sha256(data).hexdigest()}.{extension}"
    path = path_of(file_name)
    if not path.exists():
        thumbnail = _thumbnail(data)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(thumbnail_path_of(file_name), thumbnail)
        _write_atomically(path, data)
    return StoredImage(file_name=file_name, content_type=content_type, width=width, height=height, bytes=len(data))


def remove(file_name: str) -> None:
    """Delete a file and its thumbnail (the caller knows nothing names it any more)."""
    for path in (path_of(file_name), thumbnail_path_of(file_name)):
        path.unlink(missing_ok=True)


def _thumbnail(data: bytes) -> bytes:
    """A WebP at most THUMBNAIL_EDGE on its longer side; decoding it all also finds truncated files."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)  # the first frame of an animation
            image.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE))
            transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            small = image.convert("RGBA" if transparent else "RGB")
    except (OSError, SyntaxError, ValueError):
        raise ImageRejected("The provider sent a damaged picture.") from None
    buffer = io.BytesIO()
    small.save(buffer, "WEBP", quality=80, method=4)
    return buffer.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
