"""budget_check's SQL reads the budgets that budget_statuses' ORM rule reads: the team's own
and the person's there, never another person's or another team's."""

from __future__ import annotations

from decimal import Decimal

from playground.usage.budgets import budget_check, budget_statuses
from tests.factories import BudgetFactory, TeamFactory, UsageRecordFactory, UserFactory


def test_the_sql_refuses_exactly_where_the_orm_rule_says_a_budget_is_used_up(db):
    team, other_team = TeamFactory(), TeamFactory()
    me, them = UserFactory(), UserFactory()
    UsageRecordFactory(team=team, user=me, prompt_tokens=60, completion_tokens=40)  # 100 tokens, mine
    UsageRecordFactory(team=team, user=them, prompt_tokens=500, completion_tokens=500)
    limits = [
        (team, None, 5000),  # the team's: 1,100 used, not up
        (team, me, 100),  # mine: used up
        (team, them, 2000),  # theirs: not up
        (other_team, me, 1),  # another team's
    ]
    for owner, user, limit in limits:
        BudgetFactory(team=owner, user=user, limit=Decimal(limit))
    for user, used_up in ((me, True), (them, False), (None, False)):
        user_id = getattr(user, "pk", None)
        exceeded = [status for status in budget_statuses(team_id=team.pk, user_id=user_id) if status.exceeded]
        found = budget_check(team_id=team.pk, user_id=user_id)
        assert (found is not None) == used_up == bool(exceeded)
        if found is not None:
            assert found.budget == exceeded[0].budget
