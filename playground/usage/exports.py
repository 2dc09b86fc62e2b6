"""CSV export of the usage records a person filtered: streamed in chunks, never built in memory.

Records are read through a chunked cursor (a server-side cursor on PostgreSQL) and written
a few thousand rows at a time, so memory stays flat for a million rows. Cells are made as
playground.spreadsheet makes them. Costs use today's prices, as on the dashboard.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import partial

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import CharField, Func

from playground.accounts.models import Project, Team
from playground.providers.models import ApiKey
from playground.spreadsheet import text_cell
from playground.usage.models import UsageRecord
from playground.usage.prices import MILLION, scope_price_book
from playground.usage.scoping import UsageScope
from playground.usage.selectors import UsageFilters

CHUNK_ROWS = 5000
HEADER = [
    "time_utc",
    "team",
    "project",
    "user",
    "provider",
    "key",
    "model",
    "endpoint",
    "status",
    "http_status",
    "prompt_tokens",
    "completion_tokens",
    "tokens_estimated",
    "cost",
    "ttft_ms",
    "total_ms",
    "retries",
    "error_kind",
    "error_message",
]
COLUMNS = [
    "created_at",  # selected as ISO text (IsoUtc)
    "team_id",
    "project_id",
    "user_id",
    "provider_id",
    "provider_name",
    "key_id",
    "model",
    "endpoint",
    "status",
    "http_status",
    "prompt_tokens",
    "completion_tokens",
    "tokens_estimated",
    "ttft_ms",
    "total_ms",
    "retries",
    "error_kind",
    "error_message",
]


def _names(scope: UsageScope) -> dict[str, dict[int, str]]:
    """Names of the teams, projects, people and keys a record refers to, made safe once."""
    teams, projects, keys = Team.objects.all(), Project.objects.all(), ApiKey.objects.all()
    if not scope.everything:
        teams = teams.filter(pk__in=scope.team_ids)
        projects = projects.filter(team_id__in=scope.team_ids)
        keys = keys.filter(provider__team_id__in=scope.team_ids)
    key_labels = keys.values_list("pk", "last4", "label")
    found = {
        "team": teams.values_list("pk", "name"),
        "project": projects.values_list("pk", "name"),
        "user": get_user_model().objects.values_list("pk", "username"),
        "key": ((pk, f"••••{last4} {label}".strip()) for pk, last4, label in key_labels),
    }
    return {name: {pk: text_cell(text) for pk, text in pairs} for name, pairs in found.items()}


class IsoUtc(Func):
    """A datetime column as ISO 8601 text in UTC, made by the database (no per-row parsing)."""

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        # Django keeps SQLite datetimes as "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC.
        template = (
            "REPLACE(%(expressions)s, ' ', 'T') || CASE WHEN LENGTH(%(expressions)s) = 19 THEN '.000000Z' ELSE 'Z' END"
        )
        return self.as_sql(compiler, connection, template=template)

    def as_postgresql(self, compiler, connection, **extra):
        template = "TO_CHAR(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        return self.as_sql(compiler, connection, template=template)


def records_csv(*, scope: UsageScope, filters: UsageFilters) -> Iterator[str]:
    """The CSV of the records in scope matching the filters, oldest first, in chunks of text.

    Text cells that repeat (names, models, enum words) are made once per distinct value.
    """
    records = UsageRecord.objects.filter(created_at__gte=filters.start, created_at__lt=filters.end)
    records = records.filter(scope.q() & filters.q()).annotate(time_utc=IsoUtc("created_at"))
    records = records.order_by("created_at", "pk").values_list("time_utc", *COLUMNS[1:])
    names = _names(scope)
    teams, projects, users = names["team"], names["project"], names["user"]
    keys = _Memo(lambda key: f"#{key}" if key else "", names["key"])  # ids of deleted keys stay
    routes = _Memo(partial(_route, scope_price_book(scope)))  # provider and model, neutralised once
    words = _Memo(lambda word: text_cell(word or ""))  # endpoint, status, error kind: a few values
    yield ",".join(HEADER) + "\r\n"
    sql, params = records.query.sql_with_params()
    # Django's iterator() would convert every value; the chunked cursor (server-side on
    # PostgreSQL) hands the rows as they are, and nothing here needs converting.
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK_ROWS):
            lines = []
            add = lines.append
            for (created, team, project, user, provider_id, provider, key, model, endpoint, status, http, prompt,
                 completion, estimated, ttft, total, retries, kind, message) in rows:  # fmt: skip
                safe_provider, safe_model, rate_in, rate_out = routes[provider_id, provider, model]
                cost = "" if rate_in is None else f"{(prompt or 0) * rate_in + (completion or 0) * rate_out:.6f}"
                add(
                    f"{created},{teams.get(team, '')},{projects.get(project, '')},{users.get(user, '')},"
                    f"{safe_provider},{keys[key]},{safe_model},{words[endpoint]},{words[status]},"
                    f"{'' if http is None else http},{'' if prompt is None else prompt},"
                    f"{'' if completion is None else completion},{'yes' if estimated else ''},{cost},"
                    f"{'' if ttft is None else ttft},{'' if total is None else total},{retries},"
                    f"{words[kind]},{text_cell(message) if message else ''}\r\n"
                )
            yield "".join(lines)


def _route(book, route: tuple) -> tuple:
    """(provider, model, price per token in, out) of a record's provider and model."""
    provider_id, provider, model = route
    rate = book.get(provider_id, model)
    per_token = (rate.input_per_million / MILLION, rate.output_per_million / MILLION) if rate else (None, None)
    return (text_cell(provider), text_cell(model), *per_token)


class _Memo(dict):
    """A dict that computes a missing value once with `function`."""

    def __init__(self, function, known: dict | None = None):
        super().__init__(known or {})
        self.function = function

    def __missing__(self, key):
        self[key] = value = self.function(key)
        return value


async def streamed(chunks: Iterator[str]) -> AsyncIterator[str]:
    """The same chunks for an ASGI server: each read in the database thread, in turn.

    (Handed a plain iterator, Django's StreamingHttpResponse under ASGI would read it all
    into a list before sending anything.)
    """
    read = sync_to_async(next, thread_sensitive=True)
    try:
        while (chunk := await read(chunks, None)) is not None:
            yield chunk
    finally:
        await sync_to_async(chunks.close, thread_sensitive=True)()
