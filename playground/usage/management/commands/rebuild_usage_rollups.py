"""`manage.py rebuild_usage_rollups`: recompute the usage roll-ups from the records."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from playground.usage.rollups import rollups_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the hourly and monthly usage roll-ups from the usage records. They are kept up to date "
        "with every call; run this after changing TIME_ZONE (months follow it) or editing records by hand."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        hours, days, months = rollups_rebuild()
        self.stdout.write(
            f"Rebuilt {hours:,} hour, {days:,} day and {months:,} month roll-up rows "
            f"in {time.monotonic() - started:.1f} s."
        )
