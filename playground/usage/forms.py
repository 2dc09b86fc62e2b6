"""Forms of the usage pages: the dashboard's filters (read from the query string), prices, budgets."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from playground.accounts.models import Project, Team
from playground.providers.models import ApiKey, Provider
from playground.usage.models import BudgetKind, Endpoint, Status, UsageMonth
from playground.usage.rollups import hour_of, local_date, midnight
from playground.usage.scoping import UsageScope
from playground.usage.selectors import UsageFilters

RANGES = [("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days"), ("custom", "Custom dates")]
DEFAULT_RANGE = "7d"
MAX_CUSTOM_DAYS = 400
CHARTED_ENDPOINTS = [Endpoint.CHAT, Endpoint.COMPLETIONS, Endpoint.IMAGES, Endpoint.EMBEDDINGS, Endpoint.RERANK]
ANY = [("", "Any")]


def preset_range(name: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Whole hours or days ending with the current one, so that the range is read from roll-ups."""
    if name == "24h":
        end = hour_of(now) + dt.timedelta(hours=1)
        return end - dt.timedelta(hours=24), end
    days = 7 if name == "7d" else 30
    today = local_date(now)
    return midnight(today - dt.timedelta(days=days - 1)), midnight(today + dt.timedelta(days=1))


class UsageFilterForm(forms.Form):
    range = forms.ChoiceField(label="Period", choices=RANGES, required=False)
    start = forms.DateField(label="From (custom)", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To (custom)", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    team = forms.TypedChoiceField(label="Team", coerce=int, empty_value=None, required=False)
    project = forms.TypedChoiceField(label="Project", coerce=int, empty_value=None, required=False)
    user = forms.TypedChoiceField(label="Person", coerce=int, empty_value=None, required=False)
    provider = forms.TypedChoiceField(label="Provider", coerce=int, empty_value=None, required=False)
    model = forms.ChoiceField(label="Model", required=False)
    key = forms.TypedChoiceField(label="API key", coerce=int, empty_value=None, required=False)
    endpoint = forms.ChoiceField(label="Endpoint", choices=ANY + [(e.value, e.label) for e in CHARTED_ENDPOINTS])
    status = forms.ChoiceField(label="Outcome", choices=ANY + list(Status.choices))

    def __init__(self, data=None, *, scope: UsageScope):
        if data is not None and not data.get("range"):
            data = data.copy()  # the menu shows the period the figures cover
            data["range"] = DEFAULT_RANGE
        super().__init__(data)
        self.scope = scope
        for name, choices in filter_choices(scope).items():
            self.fields[name].choices = ANY + choices
        for name in ("endpoint", "status"):
            self.fields[name].required = False

    def clean(self):
        data = super().clean()
        if data.get("range") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError("A custom period needs both dates.")
            if start > end:
                raise forms.ValidationError("The first date comes after the last.")
            if (end - start).days >= MAX_CUSTOM_DAYS:
                raise forms.ValidationError(f"A custom period may span at most {MAX_CUSTOM_DAYS} days.")
        return data

    def filters(self, now: dt.datetime | None = None) -> UsageFilters:
        data = self.cleaned_data
        if data.get("range") == "custom":
            start, end = midnight(data["start"]), midnight(data["end"] + dt.timedelta(days=1))
        else:
            start, end = preset_range(data.get("range") or DEFAULT_RANGE, now or timezone.now())
        return UsageFilters(
            start=start,
            end=end,
            team_id=data.get("team"),
            project_id=data.get("project"),
            user_id=data.get("user"),
            provider_id=data.get("provider"),
            key_id=data.get("key"),
            model=data.get("model") or "",
            endpoint=data.get("endpoint") or "",
            status=data.get("status") or "",
        )


def filter_choices(scope: UsageScope) -> dict[str, list[tuple]]:
    """What each filter offers: only teams, people, providers and keys within the scope."""
    teams = Team.objects.all() if scope.everything else Team.objects.filter(pk__in=scope.team_ids)
    team_ids = None if scope.everything else scope.team_ids
    projects = Project.objects.select_related("team").order_by("team__name", "name")
    providers = Provider.objects.select_related("team").order_by("team__name", "name")
    keys = ApiKey.objects.select_related("provider").order_by("provider__name", "created_at")
    months = UsageMonth.objects.order_by()
    if team_ids is not None:
        projects = projects.filter(team_id__in=team_ids)
        providers = providers.filter(team_id__in=team_ids)
        keys = keys.filter(provider__team_id__in=team_ids)
        months = months.filter(team_id__in=team_ids)
    users = get_user_model().objects.order_by("username")
    if not scope.everything:
        others = users.filter(memberships__team_id__in=scope.admin_team_ids)
        users = (others | users.filter(pk=scope.user_id)).distinct()
        if not scope.admin_team_ids:
            keys = keys.filter(owner__isnull=True) | keys.filter(owner_id=scope.user_id)
    several = scope.everything or len(scope.team_ids) > 1
    return {
        "team": [(team.pk, team.name) for team in teams],
        "project": [(p.pk, f"{p.team.name} · {p.name}" if several else p.name) for p in projects],
        "user": [(user.pk, user.get_username()) for user in users],
        "provider": [(p.pk, f"{p.team.name} · {p.name}" if several else p.name) for p in providers],
        "model": [(name, name) for name in months.values_list("model", flat=True).distinct().order_by("model")],
        "key": [(key.pk, key_label(key)) for key in keys],
    }


def key_label(key: ApiKey) -> str:
    label = f" {key.label}" if key.label else ""
    return f"{key.provider.name}: {key.masked}{label}{' (revoked)' if key.revoked_at else ''}"


class PriceForm(forms.Form):
    """A price to set; one for a model that has one replaces it (services.price_set)."""

    provider = forms.ModelChoiceField(label="Provider", queryset=Provider.objects.none())
    model = forms.CharField(label="Model", max_length=200, widget=forms.TextInput(attrs={"list": "price-models"}))
    input_per_million = forms.DecimalField(
        label="Input price per million tokens", min_value=0, max_digits=12, decimal_places=4
    )
    output_per_million = forms.DecimalField(
        label="Output price per million tokens", min_value=0, max_digits=12, decimal_places=4
    )

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = team.providers.all()


class BudgetForm(forms.Form):
    """A budget to set; one of the same kind for the same person replaces it (services.budget_set)."""

    user = forms.ModelChoiceField(
        label="Person (empty: the whole team)", queryset=get_user_model().objects.none(), required=False
    )
    kind = forms.ChoiceField(label="Limit on", choices=BudgetKind.choices)
    limit = forms.DecimalField(label="Monthly limit", min_value=0, max_digits=16, decimal_places=2)

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = get_user_model().objects.filter(memberships__team=team).order_by("username")
