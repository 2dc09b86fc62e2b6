"""The roll-ups kept call by call equal the ones recomputed from the records: after random
calls, in time zones whose midnights fall on the half hour, after people, projects and teams
are deleted, and after seeding. `rebuild_usage_rollups` restores them."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command
from django.utils import timezone

from playground.accounts.models import Project, Team
from playground.usage.models import (
    Price,
    UsageDay,
    UsageDayTimes,
    UsageHour,
    UsageHourTimes,
    UsageMonth,
    UsageRecord,
)
from playground.usage.rollups import DIMENSIONS, rollups_rebuild
from playground.usage.scoping import usage_scope
from playground.usage.seeding import seed_usage
from playground.usage.selectors import UsageFilters, usage_summary
from tests.factories import UsageRecordFactory, UserFactory
from tests.usage import reference

TABLES = (UsageHour, UsageDay, UsageHourTimes, UsageDayTimes, UsageMonth)


def snapshot() -> dict:
    """Every roll-up table as key -> summed counts and multisets of times (duplicates merged)."""
    found = {}
    for table in TABLES:
        rows = defaultdict(Counter)
        for row in table.objects.all():
            key = tuple(getattr(row, name) for name in ("period", "month", *DIMENSIONS) if hasattr(row, name))
            for name in ("requests", "prompt_tokens", "completion_tokens"):
                if hasattr(row, name):
                    rows[key][name] += getattr(row, name)
            for name in ("ttft_values", "total_values"):
                text = getattr(row, name, "")
                rows[key].update((name, text[i : i + 8]) for i in range(0, len(text), 8))
        found[table.__name__] = dict(rows)
    return found


@pytest.fixture(params=["UTC", "Asia/Kolkata"])
def zone(request, settings):
    settings.TIME_ZONE = request.param


def test_incremental_roll_ups_equal_rebuilt_ones(zone, world):
    kept = snapshot()
    assert sum(row["requests"] for row in kept["UsageHour"].values()) == len(world.records)
    rollups_rebuild()
    assert snapshot() == kept


def test_deleting_people_projects_and_teams_keeps_them_equal(world):
    world.users["member"].delete()  # their calls keep no person, in records and roll-ups alike
    Project.objects.filter(name="Docs").delete()
    Team.objects.get(pk=world.other_team.pk).delete()  # its calls go with it
    kept = snapshot()
    assert UsageRecord.objects.filter(user__isnull=True).exists()
    assert not UsageHour.objects.filter(team_id=world.other_team.pk).exists()
    rollups_rebuild()
    assert snapshot() == kept


def test_the_rebuild_command_restores_lost_roll_ups(world):
    kept = snapshot()
    UsageDay.objects.all().delete()
    UsageHourTimes.objects.filter(pk__in=UsageHourTimes.objects.values("pk")[:20]).delete()
    call_command("rebuild_usage_rollups", stdout=None)
    assert snapshot() == kept


def test_a_duplicate_row_sums_the_same(world):
    """Two processes may both create the same new row: reads sum, so nothing changes."""
    start, end = world.start, world.start + dt.timedelta(days=6)
    scope = usage_scope(world.users["staff"])
    before = usage_summary(scope=scope, filters=UsageFilters(start=start, end=end))
    row = UsageDay.objects.filter(requests__gt=1).first()
    UsageDay.objects.filter(pk=row.pk).update(requests=1, prompt_tokens=0, completion_tokens=0)
    UsageDay.objects.create(
        **{name: getattr(row, name) for name in ("period", *DIMENSIONS)},
        requests=row.requests - 1,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
    )
    after = usage_summary(scope=scope, filters=UsageFilters(start=start, end=end))
    assert after.totals == before.totals
    assert [slot.figures for slot in after.slots] == [slot.figures for slot in before.slots]
    record = UsageRecordFactory(team=world.team, created_at=row_moment(row))  # adds to one of the two
    assert UsageDay.objects.filter(period=row.period, team=record.team).exists()
    assert usage_summary(scope=scope, filters=UsageFilters(start=start, end=end)).totals.requests == (
        before.totals.requests + 1
    )


def row_moment(row) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(row.period, dt.time(12)))


def test_seeded_records_and_their_roll_ups_agree(db):
    end = timezone.now()
    seed_usage(rows=3_000, days=10, end=end)
    records = list(UsageRecord.objects.all())
    assert len(records) == 3_000
    assert min(record.created_at for record in records) >= end - dt.timedelta(days=10)
    assert max(record.created_at for record in records) < end
    assert {record.status for record in records} >= {"ok", "error", "rate_limited", "cancelled"}
    assert len({record.team_id for record in records}) == 5 and len({record.model for record in records}) >= 8
    UsageRecordFactory()  # and one more call, counted as it is made
    kept = snapshot()
    rollups_rebuild()
    assert snapshot() == kept
    start = end - dt.timedelta(days=10)
    staff = UserFactory(is_staff=True)
    summary = usage_summary(scope=usage_scope(staff), filters=UsageFilters(start=start, end=end))
    prices = {
        (price.provider_id, price.model): (price.input_per_million, price.output_per_million)
        for price in Price.objects.all()
    }
    chosen = reference.chosen(records, start, end)
    expected = reference.figures(chosen, prices)
    assert {name: getattr(summary.totals, name) for name in expected} == expected
    times = reference.latencies(chosen)
    assert (summary.ttft.count, summary.ttft.p50, summary.ttft.p95) == times["ttft"]
    assert (summary.total_time.count, summary.total_time.p50, summary.total_time.p95) == times["total"]


def test_seeding_twice_reuses_the_teams(db):
    seed_usage(rows=50, days=3)
    seed_usage(rows=50, days=3)
    assert Team.objects.filter(name__startswith="Seed ").count() == 5
    assert UsageRecord.objects.count() == 100
    assert sum(row.requests for row in UsageHour.objects.all()) == 100
