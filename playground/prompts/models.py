"""Team-shared saved prompts: a prompt, its immutable numbered versions, and compare runs.

A version is never changed once written: editing a prompt adds a version, restoring an old
one adds a copy of it, so nothing a teammate relied on can silently change.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

UNDO_DAYS = 30


class Visibility(models.TextChoices):
    TEAM = "team", "The whole team"
    PRIVATE = "private", "Only its owner"


class Prompt(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="prompts")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.TEAM)
    current_version = models.ForeignKey(
        "prompts.PromptVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When its content or description last changed (a new version, a rename); not when it ran.
    changed_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["team", "deleted_at"], name="prompt_team_deleted")]

    def __str__(self) -> str:
        return self.name

    @property
    def tag_names(self) -> list[str]:
        return sorted(tag.name for tag in self.tags.all())

    @property
    def purge_after(self):
        """When a deleted prompt stops being restorable."""
        return self.deleted_at + timedelta(days=UNDO_DAYS) if self.deleted_at else None


class PromptTag(models.Model):
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=40)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prompt", "name"], name="one_tag_name_per_prompt")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImmutableVersion(Exception):
    """A saved PromptVersion cannot be changed; add a new version instead."""


class VersionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # Deleting a provider or a user clears the references to it (on_delete=SET_NULL goes
        # through here); nothing else may rewrite a version.
        if set(kwargs) <= {"provider", "author"} and all(value is None for value in kwargs.values()):
            return super().update(**kwargs)
        raise ImmutableVersion("Prompt versions cannot be changed; add a new version instead.")


class PromptVersion(models.Model):
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField("what changed", max_length=300, blank=True)
    system = models.TextField(blank=True)
    messages = models.JSONField(default=list, blank=True, help_text='[{"role": "user", "content": "…"}, …]')
    # The provider may be deleted later; its name stays so the version still says what it used.
    provider = models.ForeignKey("providers.Provider", null=True, blank=True, on_delete=models.SET_NULL)
    provider_name = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=200, blank=True)
    params = models.JSONField(default=dict, blank=True)
    variables = models.JSONField(default=dict, blank=True, help_text='{"name": {"description": "", "default": ""}}')
    # System text and messages in one lower-case string, for the library's text search.
    search_text = models.TextField(blank=True, editable=False)

    objects = VersionQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prompt", "number"], name="one_version_number_per_prompt")]
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.prompt} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ImmutableVersion("Prompt versions cannot be changed; add a new version instead.")
        if self.provider is not None and not self.provider_name:
            self.provider_name = self.provider.name
        texts = [self.system, *(str(message.get("content", "")) for message in self.messages)]
        self.search_text = "\n".join(text for text in texts if text).lower()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableVersion("Prompt versions cannot be deleted one by one; delete the prompt instead.")

    @property
    def last_message(self) -> dict | None:
        return self.messages[-1] if self.messages else None


class PromptSettings(models.Model):
    """A team's choices about prompts (kept here rather than on Team, which accounts owns)."""

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="prompt_settings")
    viewers_may_run = models.BooleanField(
        default=False, help_text="Viewers may run prompts (each run makes a conversation and uses the team's keys)."
    )

    class Meta:
        verbose_name_plural = "prompt settings"

    def __str__(self) -> str:
        return f"Prompt settings of {self.team}"


class CompareRun(models.Model):
    """One prompt version sent to up to four setups at once; each column is a conversation."""

    version = models.ForeignKey(PromptVersion, on_delete=models.CASCADE, related_name="compare_runs")
    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="+")
    values = models.JSONField(default=dict, blank=True, help_text="The variable values it ran with.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Compare run {self.pk} of {self.version}"


class CompareColumn(models.Model):
    run = models.ForeignKey(CompareRun, on_delete=models.CASCADE, related_name="columns")
    position = models.PositiveSmallIntegerField()
    # The reverse name lets the chat list tell compare columns from ordinary conversations.
    conversation = models.OneToOneField("chat.Conversation", on_delete=models.CASCADE, related_name="compare_column")
    answer = models.ForeignKey("chat.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "position"], name="one_column_per_position")]
        ordering = ["position"]

    def __str__(self) -> str:
        return f"Column {self.position} of run {self.run_id}"
