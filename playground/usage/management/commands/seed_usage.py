"""`manage.py seed_usage --rows N`: realistic usage records (and their roll-ups) to try the dashboard."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from playground.usage.seeding import seed_usage


class Command(BaseCommand):
    help = "Add N realistic usage records over the last 90 days for teams named “Seed …”, with their roll-ups."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, required=True, help="How many records to add.")
        parser.add_argument("--days", type=int, default=90, help="Spread them over this many days before now.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (the same seed gives the same records).")

    def handle(self, *args, rows: int, days: int, seed: int, **options):
        started = time.monotonic()
        hours, days, months = seed_usage(rows=rows, days=days, seed=seed)
        self.stdout.write(
            f"Added {rows:,} usage records in {time.monotonic() - started:.1f} s; their range now has "
            f"{hours:,} hour, {days:,} day and {months:,} month roll-up rows."
        )
