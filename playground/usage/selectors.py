"""The dashboard's figures, exact, from the roll-ups and the records.

A range is cut into segments (`plan`): whole days of the server's time zone are read from
the day roll-ups, whole hours around them from the hour roll-ups, and the minutes at the
edges from the records themselves. Every figure is a sum over the segments, so it equals
the same computation over the records of the range.

Percentiles are nearest-rank: the p-th percentile of n values is the smallest value with
at least p % of the values at or below it, i.e. the ⌈p·n/100⌉-th smallest. They are taken
over the calls that have that time (a call that failed before answering has no time to
first token). Costs use each provider's current price per model (see `Price`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

import numpy as np
from django.contrib.auth import get_user_model
from django.db.models import Aggregate, Count, F, Q, Sum, TextField

from playground.accounts.models import Team
from playground.providers.models import ApiKey, Provider
from playground.usage.models import (
    UNANSWERED,
    Price,
    Status,
    UsageDay,
    UsageDayTimes,
    UsageHour,
    UsageHourTimes,
    UsageMonth,
    UsageRecord,
)
from playground.usage.prices import PriceBook, Rate, price_book
from playground.usage.rollups import HEX_DIGITS, day_of, hour_of, local_date, midnight, next_day, truncated
from playground.usage.scoping import UsageScope

PERCENTILES = (50, 95)
HOURLY_UP_TO = dt.timedelta(days=3)  # longer ranges are charted by day
COUNTS_TABLES = {"day": UsageDay, "hour": UsageHour}
TIMES_TABLES = {"day": UsageDayTimes, "hour": UsageHourTimes}


@dataclass(frozen=True)
class UsageFilters:
    """A half-open time range [start, end) and the filter values (None or "" for any)."""

    start: dt.datetime
    end: dt.datetime
    team_id: int | None = None
    project_id: int | None = None
    user_id: int | None = None
    provider_id: int | None = None
    key_id: int | None = None
    model: str = ""
    endpoint: str = ""
    status: str = ""

    FIELDS = ("team_id", "project_id", "user_id", "provider_id", "key_id", "model", "endpoint", "status")

    @property
    def bucket(self) -> str:
        """The chart's step: "hour" for ranges up to three days, else "day"."""
        return "hour" if self.end - self.start <= HOURLY_UP_TO else "day"

    def q(self) -> Q:
        return Q(**{name: getattr(self, name) for name in self.FIELDS if getattr(self, name) not in (None, "")})


# --- Where each part of a range is read from ------------------------------------------------


@dataclass(frozen=True)
class Segment:
    source: str  # "day", "hour" (roll-ups) or "raw" (records)
    start: dt.datetime
    end: dt.datetime


def _hour_segments(start: dt.datetime, end: dt.datetime) -> list[Segment]:
    first = hour_of(start)
    first = first if first == start else first + dt.timedelta(hours=1)
    last = hour_of(end)
    if first >= last:
        return [Segment("raw", start, end)] if start < end else []
    parts = [Segment("raw", start, first), Segment("hour", first, last), Segment("raw", last, end)]
    return [part for part in parts if part.start < part.end]


def plan(start: dt.datetime, end: dt.datetime, *, days: bool = True) -> list[Segment]:
    """Whole days (when `days`) from day rows, whole hours from hour rows, the rest raw."""
    if days:
        first = day_of(start)
        first = first if first == start else next_day(first)
        last = day_of(end)
        if first < last:
            return [*_hour_segments(start, first), Segment("day", first, last), *_hour_segments(last, end)]
    return _hour_segments(start, end)


def _in_segment(segment: Segment, tables: dict):
    """The records, or roll-up rows from `tables`, of the segment."""
    if segment.source == "raw":
        return UsageRecord.objects.filter(created_at__gte=segment.start, created_at__lt=segment.end)
    if segment.source == "day":  # keyed by date
        first, after = local_date(segment.start), local_date(segment.end)
    else:
        first, after = segment.start, segment.end
    return tables[segment.source].objects.filter(period__gte=first, period__lt=after)


