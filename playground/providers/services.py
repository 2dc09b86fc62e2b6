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
from playground.audit.models import Action
from playground.audit.services import audit_record
from playground.providers.forms import declared_headers
from playground.providers.keys import NoKey, ProviderSchema, provider_schema, target_for
from playground.providers.models import ApiKey, Provider
from playground.providers.profiles import profile_meta
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


def provider_snapshot(provider: Provider) -> dict[str, Any]:
    """What the audit log keeps of a provider: its settings, and of headers only the names
    (and values of headers that are not secret)."""
    headers = [
        {"name": header.name, "secret": True} if header.secret else {"name": header.name, "value": header.value}
        for header in provider.extra_headers.all()
    ]
    return {
        "name": provider.name,
        "base_url": provider.base_url,
        "profile": provider.profile,
        "default_model": provider.default_model,
        "allow_local": provider.allow_local,
        "timeouts": [
            provider.connect_timeout,
            provider.first_byte_timeout,
            provider.idle_timeout,
            provider.total_timeout,
        ],
        "schema": str(provider.schema_source),
        "headers": headers,
    }


def key_snapshot(key: ApiKey) -> dict[str, Any]:
    """What the audit log keeps of a key: its masked form and who may use it, never the key."""
    return {
        "key": key.masked,
        "label": key.label,
        "shared": key.shared,
        "owner": key.owner.get_username() if key.owner_id else None,
        "revoked": key.revoked_at is not None,
    }


def _audit_provider(action: Action, provider: Provider, by_user, before=None, after=None) -> None:
    audit_record(actor=by_user, action=action, obj=provider, team=provider.team, before=before, after=after)


def _audit_key(action: Action, key: ApiKey, by_user, before=None, after=None) -> None:
    label = f"{key.masked} {key.label} ({key.provider.name})".replace("  ", " ")
    audit_record(actor=by_user, action=action, obj=key, team=key.provider.team, label=label, before=before, after=after)


LOCAL_NEEDS_STAFF_AGAIN = (
    "Staff allowed the previous address to reach the local network; a new address needs a site administrator's "
    "permission again."
)


def local_access_apply(*, provider: Provider, by_user) -> None:
    """Staff's permission to reach the local network is for the address they saw.

    Staff who save a provider allow (or not) its present address. Anyone else cannot switch
    the permission on, and changing the address of an allowed provider takes it away.
    """
    if by_user is not None and by_user.is_staff:
        provider.local_url = provider.base_url if provider.allow_local else ""
        return
    stored = Provider.objects.filter(pk=provider.pk).values_list("allow_local", "local_url").first()
    if provider.allow_local and (stored is None or not stored[0]):
        raise ValidationError({"allow_local": "Only site administrators (staff) can allow local network access."})
    if stored is not None:
        provider.local_url = stored[1]
    if provider.allow_local and provider.base_url != provider.local_url:
        provider.allow_local, provider.local_url = False, ""
        try:
            check_base_url(provider.base_url, allow_local=False)
        except ValidationError as error:
            raise ValidationError({"base_url": [*error.message_dict["base_url"], LOCAL_NEEDS_STAFF_AGAIN]}) from None


def provider_save(*, provider: Provider, by_user, headers: list[dict[str, Any]] | None = None) -> Provider:
    """Create or update a provider. Only staff may let it reach the local network, and only
    at the address they saw (local_access_apply)."""
    local_access_apply(provider=provider, by_user=by_user)
    check_base_url(provider.base_url, allow_local=provider.reaches_local)
    stored = Provider.objects.filter(pk=provider.pk).first() if provider.pk else None
    before = provider_snapshot(stored) if stored else None
    if provider.pk is None:
        provider.created_by = by_user
    try:
        with transaction.atomic():
            provider.save()
            if headers is not None:
                headers_replace(provider=provider, headers=headers)
            schema_models_apply(provider=provider)
            after = provider_snapshot(provider)
            # A new secret value is a change the snapshot cannot show: name the header.
            renewed = sorted({item["name"] for item in headers or () if item.get("secret") and item.get("value")})
            if renewed:
                after["new_secret_values"] = renewed
            if after != before:  # a form saved again unchanged is no change
                action = Action.PROVIDER_UPDATE if stored else Action.PROVIDER_CREATE
                _audit_provider(action, provider, by_user, before=before, after=after)
    except IntegrityError:
        raise ValidationError({"name": f"The team already has a provider named “{provider.name}”."}) from None
    return provider


