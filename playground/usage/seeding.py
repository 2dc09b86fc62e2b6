"""Realistic usage records for trying the dashboard and measuring it (`manage.py seed_usage`).

Several teams of different sizes, each with its projects, two providers, shared and personal
keys and prices; people who each favour a few models; more calls on weekdays and in working
hours; errors with the upstreams' kind of messages, rate limits and stopped answers; spread
over the last 90 days. Records are written in bulk (COPY on PostgreSQL) and the roll-ups of
the seeded range are then rebuilt from all records, so they stay exact.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from playground.accounts.models import Membership, Project, Role, Team
from playground.providers import crypto
from playground.providers.models import ApiKey, Provider
from playground.usage.models import Price, UsageRecord
from playground.usage.rollups import rollups_rebuild

TEAMS = [  # name, people, projects
    ("Seed Aurora", 12, ["Support bot", "Search", "Docs"]),
    ("Seed Borealis", 8, ["Agents", "Evaluation"]),
    ("Seed Cirrus", 6, ["Marketing", "Translation"]),
    ("Seed Dune", 4, ["Research"]),
    ("Seed Eddy", 3, ["Prototype"]),
]
PROVIDERS = {  # name: [(model, endpoint, input price, output price or None for no price)]
    "OpenAI": [
        ("gpt-4o", "chat", "2.50", "10.00"),
        ("gpt-4o-mini", "chat", "0.15", "0.60"),
        ("gpt-3.5-turbo-instruct", "completions", "1.50", "2.00"),
        ("text-embedding-3-small", "embeddings", "0.02", "0"),
        ("gpt-image-1", "images", "5.00", "40.00"),
    ],
    "IONOS": [
        ("meta-llama/Llama-3.3-70B-Instruct", "chat", "0.65", "0.65"),
        ("mistralai/Mistral-Small-24B-Instruct", "chat", None, None),  # shows "no price"
        ("BAAI/bge-m3", "embeddings", "0.02", "0"),
        ("black-forest-labs/FLUX.1-schnell", "images", "0.10", "0"),
    ],
}
ENDPOINT_WEIGHTS = {"chat": 0.72, "completions": 0.03, "embeddings": 0.17, "images": 0.08}
ERRORS = [  # status, http status, error kind, message
    ("rate_limited", 429, "rate_limited", "Rate limited by the provider: Rate limit reached. Try again in 20 s."),
    ("error", 400, "bad_request", "The provider rejected the request (400): max_tokens is too large for this model."),
    ("error", 500, "server_error", "The provider had an internal error (500): The server had an error."),
    ("error", 503, "server_error", "The provider had an internal error (503): Service temporarily unavailable."),
    ("error", None, "first_byte_timeout", "The provider did not start answering within 120 s."),
    ("error", 401, "authentication", "The API key was refused (401): Incorrect API key provided: ••••. Check the key."),
]
ERROR_WEIGHTS = [0.35, 0.2, 0.18, 0.12, 0.1, 0.05]
# Hours of a day (UTC) weighted like an office day; weekends a fifth of a weekday.
HOUR_WEIGHTS = np.array([1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 13, 10, 13, 14, 14, 12, 9, 6, 4, 3, 2, 1, 1], float)
COLUMNS = [
    "team_id",
    "project_id",
    "user_id",
    "provider_id",
    "key_id",
    "provider_name",
    "model",
    "endpoint",
    "prompt_tokens",
    "completion_tokens",
    "tokens_estimated",
    "ttft_ms",
    "total_ms",
    "retries",
    "status",
    "http_status",
    "error_kind",
    "error_message",
    "created_at",
]


@dataclass
class Route:
    """One way a person calls: team, project, provider, key and model."""

    team_id: int
    project_id: int
    user_id: int
    provider_id: int
    key_id: int
    provider_name: str
    model: str
    endpoint: str


@dataclass
class Cast:
    routes: list[Route] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)


def _people(team: Team, count: int, offset: int, rng: np.random.Generator):
    User = get_user_model()
    people = []
    for n in range(count):
        username = f"seed-{team.name.split()[-1].lower()}-{n + 1:02d}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, email=f"{username}@example.com")
            user.set_unusable_password()
            user.save()
        role = Role.OWNER if n == 0 else Role.ADMIN if n == 1 else Role.VIEWER if n == count - 1 else Role.MEMBER
        Membership.objects.get_or_create(team=team, user=user, defaults={"role": role})
        people.append(user)
    return people


def _cast(rng: np.random.Generator) -> Cast:
    """The teams, people, providers, keys and prices, created once and reused."""
    cast = Cast()
    for offset, (team_name, size, project_names) in enumerate(TEAMS):
        team, _ = Team.objects.get_or_create(name=team_name)
        projects = [Project.objects.get_or_create(team=team, name=name)[0] for name in project_names]
        people = _people(team, size, offset, rng)
        providers = {}
        for provider_name, models in PROVIDERS.items():
            provider, created = Provider.objects.get_or_create(
                team=team, name=provider_name, defaults={"base_url": f"https://{provider_name.lower()}.example.com/v1"}
            )
            if created:
                shared = ApiKey(provider=provider, label="Team key", created_by=people[0])
                shared.set_secret(f"sk-seed-shared-{team.pk:02d}{provider.pk:02d}")
                shared.save()
            for model, _endpoint, input_price, output_price in models:
                if input_price is not None:
                    rates = {"input_per_million": Decimal(input_price), "output_per_million": Decimal(output_price)}
                    Price.objects.get_or_create(provider=provider, model=model, defaults=rates)
            providers[provider_name] = provider
        for rank, person in enumerate(people):
            # Some people bring a personal key for one provider.
            personal = {}
            if rank % 3 == 1:
                provider = providers["OpenAI"]
                key = ApiKey.objects.filter(provider=provider, owner=person).first()
                if key is None:
                    key = ApiKey(provider=provider, owner=person, label="Personal", created_by=person)
                    key.ciphertext, key.last4 = crypto.encrypt(f"sk-seed-personal-{person.pk}"), f"{person.pk:04d}"[-4:]
                    key.save()
                personal[provider.pk] = key.pk
            activity = 1.0 / (rank + 1) ** 0.7  # a few people make most calls
            favourite_projects = [projects[(rank + i) % len(projects)] for i in range(min(2, len(projects)))]
            for provider_name, models in PROVIDERS.items():
                provider = providers[provider_name]
                shared_key = provider.api_keys.filter(owner=None).values_list("pk", flat=True)[0]
                key_id = personal.get(provider.pk) or shared_key
                liking = 1.0 if (rank + len(provider_name)) % 2 else 0.4
                for index, (model, endpoint, _in, _out) in enumerate(models):
                    taste = 1.0 / (1 + (index + rank) % len(models))
                    for position, project in enumerate(favourite_projects):
                        cast.routes.append(
                            Route(team.pk, project.pk, person.pk, provider.pk, key_id, provider.name, model, endpoint)
                        )
                        cast.weights.append(
                            activity * liking * taste * ENDPOINT_WEIGHTS[endpoint] * (0.75 if position == 0 else 0.25)
                        )
    return cast


def _times(rng: np.random.Generator, rows: int, days: int, end: dt.datetime) -> np.ndarray:
    """Microseconds since the epoch in [end - days, end), sorted: weekday office hours busiest."""
    hour_us = 3_600_000_000
    start_us, end_us = (int((moment).timestamp() * 1_000_000) for moment in (end - dt.timedelta(days=days), end))
    first_hour_us = start_us - start_us % hour_us
    hours = np.arange(first_hour_us, end_us, hour_us)
    moments = [dt.datetime.fromtimestamp(hour / 1_000_000, tz=dt.UTC) for hour in hours]
    weights = np.array([HOUR_WEIGHTS[m.hour] * (0.2 if m.weekday() >= 5 else 1.0) for m in moments])
    times = rng.choice(hours, size=rows, p=weights / weights.sum()) + rng.integers(0, hour_us, size=rows)
    outside = (times < start_us) | (times >= end_us)  # in the range's first or last, partial hour
    times[outside] = rng.integers(start_us, end_us, size=int(outside.sum()))
    return np.sort(times)


def _batch(rng: np.random.Generator, cast: Cast, times: np.ndarray) -> list[tuple]:
    rows = len(times)
    probabilities = np.array(cast.weights) / sum(cast.weights)
    route_index = rng.choice(len(cast.routes), size=rows, p=probabilities)
    fate = rng.random(rows)  # < 0.035 failed, < 0.045 stopped, else ok
    error_choice = rng.choice(len(ERRORS), size=rows, p=ERROR_WEIGHTS)
    prompt = np.maximum(1, rng.lognormal(np.log(600), 1.0, rows)).astype(int)
    answer = np.maximum(1, rng.lognormal(np.log(250), 0.8, rows)).astype(int)
    ttft = np.maximum(20, rng.lognormal(np.log(450), 0.55, rows)).astype(int)
    per_token = rng.lognormal(np.log(18), 0.35, rows)
    quick = np.maximum(15, rng.lognormal(np.log(140), 0.5, rows)).astype(int)
    image_ms = np.maximum(800, rng.lognormal(np.log(6000), 0.45, rows)).astype(int)
    retries = (rng.random(rows) < 0.03).astype(int)
    estimated = rng.random(rows) < 0.05
    out = []
    for i in range(rows):
        route = cast.routes[route_index[i]]
        created = dt.datetime.fromtimestamp(times[i] / 1_000_000, tz=dt.UTC)
        endpoint = route.endpoint
        prompt_tokens = completion_tokens = ttft_ms = None
        status, http_status, kind, message = "ok", 200, "", ""
        if fate[i] < 0.035:
            status, http_status, kind, message = ERRORS[error_choice[i]]
            total_ms = int(quick[i]) if kind != "first_byte_timeout" else 120_000
        else:
            if endpoint in ("chat", "completions"):
                prompt_tokens, completion_tokens = int(prompt[i]), int(answer[i])
                ttft_ms = int(ttft[i])
                if fate[i] < 0.045:
                    status, completion_tokens = "cancelled", max(1, int(answer[i]) // 3)
                total_ms = ttft_ms + int(completion_tokens * per_token[i])
            elif endpoint == "embeddings":
                prompt_tokens, completion_tokens = int(prompt[i]) * 4, 0
                ttft_ms = total_ms = int(quick[i])
            else:
                prompt_tokens, completion_tokens = int(prompt[i]) // 10 + 5, 0
                ttft_ms = total_ms = int(image_ms[i])
        out.append(
            (
                route.team_id,
                route.project_id,
                route.user_id,
                route.provider_id,
                route.key_id,
                route.provider_name,
                route.model,
                endpoint,
                prompt_tokens,
                completion_tokens,
                bool(estimated[i]) and endpoint in ("chat", "completions") and prompt_tokens is not None,
                ttft_ms,
                total_ms,
                int(retries[i]) + (2 if status == "rate_limited" else 0),
                status,
                http_status,
                kind,
                message,
                created,
            )
        )
    return out


def _insert(rows: list[tuple]) -> None:
    table = UsageRecord._meta.db_table
    names = ", ".join(connection.ops.quote_name(column) for column in COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        adapt = connection.ops.adapt_datetimefield_value
        placeholders = ", ".join(["%s"] * len(COLUMNS))
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({placeholders})", [(*row[:-1], adapt(row[-1])) for row in rows]
        )


def seed_usage(*, rows: int, days: int = 90, seed: int = 1, end: dt.datetime | None = None, batch: int = 50_000):
    """Add `rows` records over the `days` before `end` (now), then rebuild their roll-ups."""
    rng = np.random.default_rng(seed)
    end = end or timezone.now()
    with transaction.atomic():
        cast = _cast(rng)
    times = _times(rng, rows, days, end)
    for offset in range(0, rows, batch):
        with transaction.atomic():
            _insert(_batch(rng, cast, times[offset : offset + batch]))
    written = rollups_rebuild(start=end - dt.timedelta(days=days + 1), end=end)
    if connection.vendor == "postgresql":
        # What autovacuum would do later: without statistics on the freshly loaded tables the
        # planner guesses badly.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return written
