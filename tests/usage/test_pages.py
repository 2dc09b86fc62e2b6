"""The usage pages by every kind of person: who may open what, what each one sees, and the
dashboard as a plain GET form whose query string holds the filters."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from playground.accounts.models import Role
from tests.access import ACTORS, assert_access
from tests.factories import BudgetFactory, PriceFactory, ProviderFactory, UsageRecordFactory, UserFactory


@pytest.fixture
def setup(team_with_roles):
    team = team_with_roles.team
    provider = ProviderFactory(team=team, name="OpenAI")
    price = PriceFactory(provider=provider, model="gpt-4o", input_per_million=1, output_per_million=2)
    budget = BudgetFactory(team=team, limit=1000)
    for role in ("owner", "member", "viewer"):
        UsageRecordFactory(team=team, user=team_with_roles.users[role], provider_id=provider.pk, model="gpt-4o")
    return team_with_roles, price, budget


PAGES = [
    ("usage_dashboard", "get", Role.VIEWER, None),
    ("usage_export", "get", Role.VIEWER, None),
    ("usage_prices", "get", Role.VIEWER, None),
    ("usage_prices", "post", Role.ADMIN, {"model": "gpt-4o-mini", "input_per_million": "1", "output_per_million": "2"}),
    ("usage_price_delete", "post", Role.ADMIN, {}),
    ("usage_budgets", "get", Role.ADMIN, None),
    ("usage_budgets", "post", Role.ADMIN, {"kind": "tokens", "limit": "5000"}),
    ("usage_budget_delete", "post", Role.ADMIN, {}),
    ("audit_list", "get", Role.ADMIN, None),
]


def url_of(name: str, team, price, budget) -> str:
    if name in ("usage_dashboard", "usage_export", "audit_list"):
        return f"{reverse(name)}?team={team.pk}"
    if name == "usage_price_delete":
        return reverse(name, args=[price.pk])
    if name == "usage_budget_delete":
        return reverse(name, args=[budget.pk])
    return reverse(name, args=[team.pk])


@pytest.mark.parametrize("actor", [*ACTORS, "staff"])
@pytest.mark.parametrize(("name", "method", "lowest_role", "data"), PAGES)
def test_access(client, setup, actor, name, method, lowest_role, data):
    team_with_roles, price, budget = setup
    if actor == "staff":
        client.force_login(UserFactory(is_staff=True))  # staff reach every team without being in it
    elif actor != "anonymous":
        client.force_login(team_with_roles.users[actor])
    url = url_of(name, team_with_roles.team, price, budget)
    if data is not None and name == "usage_prices":
        data = {**data, "provider": price.provider_id}
    response = client.post(url, data) if method == "post" else client.get(url)
    assert_access(response, "owner" if actor == "staff" else actor, lowest_role)


@pytest.mark.parametrize("name", ["usage_dashboard", "usage_export", "audit_list"])
def test_signed_out_people_are_sent_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_members_see_only_their_own_calls(client, setup):
    team_with_roles, _, _ = setup
    client.force_login(team_with_roles.users["member"])
    response = client.get(reverse("usage_dashboard"))
    summary = response.context["summary"]
    assert summary.totals.requests == 1
    assert [row.label for row in summary.breakdowns["user"]] == ["member"]
    page = response.content.decode()
    assert "owner" not in page.split('id="usage-page"')[1].split("</form>")[1]
    assert "Your own calls." in page


def test_a_member_cannot_widen_their_view_with_a_person_filter(client, setup):
    team_with_roles, _, _ = setup
    client.force_login(team_with_roles.users["member"])
    response = client.get(reverse("usage_dashboard"), {"user": team_with_roles.users["owner"].pk})
    assert response.status_code == 400  # not one of the choices they are offered
    csv = client.get(reverse("usage_export"), {"user": team_with_roles.users["owner"].pk})
    assert csv.status_code == 400


def test_admins_see_the_whole_team(client, setup):
    team_with_roles, _, _ = setup
    client.force_login(team_with_roles.users["admin"])
    summary = client.get(reverse("usage_dashboard"), {"team": team_with_roles.team.pk}).context["summary"]
    assert summary.totals.requests == 3
    assert {row.label for row in summary.breakdowns["user"]} == {"owner", "member", "viewer"}


def test_staff_see_every_team(client, setup, team_with_roles):
    UsageRecordFactory()  # a call of another team
    client.force_login(UserFactory(is_staff=True))
    summary = client.get(reverse("usage_dashboard")).context["summary"]
    assert summary.totals.requests == 4 and len(summary.breakdowns["team"]) == 2


def test_the_query_string_holds_the_filters(client, setup):
    team_with_roles, price, _ = setup
    owner = team_with_roles.users["owner"]
    client.force_login(owner)
    today = timezone.localdate()
    query = {
        "range": "custom",
        "start": (today - dt.timedelta(days=2)).isoformat(),
        "end": today.isoformat(),
        "team": team_with_roles.team.pk,
        "user": owner.pk,
        "model": "gpt-4o",
        "provider": price.provider_id,
        "endpoint": "chat",
        "status": "ok",
    }
    response = client.get(reverse("usage_dashboard"), query)
    assert response.status_code == 200
    filters = response.context["summary"].filters
    assert (filters.user_id, filters.model, filters.provider_id, filters.endpoint, filters.status) == (
        owner.pk, "gpt-4o", price.provider_id, "chat", "ok",
    )  # fmt: skip
    assert timezone.localtime(filters.start).date() == today - dt.timedelta(days=2)
    assert timezone.localtime(filters.end).date() == today + dt.timedelta(days=1)  # the last day is included
    assert response.context["summary"].totals.requests == 1
    page = response.content.decode()
    assert f'href="/usage/export.csv?{response.wsgi_request.GET.urlencode()}"'.replace("&", "&amp;") in page


def test_a_custom_period_needs_two_dates_in_order(client, setup):
    team_with_roles, _, _ = setup
    client.force_login(team_with_roles.users["owner"])
    response = client.get(reverse("usage_dashboard"), {"range": "custom", "start": "2026-03-02", "end": "2026-03-01"})
    assert response.status_code == 400 and "The first date comes after the last." in response.content.decode()
    response = client.get(reverse("usage_dashboard"), {"range": "custom", "start": "2026-03-02"})
    assert response.status_code == 400 and "A custom period needs both dates." in response.content.decode()


@pytest.mark.parametrize(
    ("period", "slots", "bucket"), [("24h", 24, "hour"), ("7d", 7, "day"), ("30d", 30, "day"), ("", 7, "day")]
)
def test_the_periods_end_with_the_current_hour_or_day(client, setup, period, slots, bucket):
    team_with_roles, _, _ = setup
    client.force_login(team_with_roles.users["owner"])
    summary = client.get(reverse("usage_dashboard"), {"range": period}).context["summary"]
    assert (len(summary.slots), summary.bucket) == (slots, bucket)
    assert summary.filters.start <= timezone.now() < summary.filters.end
    assert summary.totals.requests == 3


@pytest.mark.parametrize(
    ("query", "shown"), [({}, "Last 7 days"), ({"range": ""}, "Last 7 days"), ({"range": "24h"}, "Last 24 hours")]
)
def test_the_period_menu_shows_the_period_the_figures_cover(client, setup, query, shown):
    team_with_roles, _, _ = setup
    client.force_login(team_with_roles.users["owner"])
    response = client.get(reverse("usage_dashboard"), query)
    selected = re.findall(r'<option value="[^"]*" selected>([^<]*)</option>', response.content.decode())
    assert shown in selected
    assert len(response.context["summary"].slots) == (24 if shown == "Last 24 hours" else 7)


def test_htmx_gets_the_page_region_only(client, setup):
    team_with_roles, _, _ = setup
    client.force_login(team_with_roles.users["owner"])
    response = client.get(reverse("usage_dashboard"), {"range": "24h"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="usage-page"') and "<html" not in page


def test_breakdowns_sort_by_the_column_asked_for_and_link_to_the_reverse(client, setup):
    team_with_roles, _, _ = setup
    for _ in range(2):
        UsageRecordFactory(team=team_with_roles.team, user=team_with_roles.users["viewer"], prompt_tokens=5)
    client.force_login(team_with_roles.users["owner"])
    response = client.get(reverse("usage_dashboard"), {"sort_user": "label"})
    users = next(table for table in response.context["tables"] if table.name == "user")
    assert [row.label for row in users.rows] == ["member", "owner", "viewer"]
    assert "sort_user=-label" in response.content.decode()  # selecting it again reverses
    response = client.get(reverse("usage_dashboard"), {"sort_user": "-requests"})
    users = next(table for table in response.context["tables"] if table.name == "user")
    assert [row.label for row in users.rows][0] == "viewer"
    response = client.get(reverse("usage_dashboard"), {"sort_user": "prompt_tokens"})
    users = next(table for table in response.context["tables"] if table.name == "user")
    assert [row.figures.prompt_tokens for row in users.rows] == sorted(row.figures.prompt_tokens for row in users.rows)


def test_cost_shows_where_tokens_do_and_no_price_where_there_is_none(client, setup):
    team_with_roles, price, _ = setup
    UsageRecordFactory(team=team_with_roles.team, user=team_with_roles.users["owner"], model="unpriced-model")
    client.force_login(team_with_roles.users["owner"])
    response = client.get(reverse("usage_dashboard"))
    summary = response.context["summary"]
    # 3 calls of 12 tokens in and 30 out at 1 and 2 per million.
    assert summary.totals.cost == Decimal(3 * (12 * 1 + 30 * 2)) / 1_000_000 and summary.totals.partly_priced
    models = {row.key: row.figures for row in summary.breakdowns["model"]}
    assert models["unpriced-model"].no_price and not models["gpt-4o"].no_price
    page = response.content.decode()
    assert "no price" in page and "0.0002 USD + no price for some" in page and "0.0002 USD*" in page


def test_the_chart_and_its_table_are_on_the_page(client, setup):
    team_with_roles, _, _ = setup
    client.force_login(team_with_roles.users["owner"])
    page = client.get(reverse("usage_dashboard"), {"range": "24h"}).content.decode()
    assert 'role="img" aria-labelledby="chart-title chart-desc"' in page
    assert '<caption id="series-caption">Requests, tokens and cost per hour</caption>' in page
    assert page.count('<rect class="bar-requests" x=') == 24
    assert 'style="' not in page  # the CSP allows no inline styles


def test_latest_errors_show_the_upstreams_message(client, setup):
    team_with_roles, _, _ = setup
    message = "The provider rejected the request (400): max_tokens is too large"
    UsageRecordFactory(team=team_with_roles.team, status="error", http_status=400, error_message=message)
    client.force_login(team_with_roles.users["owner"])
    page = client.get(reverse("usage_dashboard")).content.decode()
    assert message in page


def test_the_admin_index_links_to_the_dashboard_for_staff(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x-long-password-1"))
    page = client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("usage_dashboard")}"' in page and f'href="{reverse("audit_list")}"' in page


def test_the_main_navigation_has_usage(client, setup):
    team_with_roles, _, _ = setup
    client.force_login(team_with_roles.users["viewer"])
    page = client.get(reverse("team_list")).content.decode()
    assert f'<a href="{reverse("usage_dashboard")}">Usage</a>' in page
