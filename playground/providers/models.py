"""Providers (an OpenAI-compatible endpoint a team uses), their headers and API keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from playground.providers import crypto


class SchemaSource(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded document"
    FETCHED = "fetched", "The provider's own /openapi.json"
    PROFILE = "profile", "Built-in profile"


class Provider(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="providers")
    name = models.CharField(max_length=100)
    base_url = models.URLField(max_length=500, help_text="For example https://api.openai.com/v1")
    profile = models.CharField(max_length=50, default="openai")
    allow_local = models.BooleanField(
        default=False,
        help_text="May reach this machine or its private network (for Ollama, vLLM…). Only staff can set it.",
    )
    # The base URL staff saw when they allowed it: the permission holds for that address only.
    local_url = models.URLField(max_length=500, blank=True)
    default_model = models.CharField(max_length=200, blank=True)
    uploaded_schema = models.JSONField(null=True, blank=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    fetched_schema = models.JSONField(null=True, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    models_cache = models.JSONField(default=list, blank=True)
    models_fetched_at = models.DateTimeField(null=True, blank=True)
    # Per-provider overrides of the UPSTREAM_*_TIMEOUT settings, in seconds.
    connect_timeout = models.FloatField(null=True, blank=True)
    first_byte_timeout = models.FloatField(null=True, blank=True)
    idle_timeout = models.FloatField(null=True, blank=True)
    total_timeout = models.FloatField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="provider_name_unique_in_team")]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def reaches_local(self) -> bool:
        """Staff allowed this provider's present address to reach the local network."""
        return self.allow_local and self.base_url == self.local_url

    @property
    def schema_source(self) -> SchemaSource:
        if self.uploaded_schema:
            return SchemaSource.UPLOADED
        if self.fetched_schema:
            return SchemaSource.FETCHED
        return SchemaSource.PROFILE

    @property
    def schema_updated_at(self):
        return {SchemaSource.UPLOADED: self.uploaded_at, SchemaSource.FETCHED: self.fetched_at}.get(self.schema_source)


class ProviderHeader(models.Model):
    """An extra header sent on every call (JamAI's X-PROJECT-ID); secret values are encrypted."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="extra_headers")
    name = models.CharField(max_length=100)
    value = models.CharField(max_length=500, blank=True, help_text="Empty when the value is secret.")
    ciphertext = models.BinaryField(null=True, blank=True, editable=False)
    secret = models.BooleanField(default=False)
    # A secret value's last four characters, kept only when the value is long enough that they
    # give it away no more than a key's last four do.
    last4 = models.CharField(max_length=4, blank=True, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "name"], name="one_header_per_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}: {self.masked}"

    @property
    def masked(self) -> str:
        """How pages show the value, secret or not: like a key, by its last four characters at most."""
        if self.secret:
            return f"••••{self.last4}"
        return f"••••{self.value[-4:] if len(self.value) >= 8 else ''}"

    def set_value(self, value: str) -> None:
        if self.secret:
            self.ciphertext, self.value = crypto.encrypt(value), ""
            self.last4 = value[-4:] if len(value) >= 8 else ""
        else:
            self.ciphertext, self.value, self.last4 = None, value, ""

    def plain_value(self) -> str:
        return crypto.decrypt(self.ciphertext) if self.secret and self.ciphertext else self.value


class ApiKey(models.Model):
    """An API key for one provider, shared with the team (owner empty) or personal."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="api_keys")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_keys",
        help_text="Empty: shared with the team.",
    )
    label = models.CharField(max_length=100, blank=True)
    ciphertext = models.BinaryField(editable=False)
    last4 = models.CharField(max_length=4, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.label or 'Key'} {self.masked}"

    @property
    def masked(self) -> str:
        return f"••••{self.last4}"

    @property
    def shared(self) -> bool:
        return self.owner_id is None

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def set_secret(self, plain: str) -> None:
        self.ciphertext = crypto.encrypt(plain)
        self.last4 = plain[-4:]

    def secret(self) -> str:
        """The plain key: call only to make an upstream call, never to show or log."""
        return crypto.decrypt(self.ciphertext)
