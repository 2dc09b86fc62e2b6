"""Whose usage a person may see: staff everything, team admins their teams, others their own.

Every usage page and export starts with `usage_scope`; its `q()` is applied to every query
of records and roll-ups, so nothing outside the scope can be counted, listed or exported.
Naming a team one is not a member of answers 404, as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404

from playground.accounts.models import Membership, Role, Team
from playground.accounts.scoping import scoped_get, team_for


@dataclass(frozen=True)
class UsageScope:
    user_id: int
    everything: bool  # staff: every team, and calls made outside any team
    admin_team_ids: frozenset[int]  # teams whose every call the person sees
    own_team_ids: frozenset[int]  # teams where the person sees only their own calls

    @property
    def team_ids(self) -> frozenset[int]:
        return self.admin_team_ids | self.own_team_ids

    @property
    def sees_others(self) -> bool:
        return self.everything or bool(self.admin_team_ids)

    def q(self) -> Q:
        """The records (or roll-up rows) in scope; both have team_id and user_id."""
        if self.everything:
            return Q()
        return Q(team_id__in=self.admin_team_ids) | Q(team_id__in=self.own_team_ids, user_id=self.user_id)

    def admins(self, team_id: int | None) -> bool:
        return self.everything or team_id in self.admin_team_ids


def usage_scope(user, *, team_id: int | None = None) -> UsageScope:
    """The scope of `user`, narrowed to `team_id` when given (404 if not a member, unless staff)."""
    if not getattr(user, "is_authenticated", False):
        raise Http404
    nothing = frozenset()
    if user.is_staff:
        if team_id is None:
            return UsageScope(user_id=user.pk, everything=True, admin_team_ids=nothing, own_team_ids=nothing)
        if not Team.objects.filter(pk=team_id).exists():
            raise Http404
        return UsageScope(user_id=user.pk, everything=False, admin_team_ids=frozenset({team_id}), own_team_ids=nothing)
    if team_id is not None:
        roles = {team_id: team_for(user, team_id).member_role}
    else:
        memberships = Membership.objects.filter(user=user).values_list("team_id", "role")
        roles = {pk: Role(role) for pk, role in memberships}
    admin = frozenset(pk for pk, role in roles.items() if role.at_least(Role.ADMIN))
    return UsageScope(user_id=user.pk, everything=False, admin_team_ids=admin, own_team_ids=frozenset(roles) - admin)


def usage_team_for(user, team_id: int, *, role: Role | str = Role.VIEWER) -> Team:
    """A team whose usage settings (prices, budgets) `user` reads or changes: its members
    with `role`, and staff (who manage every team, with `member_role` owner)."""
    if getattr(user, "is_staff", False):
        team = Team.objects.filter(pk=team_id).first()
        if team is None:
            raise Http404
        team.member_role = Role.OWNER
        return team
    return team_for(user, team_id, role=role)


def usage_object_for(user, queryset, *, team_field: str, role: Role | str, **lookup):
    """One object of such a team (a price, a budget): as `scoped_get`, staff reaching all."""
    if getattr(user, "is_staff", False):
        found = queryset.filter(**lookup).first()
        if found is None:
            raise Http404
        found.member_role = Role.OWNER
        return found
    return scoped_get(user, queryset, role=role, team_field=team_field, **lookup)


def managed_teams(scope: UsageScope):
    """The teams whose prices and budgets the person of `scope` manages."""
    return Team.objects.all() if scope.everything else Team.objects.filter(pk__in=scope.admin_team_ids)
