"""The run page and its parts: heatmap and table, scatter, neighbours, comparison, CSV downloads."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest
from django.urls import reverse

from playground.demo.embeddings import embed
from playground.embeddings import charts, maths
from playground.usage.models import UsageRecord
from tests.embeddings.conftest import TOPICS, finished_run
from tests.factories import EmbeddingRunFactory

TEXTS = [text for texts in TOPICS.values() for text in texts]
LABELS = [topic for topic, texts in TOPICS.items() for _ in texts]


def test_the_run_page_has_a_labelled_heatmap_a_table_and_a_scatter(client, project, member):
    run = finished_run(project, member, TEXTS, labels=LABELS)
    client.force_login(member)
    page = client.get(reverse("embedding_run_detail", args=[run.pk])).content.decode()
    assert 'role="img"' in page and "Cosine similarity heatmap" in page
    assert '<caption id="similarity-caption">Cosine similarity values</caption>' in page
    assert page.count('<rect x="') == len(TEXTS) ** 2
    assert "2-D projection (PCA) of 9 texts" in page
    for topic in TOPICS:
        assert f'{topic} <span class="muted">(3)</span>' in page  # legend entries with counts
    assert page.count('<circle cx="') == len(TEXTS)


def test_heatmap_values_are_the_cosine_similarities_of_the_vectors(project, member):
    run = finished_run(project, member, TEXTS)
    vectors = embed(TEXTS, 32).astype(np.float64)
    analysis = maths.analyse(run.matrix())
    rows = charts.heatmap(analysis.similarity, analysis.order, run.texts).rows
    for row in rows:
        for column, value in zip(rows, row.values, strict=True):
            a, b = vectors[row.index], vectors[column.index]
            assert value == pytest.approx(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)), abs=1e-5)


def test_the_colour_scale_covers_every_cell_the_diagonal_included(client, project, member):
    run = finished_run(project, member, TEXTS)
    client.force_login(member)
    page = client.get(reverse("embedding_run_detail", args=[run.pk])).content.decode()
    scale = page.split('aria-label="Colour scale"', 1)[1].split("</ul>", 1)[0]
    ranges = [(float(low), float(high)) for low, high in re.findall(r"(-?\d\.\d\d) to (-?\d\.\d\d)", scale)]
    assert ranges[-1][1] == 1.00  # a text with itself
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))  # no gaps
    cells = [float(cell) for cell in re.findall(r"<td>(-?\d\.\d\d)</td>", page)]
    assert ranges[0][0] <= min(cells) and max(cells) <= ranges[-1][1]


def test_more_texts_than_fit_show_representatives_and_say_so(client, project, member):
    texts = [f"{topic} note number {n}" for n in range(40) for topic in ("cats", "rockets", "bread")]
    run = finished_run(project, member, texts)
    client.force_login(member)
    page = client.get(reverse("embedding_run_detail", args=[run.pk])).content.decode()
    assert "There are 120 texts, too many to label, so the heatmap shows 60 representatives" in page
    assert page.count('<rect x="') == 60 * 60
    assert "(for 2 texts)" in page


def test_texts_cannot_inject_markup_into_the_charts(client, project, member):
    run = finished_run(project, member, ["<script>alert(1)</script>", "a & b"], labels=["<b>x</b>", "y"])
    client.force_login(member)
    page = client.get(reverse("embedding_run_detail", args=[run.pk])).content.decode()
    assert "<script>alert" not in page and "<b>x</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_neighbours_of_a_query_match_a_direct_numpy_ranking(client, project, member, demo_provider):
    run = finished_run(project, member, TEXTS, dimensions=256, provider=demo_provider, params={})
    client.force_login(member)
    query = "purring cats on sofas"
    response = client.post(reverse("embedding_run_neighbours", args=[run.pk]), {"query": query, "k": 5})
    assert response.status_code == 200
    found = response.context["neighbours"]
    vectors = embed(TEXTS, 256).astype(np.float64)
    [q] = embed([query], 256).astype(np.float64)
    scores = vectors @ q / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(q))
    expected = np.argsort(-scores)[:5]
    assert [n.index for n in found] == expected.tolist()
    assert [n.score for n in found] == pytest.approx(scores[expected].tolist(), abs=1e-5)
    assert found[0].text in TOPICS["cats"]
    assert UsageRecord.objects.filter(endpoint="embeddings").count() == 1  # one call for the query


def test_neighbours_through_htmx_come_back_as_the_section(client, project, member, demo_provider):
    run = finished_run(project, member, TEXTS, dimensions=256, provider=demo_provider)
    client.force_login(member)
    url = reverse("embedding_run_neighbours", args=[run.pk])
    response = client.post(url, {"query": "rockets"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<section id="neighbours"')
    assert "Texts nearest to “rockets”" in body
    empty = client.post(url, {"query": ""}, headers={"HX-Request": "true"})
    assert empty.status_code == 200 and "This field is required." in empty.content.decode()


def test_a_comparison_of_two_dimensions_reports_agreement(client, project, member):
    texts = TEXTS + [f"{word} {word} and more" for word in ("cats", "rockets", "bread", "orbit", "yeast")]
    run = finished_run(project, member, texts, dimensions=256)
    other = finished_run(project, member, list(reversed(texts)), dimensions=8)
    client.force_login(member)
    response = client.get(reverse("embedding_run_compare", args=[run.pk]), {"other": other.pk, "k": 3})
    assert response.status_code == 200
    comparison = response.context["comparison"]
    assert comparison.total == len(texts) and not comparison.same_order
    a = embed(texts, 256).astype(np.float64)
    b = embed(texts, 8).astype(np.float64)  # the same vectors as the other run's, in this run's order
    overlaps = []
    for i in range(len(texts)):

        def top(m, i=i):
            sims = m @ m[i] / (np.linalg.norm(m, axis=1) * np.linalg.norm(m[i]))
            sims[i] = -np.inf
            return set(np.argsort(-sims)[:3].tolist())

        overlaps.append(len(top(a) & top(b)) / 3)
    assert comparison.mean_overlap == pytest.approx(np.mean(overlaps))
    page = response.content.decode()
    assert f"{np.mean(overlaps):.3f}" in page and "Mean Spearman ρ" in page


def test_runs_of_the_same_name_are_told_apart_in_compare_with(client, project, member):
    run = finished_run(project, member, TEXTS, name="Notes")
    same = [
        finished_run(project, member, TEXTS, name="Notes", model=model, provider_name="Demo")
        for model in ("demo-embed", "demo-embed-small")
    ]
    client.force_login(member)
    page = client.get(reverse("embedding_run_detail", args=[run.pk])).content.decode()
    menu = page.split('name="other"', 1)[1].split("</select>", 1)[0]
    labels = re.findall(r"<option value=\"\d+\">([^<]*)</option>", menu)
    assert len(labels) == len(same) and len(set(labels)) == len(labels)
    for other in same:
        (label,) = [label for label in labels if label.endswith(f", run {other.pk})")]
        assert label.startswith(f"Notes ({other.model} on Demo, ")


def test_runs_over_other_texts_cannot_be_compared(client, project, member):
    run = finished_run(project, member, ["a", "b", "c"])
    other = finished_run(project, member, ["a", "b", "d"])
    client.force_login(member)
    response = client.get(reverse("embedding_run_compare", args=[run.pk]), {"other": other.pk})
    assert response.status_code == 400
    assert "not over the same texts" in str(response.context["form"].errors["other"])


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_vectors_csv_holds_every_number_and_neutralises_formulas(client, project, member):
    texts = ['=HYPERLINK("http://evil")', "+1", "-2 minus", "@SUM(A1)", "plain, with comma"]
    run = finished_run(project, member, texts, labels=["=x", "", "ok", "", "-y"], dimensions=16)
    client.force_login(member)
    rows = read_csv(client.get(reverse("embedding_run_vectors_csv", args=[run.pk])))
    assert rows[0] == ["index", "text", "label", *(f"d{i}" for i in range(16))]
    assert [row[1] for row in rows[1:]] == [
        '\'=HYPERLINK("http://evil")',
        "'+1",
        "'-2 minus",
        "'@SUM(A1)",
        "plain, with comma",
    ]
    assert [row[2] for row in rows[1:]] == ["'=x", "", "ok", "", "'-y"]
    numbers = np.array([[float(cell) for cell in row[3:]] for row in rows[1:]], dtype=np.float32)
    assert np.array_equal(numbers, run.matrix())  # exact: 9 significant digits round-trip float32
    assert any(cell.startswith("-") for row in rows[1:] for cell in row[3:])  # negative numbers stay numbers


def test_the_similarity_csv_is_the_cosine_matrix_with_texts_on_both_sides(client, project, member):
    texts = ["cats purr", "-cats purr loudly", "rockets fly"]
    run = finished_run(project, member, texts)
    client.force_login(member)
    rows = read_csv(client.get(reverse("embedding_run_similarity_csv", args=[run.pk])))
    assert rows[0] == ["text", "cats purr", "'-cats purr loudly", "rockets fly"]
    assert [row[0] for row in rows[1:]] == ["cats purr", "'-cats purr loudly", "rockets fly"]
    matrix = np.array([[float(cell) for cell in row[1:]] for row in rows[1:]])
    vectors = embed(texts, 32).astype(np.float64)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    np.testing.assert_allclose(matrix, unit @ unit.T, atol=2e-6)
    assert all(re.fullmatch(r"-?\d\.\d{6}", cell) for row in rows[1:] for cell in row[1:])


def test_downloads_of_a_run_without_vectors_are_not_found(client, project, member):
    run = EmbeddingRunFactory(project=project, user=member, texts=["a"])
    client.force_login(member)
    assert client.get(reverse("embedding_run_vectors_csv", args=[run.pk])).status_code == 404
    assert client.get(reverse("embedding_run_similarity_csv", args=[run.pk])).status_code == 404


def test_the_list_shows_runs_newest_first(client, project, team_with_roles):
    first = finished_run(project, team_with_roles.users["member"], ["first run text"])
    second = finished_run(project, team_with_roles.users["member"], ["second run text"], name="Named run")
    client.force_login(team_with_roles.users["viewer"])
    page = client.get(reverse("embedding_runs", args=[project.pk])).content.decode()
    assert page.index("Named run") < page.index(f"Run {first.pk}: first run text")
    assert "New run" not in page  # viewers read only
    assert second.pk


def test_the_form_offers_only_providers_with_an_embeddings_endpoint(client, project, member, demo_provider):
    from tests.factories import ProviderFactory

    ProviderFactory(team=project.team, name="Chat only", profile="research")
    client.force_login(member)
    response = client.get(reverse("embedding_run_create", args=[project.pk]))
    assert [p.name for p in response.context["providers"]] == ["Demo"]
    page = response.content.decode()
    assert 'value="demo-embed"' in page  # the schema's example model, offered and chosen
    assert "encoding_format" in page and "dimensions" in page


def test_choosing_another_provider_swaps_in_its_parameters(client, project, member, demo_provider):
    from tests.factories import ProviderFactory

    jamai = ProviderFactory(team=project.team, name="JamAI", profile="jamai-base")
    client.force_login(member)
    url = reverse("embedding_run_create", args=[project.pk])
    response = client.get(url, {"provider": jamai.pk}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="provider-settings"')
    assert 'name="p-type"' in body and '<option value="query">' in body  # JamAI's query/document type
    assert "<html" not in body


@pytest.mark.parametrize("texts", [["only one text"], ["one", "two"], ["same", "same", "same"]])
def test_tiny_and_degenerate_runs_still_have_a_page(client, project, member, texts):
    run = finished_run(project, member, texts)
    client.force_login(member)
    response = client.get(reverse("embedding_run_detail", args=[run.pk]))
    assert response.status_code == 200
    assert response.content.decode().count('<rect x="') == len(texts) ** 2
    assert client.get(reverse("embedding_run_similarity_csv", args=[run.pk])).status_code == 200
