"""The usage dashboard over 1,000,000 records: server time of a 30-day page on SQLite and on
PostgreSQL, and the CSV export's speed and memory.

Each database is measured in a process of its own (`python -m bench.dashboard sqlite` or
`postgres`), which creates a test database, fills it with `seed_usage`, measures and drops
it. PostgreSQL's is named after TEST_POSTGRES_URL's database with "_bench_dashboard" added
(Django prefixes "test_"), so it never meets a test run's; it is skipped when PostgreSQL
does not answer. Run alone: `.venv/bin/python -m bench.dashboard` prints the figures
without touching bench/RESULTS.md.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from urllib.parse import urlsplit, urlunsplit

ROWS = int(os.environ.get("BENCH_USAGE_ROWS", 1_000_000))
RUNS = 7


def _postgres_url() -> str:
    from tests.services import POSTGRES_URL

    parts = urlsplit(POSTGRES_URL)
    name = (parts.path.lstrip("/") or "test") + "_bench_dashboard"
    return urlunsplit(parts._replace(path=f"/{name}"))


def _measure(database: str) -> dict[str, float]:
    """In this process: a test database of `database`'s kind, seeded, measured, dropped."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment, teardown_test_environment

    from playground.usage.seeding import seed_usage
    from tests.factories import UserFactory

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        started = time.perf_counter()
        seed_usage(rows=ROWS)
        seeded_s = time.perf_counter() - started
        client = Client(HTTP_HOST="localhost")
        client.force_login(UserFactory(is_staff=True))  # staff: every team's calls
        response = client.get("/usage/?range=30d")
        assert response.status_code == 200 and response.context["summary"].totals.requests > ROWS // 5
        # Timed without the test environment, which copies the template context at every
        # include for test assertions: work a served page does not do.
        teardown_test_environment()
        timings = []
        for run in range(RUNS + 1):
            gc.collect()
            started = time.perf_counter()
            response = client.get("/usage/?range=30d")
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200
            if run >= 1:  # after warming up templates, caches and the database's pages
                timings.append(elapsed)
        figures = {
            f"dashboard_1m_{database}_ms": round(statistics.median(timings), 1),
            f"seed_1m_{database}_s": round(seeded_s, 1),
        }
        if database == "sqlite":
            figures.update(_export())
        return figures
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _export() -> dict[str, float]:
    """Every record as CSV through the view: rows per second, then the memory it holds."""
    from django.test import Client
    from django.utils import timezone

    from playground.accounts.models import User

    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(is_staff=True))
    today = timezone.localdate()
    url = f"/usage/export.csv?range=custom&start={today - dt.timedelta(days=100)}&end={today}"

    def export() -> int:
        lines = 0
        for chunk in client.get(url).streaming_content:
            lines += chunk.count(b"\n")
        return lines - 1  # the header

    # A first export, untimed, as for the page (seen with 300,000 rows: the process's first
    # export took 0.65 s to its first chunk and ran at 81,000 rows/s, the next at 146,000;
    # the query alone takes the same time each run).
    assert export() == ROWS
    gc.collect()
    started = time.perf_counter()
    rows = export()
    rows_per_s = rows / (time.perf_counter() - started)
    assert rows == ROWS, rows
    tracemalloc.start()
    export()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"csv_export_rows_per_s": round(rows_per_s), "csv_export_peak_mb": round(peak / 2**20, 1)}


def _in_child(database: str) -> dict[str, float]:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    if database == "postgres":
        env["DATABASE_URL"] = _postgres_url()
    done = subprocess.run(
        [sys.executable, "-m", "bench.dashboard", database], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.dashboard {database} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run() -> dict[str, float]:
    from tests.services import available

    figures = _in_child("sqlite")
    if available("postgres"):
        figures.update(_in_child("postgres"))
    else:
        print("bench.dashboard: PostgreSQL does not answer on 127.0.0.1:5432; its figure is left out", flush=True)
    return figures


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    if len(sys.argv) > 1:
        print(json.dumps(_measure(sys.argv[1])))
    else:
        print(run())
