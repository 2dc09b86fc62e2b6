"""Prompts in Django's admin: for looking things up. Versions are read-only there too."""

from __future__ import annotations

from django.contrib import admin

from playground.prompts.models import CompareColumn, CompareRun, Prompt, PromptSettings, PromptTag, PromptVersion


class VersionInline(admin.TabularInline):
    model = PromptVersion
    fields = ("number", "note", "author", "model", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "owner", "visibility", "changed_at", "deleted_at")
    list_filter = ("visibility",)
    search_fields = ("name", "description")
    raw_id_fields = ("team", "owner", "current_version", "deleted_by")
    inlines = [VersionInline]


@admin.register(PromptVersion)
class PromptVersionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "author", "model", "created_at")
    search_fields = ("prompt__name", "note")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PromptSettings)
class PromptSettingsAdmin(admin.ModelAdmin):
    list_display = ("team", "viewers_may_run")
    raw_id_fields = ("team",)


class ColumnInline(admin.TabularInline):
    model = CompareColumn
    raw_id_fields = ("conversation", "answer")
    extra = 0


@admin.register(CompareRun)
class CompareRunAdmin(admin.ModelAdmin):
    list_display = ("__str__", "project", "created_by", "created_at")
    raw_id_fields = ("version", "project", "created_by")
    inlines = [ColumnInline]


@admin.register(PromptTag)
class PromptTagAdmin(admin.ModelAdmin):
    list_display = ("name", "prompt")
    search_fields = ("name",)
    raw_id_fields = ("prompt",)


@admin.register(CompareColumn)
class CompareColumnAdmin(admin.ModelAdmin):
    list_display = ("__str__", "conversation", "answer")
    raw_id_fields = ("run", "conversation", "answer")
