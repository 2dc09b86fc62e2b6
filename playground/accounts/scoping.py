"""The one door to objects a team owns.

Every view, websocket consumer, download and export reaches a team's object through
`scoped_get`: a person who is not a member of the owning team gets 404 (the object's
existence is not revealed), a member whose role is too low gets 403.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import F, Model, OuterRef, QuerySet, Subquery
from django.http import Http404

from playground.accounts.models import Membership, Project, Role, Team

M = TypeVar("M", bound=Model)


def scoped_get(
    user,
    queryset: QuerySet[M] | type[M],
    *,
    role: Role | str = Role.VIEWER,
    team_field: str = "team",
    **lookup,
) -> M:
    """Fetch one object of a team `user` belongs to, with at least `role` in that team.

    `team_field` is the path from the object to its team ("team", "project__team", or "pk"
    for a Team itself). The object comes back with `member_role`, the user's Role there.
    """
    if not getattr(user, "is_authenticated", False):
        raise Http404
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    # The annotation follows the filter on the membership, so it reuses that join and reads
    # the user's own role there.
    memberships = "memberships" if team_field == "pk" else f"{team_field}__memberships"
    mine = queryset.filter(**{f"{memberships}__user": user})
    found = mine.annotate(member_role=F(f"{memberships}__role")).filter(**lookup)
    obj = found.first()
    if obj is None:
        raise Http404
    obj.member_role = Role(obj.member_role)
    if not obj.member_role.at_least(role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in the team.")
    return obj


def team_for(user, team_id: int, *, role: Role | str = Role.VIEWER) -> Team:
    return scoped_get(user, Team, role=role, team_field="pk", pk=team_id)


def project_for(user, project_id: int, *, role: Role | str = Role.VIEWER) -> Project:
    return scoped_get(user, Project.objects.select_related("team"), role=role, pk=project_id)


def teams_of(user) -> QuerySet[Team]:
    """The teams `user` belongs to (each with `member_role`)."""
    role_in_team = Membership.objects.filter(team=OuterRef("pk"), user=user).values("role")[:1]
    return Team.objects.annotate(member_role=Subquery(role_in_team)).filter(member_role__isnull=False)


def projects_of(user) -> QuerySet[Project]:
    """The projects of every team `user` belongs to."""
    return Project.objects.filter(team__memberships__user=user).select_related("team")
