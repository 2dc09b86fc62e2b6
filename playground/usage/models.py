"""One record per upstream call: who, what, how long, how many tokens, and how it ended."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Endpoint(models.TextChoices):
    CHAT = "chat", "Chat"
    COMPLETIONS = "completions", "Completions"
    IMAGES = "images", "Images"
    EMBEDDINGS = "embeddings", "Embeddings"
    MODELS = "models", "Models list"
    OPENAPI = "openapi", "API schema"


class Status(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error"
    RATE_LIMITED = "rate_limited", "Rate limited"
    CANCELLED = "cancelled", "Cancelled"


class UsageRecord(models.Model):
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("accounts.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Plain ids until providers and keys exist as models; they stay valid after a deletion.
    provider_id = models.BigIntegerField(null=True, blank=True)
    key_id = models.BigIntegerField(null=True, blank=True)
    provider_name = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=200, blank=True)
    endpoint = models.CharField(max_length=20, choices=Endpoint.choices)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    tokens_estimated = models.BooleanField(default=False, help_text="Counted by us: the upstream sent no usage.")
    ttft_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Time to first token.")
    total_ms = models.PositiveIntegerField(null=True, blank=True)
    retries = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Status.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_kind = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["team", "created_at"], name="usage_team_time"),
            models.Index(fields=["created_at"], name="usage_time"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.model} {self.status} at {self.created_at:%Y-%m-%d %H:%M:%S}"