def provider_delete(*, provider: Provider, by_user) -> None:
    with transaction.atomic():
        _audit_provider(Action.PROVIDER_DELETE, provider, by_user, before=provider_snapshot(provider))
        provider.delete()


def headers_replace(*, provider: Provider, headers: list[dict[str, Any]]) -> None:
    """Set the extra headers. A secret header submitted with an empty value keeps its old value,
    and so does any header submitted empty with `keep` (a profile's header box left empty)."""
    existing = {header.name.lower(): header for header in provider.extra_headers.all()}
    keep = set()
    for item in headers:
        name = (item.get("name") or "").strip()
        if not name:
            continue
        header = existing.get(name.lower()) or provider.extra_headers.model(provider=provider, name=name)
        header.name = name
        was_secret, plain_before = header.pk is not None and header.secret, header.value
        header.secret = bool(item.get("secret"))
        value = item.get("value") or ""
        if header.secret and not value and was_secret:
            pass  # the stored secret stays; browsers never receive it to send back
        elif not value and item.get("keep") and header.pk is not None and not was_secret:
            header.set_value(plain_before)  # a plain value kept, encrypted now if it became secret
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
    with transaction.atomic():
        key.save()
        _audit_key(Action.KEY_ADD, key, by_user, after=key_snapshot(key))
    return key


def api_key_revoke(*, key: ApiKey, by_user) -> ApiKey:
    if key.revoked_at is None:
        before = key_snapshot(key)
        key.revoked_at = timezone.now()
        with transaction.atomic():
            key.save(update_fields=["revoked_at"])
            _audit_key(Action.KEY_REVOKE, key, by_user, before=before, after=key_snapshot(key))
    return key


class NoModelList(Exception):
    """The provider's API has no endpoint that lists its models; the message says what to do."""


def api_key_test(*, key: ApiKey, user) -> tuple[bool, str]:
    """Try the key: list the provider's models, or, for an API without a model list, send a
    one-token chat request. (worked, what to tell the person)."""
    provider = key.provider
    try:
        target, context = target_for(user, provider, key=key)
        schema = provider_schema(provider)
        worked, said, found = _key_try(provider, target, context, schema)
    except (errors.UpstreamError, NoKey) as error:
        worked, said, found = False, error_text(provider, error), None
    if found is not None:
        models_store(provider=provider, found=found)
    else:
        schema_models_apply(provider=provider)
    after = {"worked": True, "models": len(found)} if found is not None else {"worked": worked, "said": said}
    _audit_key(Action.KEY_TEST, key, user, after=after)
    return worked, said


def _key_try(provider: Provider, target, context, schema: ProviderSchema) -> tuple[bool, str, list[str] | None]:
    if not schema.lists_models:
        why = f"{provider.name} has no model list (its API description has none)"
        return _key_try_chat(provider, target, context, schema, why)
    try:
        found = [model.id for model in call_sync(upstream.models, target, context=context)]
    except errors.BadRequest as error:
        if error.status != 404:
            raise
        # A missing model list says nothing about the key: try it where the API does answer.
        why = f"{provider.name} has no model list at {target.url('models')} (404)"
        return _key_try_chat(provider, target, context, schema, why)
    count = f"{len(found)} model{'s' if len(found) != 1 else ''}"
    return True, f"The key works: {provider.name} lists {count}.", found


