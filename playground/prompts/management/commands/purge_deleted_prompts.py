"""Remove for good the prompts deleted more than 30 days ago (run it daily, from cron or a timer)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from playground.prompts.services import prompts_purge


class Command(BaseCommand):
    help = "Remove for good the prompts deleted more than 30 days ago."

    def handle(self, *args, **options) -> None:
        count = prompts_purge()
        self.stdout.write(f"Removed {count} prompt{'s' if count != 1 else ''} deleted more than 30 days ago.")