def _counted(segment: Segment, where: Q):
    """The segment's rows in `where`, and how to sum calls, tokens in and tokens out there."""
    calls = Count("pk") if segment.source == "raw" else Sum("requests")
    sums = {"calls": calls, "tokens_in": Sum("prompt_tokens"), "tokens_out": Sum("completion_tokens")}
    return _in_segment(segment, COUNTS_TABLES).filter(where).order_by(), sums


def _slot_start(value: dt.datetime | dt.date, bucket: str) -> dt.datetime:
    """The start of the chart slot a row's period (or a record's truncated time) falls in."""
    if not isinstance(value, dt.datetime):  # a day of the server's time zone
        return midnight(value)
    return day_of(value) if bucket == "day" else hour_of(value)


def _grouped(segments: list[Segment], where: Q, by: tuple[str, ...], *, bucket: str | None = None):
    """(group values, calls, tokens in, tokens out) summed over the segments, grouped `by`
    (and first by the chart slot the rows fall in, when `bucket` is given)."""
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    slot_of: dict = {}  # a period's slot, worked out once
    for segment in segments:
        rows, sums = _counted(segment, where)
        fields = by
        if bucket is not None:
            if segment.source == "raw":
                rows = rows.annotate(slot=truncated("created_at", bucket))
            else:
                rows = rows.annotate(slot=F("period"))
            fields = ("slot", *by)
        for *group, calls, tokens_in, tokens_out in rows.values(*fields).annotate(**sums).values_list(*fields, *sums):
            if bucket is not None:
                if (slot := slot_of.get(group[0])) is None:
                    slot = slot_of[group[0]] = _slot_start(group[0], bucket)
                group[0] = slot
            found = totals[tuple(group)]
            found[0] += calls
            found[1] += tokens_in or 0
            found[2] += tokens_out or 0
    return [(group, *sums) for group, sums in totals.items()]


# --- Figures --------------------------------------------------------------------------------


@dataclass
class Figures:
    """Calls, tokens, cost and outcomes of a set of calls."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: int = 0
    rate_limited: int = 0
    refused: int = 0
    cancelled: int = 0
    cost: Decimal = Decimal(0)  # of the calls whose model has a price
    priced_requests: int = 0
    unpriced_requests: int = 0

    def add(self, status: str, calls: int, tokens_in: int, tokens_out: int, rate: Rate | None) -> None:
        self.requests += calls
        self.prompt_tokens += tokens_in
        self.completion_tokens += tokens_out
        if status == Status.ERROR:
            self.errors += calls
        elif status == Status.RATE_LIMITED:
            self.rate_limited += calls
        elif status == Status.REFUSED:
            self.refused += calls
        elif status == Status.CANCELLED:
            self.cancelled += calls
        if rate is None:
            self.unpriced_requests += calls
        else:
            self.cost += rate.cost(tokens_in, tokens_out)
            self.priced_requests += calls

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def failed(self) -> int:
        return self.errors + self.rate_limited

    @property
    def error_rate(self) -> float | None:
        """Failed calls (errors and rate limits) per call."""
        return self.failed / self.requests if self.requests else None

    @property
    def no_price(self) -> bool:
        """None of the calls' models has a price: the cost shows as "no price"."""
        return self.unpriced_requests > 0 and self.priced_requests == 0

    @property
    def partly_priced(self) -> bool:
        """Some calls' models have no price: the cost shown leaves them out."""
        return self.unpriced_requests > 0 and self.priced_requests > 0

    def sort_value(self, column: str):
        if column == "error_rate":
            return self.error_rate or 0.0
        if column == "cost":
            return Decimal(-1) if self.no_price else self.cost
        return getattr(self, column)


@dataclass
class Latency:
    count: int
    p50: int | None
    p95: int | None


