"""Conversations of a project and their messages, kept as a tree so no answer is ever lost.

Regenerating an answer or editing a question adds a sibling under the same parent; the
conversation's `current_leaf` says which branch is shown.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models


class Mode(models.TextChoices):
    CHAT = "chat", "Chat"
    COMPLETION = "completion", "Text completion"


class Conversation(models.Model):
    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="conversations")
    provider = models.ForeignKey("providers.Provider", null=True, blank=True, on_delete=models.SET_NULL)
    model = models.CharField(max_length=200, blank=True)
    mode = models.CharField(
        max_length=20, choices=Mode.choices, default=Mode.CHAT, help_text="Text completion uses legacy /completions."
    )
    params = models.JSONField(default=dict, blank=True)
    system = models.TextField(blank=True)
    title = models.CharField(max_length=200, blank=True)
    current_leaf = models.ForeignKey("chat.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title or f"Conversation {self.pk}"


class Status(models.TextChoices):
    DONE = "done", "Done"
    STREAMING = "streaming", "Streaming"
    STOPPED = "stopped", "Stopped"
    INTERRUPTED = "interrupted", "Interrupted"
    ERROR = "error", "Error"


# A streaming answer's owner (the process generating it) renews its lease every few seconds;
# an answer whose lease ran out has lost its owner, and any worker marks it interrupted.
ANSWER_LEASE = timedelta(seconds=10)
INTERRUPTED_TEXT = "The server generating this answer stopped; the text so far is kept."


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    role = models.CharField(max_length=20)
    content = models.TextField(blank=True)
    # Sanitised markdown of a finished answer, rendered once (pages with many answers stay fast).
    html = models.TextField(blank=True, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DONE)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)  # while streaming
    error = models.TextField(blank=True)
    model = models.CharField(max_length=200, blank=True)
    params = models.JSONField(default=dict, blank=True, help_text="The exact request fields sent.")
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    tokens_estimated = models.BooleanField(default=False)
    ttft_ms = models.PositiveIntegerField(null=True, blank=True)
    total_ms = models.PositiveIntegerField(null=True, blank=True)
    finish_reason = models.CharField(max_length=40, blank=True)
    # The provider's backend configuration the answer came from, where it says (OpenAI, IONOS).
    system_fingerprint = models.CharField(max_length=100, blank=True)
    tool_calls = models.JSONField(null=True, blank=True)
    references = models.JSONField(null=True, blank=True)
    # Per token: {"token", "logprob", "top_logprobs": [{"token", "logprob"}]}, when requested.
    logprobs = models.JSONField(null=True, blank=True)
    # How many deltas of this answer had been published when `content` was last saved.
    seq = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status"], name="message_status")]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"
