"""Reading pictures: a project's gallery, one picture, and what the generate form offers."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from playground.images.models import GeneratedImage, ImageGeneration
from playground.providers.keys import endpoint_schema, providers_with
from playground.providers.models import Provider

GALLERY_PAGE_SIZE = 48


def images_of(project) -> QuerySet[GeneratedImage]:
    """The project's pictures, newest first."""
    return (
        GeneratedImage.objects.filter(generation__project=project)
        .select_related("generation__user")
        .order_by("-generation__created_at", "-generation_id", "index")
    )


def images_endpoint(provider: Provider):
    """The provider's images endpoint schema, or None when its API document has none (or is broken)."""
    return endpoint_schema(provider, "images")


def image_providers(team) -> list[Provider]:
    """The team's providers whose API document has an images endpoint."""
    return providers_with(team, "images")


def model_suggestions(provider: Provider, endpoint) -> list[str]:
    """Models to offer: the provider's cached model list, then the schema's own default and examples."""
    found = list(provider.models_cache or [])
    for name in _schema_models(endpoint):
        if name not in found:
            found.append(name)
    return found


def initial_model(project, provider: Provider, endpoint) -> str:
    """The model last used for pictures with this provider in the project, else the schema's default or
    first example. Not the provider's default model: that is usually a chat model."""
    last = (
        ImageGeneration.objects.filter(project=project, provider=provider)
        .exclude(model="")
        .values_list("model", flat=True)
        .first()
    )
    if last:
        return last
    return next(iter(_schema_models(endpoint)), "")


def _schema_models(endpoint) -> list[str]:
    if endpoint is None:
        return []
    schema: dict[str, Any] = (endpoint.request_schema.get("properties") or {}).get("model") or {}
    names = [schema.get("default"), *(schema.get("examples") or ()), schema.get("example"), *(schema.get("enum") or ())]
    unique: list[str] = []
    for name in names:
        if isinstance(name, str) and name and name not in unique:
            unique.append(name)
    return unique
