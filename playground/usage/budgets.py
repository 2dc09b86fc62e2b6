"""Monthly budgets: what counts against them, the check before each call, the 80 % warning.

A budget limits a team's tokens (in and out) or cost in a calendar month of the server's
time zone; a budget naming a person limits what that person spends in the team. Usage is
read from the month roll-ups (a few rows), so the check before each call stays cheap: one
query when the team has no budget, two or three when it has. A call is refused once the
usage has reached the limit (used ≥ limit); the call that crosses it is let through, as its
tokens are known only at its end. Refused calls write a usage record with 0 tokens, so
admins see them, and so they never count. Cost budgets count the calls whose model has a
price (at today's price, like the dashboard).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from playground.rows import Columns, fetch
from playground.usage.models import Budget, BudgetKind, UsageMonth
from playground.usage.prices import price_book
from playground.usage.rollups import month_of

WARN_AT = Decimal("0.8")


def money(amount: Decimal, places: int = 2) -> str:
    return f"{amount:,.{places}f} {settings.USAGE_CURRENCY}"


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget
    used: Decimal
    whose: str  # "The team's", "Your", "ada's"

    @property
    def limit(self) -> Decimal:
        return self.budget.limit

    @property
    def exceeded(self) -> bool:
        return self.used >= self.limit

    @property
    def warning(self) -> bool:
        """At 80 % or more of the limit."""
        return self.used >= self.limit * WARN_AT

    @property
    def percent(self) -> int:
        return int(self.used * 100 / self.limit) if self.limit else 100

    def _amount(self, value: Decimal) -> str:
        return money(value) if self.budget.kind == BudgetKind.COST else f"{int(value):,} tokens"

    @property
    def limit_text(self) -> str:
        return self._amount(self.limit)

    @property
    def used_text(self) -> str:
        """What is used, in the limit's unit (which the message names with the limit)."""
        return money(self.used) if self.budget.kind == BudgetKind.COST else f"{int(self.used):,}"

    @property
    def message(self) -> str:
        if self.exceeded:
            return f"{self.whose} monthly budget of {self.limit_text} is used up ({self.used_text} used)."
        return f"{self.whose} monthly budget of {self.limit_text} is {self.percent} % used ({self.used_text} used)."


def _whose(budget: Budget, user_id: int | None) -> str:
    if budget.user_id is None:
        return "The team's"
    return "Your" if budget.user_id == user_id else f"{budget.user.get_username()}'s"


def _statuses(budgets: list[Budget], team_id: int, user_id: int | None, now) -> list[BudgetStatus]:
    if not budgets:
        return []
    month = month_of(now or timezone.now())
    rows = list(
        UsageMonth.objects.filter(team_id=team_id, month=month)
        .values("user_id", "provider_id", "model")
        .annotate(tokens_in=Sum("prompt_tokens"), tokens_out=Sum("completion_tokens"))
        .values_list("user_id", "provider_id", "model", "tokens_in", "tokens_out")
        .order_by()
    )
    costs = any(budget.kind == BudgetKind.COST for budget in budgets)
    book = price_book({provider_id for _, provider_id, *_ in rows}) if costs else None
    statuses = []
    for budget in budgets:
        used = Decimal(0)
        for row_user, provider_id, model, tokens_in, tokens_out in rows:
            if budget.user_id is not None and row_user != budget.user_id:
                continue
            if budget.kind == BudgetKind.TOKENS:
                used += tokens_in + tokens_out
            elif (rate := book.get(provider_id, model)) is not None:
                used += rate.cost(tokens_in, tokens_out)
        statuses.append(BudgetStatus(budget=budget, used=used, whose=_whose(budget, user_id)))
    return statuses


def budget_statuses(*, team_id: int, user_id: int | None, now=None) -> list[BudgetStatus]:
    """The budgets that apply to `user_id`'s calls in the team this month, with their usage."""
    applying = Budget.objects.filter(team_id=team_id).filter(Q(user__isnull=True) | Q(user_id=user_id))
    return _statuses(list(applying.select_related("user")), team_id, user_id, now)


def team_budget_statuses(*, team_id: int, now=None) -> list[BudgetStatus]:
    """Every budget of the team (its own and its people's) with this month's usage."""
    budgets = Budget.objects.filter(team_id=team_id).select_related("user").order_by("user__username", "kind")
    return _statuses(list(budgets), team_id, None, now)


# budget_statuses' rule: the team's own budgets and the user's there.
_APPLYING_SQL = "SELECT {columns} FROM {table} WHERE team_id = %s AND (user_id IS NULL OR user_id = %s)"
_BUDGET_COLUMNS = Columns(Budget)


def budget_check(*, team_id: int, user_id: int | None) -> BudgetStatus | None:
    """The used-up budget that refuses this call, or None when the call may go."""
    # Checked before every call, which waits for it: the budgets that apply are read in SQL
    # (see usable_key; tests/usage/test_budgets_sql.py checks it agrees with budget_statuses).
    # Their order does not matter: the fullest is picked.
    statuses = _statuses(fetch(_BUDGET_COLUMNS, _APPLYING_SQL, [team_id, user_id]), team_id, user_id, None)
    exceeded = [status for status in statuses if status.exceeded]
    return max(exceeded, key=lambda status: status.used / status.limit if status.limit else 1, default=None)


def budget_warning(*, team_id: int, user_id: int | None) -> BudgetStatus | None:
    """The budget nearest its limit once it is at 80 % or more (used up included), else None."""
    near = [status for status in budget_statuses(team_id=team_id, user_id=user_id) if status.warning]
    return max(near, key=lambda status: status.used / status.limit if status.limit else 1, default=None)
