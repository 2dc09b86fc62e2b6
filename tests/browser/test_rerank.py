"""Rerank in Chromium: from the navigation, a problem beside its field, then the ranked documents and their table."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from playground.usage.models import UsageRecord
from tests.browser.accessibility import keyboard_problems
from tests.browser.conftest import PASSWORD
from tests.factories import ProviderFactory

QUERY = "cats purring on a warm sofa"
DOCUMENTS = [
    "Quarterly revenue grew by eight percent",
    "sleepy cats purr on the warm sofa",
    "rockets burn fuel to reach orbit",
    "cats chase mice then purr",
]


def test_rerank_documents_and_read_the_ranking(page, sign_in, acme):
    ProviderFactory(team=acme.team, name="JamAI", profile="jamai-base")
    sign_in("ada", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Rerank").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rerank")
    assert keyboard_problems(page) == {}
    expect(page.get_by_label("Provider")).to_have_value(str(acme.provider.pk))
    expect(page.get_by_role("combobox", name=re.compile(r"^Model"))).to_have_value("demo-rerank")
    expect(page.get_by_role("group", name="Parameters of /rerank")).to_be_visible()

    # Another provider's settings come from its own schema (JamAI takes no parameters), and back.
    page.get_by_label("Provider").select_option(label="JamAI")
    expect(page.get_by_role("group", name="Parameters of /api/v1/rerank")).to_contain_text("takes no parameters")
    page.get_by_label("Provider").select_option(label="Demo")
    expect(page.get_by_label("top_n", exact=True)).to_be_visible()
    # A quick change of mind: the last choice wins, even while the first answer is on its way.
    with page.expect_response(lambda response: f"provider={acme.provider.pk}" in response.url):
        page.get_by_label("Provider").select_option(label="JamAI")
        page.get_by_label("Provider").select_option(label="Demo")
    expect(page.get_by_label("top_n", exact=True)).to_be_visible()
    expect(page.get_by_role("combobox", name=re.compile(r"^Model"))).to_have_value("demo-rerank")

    # Without documents: the problem is said beside the box, and the box gets the focus.
    page.get_by_label("Query").fill(QUERY)
    page.get_by_role("button", name="Rerank documents").click()
    documents = page.get_by_label("Documents, one per line")
    expect(page.get_by_text("Write the documents to rank, one per line.")).to_be_visible()
    expect(documents).to_be_focused()
    assert not UsageRecord.objects.exists()

    documents.fill("\n".join(DOCUMENTS))
    page.get_by_label("top_n", exact=True).fill("3")
    page.get_by_role("button", name="Rerank documents").click()

    expect(page.get_by_role("heading", name="Ranking")).to_be_focused(timeout=20_000)
    table = page.get_by_role("table", name=f"Documents ranked by relevance to “{QUERY}”")
    rows = table.get_by_role("row")
    expect(rows).to_have_count(1 + 3)
    expect(rows.nth(1).get_by_role("rowheader")).to_have_text(DOCUMENTS[1])
    expect(rows.nth(2).get_by_role("rowheader")).to_have_text(DOCUMENTS[3])
    expect(rows.nth(1).get_by_role("cell").first).to_have_text("1")
    ranked = page.get_by_role("list", name="Documents, most relevant first").get_by_role("listitem")
    expect(ranked).to_have_count(3)
    expect(ranked.first).to_contain_text(DOCUMENTS[1])
    expect(page.get_by_text("3 of 4 documents, most relevant first")).to_be_visible()
    assert UsageRecord.objects.get().endpoint == "rerank"
    assert keyboard_problems(page) == {}
    assert page.csp_violations == []
