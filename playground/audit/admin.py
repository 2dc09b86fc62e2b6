from __future__ import annotations

from django.contrib import admin

from playground.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The log is only read: an entry that could be edited would prove nothing."""

    list_display = ("created_at", "actor_name", "team_name", "action", "object_type", "object_label")
    list_filter = ("action",)
    search_fields = ("actor_name", "team_name", "object_label")
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
