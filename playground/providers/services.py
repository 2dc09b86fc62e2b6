"""Changes to providers and keys, including the calls that test a key and refresh models/schema."""

from __future__ import annotations

import dataclasses
import os
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from playground import upstream
from playground.providers.keys import NoKey, target_for
from playground.providers.models import ApiKey, Provider
from playground.upstream import errors
from playground.upstream.safety import check_url
from playground.upstream.sync import call_sync


def check_base_url(base_url: str, *, allow_local: bool) -> None:
    if allow_local:
        return
    try:
        check_url(base_url)
    except errors.UrlNotAllowed as error:
        raise ValidationError({"base_url": error.message}) from None


def provider_save(*, provider: Provider, by_user, headers: list[dict[str, Any]] | None = None) -> Provider:
    """Create or update a provider. `allow_local` may only be switched on by staff."""
    if provider.allow_local and not by_user.is_staff:
        previous = Provider.objects.filter(pk=provider.pk).values_list("allow_local", flat=True).first()
        if not previous:
            raise ValidationError({"allow_local": "Only site administrators (staff) can allow local network access."})
    check_base_url(provider.base_url, allow_local=provider.allow_local)
    if provider.pk is None:
        provider.created_by = by_user
    try:
        with transaction.atomic():
            provider.save()
            if headers is not None:
                headers_replace(provider=provider, headers=headers)
    except IntegrityError:
        raise ValidationError({"name": f"The team already has a provider named “{provider.name}”."}) from None
    return provider


def headers_replace(*, provider: Provider, headers: list[dict[str, Any]]) -> None:
    """Set the extra headers. A secret header submitted with an empty value keeps its old value."""
    existing = {header.name.lower(): header for header in provider.extra_headers.all()}
    keep = set()
    for item in headers:
        name = (item.get("name") or "").strip()
        if not name:
            continue
        header = existing.get(name.lower()) or provider.extra_headers.model(provider=provider, name=name)
        header.name = name
        was_secret = header.pk is not None and header.secret
        header.secret = bool(item.get("secret"))
        value = item.get("value") or ""
        if header.secret and not value and was_secret:
            pass  # the stored secret stays; browsers never receive it to send back
        else:
            header.set_value(value)
        header.save()
        keep.add(header.pk)
    provider.extra_headers.exclude(pk__in=keep).delete()


def api_key_add(*, provider: Provider, by_user, plain: str, shared: bool, label: str = "") -> ApiKey:
    plain = plain.strip()
    if len(plain) < 4:
        raise ValidationError({"key": "That is too short to be an API key."})
    key = ApiKey(provider=provider, owner=None if shared else by_user, label=label.strip(), created_by=by_user)
    key.set_secret(plain)
    key.save()
    return key


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_key_test(*, key: ApiKey, user) -> tuple[bool, str]:
    """Call the provider's models endpoint with this key; (worked, what to tell the person)."""
    provider = key.provider
    try:
        target, context = target_for(user, provider, key=key)
        found = call_sync(upstream.models, target, context=context)
    except (errors.UpstreamError, NoKey) as error:
        return False, str(error)
    models_store(provider=provider, found=[model.id for model in found])
    return True, f"The key works: {provider.name} lists {len(found)} model{'s' if len(found) != 1 else ''}."


def models_store(*, provider: Provider, found: list[str]) -> None:
    provider.models_cache = sorted(set(found))
    provider.models_fetched_at = timezone.now()
    provider.save(update_fields=["models_cache", "models_fetched_at"])


def models_refresh(*, provider: Provider, user) -> list[str]:
    target, context = target_for(user, provider)
    found = call_sync(upstream.models, target, context=context)
    models_store(provider=provider, found=[model.id for model in found])
    return provider.models_cache


def schema_upload(*, provider: Provider, text: str) -> Provider:
    from playground.schema.specs import SchemaError, endpoints_of, load_document

    try:
        document = load_document(text)
    except SchemaError as error:
        raise ValidationError({"document": str(error)}) from None
    if not endpoints_of(document):
        raise ValidationError(
            {"document": "The document has no chat, completions, images or embeddings operation that we recognise."}
        )
    provider.uploaded_schema, provider.uploaded_at = document, timezone.now()
    provider.save(update_fields=["uploaded_schema", "uploaded_at"])
    return provider


def schema_refresh(*, provider: Provider, user) -> Provider:
    """Fetch `{base_url}/openapi.json` from the provider and use it (vLLM serves one)."""
    from playground.schema.specs import endpoints_of

    target, context = target_for(user, provider)
    try:
        document = call_sync(upstream.openapi, target, context=context)
    except errors.BadRequest as error:
        # vLLM and other servers publish it at the root, beside /v1.
        root = _origin(provider.base_url)
        if error.status != 404 or root == provider.base_url.rstrip("/"):
            raise
        target = dataclasses.replace(target, base_url=root)
        document = call_sync(upstream.openapi, target, context=context)
    if not endpoints_of(document):
        raise ValidationError("The provider's /openapi.json has no chat, completions, images or embeddings operation.")
    provider.fetched_schema, provider.fetched_at = document, timezone.now()
    provider.save(update_fields=["fetched_schema", "fetched_at"])
    return provider


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def schema_reset(*, provider: Provider) -> Provider:
    provider.uploaded_schema = provider.uploaded_at = provider.fetched_schema = provider.fetched_at = None
    provider.save(update_fields=["uploaded_schema", "uploaded_at", "fetched_schema", "fetched_at"])
    return provider


def demo_provider_create(*, team, by_user) -> Provider:
    """The "Demo" provider: the built-in demo upstream of this same server, with a shared key.

    Its address is this server's own (PORT, default 8000), so it may reach the local network.
    """
    port = os.environ.get("PORT") or "8000"
    provider = Provider.objects.create(
        team=team,
        name="Demo",
        base_url=f"http://127.0.0.1:{port}/demo/v1",
        profile="demo",
        allow_local=True,
        default_model="demo-chat",
        created_by=by_user,
    )
    api_key_add(provider=provider, by_user=by_user, plain="demo-key-any-value-works", shared=True, label="Demo")
    return provider
