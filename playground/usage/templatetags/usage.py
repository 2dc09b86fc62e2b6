"""Formatting of usage figures; the figures themselves come from usage.selectors."""

from __future__ import annotations

from decimal import Decimal

from django import template

from playground.usage.budgets import money

register = template.Library()


@register.filter
def count(value) -> str:
    """1234567 -> "1,234,567"; None -> "—"."""
    return "—" if value is None else f"{value:,}"


@register.filter
def amount(value: Decimal) -> str:
    """Money with cents, or with four decimals below 1 so that small costs do not show as 0.00."""
    return money(value, places=4 if value and abs(value) < 1 else 2)


@register.filter
def cost(figures, marker: str = "*") -> str:
    """The cost of a set of calls: an amount, "no price", or an amount with `marker` when it
    leaves out calls whose model has no price (the page explains the marker)."""
    if figures.no_price:
        return "no price"
    shown = amount(figures.cost)
    return f"{shown}{marker}" if figures.partly_priced else shown


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


@register.filter
def ms(value: int | None) -> str:
    return "—" if value is None else f"{value:,} ms"


@register.simple_tag(takes_context=True)
def usage_sort_query(context, table, column: str) -> str:
    """The current query string with `table` sorted by `column`: reversed if it already is,
    else names ascending and figures descending (largest first)."""
    query = context["request"].GET.copy()
    if table.sort_column == column:
        sort = column if table.descending else f"-{column}"
    else:
        sort = column if column == "label" else f"-{column}"
    query[f"sort_{table.name}"] = sort
    return f"?{query.urlencode()}"
