"""The usage dashboard in Chromium: its chart and data table, a filter changed (the address
keeps it), and the CSV export of what is shown, downloaded."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from playground.accounts.models import Membership, Role
from tests.browser.accessibility import keyboard_problems
from tests.browser.conftest import PASSWORD
from tests.factories import UsageRecordFactory


@pytest.fixture
def admin(acme):
    """Ada, now an admin of Acme, whose team made calls over the last days."""
    Membership.objects.filter(user=acme.user).update(role=Role.ADMIN)
    now = timezone.now()
    for hours_ago, model, status in [(1, "demo-chat", "ok"), (2, "demo-chat", "error"), (30, "demo-fast", "ok")]:
        UsageRecordFactory(
            team=acme.team,
            project=acme.project,
            user=acme.user,
            provider_id=acme.provider.pk,
            provider_name="Demo",
            model=model,
            status=status,
            error_message="=1+1 broke on purpose" if status == "error" else "",
            created_at=now - dt.timedelta(hours=hours_ago),
        )
    return acme.user


def test_see_the_chart_and_its_table_filter_and_export(page, sign_in, admin):
    sign_in("ada", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Usage").click()
    expect(page.get_by_role("heading", name="Usage", exact=True)).to_be_visible()
    expect(page.get_by_role("img", name="Requests and tokens per day")).to_be_visible()
    series = page.get_by_role("table", name="Requests, tokens and cost per day")
    expect(series.get_by_role("row")).to_have_count(1 + 7)  # the last 7 days
    expect(page.get_by_role("table", name="By model").get_by_role("row")).to_have_count(1 + 2)
    expect(
        page.get_by_role("table", name=re.compile("newest failed")).get_by_role("cell", name="=1+1 broke on purpose")
    ).to_be_visible()
    assert keyboard_problems(page) == {}

    page.get_by_role("combobox", name="Period:").select_option(label="Last 24 hours")
    page.get_by_role("combobox", name="Model:").select_option("demo-chat")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("img", name="Requests and tokens per hour")).to_be_visible()
    expect(page.get_by_role("table", name="Requests, tokens and cost per hour").get_by_role("row")).to_have_count(
        1 + 24
    )
    expect(page).to_have_url(re.compile(r"range=24h.*model=demo-chat"))
    expect(page.get_by_role("table", name="By model").get_by_role("row")).to_have_count(1 + 1)

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Export these records (CSV)").click()
    download = downloading.value
    assert download.suggested_filename.startswith("usage-") and download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8") as file:
        rows = list(csv.DictReader(io.StringIO(file.read())))
    assert [(row["model"], row["status"]) for row in rows] == [("demo-chat", "error"), ("demo-chat", "ok")]
    assert rows[0]["error_message"] == "'=1+1 broke on purpose"  # neutralised for spreadsheets
    assert page.csp_violations == []
