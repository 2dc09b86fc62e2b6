"""What calls cost: each provider's current price per model, per million tokens in and out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from playground.usage.models import Price

MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Rate:
    input_per_million: Decimal
    output_per_million: Decimal

    def cost(self, tokens_in: int, tokens_out: int) -> Decimal:
        return (tokens_in * self.input_per_million + tokens_out * self.output_per_million) / MILLION


@dataclass(frozen=True)
class PriceBook:
    rates: dict[tuple[int, str], Rate]

    def get(self, provider_id: int | None, model: str) -> Rate | None:
        return self.rates.get((provider_id, model))


def price_book(provider_ids: Iterable[int | None]) -> PriceBook:
    """The prices of the given providers' models, in one query."""
    ids = {pk for pk in provider_ids if pk is not None}
    found = Price.objects.filter(provider_id__in=ids).values_list(
        "provider_id", "model", "input_per_million", "output_per_million"
    )
    return PriceBook({(provider_id, model): Rate(rate_in, rate_out) for provider_id, model, rate_in, rate_out in found})


def scope_price_book(scope) -> PriceBook:
    """The prices of every provider of the teams in a usage scope (all of them for staff)."""
    found = Price.objects.all()
    if not scope.everything:
        found = found.filter(provider__team_id__in=scope.team_ids)
    rows = found.values_list("provider_id", "model", "input_per_million", "output_per_million")
    return PriceBook({(provider_id, model): Rate(rate_in, rate_out) for provider_id, model, rate_in, rate_out in rows})
