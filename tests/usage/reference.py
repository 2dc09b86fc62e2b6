"""The dashboard's figures computed the plain way, record by record, to check the selectors against."""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

FILTERS = ("team_id", "project_id", "user_id", "provider_id", "key_id", "model", "endpoint", "status")


def chosen(records, start, end, *, visible=lambda record: True, **filters):
    wanted = {name: value for name, value in filters.items() if value not in (None, "")}
    return [
        record
        for record in records
        if start <= record.created_at < end
        and visible(record)
        and all(getattr(record, name) == value for name, value in wanted.items())
    ]


def nearest_rank(values, percent: int):
    """The ⌈p·n/100⌉-th smallest value, written from the definition."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = math.ceil(Fraction(percent, 100) * len(ordered))
    return ordered[max(rank, 1) - 1]


def cost_of(records, prices) -> tuple[Decimal, int, int]:
    """(cost of the priced calls, priced calls, unpriced calls)."""
    total, priced, unpriced = Decimal(0), 0, 0
    for record in records:
        price = prices.get((record.provider_id, record.model))
        if price is None:
            unpriced += 1
            continue
        priced += 1
        tokens_in, tokens_out = record.prompt_tokens or 0, record.completion_tokens or 0
        total += (tokens_in * price[0] + tokens_out * price[1]) / Decimal(1_000_000)
    return total, priced, unpriced


def figures(records, prices) -> dict:
    failed = sum(1 for record in records if record.status in ("error", "rate_limited"))
    cost, priced, unpriced = cost_of(records, prices)
    return {
        "requests": len(records),
        "prompt_tokens": sum(record.prompt_tokens or 0 for record in records),
        "completion_tokens": sum(record.completion_tokens or 0 for record in records),
        "errors": sum(1 for record in records if record.status == "error"),
        "rate_limited": sum(1 for record in records if record.status == "rate_limited"),
        "refused": sum(1 for record in records if record.status == "refused"),
        "error_rate": failed / len(records) if records else None,
        "cost": cost,
        "priced_requests": priced,
        "unpriced_requests": unpriced,
    }


def latencies(records) -> dict:
    ttft = [record.ttft_ms for record in records if record.ttft_ms is not None]
    total = [record.total_ms for record in records if record.total_ms is not None]
    return {
        "ttft": (len(ttft), nearest_rank(ttft, 50), nearest_rank(ttft, 95)),
        "total": (len(total), nearest_rank(total, 50), nearest_rank(total, 95)),
    }


def grouped(records, key) -> dict:
    groups = defaultdict(list)
    for record in records:
        groups[key(record)].append(record)
    return groups
