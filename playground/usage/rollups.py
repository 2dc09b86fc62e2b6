"""Keeping the roll-ups equal to the records: one record added at a time, or recomputed.

`rollups_add` runs in the transaction of `usage_record_create` (the one door every call goes
through), so a record and its roll-ups are written together or not at all. `rollups_rebuild`
recomputes a range from the records with the same arithmetic in SQL (INSERT … SELECT … GROUP
BY, so a million records are rolled up without passing through Python); tests check that
both give the same rows.

Hours are UTC hours; days and months are those of the server's time zone (TIME_ZONE), so a
change of TIME_ZONE needs `manage.py rebuild_usage_rollups`.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Count,
    DateField,
    DateTimeField,
    F,
    Func,
    Max,
    Min,
    Q,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone

from playground.usage.models import UsageDay, UsageDayTimes, UsageHour, UsageHourTimes, UsageMonth, UsageRecord

HEX_DIGITS = 8  # per latency value: up to 2**32 - 1 ms, more than a PositiveIntegerField holds
DIMENSIONS = ("team_id", "project_id", "user_id", "provider_id", "key_id", "model", "endpoint", "status")
MONTH_DIMENSIONS = ("team_id", "user_id", "provider_id", "model")
SUMS = ("requests", "prompt_tokens", "completion_tokens")
TIMES = ("ttft_values", "total_values")
# (counts table, times table, period kind)
GRAINS = ((UsageHour, UsageHourTimes, "hour"), (UsageDay, UsageDayTimes, "day"))


def zone() -> dt.tzinfo:
    """The time zone of days and months: the server's (TIME_ZONE), whatever a request activated."""
    return timezone.get_default_timezone()


def hour_of(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def local_date(moment: dt.datetime) -> dt.date:
    """The moment's date in the server's time zone: the key of day rows."""
    return timezone.localtime(moment, zone()).date()


def midnight(day: dt.date) -> dt.datetime:
    """The moment a day of the server's time zone starts."""
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day), zone())


def day_of(moment: dt.datetime) -> dt.datetime:
    """Midnight starting the moment's day in the server's time zone."""
    return midnight(timezone.localtime(moment, zone()).date())


def next_day(day: dt.datetime) -> dt.datetime:
    """The midnight after `day` (a local midnight), 23 to 25 hours later around DST changes."""
    return midnight(timezone.localtime(day, zone()).date() + dt.timedelta(days=1))


def month_of(moment: dt.datetime) -> dt.date:
    """First day of the moment's month in the server's time zone."""
    return timezone.localtime(moment, zone()).date().replace(day=1)


def month_start(month: dt.date) -> dt.datetime:
    return midnight(month)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def hex_value(ms: int | None) -> str:
    return "" if ms is None else f"{ms:0{HEX_DIGITS}x}"


def _adapted(value):
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _add(cursor, table, key: dict, counts: dict[str, int] | None = None, texts: dict[str, str] | None = None):
    """Add to the row of `key` (one of them, should there be duplicates), or create it.

    Plain SQL: built through the ORM, these few statements cost several milliseconds of
    Python per call, in the thread every call's record waits for.
    """
    counts, texts = counts or {}, texts or {}
    quote, name = connection.ops.quote_name, table._meta.db_table
    conditions, where_params = [], []
    for column, value in key.items():
        if value is None:
            conditions.append(f"{quote(column)} IS NULL")
        else:
            conditions.append(f"{quote(column)} = %s")
            where_params.append(_adapted(value))
    changes = [f"{quote(column)} = {quote(column)} + %s" for column in counts]
    changes += [f"{quote(column)} = {quote(column)} || %s" for column in texts]
    cursor.execute(
        f"UPDATE {name} SET {', '.join(changes)} "
        f"WHERE id = (SELECT id FROM {name} WHERE {' AND '.join(conditions)} LIMIT 1)",
        [*counts.values(), *texts.values(), *where_params],
    )
    if cursor.rowcount == 0:
        values = {**{column: _adapted(value) for column, value in key.items()}, **counts, **texts}
        columns = ", ".join(quote(column) for column in values)
        cursor.execute(
            f"INSERT INTO {name} ({columns}) VALUES ({', '.join(['%s'] * len(values))})", list(values.values())
        )


def rollups_add(record: UsageRecord) -> None:
    """Count a new record in its hour, day and month rows. Call inside the record's transaction."""
    counts = {
        "requests": 1,
        "prompt_tokens": record.prompt_tokens or 0,
        "completion_tokens": record.completion_tokens or 0,
    }
    key = {name: getattr(record, name) for name in DIMENSIONS}
    texts = {"ttft_values": hex_value(record.ttft_ms), "total_values": hex_value(record.total_ms)}
    timed = any(texts.values())
    with connection.cursor() as cursor:
        for counts_table, times_table, kind in GRAINS:
            period = hour_of(record.created_at) if kind == "hour" else local_date(record.created_at)
            _add(cursor, counts_table, {"period": period, **key}, counts=counts)
            if timed:
                _add(cursor, times_table, {"period": period, **key}, texts=texts)
        if record.team_id is not None:
            month_key = {name: getattr(record, name) for name in MONTH_DIMENSIONS}
            _add(cursor, UsageMonth, {"month": month_of(record.created_at), **month_key}, counts=counts)


class HexList(Aggregate):
    """A column's non-null values as one string of HEX_DIGITS hex digits each, in any order."""

    name = "HexList"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra):
        column, params = compiler.compile(self.get_source_expressions()[0])
        # PRINTF would turn NULL into zeros; GROUP_CONCAT leaves NULLs out.
        sql = f"GROUP_CONCAT(CASE WHEN {column} IS NULL THEN NULL ELSE PRINTF('%%0{HEX_DIGITS}x', {column}) END, '')"
        return sql, (*params, *params)

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.get_source_expressions()[0])
        return f"STRING_AGG(LPAD(TO_HEX({column}), {HEX_DIGITS}, '0'), '')", params


