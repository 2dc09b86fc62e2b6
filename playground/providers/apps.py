from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class ProvidersConfig(AppConfig):
    name = "playground.providers"
    label = "providers"
    verbose_name = "Providers and API keys"

    def ready(self) -> None:
        checks.register(encryption_keys_check, checks.Tags.database)


def encryption_keys_check(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    """Before the server starts (`migrate` runs the database checks): the stored API keys can
    be read with the configured encryption keys. A missing key file is never replaced silently."""
    if not databases:
        return []
    from django.db import DatabaseError

    from playground.providers.crypto import keys_problem

    try:
        problem = keys_problem()
    except DatabaseError:  # before the first migration: there is nothing stored to read
        return []
    return [checks.Error(problem, id="playground.E001")] if problem else []
