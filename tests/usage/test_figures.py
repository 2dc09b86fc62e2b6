"""Every dashboard figure equals the plain computation over the same records: whole days from
the day roll-ups, hours from the hour roll-ups, the edges of a range from the records, in
any time zone, with any filter and for each kind of person. Percentiles included."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.utils import timezone

from playground.usage.scoping import usage_scope
from playground.usage.selectors import UsageFilters, latest_errors, nearest_rank, plan, usage_summary
from tests.usage import reference

DAY, HOUR, MINUTE = dt.timedelta(days=1), dt.timedelta(hours=1), dt.timedelta(minutes=1)
RANGES = {
    "whole days": lambda start: (start, start + 6 * DAY),
    "days cut at odd times": lambda start: (start + DAY + 3 * HOUR + 17.39 * MINUTE, start + 4 * DAY + 14.05 * HOUR),
    "hours (charted by hour)": lambda start: (start + 2 * DAY + 5 * HOUR, start + 3 * DAY + 20 * HOUR),
    "inside one hour": lambda start: (start + 3 * DAY + 2 * HOUR + 4 * MINUTE, start + 3 * DAY + 2.9 * HOUR),
    "wider than the records": lambda start: (start - 3 * DAY, start + 10 * DAY),
}


@pytest.fixture(params=["UTC", "Asia/Kolkata", "America/New_York"])
def zone(request, settings):
    """Days follow the server's time zone; Kolkata's midnights fall on the half hour."""
    settings.TIME_ZONE = request.param
    return request.param


@pytest.fixture
def records(zone, world):
    return world.records


def slot_of(record, bucket: str) -> dt.datetime:
    if bucket == "hour":
        return record.created_at.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    local = timezone.localtime(record.created_at)
    return timezone.make_aware(dt.datetime(local.year, local.month, local.day))


def assert_figures(figures, expected: dict) -> None:
    found = {name: getattr(figures, name) for name in expected}
    assert found == expected


def check_summary(summary, chosen: list, prices: dict) -> None:
    assert_figures(summary.totals, reference.figures(chosen, prices))
    times = reference.latencies(chosen)
    assert (summary.ttft.count, summary.ttft.p50, summary.ttft.p95) == times["ttft"]
    assert (summary.total_time.count, summary.total_time.p50, summary.total_time.p95) == times["total"]
    by_slot = reference.grouped(chosen, lambda record: slot_of(record, summary.bucket))
    slots = {slot.start: slot for slot in summary.slots}
    assert set(by_slot) <= set(slots)
    for start, slot in slots.items():
        expected = reference.figures(by_slot.get(start, []), prices)
        shown = {
            name: getattr(slot.figures, name) for name in ("requests", "prompt_tokens", "completion_tokens", "cost")
        }
        assert shown == {name: expected[name] for name in shown}
    keys = {"user": "user_id", "model": "model", "key": "key_id", "team": "team_id"}
    for name, attribute in keys.items():
        expected = reference.grouped(chosen, lambda record, attribute=attribute: getattr(record, attribute))
        rows = {row.key: row for row in summary.breakdowns[name]}
        assert set(rows) == set(expected)
        for key, group in expected.items():
            assert_figures(rows[key].figures, reference.figures(group, prices))


@pytest.mark.parametrize("range_name", RANGES)
def test_every_figure_matches_the_records_for_staff(records, world, range_name):
    start, end = RANGES[range_name](world.start)
    summary = usage_summary(scope=usage_scope(world.users["staff"]), filters=UsageFilters(start=start, end=end))
    check_summary(summary, reference.chosen(records, start, end), world.prices)


def test_the_ranges_use_every_kind_of_segment(world, zone):
    sources = set()
    for make in RANGES.values():
        start, end = make(world.start)
        bucket_days = UsageFilters(start=start, end=end).bucket == "day"
        sources |= {segment.source for segment in plan(start, end, days=bucket_days)}
    assert sources == {"day", "hour", "raw"}


FILTERS = [
    lambda w: {"team_id": w.other_team.pk},
    lambda w: {"user_id": w.users["member"].pk},
    lambda w: {"project_id": w.records[0].project_id},
    lambda w: {"provider_id": w.providers[1].pk},
    lambda w: {"key_id": w.keys[0].pk},
    lambda w: {"model": "gpt-4o"},
    lambda w: {"endpoint": "embeddings"},
    lambda w: {"status": "rate_limited"},
    lambda w: {"model": "gpt-4o", "user_id": w.users["admin"].pk, "status": "ok"},
]


@pytest.mark.parametrize("make_filter", FILTERS)
def test_filters_narrow_every_figure(records, world, make_filter):
    chosen_filter = make_filter(world)
    start, end = RANGES["days cut at odd times"](world.start)
    filters = UsageFilters(start=start, end=end, **chosen_filter)
    summary = usage_summary(scope=usage_scope(world.users["staff"]), filters=filters)
    chosen = reference.chosen(records, start, end, **chosen_filter)
    assert chosen  # each filter leaves some calls to check
    check_summary(summary, chosen, world.prices)


def test_a_member_sees_only_their_own_calls(records, world):
    member = world.users["member"]
    start, end = RANGES["wider than the records"](world.start)
    summary = usage_summary(scope=usage_scope(member), filters=UsageFilters(start=start, end=end))
    chosen = reference.chosen(records, start, end, visible=lambda record: record.user_id == member.pk)
    assert chosen and {row.key for row in summary.breakdowns["user"]} == {member.pk}
    check_summary(summary, chosen, world.prices)


def test_an_admin_sees_their_teams_calls_and_their_own_elsewhere(records, world):
    admin = world.users["admin"]
    start, end = RANGES["whole days"](world.start)
    summary = usage_summary(scope=usage_scope(admin), filters=UsageFilters(start=start, end=end))

    def visible(record):
        return record.team_id == world.team.pk or (record.team_id == world.other_team.pk and record.user_id == admin.pk)

    chosen = reference.chosen(records, start, end, visible=visible)
    assert {record.user_id for record in chosen if record.team_id == world.other_team.pk} == {admin.pk}
    check_summary(summary, chosen, world.prices)


def test_an_outsider_sees_nothing(records, world):
    start, end = RANGES["wider than the records"](world.start)
    summary = usage_summary(scope=usage_scope(world.users["nonmember"]), filters=UsageFilters(start=start, end=end))
    assert summary.totals.requests == 0 and summary.ttft.p50 is None


def test_latest_errors_are_the_newest_failed_or_refused_calls(records, world):
    start, end = RANGES["wider than the records"](world.start)
    found = latest_errors(scope=usage_scope(world.users["staff"]), filters=UsageFilters(start=start, end=end), limit=5)
    failed = [record for record in records if record.status in ("error", "rate_limited", "refused")]
    expected = sorted(failed, key=lambda record: record.created_at, reverse=True)[:5]
    assert [record.pk for record in found] == [record.pk for record in expected]


@pytest.mark.parametrize("count", [1, 2, 3, 19, 20, 21, 100, 101])
def test_percentiles_are_nearest_rank(count):
    values = np.random.default_rng(count).integers(0, 10_000, size=count)
    assert nearest_rank(values) == [
        reference.nearest_rank(values.tolist(), 50),
        reference.nearest_rank(values.tolist(), 95),
    ]


def test_percentiles_of_known_values():
    # ⌈0.5·4⌉ = 2nd and ⌈0.95·4⌉ = 4th of [10, 20, 30, 40]; of 20 values, the 10th and the 19th.
    assert nearest_rank(np.array([40, 10, 30, 20])) == [20, 40]
    assert nearest_rank(np.arange(1, 21)) == [10, 19]
    assert nearest_rank(np.array([], dtype=np.int64)) == [None, None]
