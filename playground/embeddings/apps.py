from __future__ import annotations

from django.apps import AppConfig


class EmbeddingsConfig(AppConfig):
    name = "playground.embeddings"
    label = "embeddings"
    verbose_name = "Embeddings"
