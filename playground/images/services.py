"""Making and deleting pictures: the provider call, keeping the files, and the rows that describe them."""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied
from django.db import transaction

from playground import upstream
from playground.accounts.models import Role
from playground.images import storage
from playground.images.models import GeneratedImage, ImageGeneration
from playground.providers.keys import NoKey, target_for
from playground.providers.models import Provider
from playground.upstream import errors
from playground.upstream.fetch import fetch_file
from playground.upstream.target import Target, Timeouts

CONTENT_FIELDS = ("model", "prompt")


async def image_generation_run(*, project, user, provider: Provider, body: dict[str, Any]) -> ImageGeneration:
    """Ask `provider` for the pictures `body` describes and keep them.

    `body` was validated against the endpoint's schema. A failure (no key, a refusal by the
    provider, a picture that is not one) is kept as a generation with `error` in plain words.
    The generation comes back with `kept_images`, its pictures in order.
    """
    started = time.monotonic()
    generation = ImageGeneration(
        project=project,
        user=user,
        provider=provider,
        provider_name=provider.name,
        model=str(body.get("model") or ""),
        prompt=str(body.get("prompt") or ""),
        params={name: value for name, value in body.items() if name not in CONTENT_FIELDS},
    )
    kept: list[tuple[int, storage.StoredImage, str]] = []
    try:
        target, context = await sync_to_async(target_for)(user, provider, project=project)
        result = await upstream.images(target, body, context=context)
        kept, failures = await _keep_all(result.images, local_origin=_local_origin(target), timeouts=target.timeouts)
        if failures:
            lost = "The picture" if len(result.images) == 1 else f"{len(failures)} of {len(result.images)} pictures"
            generation.error = f"{lost} could not be kept: {failures[0]}"
    except (NoKey, errors.UpstreamError) as error:
        generation.error = str(error)
    generation.duration_ms = round((time.monotonic() - started) * 1000)
    await sync_to_async(_save, thread_sensitive=True)(generation, kept)
    return generation


def _local_origin(target: Target) -> str | None:
    """The one origin pictures may be fetched from on the local network: the provider's own,
    when staff allowed its address. Any other address an answer names must be public."""
    return _origin(target.base_url) if target.allow_local else None


def _origin(url: str) -> str:
    """scheme://host:port of `url`; empty for what is not a valid URL (fetch_file says why)."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{parts.port or ''}"
    except ValueError:  # an unclosed [ or a port out of range, in a provider's answer
        return ""


async def _keep_all(
    items: list[dict[str, Any]], *, local_origin: str | None, timeouts: Timeouts | None
) -> tuple[list[tuple[int, storage.StoredImage, str]], list[str]]:
    """Keep every picture of an answer; (kept pictures with index and revised prompt, failure reasons)."""
    outcomes = await asyncio.gather(
        *(_keep_one(item, local_origin=local_origin, timeouts=timeouts) for item in items), return_exceptions=True
    )
    kept, failures = [], []
    for index, (item, outcome) in enumerate(zip(items, outcomes, strict=True)):
        if isinstance(outcome, storage.ImageRejected | errors.UpstreamError):
            failures.append(outcome.message)
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            kept.append((index, outcome, str(item.get("revised_prompt") or "")))
    return kept, failures


async def _keep_one(
    item: dict[str, Any], *, local_origin: str | None, timeouts: Timeouts | None
) -> storage.StoredImage:
    encoded = item.get("b64_json")
    if isinstance(encoded, str) and encoded:
        if len(encoded) * 3 // 4 > storage.max_bytes() + 3:
            raise storage.ImageRejected(storage.too_large_message(len(encoded) * 3 // 4))
        data = await asyncio.to_thread(_decode, encoded)
    elif isinstance(item.get("url"), str) and item["url"]:
        limit = storage.max_bytes()
        allow_local = local_origin is not None and _origin(item["url"]) == local_origin
        data = (await fetch_file(item["url"], allow_local=allow_local, max_bytes=limit, timeouts=timeouts)).content
    else:
        raise storage.ImageRejected("The provider's answer had an image with neither data nor an address.")
    return await asyncio.to_thread(storage.store, data)


def _decode(encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise storage.ImageRejected("The provider sent image data that is not valid base64.") from None


def _save(generation: ImageGeneration, kept: list[tuple[int, storage.StoredImage, str]]) -> None:
    with transaction.atomic():
        generation.save()
        images = [
            GeneratedImage(
                generation=generation,
                index=index,
                file_name=stored.file_name,
                content_type=stored.content_type,
                width=stored.width,
                height=stored.height,
                bytes=stored.bytes,
                revised_prompt=revised,
            )
            for index, stored, revised in kept
        ]
        GeneratedImage.objects.bulk_create(images)
    generation.kept_images = images


def can_delete(image: GeneratedImage, *, user, role: Role) -> bool:
    """Members delete their own pictures; admins and owners anyone's."""
    if role.at_least(Role.ADMIN):
        return True
    return role.at_least(Role.MEMBER) and image.generation.user_id == user.pk


def generated_image_delete(*, image: GeneratedImage, user, role: Role) -> None:
    """Delete one picture (its file goes when nothing else names it); a generation left with no
    pictures goes too."""
    if not can_delete(image, user=user, role=role):
        raise PermissionDenied("Only admins can delete other people's pictures.")
    with transaction.atomic():
        generation_id = image.generation_id
        image.delete()
        if not GeneratedImage.objects.filter(generation_id=generation_id).exists():
            ImageGeneration.objects.filter(pk=generation_id).delete()
