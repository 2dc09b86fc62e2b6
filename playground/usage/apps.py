from __future__ import annotations

from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "playground.usage"
    label = "usage"
    verbose_name = "Usage records"

    def ready(self) -> None:
        from playground.upstream.recorder import register
        from playground.usage.services import UsageRecorder

        register(UsageRecorder())
