from __future__ import annotations

from django.contrib import admin

from playground.images.models import GeneratedImage, ImageGeneration


class GeneratedImageInline(admin.TabularInline):
    model = GeneratedImage
    extra = 0
    fields = ("index", "file_name", "content_type", "width", "height", "bytes")
    readonly_fields = fields
    can_delete = False


@admin.register(ImageGeneration)
class ImageGenerationAdmin(admin.ModelAdmin):
    list_display = ("__str__", "project", "user", "provider_name", "created_at", "duration_ms")
    list_filter = ("created_at",)
    search_fields = ("prompt", "model")
    raw_id_fields = ("project", "user", "provider")
    inlines = [GeneratedImageInline]


@admin.register(GeneratedImage)
class GeneratedImageAdmin(admin.ModelAdmin):
    list_display = ("__str__", "generation", "content_type", "bytes")
    search_fields = ("file_name", "generation__prompt")
    raw_id_fields = ("generation",)
