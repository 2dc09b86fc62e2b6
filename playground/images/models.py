"""Image generations of a project and the pictures they produced (files kept in the private media folder)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ImageGeneration(models.Model):
    """One call to a provider's images endpoint: what was asked, by whom, and how it ended."""

    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="image_generations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    provider = models.ForeignKey("providers.Provider", null=True, blank=True, on_delete=models.SET_NULL)
    # Kept so the gallery still says where a picture came from after the provider is deleted.
    provider_name = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=200, blank=True)
    prompt = models.TextField()
    params = models.JSONField(default=dict, blank=True, help_text="The parameter fields sent besides model and prompt.")
    created_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "-created_at"], name="image_generation_project_time")]

    def __str__(self) -> str:
        prompt = self.prompt if len(self.prompt) <= 60 else self.prompt[:59] + "…"
        return f"{self.model or 'image'}: {prompt}"

    @property
    def succeeded(self) -> bool:
        return not self.error


class GeneratedImage(models.Model):
    """One picture of a generation. `file_name` is the sha256 of its bytes plus the real type's extension."""

    generation = models.ForeignKey(ImageGeneration, on_delete=models.CASCADE, related_name="images")
    index = models.PositiveSmallIntegerField(default=0)
    file_name = models.CharField(max_length=80)
    content_type = models.CharField(max_length=40)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveIntegerField()
    revised_prompt = models.TextField(blank=True)

    class Meta:
        ordering = ["-generation__created_at", "-generation_id", "index"]
        indexes = [models.Index(fields=["file_name"], name="generated_image_file")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.width}×{self.height})"

    @property
    def sha256(self) -> str:
        return self.file_name.split(".", 1)[0]

    @property
    def thumbnail_size(self) -> tuple[int, int]:
        """Width and height of the thumbnail (at most 512 on the longer side), for the <img> attributes."""
        edge = 512
        scale = min(1.0, edge / max(self.width, self.height, 1))
        return max(1, round(self.width * scale)), max(1, round(self.height * scale))

    @property
    def download_name(self) -> str:
        """A file name for people: image-<generation>-<n>.<ext>."""
        extension = self.file_name.rsplit(".", 1)[-1]
        return f"image-{self.generation_id}-{self.index + 1}.{extension}"
