from __future__ import annotations

from django.contrib import admin

from playground.usage.models import UsageRecord


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "team",
        "user",
        "provider_name",
        "model",
        "endpoint",
        "status",
        "http_status",
        "prompt_tokens",
        "completion_tokens",
        "ttft_ms",
        "total_ms",
    )
    list_filter = ("endpoint", "status")
    search_fields = ("model", "provider_name", "error_message")
    raw_id_fields = ("team", "project", "user")
    date_hierarchy = "created_at"
