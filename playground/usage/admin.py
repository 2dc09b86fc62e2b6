from __future__ import annotations

from django.contrib import admin

from playground.usage.models import (
    Budget,
    Price,
    UsageDay,
    UsageDayTimes,
    UsageHour,
    UsageHourTimes,
    UsageMonth,
    UsageRecord,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records are what happened and roll-ups follow them: both are written only by
    usage_record_create (and rebuild_usage_rollups), never edited by hand. Prices and budgets
    are changed on their pages (staff reach every team's), so that the audit log sees it."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
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


@admin.register(UsageHour, UsageDay)
class UsageCountsAdmin(ReadOnlyAdmin):
    list_display = ("period", "team", "user", "model", "endpoint", "status", "requests", "prompt_tokens")
    list_filter = ("endpoint", "status")
    raw_id_fields = ("team", "project", "user")


@admin.register(UsageHourTimes, UsageDayTimes)
class UsageTimesAdmin(ReadOnlyAdmin):
    list_display = ("period", "team", "user", "model", "endpoint", "status")
    raw_id_fields = ("team", "project", "user")


@admin.register(UsageMonth)
class UsageMonthAdmin(ReadOnlyAdmin):
    list_display = ("month", "team", "user", "model", "requests", "prompt_tokens", "completion_tokens")
    raw_id_fields = ("team", "user")


@admin.register(Price)
class PriceAdmin(ReadOnlyAdmin):
    """Set on a team's prices page, where every change goes into the audit log."""

    list_display = ("provider", "model", "input_per_million", "output_per_million", "updated_at")
    search_fields = ("model", "provider__name")
    raw_id_fields = ("provider",)


@admin.register(Budget)
class BudgetAdmin(ReadOnlyAdmin):
    """Set on a team's budgets page, where every change goes into the audit log."""

    list_display = ("team", "user", "kind", "limit", "updated_at")
    raw_id_fields = ("team", "user")
