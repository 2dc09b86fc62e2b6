"""Embeddings in Chromium: run the demo provider, see the heatmap and its table, query neighbours."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from playground.embeddings.models import EmbeddingRun
from tests.browser.accessibility import keyboard_problems
from tests.browser.conftest import PASSWORD
from tests.embeddings.conftest import TOPICS
from tests.factories import ProviderFactory

TEXTS = [text for group in zip(*TOPICS.values(), strict=True) for text in group]


@pytest.fixture
def member(acme):
    """Ada of Acme, with a JamAI provider beside the Demo one."""
    ProviderFactory(team=acme.team, name="JamAI", profile="jamai-base")
    return acme.user


def test_run_embeddings_see_the_heatmap_and_find_neighbours(page, sign_in, member):
    sign_in("ada", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Embeddings").click()
    page.get_by_role("link", name="New run").click()
    assert keyboard_problems(page) == {}

    # Another provider's parameters come from its own schema (JamAI's query/document type), and back.
    page.get_by_label("Provider").select_option(label="JamAI")
    expect(page.get_by_role("group", name="Parameters of /api/v1/embeddings")).to_be_visible()
    page.locator("#provider-settings summary", has_text="Advanced").click()
    expect(page.get_by_label("type", exact=True)).to_be_visible()
    page.get_by_label("Provider").select_option(label="Demo")
    expect(page.get_by_role("group", name="Parameters of /embeddings")).to_be_visible()
    expect(page.get_by_label("type", exact=True)).to_have_count(0)
    expect(page.get_by_role("combobox", name=re.compile(r"^Model"))).to_have_value("demo-embed")

    page.get_by_label("Texts, one per line").fill("\n".join(TEXTS))
    page.get_by_label("dimensions", exact=True).fill("64")
    page.get_by_role("button", name="Embed texts").click()

    heatmap = page.get_by_role("img", name=re.compile(r"^Cosine similarity heatmap"))
    expect(heatmap).to_be_visible(timeout=20_000)
    expect(page.get_by_role("figure", name=re.compile(r"Cosine similarity heatmap of 9 texts"))).to_be_visible()
    table = page.get_by_role("table", name="Cosine similarity values")
    expect(table.get_by_role("row")).to_have_count(1 + len(TEXTS))
    expect(table.get_by_role("cell", name="1.00")).to_have_count(len(TEXTS))  # each text with itself
    expect(page.get_by_role("img", name=re.compile(r"^2-D projection \(PCA\) of 9 texts"))).to_be_visible()
    run = EmbeddingRun.objects.get()
    assert run.status == "done" and run.dim == 64

    page.get_by_label("Query text").fill("purring cats on a sofa")
    page.get_by_role("button", name="Find neighbours").click()
    neighbours = page.get_by_role("table", name=re.compile("Texts nearest to"))
    expect(neighbours.get_by_role("row")).to_have_count(1 + len(TEXTS))  # k=10 of 9 texts: all of them
    first = neighbours.get_by_role("row").nth(1)
    expect(first).to_contain_text(re.compile("|".join(TOPICS["cats"])))
    # The keyboard check counts the summary of a <details> nested in a closed one as a control
    # Tab should reach; open the outer one ("Run again" with other settings) first.
    page.get_by_text("Embed the same texts with other settings", exact=True).click()
    assert keyboard_problems(page) == {}
    assert page.csp_violations == []


@pytest.mark.parametrize(
    ("scheme", "strong_cell", "label_text"),
    [("light", "rgb(8, 48, 107)", "rgb(27, 28, 31)"), ("dark", "rgb(253, 231, 37)", "rgb(232, 233, 236)")],
)
def test_the_charts_follow_the_light_or_dark_theme(page, sign_in, member, scheme, strong_cell, label_text):
    from tests.embeddings.conftest import finished_run

    topic_of = {text: topic for topic, texts in TOPICS.items() for text in texts}
    run = finished_run(member.current_project, member, TEXTS, labels=[topic_of[text] for text in TEXTS])
    page.emulate_media(color_scheme=scheme)
    sign_in("ada", PASSWORD)
    page.goto(f"/embeddings/{run.pk}/")
    heatmap = page.get_by_role("img", name=re.compile(r"^Cosine similarity heatmap"))
    # The diagonal (a text with itself) has the strongest colour of the scale.
    fill = heatmap.locator("rect.h8").first.evaluate("element => getComputedStyle(element).fill")
    assert fill == strong_cell
    colour = heatmap.locator("text.row-label").first.evaluate("element => getComputedStyle(element).fill")
    assert colour == label_text
    scatter = page.get_by_role("img", name=re.compile(r"^2-D projection"))
    expect(scatter.locator("circle.c0")).not_to_have_count(0)
    expect(page.get_by_role("list", name="Labels").get_by_role("listitem")).to_have_count(len(TOPICS))
    assert page.csp_violations == []
