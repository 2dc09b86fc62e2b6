"""Embedding runs: a list of texts (with optional labels), the model that embedded them,
and the vectors, stored compactly so that a run reopens without calling the API again."""

from __future__ import annotations

import numpy as np
from django.conf import settings
from django.db import models

# Vectors are stored as little-endian float32, row after row: 4 bytes per number.
VECTOR_DTYPE = np.dtype("<f4")


class Status(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    ERROR = "error", "Failed"


class EmbeddingRun(models.Model):
    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="embedding_runs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    provider = models.ForeignKey("providers.Provider", null=True, blank=True, on_delete=models.SET_NULL)
    # Kept for the record when the provider is deleted later.
    provider_name = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=200, blank=True)
    model = models.CharField(max_length=200)
    params = models.JSONField(default=dict, blank=True, help_text="The request fields sent besides model and input.")
    texts = models.JSONField(default=list)
    # Kept beside the texts so that lists of runs need not load them.
    text_count = models.PositiveIntegerField(default=0)
    first_text = models.CharField(max_length=200, blank=True)
    labels = models.JSONField(default=list, blank=True, help_text="Empty, or one label per text.")
    dim = models.PositiveIntegerField(null=True, blank=True)
    vectors = models.BinaryField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    # What the upstream error was about ("authentication", "rate_limited", "bad_request", ...),
    # so the retry form can put the message beside the right field.
    error_kind = models.CharField(max_length=40, blank=True)
    batch_size = models.PositiveIntegerField(default=256)
    done_count = models.PositiveIntegerField(default=0, help_text="Texts embedded so far.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "-created_at"], name="embeddingrun_project_time")]

    def __str__(self) -> str:
        if self.name:
            return self.name
        first = self.first_text[:60] + ("…" if len(self.first_text) > 60 else "")
        return f"Run {self.pk}: {first}" if first else f"Run {self.pk}"

    @property
    def count(self) -> int:
        return self.text_count

    @property
    def batch_count(self) -> int:
        return -(-self.count // self.batch_size) if self.batch_size else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (Status.DONE, Status.ERROR)

    @property
    def has_labels(self) -> bool:
        return any(self.labels)

    def label_of(self, index: int) -> str:
        return self.labels[index] if index < len(self.labels) else ""

    def matrix(self) -> np.ndarray:
        """The vectors, one row per text (float32, read-only view of the stored bytes)."""
        if not self.vectors or not self.dim:
            return np.empty((0, self.dim or 0), dtype=np.float32)
        return np.frombuffer(bytes(self.vectors), dtype=VECTOR_DTYPE).reshape(-1, self.dim)

    def set_matrix(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=VECTOR_DTYPE)
        self.dim = int(vectors.shape[1])
        self.vectors = vectors.tobytes()
