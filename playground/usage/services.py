"""Writing usage: the record every upstream call ends in, and the prices and budgets admins set."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from playground.audit.models import Action
from playground.audit.services import audit_record
from playground.usage.budgets import budget_check
from playground.usage.models import Budget, Price, Status, UsageRecord
from playground.usage.rollups import rollups_add


def usage_record_create(**fields) -> UsageRecord:
    """Write the record of one call and count it in the roll-ups, in one transaction."""
    message = fields.get("error_message") or ""
    fields["error_message"] = message[:500]
    if fields.get("status") == Status.REFUSED:
        # Never sent: no times, so that refusals do not pull the latency percentiles down.
        fields["ttft_ms"] = fields["total_ms"] = None
    with transaction.atomic():
        record = UsageRecord.objects.create(**fields)
        rollups_add(record)
    return record


def _price_values(price: Price) -> dict[str, Any]:
    return {
        "provider": price.provider.name,
        "model": price.model,
        "input_per_million": f"{price.input_per_million:.4f}",
        "output_per_million": f"{price.output_per_million:.4f}",
    }


def price_set(*, provider, model: str, input_per_million: Decimal, output_per_million: Decimal, by_user) -> Price:
    """Set (create or replace) the price of a provider's model."""
    model = model.strip()
    with transaction.atomic():
        price = Price.objects.select_for_update().filter(provider=provider, model=model).order_by("pk").first()
        before = _price_values(price) if price else None
        price = price or Price(provider=provider, model=model)
        price.input_per_million, price.output_per_million = input_per_million, output_per_million
        price.save()
        audit_record(
            actor=by_user, action=Action.PRICE_SET, obj=price, team=provider.team, label=f"{provider.name}: {model}",
            before=before, after=_price_values(price),
        )  # fmt: skip
    return price


def price_delete(*, price: Price, by_user) -> None:
    with transaction.atomic():
        audit_record(
            actor=by_user, action=Action.PRICE_DELETE, obj=price, team=price.provider.team,
            label=f"{price.provider.name}: {price.model}", before=_price_values(price),
        )  # fmt: skip
        price.delete()


def _budget_values(budget: Budget) -> dict[str, Any]:
    return {
        "person": budget.user.get_username() if budget.user_id else None,
        "kind": budget.kind,
        "limit": f"{budget.limit:.2f}",
    }


def _budget_label(budget: Budget) -> str:
    who = budget.user.get_username() if budget.user_id else "the team"
    return f"{budget.get_kind_display()} budget of {who}"


def budget_set(*, team, user, kind: str, limit: Decimal, by_user) -> Budget:
    """Set (create or replace) the monthly budget of `kind` for the team, or for `user` in it."""
    with transaction.atomic():
        budget = Budget.objects.select_for_update().filter(team=team, user=user, kind=kind).order_by("pk").first()
        before = _budget_values(budget) if budget else None
        budget = budget or Budget(team=team, user=user, kind=kind)
        budget.limit = limit
        budget.save()
        audit_record(
            actor=by_user, action=Action.BUDGET_SET, obj=budget, team=team, label=_budget_label(budget),
            before=before, after=_budget_values(budget),
        )  # fmt: skip
    return budget


def budget_delete(*, budget: Budget, by_user) -> None:
    with transaction.atomic():
        audit_record(
            actor=by_user, action=Action.BUDGET_DELETE, obj=budget, team=budget.team, label=_budget_label(budget),
            before=_budget_values(budget),
        )  # fmt: skip
        budget.delete()


class UsageRecorder:
    """What upstream counts calls with (playground.upstream.recorder), registered at start-up."""

    def budget_refusal(self, *, team_id: int, user_id: int | None) -> str | None:
        exceeded = budget_check(team_id=team_id, user_id=user_id)
        return exceeded.message if exceeded is not None else None

    def record(self, **fields) -> None:
        usage_record_create(**fields)
