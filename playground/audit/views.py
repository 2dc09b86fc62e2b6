"""The audit log page, for staff (every team) and team admins (their teams)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from playground.audit.forms import AuditFilterForm
from playground.audit.selectors import audit_entries, audit_scope

PER_PAGE = 50


@require_GET
@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    team = request.GET.get("team", "")
    scope = audit_scope(request.user, team_id=int(team) if team.isdigit() else None)
    form = AuditFilterForm(request.GET, scope=scope)
    if not form.is_valid():
        return render(request, "audit/audit_list.html", {"form": form}, status=400)
    filters = {name: value for name, value in form.cleaned_data.items() if name != "team"}
    entries = audit_entries(scope=scope, **filters)
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "audit/audit_list.html", context)