class _SqliteUtcTrunc(Func):
    """SQLite's own strftime where Django's Trunc would call Python once per row (UTC only)."""

    formats = {"hour": "%%Y-%%m-%%d %%H:00:00", "day": "%%Y-%%m-%%d", "month": "%%Y-%%m-01"}

    def __init__(self, column: str, kind: str, output_field):
        super().__init__(F(column), output_field=output_field)
        self.template = f"STRFTIME('{self.formats[kind]}', %(expressions)s)"


def truncated(column: str, kind: str):
    """`column` cut to its hour (a UTC datetime), or its day or month (a date in the server's time
    zone), as roll-up rows are keyed."""
    output_field = DateTimeField() if kind == "hour" else DateField()
    tz = dt.UTC if kind == "hour" else zone()
    if connection.vendor == "sqlite" and (tz is dt.UTC or getattr(tz, "key", "") in ("UTC", "Etc/UTC")):
        return _SqliteUtcTrunc(column, kind, output_field)
    return Trunc(column, kind, output_field=output_field, tzinfo=tz)


def _insert_select(table, queryset, columns: list[str]) -> int:
    """INSERT INTO table (columns) SELECT …: `queryset` selects exactly those, in that order."""
    sql, params = queryset.query.sql_with_params()
    names = ", ".join(connection.ops.quote_name(table._meta.get_field(column).column) for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table._meta.db_table} ({names}) {sql}", params)
        return cursor.rowcount


def _grouped(records, period, dimensions: tuple[str, ...], **sums):
    """`records` grouped by period and dimensions, selecting exactly those, then `sums`."""
    grouped = records.annotate(period_of=period).values("period_of", *dimensions).annotate(**sums)
    # In time order, as rows written call by call are: scans of a range then read few pages.
    return grouped.order_by("period_of").values_list("period_of", *dimensions, *sums)


COUNTED = {
    "requests_sum": lambda: Count("pk"),
    "prompt_sum": lambda: Coalesce(Sum("prompt_tokens"), 0),
    "completion_sum": lambda: Coalesce(Sum("completion_tokens"), 0),
}
TIMED = {
    "ttft_sum": lambda: Coalesce(HexList("ttft_ms"), Value(""), output_field=TextField()),
    "total_sum": lambda: Coalesce(HexList("total_ms"), Value(""), output_field=TextField()),
}


def _rebuild_grain(counts_table, times_table, kind: str, start: dt.datetime, end: dt.datetime) -> int:
    records = UsageRecord.objects.filter(created_at__gte=start, created_at__lt=end)
    period = truncated("created_at", kind)
    first, after = (start, end) if kind == "hour" else (local_date(start), local_date(end))
    counts_table.objects.filter(period__gte=first, period__lt=after).delete()
    times_table.objects.filter(period__gte=first, period__lt=after).delete()
    counted = _grouped(records, period, DIMENSIONS, **{name: make() for name, make in COUNTED.items()})
    written = _insert_select(counts_table, counted, ["period", *DIMENSIONS, *SUMS])
    # Like rollups_add, no times row for calls with neither time (failed before any answer).
    timed_records = records.filter(Q(ttft_ms__isnull=False) | Q(total_ms__isnull=False))
    timed = _grouped(timed_records, period, DIMENSIONS, **{name: make() for name, make in TIMED.items()})
    _insert_select(times_table, timed, ["period", *DIMENSIONS, *TIMES])
    return written


def _rebuild_months(first: dt.date, after: dt.date) -> int:
    records = UsageRecord.objects.filter(
        created_at__gte=month_start(first), created_at__lt=month_start(after), team__isnull=False
    )
    period = truncated("created_at", "month")
    UsageMonth.objects.filter(month__gte=first, month__lt=after).delete()
    counted = _grouped(records, period, MONTH_DIMENSIONS, **{name: make() for name, make in COUNTED.items()})
    return _insert_select(UsageMonth, counted, ["month", *MONTH_DIMENSIONS, *SUMS])


def _lock_against_writers() -> None:
    """Hold off `rollups_add` until the rebuild commits, so that no call is counted twice or
    lost. A writer whose record the rebuild cannot see yet adds it afterwards. (SQLite's
    IMMEDIATE transactions already take the database's write lock at their start.)"""
    if connection.vendor == "postgresql":
        tables = [UsageHour, UsageHourTimes, UsageDay, UsageDayTimes, UsageMonth]
        names = ", ".join(table._meta.db_table for table in tables)
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")


def rollups_rebuild(*, start: dt.datetime | None = None, end: dt.datetime | None = None) -> tuple[int, int, int]:
    """Recompute the roll-ups of [start, end) from the records (all of them by default).

    The range is widened to whole days (hence whole hours) and, for the month rows, whole
    months. Returns how many hour, day and month rows of counts were written.
    """
    with transaction.atomic():
        _lock_against_writers()
        if start is None or end is None:
            bounds = UsageRecord.objects.order_by().aggregate(first=Min("created_at"), last=Max("created_at"))
            now = timezone.now()
            start = start or bounds["first"] or now
            end = end or (bounds["last"] or now) + dt.timedelta(microseconds=1)
        start, end = day_of(start), next_day(day_of(end - dt.timedelta(microseconds=1)))
        hours = _rebuild_grain(UsageHour, UsageHourTimes, "hour", start, end)
        days = _rebuild_grain(UsageDay, UsageDayTimes, "day", start, end)
        months = _rebuild_months(month_of(start), next_month(month_of(end - dt.timedelta(microseconds=1))))
    return hours, days, months
