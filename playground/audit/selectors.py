"""Reading the audit log: the entries of some teams (or all), filtered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from playground.audit.models import AuditEntry


@dataclass(frozen=True)
class AuditScope:
    everything: bool  # staff
    team_ids: frozenset[int]  # the teams whose entries the person sees (as their admin)


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
