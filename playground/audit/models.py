"""The audit log: who changed providers, keys, members, budgets and prices, or deleted
prompts and conversations, when, and the values before and after (never key material)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    PROVIDER_CREATE = "provider.create", "Provider added"
    PROVIDER_UPDATE = "provider.update", "Provider changed"
    PROVIDER_TEST = "provider.test", "Provider tested (models listed)"
    PROVIDER_DELETE = "provider.delete", "Provider deleted"
    KEY_ADD = "key.add", "API key added"
    KEY_TEST = "key.test", "API key tested"
    KEY_REVOKE = "key.revoke", "API key revoked"
    MEMBER_ADD = "member.add", "Member added"
    MEMBER_ROLE = "member.role", "Member's role changed"
    MEMBER_REMOVE = "member.remove", "Member removed"
    BUDGET_SET = "budget.set", "Budget set"
    BUDGET_DELETE = "budget.delete", "Budget removed"
    PRICE_SET = "price.set", "Price set"
    PRICE_DELETE = "price.delete", "Price removed"
    PROMPT_DELETE = "prompt.delete", "Prompt deleted"
    PROMPT_RESTORE = "prompt.restore", "Deleted prompt restored"
    CONVERSATION_DELETE = "conversation.delete", "Conversation deleted"


class AuditEntry(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True, help_text="The username when it happened.")
    # Entries outlive what they describe; a deleted team's entries stay for staff.
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    team_name = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=30, choices=Action.choices)
    object_type = models.CharField(max_length=30)
    object_id = models.BigIntegerField(null=True, blank=True)
    object_label = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["team", "created_at"], name="audit_team_time"),
            models.Index(fields=["created_at"], name="audit_time"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name or 'someone'}: {self.get_action_display()}"

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for every field that differs, or is set on a create/delete."""
        before, after = self.before or {}, self.after or {}
        names = list(dict.fromkeys([*before, *after]))
        return [(name, before.get(name), after.get(name)) for name in names if before.get(name) != after.get(name)]
