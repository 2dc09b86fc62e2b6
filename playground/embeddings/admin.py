from __future__ import annotations

from django.contrib import admin

from playground.embeddings.models import EmbeddingRun


@admin.register(EmbeddingRun)
class EmbeddingRunAdmin(admin.ModelAdmin):
    list_display = ("__str__", "project", "provider_name", "model", "text_count", "dim", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "first_text", "model")
    raw_id_fields = ("project", "user", "provider")
    exclude = ("vectors",)
    readonly_fields = ("dim", "text_count", "first_text", "done_count", "duration_ms", "created_at", "updated_at")
