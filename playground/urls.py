"""Top-level URL configuration."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

import playground.converters  # noqa: F401  (registers <id:…>, used by every app's URLs)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("playground.accounts.urls")),
    path("", include("playground.providers.urls")),
    path("", include("playground.chat.urls")),
    path("", include("playground.prompts.urls")),
    path("", include("playground.images.urls")),
    path("", include("playground.embeddings.urls")),
    path("", include("playground.usage.urls")),
]
