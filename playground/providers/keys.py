"""Choosing the key for a call and building the upstream Target: the only place keys are decrypted.

Other apps call `target_for(user, provider, project=...)` and hand the result to
`playground.upstream`; they never see a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from playground.providers import crypto
from playground.providers.models import ApiKey, Provider, ProviderHeader, SchemaSource
from playground.providers.profiles import profile_document, profile_meta
from playground.rows import Columns, fetch
from playground.upstream import CallContext, Target, Timeouts
from playground.upstream.recorder import recorder

LAST_USED_PRECISION = timedelta(minutes=1)


class NoKey(Exception):
    """The provider has no active key this user may use."""


def usable_keys(user, provider: Provider):
    """Active keys `user` may use: their personal ones and the team's shared ones."""
    return provider.api_keys.filter(revoked_at__isnull=True).filter(Q(owner=user) | Q(owner__isnull=True))


# usable_keys' rule in SQL, the user's own keys first, newest first: every call waits for
# this choice, and under load the ORM's building of the query is most of its cost (bench:
# relay_ttft_overhead). tests/providers/test_keys_sql.py checks it agrees with usable_keys.
_KEY_COLUMNS = Columns(ApiKey)
_USABLE_KEY_SQL = """
SELECT {columns} FROM {table}
WHERE provider_id = %s AND revoked_at IS NULL AND (owner_id = %s OR owner_id IS NULL)
ORDER BY CASE WHEN owner_id IS NULL THEN 1 ELSE 0 END, created_at DESC, id DESC
LIMIT 1
"""


def usable_key(user, provider: Provider) -> ApiKey | None:
    """The user's own newest key for the provider, else the team's newest shared key."""
    return next(iter(fetch(_KEY_COLUMNS, _USABLE_KEY_SQL, [provider.pk, user.pk])), None)


def provider_document(provider: Provider) -> dict[str, Any]:
    """The OpenAPI document in force: uploaded, else fetched from the provider, else the profile."""
    source = provider.schema_source
    if source == SchemaSource.UPLOADED:
        return provider.uploaded_schema
    if source == SchemaSource.FETCHED:
        return provider.fetched_schema
    return profile_document(provider.profile)


@dataclass(frozen=True)
class ProviderSchema:
    """What the document in force says: its endpoints (with forms), its models path, and the
    model names it suggests itself (for APIs without a models path, such as the research API)."""

    endpoints: dict[str, Any]  # endpoint name -> playground.schema.specs.EndpointSchema
    models_path: str | None
    model_names: tuple[str, ...] = ()

    @property
    def lists_models(self) -> bool:
        return self.models_path is not None

    def paths(self) -> dict[str, str]:
        paths = {name: endpoint.path for name, endpoint in self.endpoints.items()}
        if self.models_path:
            paths["models"] = self.models_path
        return paths


_schemas: dict[tuple, ProviderSchema] = {}


def provider_schema(provider: Provider) -> ProviderSchema:
    """The provider's schema, resolved once per version of its document (not once per call).

    The key holds what changes the document in force, so an upload, a refresh or a profile
    change (in any process) is seen at once.
    """
    from playground.schema.specs import endpoints_of, model_names_of, models_path_of

    key = (provider.pk, provider.profile, provider.schema_source, provider.uploaded_at, provider.fetched_at)
    found = _schemas.get(key) if provider.pk else None
    if found is None:
        document = provider_document(provider)
        endpoints = endpoints_of(document)
        found = ProviderSchema(
            endpoints=endpoints, models_path=models_path_of(document), model_names=model_names_of(endpoints)
        )
        if provider.pk:
            if len(_schemas) >= 256:
                _schemas.clear()
            _schemas[key] = found
    return found


def endpoint_schema(provider: Provider | None, endpoint: str):
    """The provider's schema for `endpoint` ("chat", "images", ...), or None when there is no
    provider, its API document has no such endpoint, or the document cannot be read."""
    from playground.schema.specs import SchemaError

    if provider is None:
        return None
    try:
        return provider_schema(provider).endpoints.get(endpoint)
    except SchemaError:
        return None


def providers_with(team, endpoint: str) -> list[Provider]:
    """The team's providers, by name, whose API document has `endpoint`."""
    return [
        provider
        for provider in team.providers.order_by("name", "id")
        if endpoint_schema(provider, endpoint) is not None
    ]


def target_for(user, provider: Provider, *, project=None, key: ApiKey | None = None) -> tuple[Target, CallContext]:
    """The Target and usage context for a call by `user` through `provider`.

    The caller has already checked membership through the scoping helper. Raises NoKey when
    there is no key to use (bootstrap gives the demo provider one minted by this installation).
    """
    key = key or usable_key(user, provider)
    if key is None:
        raise NoKey(f"There is no API key for {provider.name} yet. An admin can add a shared one, or add your own.")
    schema = provider_schema(provider)
    timeouts = Timeouts.from_settings(
        connect=provider.connect_timeout,
        first_byte=provider.first_byte_timeout,
        idle=provider.idle_timeout,
        total=provider.total_timeout,
    )
    try:
        api_key, headers = key.secret(), _headers_of(provider)
    except crypto.DecryptionFailed as error:  # said where the key is used, never a bare 500
        raise NoKey(str(error)) from None
    target = Target(
        base_url=provider.base_url,
        api_key=api_key,
        headers=headers,
        paths=schema.paths(),
        allow_local=provider.reaches_local,
        timeouts=timeouts,
        stream_usage=accepts_stream_usage(schema, profile_meta(provider.profile)),
        name=provider.name,
    )
    # The team's budgets are checked here, with the key, rather than by the call itself:
    # that would be one more trip to the database thread before the call could start.
    refusal = recorder().budget_refusal(team_id=provider.team_id, user_id=user.pk)
    context = CallContext(
        team_id=provider.team_id,
        project_id=getattr(project, "pk", None),
        user_id=user.pk,
        provider_id=provider.pk,
        key_id=key.pk,
        budget_checked=True,
        budget_refusal=refusal,
    )
    now = timezone.now()
    # "Last used" to the minute: a write per call would queue behind every chat send.
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return target, context


_HEADER_COLUMNS = Columns(ProviderHeader)


def _headers_of(provider: Provider) -> dict[str, str]:
    """The provider's extra headers, decrypted. (In SQL for the reason given at usable_key.)"""
    sql = "SELECT {columns} FROM {table} WHERE provider_id = %s"
    return {header.name: header.plain_value() for header in fetch(_HEADER_COLUMNS, sql, [provider.pk])}


def accepts_stream_usage(schema: ProviderSchema, meta: dict[str, Any]) -> bool:
    """Whether streamed calls ask for usage (stream_options.include_usage): where the chat
    schema has stream_options, or the profile says so."""
    chat = schema.endpoints.get("chat")
    if chat is not None:
        return "stream_options" in (chat.request_schema.get("properties") or {})
    return bool(meta.get("stream_usage"))
