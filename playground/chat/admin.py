from __future__ import annotations

from django.contrib import admin

from playground.chat.models import Conversation, Message


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("__str__", "project", "provider", "model", "updated_at")
    search_fields = ("title",)
    raw_id_fields = ("project", "provider", "current_leaf", "created_by")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("__str__", "conversation", "role", "status", "created_at")
    list_filter = ("role", "status")
    raw_id_fields = ("conversation", "parent", "created_by")