def _key_try_chat(provider: Provider, target, context, schema: ProviderSchema, why: str):
    chat = schema.endpoints.get("chat")
    if chat is None:
        return False, f"{why}, and no chat endpoint to try the key with, so it cannot be tested here.", None
    model = provider.default_model or next(iter((*schema.model_names, *provider.models_cache)), "")
    if not model:
        return False, f"{why}, so the key is tried with a one-token chat request: set a default model for it.", None
    properties = chat.request_schema.get("properties") or {}
    roles = chat.message_roles or ("user",)
    body = {"model": model, "messages": [{"role": "user" if "user" in roles else roles[0], "content": "Hi"}]}
    limit = next((name for name in ("max_tokens", "max_completion_tokens") if name in properties), None)
    if limit:
        body[limit] = 1
    tried = f"{why}, so a one-token chat request to {model} was sent"
    try:
        call_sync(upstream.chat, target, body, context=context)
    except errors.UpstreamError as error:
        return False, f"{tried}: {error_text(provider, error)}", None
    return True, f"The key works: {tried}, and it was answered.", None


def error_text(provider: Provider, error: Exception) -> str:
    """What to tell a person about a failed call: the error, and for a refused key the headers
    the profile takes that are not set (JamAI refuses a service key without its X-PROJECT-ID,
    and says only that the key was refused)."""
    said = str(error)
    if not isinstance(error, errors.AuthenticationFailed):
        return said
    meta = profile_meta(provider.profile)
    have = {name.lower() for name in provider.extra_headers.values_list("name", flat=True)}
    missing = [item["name"] for item in declared_headers(provider.profile) if item["name"].lower() not in have]
    if not missing:
        return said
    names = ", ".join(missing)
    return f"{said} {meta['label']} also takes the header{'s' if len(missing) > 1 else ''} {names}, not set here."


def models_store(*, provider: Provider, found: list[str]) -> None:
    provider.models_cache = sorted(set(found))
    provider.models_fetched_at = timezone.now()
    provider.save(update_fields=["models_cache", "models_fetched_at"])


def schema_models_apply(*, provider: Provider) -> None:
    """For an API without a model list, the model names its description suggests (its `model`
    field's enum and examples) become the provider's models, so every model picker offers them."""
    from playground.schema.specs import SchemaError

    try:
        schema = provider_schema(provider)
    except (SchemaError, KeyError):  # a document that cannot be read, or a profile no longer built in
        return
    if schema.lists_models:
        return
    names = list(schema.model_names)
    if provider.models_cache != names or provider.models_fetched_at is not None:
        provider.models_cache, provider.models_fetched_at = names, None
        provider.save(update_fields=["models_cache", "models_fetched_at"])


def no_model_list_message(provider: Provider) -> str:
    names = provider_schema(provider).model_names
    suggested = f" Its description suggests {', '.join(names)}." if names else ""
    return (
        f"{provider.name} has no model list: its API description has no models endpoint. "
        f"Type the model's name where you choose one.{suggested}"
    )


def models_refresh(*, provider: Provider, user) -> list[str]:
    """List the provider's models with the user's key: the test of a provider.

    Raises NoModelList when its API has none (the document in force has no models path, or
    the provider answers 404 there): that says nothing about the key.
    """
    if not provider_schema(provider).lists_models:
        schema_models_apply(provider=provider)
        raise NoModelList(no_model_list_message(provider))
    try:
        target, context = target_for(user, provider)
        found = call_sync(upstream.models, target, context=context)
    except (errors.UpstreamError, NoKey) as error:
        _audit_provider(Action.PROVIDER_TEST, provider, user, after={"worked": False, "said": str(error)})
        if isinstance(error, errors.BadRequest) and error.status == 404:
            raise NoModelList(
                f"{provider.name} answered 404 at {target.url('models')}: it has no model list there. "
                "Check the base URL, or type the model's name where you choose one."
            ) from None
        raise
    models_store(provider=provider, found=[model.id for model in found])
    _audit_provider(Action.PROVIDER_TEST, provider, user, after={"worked": True, "models": len(found)})
    return provider.models_cache


def _schema_changed(provider: Provider, by_user, before: str) -> None:
    after = {"schema": str(provider.schema_source)}
    _audit_provider(Action.PROVIDER_UPDATE, provider, by_user, before={"schema": before}, after=after)


