"""The /images/generations endpoint: deterministic PNGs drawn from the prompt, inline or behind a URL."""

from __future__ import annotations

import asyncio
import base64
import binascii
import colorsys
import hashlib
import io
import random
import re
import textwrap
import time
import zlib
from functools import lru_cache
from typing import Any

import numpy as np
import orjson
from django.core import signing
from PIL import Image, ImageDraw, ImageFont

from playground.demo import catalog
from playground.demo.openapi import SCHEMAS
from playground.demo.validation import validate
from playground.demo.wire import DEMO_PREFIX, ApiError, Request, send_bytes, send_json

FILES_PATH = "/images/files/"
_FILE_NAME = re.compile(r"^([A-Za-z0-9_-]{1,20000}\.[A-Za-z0-9_-]{1,100})\.png$")
_MAX_PROMPT = 4000
# The sizes the document offers, as file names spell them (1024x1024, not IONOS's 1024*1024).
IMAGE_SIZES = [size for size in SCHEMAS["CreateImageRequest"]["properties"]["size"]["enum"] if size and "x" in size]


def parse_size(size: str) -> tuple[int, int]:
    """(width, height) from "1024x1024" or IONOS's "1024*1024"."""
    width, height = size.replace("*", "x").split("x")
    return int(width), int(height)


def _palette(rng: random.Random) -> list[tuple[int, int, int]]:
    hue = rng.random()
    colours = []
    for step in range(4):
        red, green, blue = colorsys.hsv_to_rgb((hue + step * 0.21) % 1.0, 0.55 + 0.1 * step, 0.95 - 0.12 * step)
        colours.append((int(red * 255), int(green * 255), int(blue * 255)))
    return colours


def _gradient(width: int, height: int, start: tuple[int, ...], end: tuple[int, ...], angle: float) -> Image.Image:
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    t = x * np.cos(angle) + y * np.sin(angle)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    pixels = np.asarray(start, np.float32) * (1 - t[..., None]) + np.asarray(end, np.float32) * t[..., None]
    return Image.fromarray(pixels.astype(np.uint8), "RGB")


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def draw(prompt: str, width: int, height: int, index: int) -> bytes:
    """The PNG for (prompt, size, index): colours and shapes from a hash of the prompt, the prompt written on it."""
    seed = int.from_bytes(hashlib.blake2b(f"{index}\x00{prompt}".encode(), digest_size=8).digest(), "little")
    rng = random.Random(seed)
    colours = _palette(rng)
    image = _gradient(width, height, colours[0], colours[1], rng.uniform(0, np.pi / 2)).convert("RGBA")
    shapes = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    pen = ImageDraw.Draw(shapes)
    unit = min(width, height)
    for _ in range(rng.randint(5, 9)):
        colour = (*rng.choice(colours[2:] + colours[:1]), rng.randint(90, 170))
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        radius = rng.uniform(0.08, 0.3) * unit
        kind = rng.choice(("ellipse", "rectangle", "polygon"))
        if kind == "ellipse":
            pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
        elif kind == "rectangle":
            pen.rounded_rectangle((x - radius, y - radius * 0.6, x + radius, y + radius * 0.6), radius / 5, fill=colour)
        else:
            pen.regular_polygon((x, y, radius), rng.randint(3, 6), rotation=rng.uniform(0, 360), fill=colour)
    image = Image.alpha_composite(image, shapes)
    _caption(image, prompt, index)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _caption(image: Image.Image, prompt: str, index: int) -> None:
    width, height = image.size
    size = max(12, min(width, height) // 22)
    font = _font(size)
    columns = max(12, int(width * 0.9 / (size * 0.55)))
    lines = textwrap.wrap(" ".join(prompt.split()), columns)
    if len(lines) > 4:
        lines = lines[:3] + [textwrap.shorten(" ".join(lines[3:]), columns - 1, placeholder=" …")]
    lines.append(f"demo-image #{index + 1}")
    line_height = int(size * 1.3)
    box_top = height - line_height * len(lines) - size
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(overlay)
    pen.rectangle((0, box_top, width, height), fill=(0, 0, 0, 140))
    for number, line in enumerate(lines):
        pen.text(
            (size // 2 + 4, box_top + size // 2 + number * line_height), line, font=font, fill=(255, 255, 255, 255)
        )
    image.alpha_composite(overlay)


def _file_signer() -> signing.Signer:
    return signing.Signer(salt="playground.demo.images", sep=".")


def file_name(prompt: str, size: str, index: int) -> str:
    """A file name that holds everything needed to draw the image again, so any worker can serve it.

    It is signed, like a cloud store's pre-signed URL: its address needs no key, but only a call made with
    one can name a picture, so strangers cannot have the demo draw for them.
    """
    packed = zlib.compress(orjson.dumps([prompt, size, index]), 9)
    return _file_signer().sign(base64.urlsafe_b64encode(packed).decode().rstrip("=")) + ".png"


def _from_file_name(name: str) -> tuple[str, int, int, int] | None:
    match = _FILE_NAME.match(name)
    if match is None:
        return None
    try:
        encoded = _file_signer().unsign(match.group(1))
    except signing.BadSignature:
        return None
    try:
        packed = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        inflater = zlib.decompressobj()
        # Bounded, so a crafted name cannot inflate into something huge.
        raw = inflater.decompress(packed, 4 * _MAX_PROMPT + 100)
        prompt, size, index = orjson.loads(raw)
    except (binascii.Error, zlib.error, orjson.JSONDecodeError, ValueError, TypeError):
        return None
    if inflater.unconsumed_tail or not isinstance(prompt, str) or len(prompt) > _MAX_PROMPT:
        return None
    if size not in IMAGE_SIZES or not isinstance(index, int) or not 0 <= index < 4:
        return None
    width, height = parse_size(size)
    return prompt, width, height, index


async def generations(request: Request) -> None:
    body = request.json_object()
    validate(body, "CreateImageRequest")
    catalog.model_for(body.get("model") or "demo-image", "image")
    prompt = body["prompt"]
    if re.search(r"\bforbidden\b", prompt, re.IGNORECASE):
        raise ApiError(
            400,
            "Your request was rejected by the demo safety system: the prompt contains a forbidden word.",
            code="content_policy_violation",
        )
    size = (body.get("size") or "1024x1024").replace("*", "x")
    width, height = parse_size(size)
    count = int(body.get("n") or 1)
    data: list[dict[str, Any]] = []
    if (body.get("response_format") or "b64_json") == "url":
        for index in range(count):
            url = request.absolute_url(f"{DEMO_PREFIX}{FILES_PATH}{file_name(prompt, size, index)}")
            data.append({"url": url, "revised_prompt": prompt})
    else:
        pictures = await asyncio.gather(
            *(asyncio.to_thread(draw, prompt, width, height, index) for index in range(count))
        )
        data = [{"b64_json": base64.b64encode(png).decode(), "revised_prompt": prompt} for png in pictures]
    await send_json(request, 200, {"created": int(time.time()), "data": data})


async def image_file(request: Request) -> None:
    wanted = _from_file_name(request.path.removeprefix(FILES_PATH))
    if wanted is None:
        raise ApiError(404, "There is no such demo image.", code="not_found")
    png = await asyncio.to_thread(draw, *wanted)
    # The same name always draws the same picture.
    await send_bytes(request, 200, png, "image/png", [("Cache-Control", "public, max-age=31536000, immutable")])
