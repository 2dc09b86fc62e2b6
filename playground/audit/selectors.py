"""Reading the audit log: the entries a person may see, filtered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from playground.accounts.models import Membership, Role, Team
from playground.accounts.scoping import team_for
from playground.audit.models import AuditEntry


@dataclass(frozen=True)
class AuditScope:
    everything: bool  # staff
    team_ids: frozenset[int]  # the teams whose entries the person sees (as their admin)


def audit_scope(user, *, team_id: int | None = None) -> AuditScope:
    """Staff see every entry; team admins those of their teams; others none (403).
    Naming a team one is not a member of answers 404."""
    if not getattr(user, "is_authenticated", False):
        raise Http404
    if user.is_staff:
        if team_id is not None and not Team.objects.filter(pk=team_id).exists():
            raise Http404
        return AuditScope(everything=team_id is None, team_ids=frozenset({team_id} if team_id else ()))
    if team_id is not None:
        return AuditScope(everything=False, team_ids=frozenset({team_for(user, team_id, role=Role.ADMIN).pk}))
    admin_roles = (Role.ADMIN, Role.OWNER)
    teams = frozenset(Membership.objects.filter(user=user, role__in=admin_roles).values_list("team_id", flat=True))
    if not teams:
        raise PermissionDenied("The audit log is for team admins and owners.")
    return AuditScope(everything=False, team_ids=teams)


def audit_entries(
    *,
    scope: AuditScope,
    action: str = "",
    actor: str = "",
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> QuerySet[AuditEntry]:
    """The entries in scope, newest first, with the given action, actor (part of the name) and dates."""
    entries = AuditEntry.objects.select_related("team")
    if not scope.everything:
        entries = entries.filter(team_id__in=scope.team_ids)
    if action:
        entries = entries.filter(action=action)
    if actor:
        entries = entries.filter(actor_name__icontains=actor)
    zone = timezone.get_default_timezone()
    if start:
        entries = entries.filter(created_at__gte=dt.datetime.combine(start, dt.time(), zone))
    if end:
        entries = entries.filter(created_at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone))
    return entries.order_by("-created_at", "-id")
