"""A small world of usage: two teams, people with each role, providers, keys, prices, and
records written call by call through usage_record_create (so the roll-ups are incremental)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from playground.accounts.models import Role
from playground.usage.models import Price, UsageRecord
from playground.usage.rollups import day_of
from playground.usage.services import usage_record_create
from tests.factories import (
    ApiKeyFactory,
    MembershipFactory,
    ProjectFactory,
    ProviderFactory,
    TeamFactory,
    UserFactory,
)

MODELS = {"chat": ["gpt-4o", "llama"], "embeddings": ["embed"], "images": ["flux"], "completions": ["instruct"]}
STATUSES = ["ok"] * 12 + ["error", "rate_limited", "cancelled", "refused"]


@dataclass
class World:
    team: object
    other_team: object
    users: dict  # role -> user, "nonmember", "elsewhere" (a member of the other team only), "staff"
    providers: list
    keys: list
    prices: dict  # (provider_id, model) -> (input, output) per million
    start: dt.datetime  # the records lie in [start, start + 6 days)
    records: list


def make_records(rng: random.Random, count: int, start: dt.datetime, span: dt.timedelta, routes) -> list:
    made = []
    for _ in range(count):
        team, project, user, provider, key = rng.choice(routes)
        endpoint = rng.choice(list(MODELS))
        status = rng.choice(STATUSES)
        answered = status in ("ok", "cancelled")
        made.append(
            usage_record_create(
                team_id=team.pk,
                project_id=project.pk if project else None,
                user_id=user.pk,
                provider_id=provider.pk,
                key_id=key.pk if key else None,
                provider_name=provider.name,
                model=rng.choice(MODELS[endpoint]),
                endpoint=endpoint,
                prompt_tokens=rng.randint(1, 3000) if answered else None,
                completion_tokens=rng.randint(0, 900) if answered and rng.random() > 0.1 else None,
                ttft_ms=rng.randint(5, 4000) if answered and rng.random() > 0.05 else None,
                total_ms=rng.randint(50, 20_000) if status != "refused" else None,
                status=status,
                http_status={"ok": 200, "error": 500, "rate_limited": 429}.get(status),
                error_kind={"error": "server_error", "rate_limited": "rate_limited", "refused": "budget"}.get(
                    status, ""
                ),
                error_message="The provider had an internal error (500)." if status == "error" else "",
                created_at=start + dt.timedelta(seconds=rng.uniform(0, span.total_seconds())),
            )
        )
    return made


@pytest.fixture
def world(db) -> World:
    team, other_team = TeamFactory(name="Acme"), TeamFactory(name="Globex")
    users = {role.value: MembershipFactory(team=team, role=role, user__username=role.value).user for role in Role}
    users["nonmember"] = MembershipFactory(role=Role.OWNER, user__username="outsider").user
    users["elsewhere"] = MembershipFactory(team=other_team, role=Role.MEMBER, user__username="globex").user
    users["staff"] = UserFactory(username="staffer", is_staff=True)  # a member of no team
    MembershipFactory(team=other_team, user=users["admin"], role=Role.MEMBER)  # admin here, member there
    projects = [ProjectFactory(team=team, name="Launch"), ProjectFactory(team=team, name="Docs")]
    other_project = ProjectFactory(team=other_team, name="Ops")
    providers = [ProviderFactory(team=team, name="OpenAI"), ProviderFactory(team=team, name="IONOS")]
    other_provider = ProviderFactory(team=other_team, name="OpenAI")
    keys = [ApiKeyFactory(provider=providers[0], owner=None, label="team"), ApiKeyFactory(provider=providers[1])]
    other_key = ApiKeyFactory(provider=other_provider)
    prices = {
        (providers[0].pk, "gpt-4o"): (Decimal("2.5"), Decimal("10")),
        (providers[0].pk, "embed"): (Decimal("0.02"), Decimal("0")),
        (providers[1].pk, "llama"): (Decimal("0.65"), Decimal("0.65")),
        (other_provider.pk, "gpt-4o"): (Decimal("2.5"), Decimal("10")),
    }
    for (provider_id, model), (price_in, price_out) in prices.items():
        Price.objects.create(
            provider_id=provider_id, model=model, input_per_million=price_in, output_per_million=price_out
        )
    routes = [
        (team, projects[i % 2], users[role], providers[i % 2], keys[i % 2] if i % 3 else None)
        for i, role in enumerate(["owner", "admin", "member", "member", "admin", "viewer"])
    ] + [
        (other_team, other_project, users["elsewhere"], other_provider, other_key),
        (other_team, None, users["admin"], other_provider, other_key),
    ]
    start = day_of(timezone.now()) - dt.timedelta(days=8)
    records = make_records(random.Random(7), 400, start, dt.timedelta(days=6), routes)
    return World(team, other_team, users, providers, keys, prices, start, records)


def fresh_records() -> list:
    return list(UsageRecord.objects.all())
