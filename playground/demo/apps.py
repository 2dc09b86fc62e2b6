from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "playground.demo"
    label = "demo"
    verbose_name = "Built-in demo upstream"
