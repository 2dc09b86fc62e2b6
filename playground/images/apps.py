from __future__ import annotations

from django.apps import AppConfig


class ImagesConfig(AppConfig):
    name = "playground.images"
    label = "images"
    verbose_name = "Images"

    def ready(self) -> None:
        from playground.images import signals  # noqa: F401
