"""The audit log page, for staff (every team) and team admins (their teams).

The log itself (playground.audit) is written by every app and knows no team rules; who
may read which team's entries is decided here, with the other team rules.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from playground.accounts.models import Membership, Role, Team
from playground.accounts.scoping import team_for
from playground.audit.models import Action
from playground.audit.selectors import AuditScope, audit_entries


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


class AuditFilterForm(forms.Form):
    team = forms.TypedChoiceField(label="Team", coerce=int, empty_value=None, required=False)
    action = forms.ChoiceField(label="Action", choices=[("", "Any"), *Action.choices], required=False)
    actor = forms.CharField(label="By (username)", max_length=150, required=False)
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data=None, *, scope: AuditScope):
        super().__init__(data)
        teams = Team.objects.all() if scope.everything else Team.objects.filter(pk__in=scope.team_ids)
        self.fields["team"].choices = [("", "Any"), *((team.pk, team.name) for team in teams)]


PER_PAGE = 50


@require_GET
@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    team = request.GET.get("team", "")
    scope = audit_scope(request.user, team_id=int(team) if team.isdigit() else None)
    form = AuditFilterForm(request.GET, scope=scope)
    if not form.is_valid():
        return render(request, "accounts/audit_list.html", {"form": form}, status=400)
    filters = {name: value for name, value in form.cleaned_data.items() if name != "team"}
    entries = audit_entries(scope=scope, **filters)
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "accounts/audit_list.html", context)
