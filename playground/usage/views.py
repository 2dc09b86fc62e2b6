"""Pages of usage: the dashboard and its CSV export, a team's prices and budgets.

Every view starts with the usage scope (staff: everything; team admins: their teams; others:
their own calls) or, for prices and budgets, the team with the role needed. The dashboard is
a plain GET form: its filters live in the query string, so a view can be shared.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from playground.accounts.models import Role
from playground.usage import exports, selectors, services
from playground.usage.budgets import team_budget_statuses
from playground.usage.charts import usage_chart
from playground.usage.forms import BudgetForm, PriceForm, UsageFilterForm
from playground.usage.models import Budget, Price
from playground.usage.scoping import managed_teams, usage_object_for, usage_scope, usage_team_for


def _team_asked(request: HttpRequest) -> int | None:
    value = request.GET.get("team", "")
    return int(value) if value.isdigit() else None


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    scope = usage_scope(request.user, team_id=_team_asked(request))
    form = UsageFilterForm(request.GET, scope=scope)
    context = {"form": form, "scope": scope, "managed_teams": managed_teams(scope)}
    template = "usage/dashboard.html#usage-page" if request.htmx else "usage/dashboard.html"
    if not form.is_valid():
        return render(request, template, context, status=400)
    filters = form.filters()
    summary = selectors.usage_summary(scope=scope, filters=filters)
    sorts = {name: request.GET.get(f"sort_{name}", "") for name in selectors.BREAKDOWNS}
    context.update(
        summary=summary,
        chart=usage_chart(summary.slots, summary.bucket),
        tables=selectors.breakdown_tables(summary, sorts),
        errors=selectors.latest_errors(scope=scope, filters=filters),
        export_query=request.GET.urlencode(),
    )
    return render(request, template, context)


@require_GET
@login_required
def export(request: HttpRequest) -> HttpResponse:
    scope = usage_scope(request.user, team_id=_team_asked(request))
    form = UsageFilterForm(request.GET, scope=scope)
    if not form.is_valid():
        return HttpResponse(" ".join(form.errors.get("__all__", ["Check the filters."])), status=400)
    chunks = exports.records_csv(scope=scope, filters=form.filters())
    # Under ASGI a plain iterator would be read whole before sending: hand it an async one.
    content = exports.streamed(chunks) if isinstance(request, ASGIRequest) else chunks
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="usage-{timezone.now():%Y%m%d-%H%M}.csv"'
    return response


@require_http_methods(["GET", "POST"])
@login_required
def price_list(request: HttpRequest, team_id: int) -> HttpResponse:
    team = usage_team_for(request.user, team_id, role=Role.ADMIN if request.method == "POST" else Role.VIEWER)
    form = PriceForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        price = services.price_set(by_user=request.user, **form.cleaned_data)
        messages.success(request, f"Price of {price.model} at {price.provider.name} saved.")
        return redirect("usage_prices", team_id=team.pk)
    context = {
        "team": team,
        "prices": Price.objects.filter(provider__team=team).select_related("provider"),
        "unpriced": selectors.unpriced_models(team),
        "form": form,
        "can_edit": team.member_role.at_least(Role.ADMIN),
        "currency": settings.USAGE_CURRENCY,
    }
    return render(request, "usage/prices.html", context, status=400 if form.errors else 200)


@require_POST
@login_required
def price_delete(request: HttpRequest, price_id: int) -> HttpResponse:
    queryset = Price.objects.select_related("provider__team")
    price = usage_object_for(request.user, queryset, team_field="provider__team", role=Role.ADMIN, pk=price_id)
    services.price_delete(price=price, by_user=request.user)
    messages.success(request, f"Price of {price.model} at {price.provider.name} removed.")
    return redirect("usage_prices", team_id=price.provider.team_id)


@require_http_methods(["GET", "POST"])
@login_required
def budget_list(request: HttpRequest, team_id: int) -> HttpResponse:
    team = usage_team_for(request.user, team_id, role=Role.ADMIN)
    form = BudgetForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        budget = services.budget_set(team=team, by_user=request.user, **form.cleaned_data)
        messages.success(request, f"{budget} saved.")
        return redirect("usage_budgets", team_id=team.pk)
    context = {"team": team, "statuses": team_budget_statuses(team_id=team.pk), "form": form}
    return render(request, "usage/budgets.html", context, status=400 if form.errors else 200)


@require_POST
@login_required
def budget_delete(request: HttpRequest, budget_id: int) -> HttpResponse:
    queryset = Budget.objects.select_related("user", "team")
    budget = usage_object_for(request.user, queryset, team_field="team", role=Role.ADMIN, pk=budget_id)
    services.budget_delete(budget=budget, by_user=request.user)
    messages.success(request, f"{budget} removed.")
    return redirect("usage_budgets", team_id=budget.team_id)