def schema_upload(*, provider: Provider, text: str, by_user) -> Provider:
    from playground.schema.specs import SchemaError, endpoints_of, load_document

    try:
        document = load_document(text)
        endpoints = endpoints_of(document)
    except SchemaError as error:
        raise ValidationError({"document": str(error)}) from None
    if not endpoints:
        raise ValidationError(
            {"document": "The document has no chat, completions, images or embeddings operation that we recognise."}
        )
    before = str(provider.schema_source)
    provider.uploaded_schema, provider.uploaded_at = document, timezone.now()
    provider.save(update_fields=["uploaded_schema", "uploaded_at"])
    schema_models_apply(provider=provider)
    _schema_changed(provider, by_user, before)
    return provider


def schema_refresh(*, provider: Provider, user) -> Provider:
    """Fetch the provider's own `/openapi.json` and use it (vLLM serves one).

    It is looked for beside the base URL, then in each folder above it up to FOLDERS_UP (each
    try is a call, with its usage record): vLLM serves it at the root, beside `/v1`. Its paths
    may start from either; `upstream.target.endpoint_url` joins them.
    """
    from playground.schema.documents import shallow
    from playground.schema.specs import SchemaError, endpoints_of

    target, context = target_for(user, provider)
    tried = []
    folders = _folders_up(provider.base_url)
    for base_url in folders:
        folder = dataclasses.replace(target, base_url=base_url)
        try:
            document = call_sync(upstream.openapi, folder, context=context)
            break
        except errors.BadRequest as error:
            if error.status != 404:
                raise
            tried.append(folder.url("openapi"))
    else:
        message = f"{provider.name} serves no OpenAPI document: {', '.join(tried)} answered 404."
        if folders[-1] != _origin(provider.base_url):
            message += f" Only the base URL and the {FOLDERS_UP} folders above it are tried."
        raise ValidationError(message)
    try:
        endpoints = endpoints_of(shallow(document))
    except SchemaError as error:
        raise ValidationError(f"The provider's /openapi.json cannot be used: {error}") from None
    if not endpoints:
        raise ValidationError("The provider's /openapi.json has no chat, completions, images or embeddings operation.")
    before = str(provider.schema_source)
    provider.fetched_schema, provider.fetched_at = document, timezone.now()
    provider.save(update_fields=["fetched_schema", "fetched_at"])
    schema_models_apply(provider=provider)
    _schema_changed(provider, user, before)
    return provider


# Folders above the base URL where schema_refresh looks for /openapi.json.
FOLDERS_UP = 4


def _folders_up(url: str) -> list[str]:
    """`url` and up to FOLDERS_UP folders above it, towards the origin: …/demo/v1, …/demo, … ."""
    parts = urlsplit(url.rstrip("/"))
    segments = [segment for segment in parts.path.split("/") if segment]
    origin = _origin(url)
    sizes = range(len(segments), max(len(segments) - FOLDERS_UP, 0) - 1, -1)
    return [origin + "".join(f"/{segment}" for segment in segments[:size]) for size in sizes]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def schema_reset(*, provider: Provider, by_user) -> Provider:
    before = str(provider.schema_source)
    provider.uploaded_schema = provider.uploaded_at = provider.fetched_schema = provider.fetched_at = None
    provider.save(update_fields=["uploaded_schema", "uploaded_at", "fetched_schema", "fetched_at"])
    schema_models_apply(provider=provider)
    _schema_changed(provider, by_user, before)
    return provider


def demo_provider_create(*, team, by_user, key: str) -> Provider:
    """The "Demo" provider: the built-in demo upstream of this same server, with `key` shared
    (one the demo accepts: playground.demo.keys.demo_key, handed in by project-level set-up).

    Its address is this server's own (PORT, default 8000), so it may reach the local network.
    """
    port = os.environ.get("PORT") or "8000"
    provider = Provider.objects.create(
        team=team,
        name="Demo",
        base_url=f"http://127.0.0.1:{port}/demo/v1",
        profile="demo",
        allow_local=True,
        local_url=f"http://127.0.0.1:{port}/demo/v1",
        default_model="demo-chat",
        created_by=by_user,
    )
    _audit_provider(Action.PROVIDER_CREATE, provider, by_user, after=provider_snapshot(provider))
    api_key_add(provider=provider, by_user=by_user, plain=key, shared=True, label="Demo")
    return provider