def nearest_rank(values: np.ndarray, percents: Iterable[int] = PERCENTILES) -> list[int | None]:
    """The nearest-rank percentiles of `values`: the ⌈p·n/100⌉-th smallest for each p."""
    count = len(values)
    if not count:
        return [None for _ in percents]
    ranks = [max(1, -(-percent * count // 100)) for percent in percents]
    chosen = np.partition(values, [rank - 1 for rank in ranks])
    return [int(chosen[rank - 1]) for rank in ranks]


def _decode(hex_text: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(hex_text), dtype=f">u{HEX_DIGITS // 2}").astype(np.uint32)


class _Joined(Aggregate):
    """The strings of a text column, concatenated (in any order): one string per query."""

    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="GROUP_CONCAT(%(expressions)s, '')")

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="STRING_AGG(%(expressions)s, '')")


def latencies(segments: list[Segment], where: Q) -> tuple[np.ndarray, np.ndarray]:
    """Every time to first token and total time (ms) of the calls in the segments."""
    ttft_parts: list[np.ndarray] = []
    total_parts: list[np.ndarray] = []
    for segment in segments:
        rows = _in_segment(segment, TIMES_TABLES).filter(where).order_by()
        if segment.source == "raw":
            found = np.array(rows.values_list("ttft_ms", "total_ms"), dtype=float).reshape(-1, 2)
            for parts, column in ((ttft_parts, found[:, 0]), (total_parts, found[:, 1])):
                parts.append(column[~np.isnan(column)].astype(np.uint32))
        else:
            # Joined in the database: one string instead of one per row (half the time).
            joined = rows.aggregate(ttft=_Joined("ttft_values"), total=_Joined("total_values"))
            ttft_parts.append(_decode(joined["ttft"] or ""))
            total_parts.append(_decode(joined["total"] or ""))
    empty = np.zeros(0, dtype=np.uint32)
    return np.concatenate([empty, *ttft_parts]), np.concatenate([empty, *total_parts])


@dataclass
class Row:
    """A row of a breakdown table: one user, model, key or team."""

    key: object
    label: str
    figures: Figures = field(default_factory=Figures)


@dataclass
class Slot:
    """One bar of the chart: an hour or a day."""

    start: dt.datetime
    figures: Figures = field(default_factory=Figures)


@dataclass
class UsageSummary:
    filters: UsageFilters
    totals: Figures
    ttft: Latency
    total_time: Latency
    slots: list[Slot]
    breakdowns: dict[str, list[Row]]
    prices: PriceBook

    @property
    def bucket(self) -> str:
        return self.filters.bucket


BREAKDOWNS = {"user": "user_id", "model": "model", "key": "key_id", "team": "team_id"}
GROUPED_BY = ("team_id", "user_id", "key_id", "provider_id", "model", "status")


def _slots(filters: UsageFilters) -> list[dt.datetime]:
    """Start of every chart slot of the range, empty ones included."""
    starts = []
    moment = hour_of(filters.start) if filters.bucket == "hour" else day_of(filters.start)
    while moment < filters.end:
        starts.append(moment)
        moment = moment + dt.timedelta(hours=1) if filters.bucket == "hour" else next_day(moment)
    return starts


def usage_summary(*, scope: UsageScope, filters: UsageFilters) -> UsageSummary:
    """Every figure of the dashboard for the calls in `scope` that match `filters`."""
    where = scope.q() & filters.q()
    segments = plan(filters.start, filters.end, days=filters.bucket == "day")
    grouped = _grouped(segments, where, GROUPED_BY)
    by_time = _grouped(segments, where, ("provider_id", "model"), bucket=filters.bucket)
    book = price_book({group[3] for group, *_ in grouped})
    totals = Figures()
    tables: dict[str, dict] = {name: {} for name in BREAKDOWNS}
    for (team_id, user_id, key_id, provider_id, model, status), calls, tokens_in, tokens_out in grouped:
        price = book.get(provider_id, model)
        totals.add(status, calls, tokens_in, tokens_out, price)
        values = {"user": user_id, "model": model, "key": key_id, "team": team_id}
        for name, value in values.items():
            row = tables[name].setdefault(value, Row(key=value, label=""))
            row.figures.add(status, calls, tokens_in, tokens_out, price)
    slots = {start: Slot(start=start) for start in _slots(filters)}
    for (start, provider_id, model), calls, tokens_in, tokens_out in by_time:
        slot = slots.setdefault(start, Slot(start=start))
        slot.figures.add("", calls, tokens_in, tokens_out, book.get(provider_id, model))
    ttft, total = latencies(segments, where)
    ttft_p = nearest_rank(ttft)
    total_p = nearest_rank(total)
    return UsageSummary(
        filters=filters,
        totals=totals,
        ttft=Latency(len(ttft), *ttft_p),
        total_time=Latency(len(total), *total_p),
        slots=sorted(slots.values(), key=lambda slot: slot.start),
        breakdowns={name: list(rows.values()) for name, rows in tables.items()},
        prices=book,
    )


def latest_errors(*, scope: UsageScope, filters: UsageFilters, limit: int = 20) -> list[UsageRecord]:
    """The newest failed or refused calls of the range, with the upstream's (or our) message."""
    records = UsageRecord.objects.filter(
        created_at__gte=filters.start, created_at__lt=filters.end, status__in=UNANSWERED
    )
    return list(records.filter(scope.q() & filters.q()).order_by("-created_at")[:limit])


# --- Breakdown tables -----------------------------------------------------------------------

COLUMNS = {
    "label": "",
    "requests": "Requests",
    "prompt_tokens": "Tokens in",
    "completion_tokens": "Tokens out",
    "cost": "Cost",
    "failed": "Failed",
    "error_rate": "Error rate",
}
TABLE_TITLES = {"user": "By person", "model": "By model", "key": "By API key", "team": "By team"}
NAME_HEADINGS = {"user": "Person", "model": "Model", "key": "API key", "team": "Team"}
NONE_LABELS = {"user": "(no person or deleted)", "model": "(no model)", "key": "(no key)", "team": "(no team)"}


@dataclass
class Table:
    name: str  # "user", "model", "key", "team"
    title: str
    rows: list[Row]
    sort: str  # a SORTABLE column, "-" first for descending

    @property
    def sort_column(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    @property
    def columns(self) -> list[tuple[str, str]]:
        """(column, heading) of each column, the name column first."""
        return [(column, heading or NAME_HEADINGS[self.name]) for column, heading in COLUMNS.items()]


def _labels(name: str, keys: set) -> dict:
    ids = {key for key in keys if key is not None}
    if name == "user":
        return dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    if name == "team":
        return dict(Team.objects.filter(pk__in=ids).values_list("pk", "name"))
    if name == "key":
        found = ApiKey.objects.filter(pk__in=ids).select_related("provider")
        return {key.pk: f"{key.provider.name}: {key.masked} {key.label}".strip() for key in found}
    return {key: key for key in ids}


def _sort_key(column: str, row: Row):
    return row.label.lower() if column == "label" else row.figures.sort_value(column)


def breakdown_tables(summary: UsageSummary, sorts: dict[str, str]) -> list[Table]:
    """The breakdowns with their rows labelled and sorted as asked (`sorts`: table -> column)."""
    tables = []
    for name, rows in summary.breakdowns.items():
        labels = _labels(name, {row.key for row in rows})
        for row in rows:
            row.label = str(labels.get(row.key) or (f"#{row.key}" if row.key else NONE_LABELS[name]))
        sort = sorts.get(name) or "-requests"
        if sort.lstrip("-") not in COLUMNS:
            sort = "-requests"
        rows.sort(key=partial(_sort_key, sort.lstrip("-")), reverse=sort.startswith("-"))
        tables.append(Table(name=name, title=TABLE_TITLES[name], rows=rows, sort=sort))
    return tables


def unpriced_models(team: Team) -> list[tuple[str, str]]:
    """(provider name, model) the team has used or lists, without a price: their cost shows "no price"."""
    providers = {provider.pk: provider for provider in Provider.objects.filter(team=team)}
    priced = set(Price.objects.filter(provider__team=team).values_list("provider_id", "model"))
    used = set(UsageMonth.objects.filter(team=team).values_list("provider_id", "model").distinct().order_by())
    listed = {(pk, name) for pk, provider in providers.items() for name in provider.models_cache}
    missing = {(pk, model) for pk, model in used | listed if pk in providers and model and (pk, model) not in priced}
    return sorted((providers[pk].name, model) for pk, model in missing)
