from __future__ import annotations

from django.contrib import admin
from django.db import models

from playground.providers.models import ApiKey, Provider, ProviderHeader
from playground.providers.services import local_access_apply


class ProviderHeaderInline(admin.TabularInline):
    model = ProviderHeader
    extra = 0
    fields = ("name", "value", "secret")
    readonly_fields = ("secret",)


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "profile", "base_url", "allow_local")
    list_filter = ("profile", "allow_local")
    search_fields = ("name", "base_url", "team__name")
    raw_id_fields = ("team", "created_by")
    exclude = ("uploaded_schema", "fetched_schema", "local_url")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [ProviderHeaderInline]

    def save_model(self, request, obj, form, change) -> None:
        local_access_apply(provider=obj, by_user=request.user)
        super().save_model(request, obj, form, change)


@admin.register(ProviderHeader)
class ProviderHeaderAdmin(admin.ModelAdmin):
    list_display = ("name", "provider", "secret")
    fields = ("provider", "name", "value", "secret")
    readonly_fields = ("secret",)
    raw_id_fields = ("provider",)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are shown masked; the admin can revoke but never read one."""

    list_display = ("__str__", "provider", "owner", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    fields = ("provider", "owner", "label", "masked", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("provider", "owner", "masked", "created_at", "last_used_at")
    raw_id_fields = ("provider", "owner")

    def has_add_permission(self, request) -> bool:
        return False  # keys are added on the provider page, where they are encrypted
