"""Reading embedding runs: lists, the providers that can embed or rerank, a run's charts, comparisons."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db.models import QuerySet

from playground.accounts.models import Role
from playground.accounts.scoping import scoped_get
from playground.embeddings import charts, maths
from playground.embeddings.models import EmbeddingRun, Status
from playground.providers.keys import endpoint_schema, providers_with
from playground.providers.models import Provider
from playground.schema.specs import model_names_in

# Columns that only the run page needs.
_HEAVY = ("vectors", "texts", "labels", "params")
# The per-text table of a comparison lists at most this many texts (those that agree least).
COMPARE_ROWS = 200


def run_for(user, run_id: int, *, role: Role | str = Role.VIEWER, light: bool = False) -> EmbeddingRun:
    queryset = EmbeddingRun.objects.select_related("project__team", "provider", "user")
    if light:
        queryset = queryset.defer(*_HEAVY)
    return scoped_get(user, queryset, role=role, team_field="project__team", pk=run_id)


def runs_of(project) -> QuerySet[EmbeddingRun]:
    return project.embedding_runs.defer(*_HEAVY).select_related("user", "provider")


def comparable_runs(run: EmbeddingRun) -> QuerySet[EmbeddingRun]:
    """Finished runs of the same project over as many texts (the texts themselves are checked on comparing)."""
    return runs_of(run.project).filter(status=Status.DONE, text_count=run.text_count).exclude(pk=run.pk)


def embedding_providers(team) -> list[Provider]:
    """The team's providers whose API document has an embeddings endpoint."""
    return providers_with(team, "embeddings")


def embeddings_endpoint(provider: Provider | None):
    return endpoint_schema(provider, "embeddings")


def rerank_providers(team) -> list[Provider]:
    """The team's providers whose API document has a rerank endpoint."""
    return providers_with(team, "rerank")


def rerank_endpoint(provider: Provider | None):
    return endpoint_schema(provider, "rerank")


def unoffered_provider(team, provider_id, offered: list[Provider]) -> Provider | None:
    """The team's provider a request asked for by id when it is not among `offered` (its API
    document lacks the endpoint), so the page can say why it is not there."""
    text = str(provider_id or "")
    if not text.isdigit() or len(text) > 18 or any(str(provider.pk) == text for provider in offered):
        return None
    return team.providers.filter(pk=int(text)).first()


def model_suggestions(provider: Provider | None, endpoint, *, hint: str = "embed") -> list[str]:
    """Model names for the datalist: cached models with `hint` in their name first, then those
    the schema's `model` field names, then the other cached models."""
    if provider is None:
        return []
    cached = [str(name) for name in provider.models_cache or []]
    examples = list(model_names_in(endpoint).names)
    likely = [name for name in cached if hint in name.lower()]
    ordered = likely + examples + [name for name in cached if name not in likely]
    return list(dict.fromkeys(ordered))


def rerank_default_model(provider: Provider | None, suggestions: list[str]) -> str:
    """The provider's default model if it reranks, else the likeliest suggestion."""
    if provider is None:
        return ""
    if provider.default_model and "rerank" in provider.default_model.lower():
        return provider.default_model
    return suggestions[0] if suggestions else ""


def default_model(project, provider: Provider | None, suggestions: list[str]) -> str:
    """The model last used with this provider in the project, else the likeliest suggestion."""
    if provider is None:
        return ""
    last = project.embedding_runs.filter(provider=provider).exclude(model="").values_list("model", flat=True).first()
    if last:
        return last
    if provider.default_model and "embed" in provider.default_model.lower():
        return provider.default_model
    return suggestions[0] if suggestions else ""


@dataclass(frozen=True)
class RunCharts:
    heatmap: charts.Heatmap
    scatter: charts.Scatter


def run_charts(run: EmbeddingRun) -> RunCharts | None:
    """The heatmap and scatter of a finished run, computed from its stored vectors."""
    vectors = run.matrix()
    if run.status != Status.DONE or vectors.shape[0] == 0:
        return None
    analysis = maths.analyse(vectors)
    return RunCharts(
        heatmap=charts.heatmap(analysis.similarity, analysis.order, run.texts),
        scatter=charts.scatter(analysis.projection.points, analysis.projection.explained, run.texts, run.labels),
    )


def similarity_matrix(run: EmbeddingRun) -> np.ndarray:
    return maths.cosine_similarity(run.matrix())


@dataclass(frozen=True)
class ComparedText:
    index: int
    text: str
    overlap: float
    spearman: float | None
    neighbours_a: list[str]
    neighbours_b: list[str]


@dataclass(frozen=True)
class Comparison:
    k: int
    mean_overlap: float
    mean_spearman: float | None
    rows: list[ComparedText]  # least agreement first, at most COMPARE_ROWS
    total: int
    same_order: bool


class NotComparable(ValueError):
    pass


def run_comparison(run_a: EmbeddingRun, run_b: EmbeddingRun, *, k: int) -> Comparison:
    """How the neighbour rankings of two runs over the same texts agree. The texts may be in
    another order in the second run, as long as the two runs hold the same texts."""
    order_b = _alignment(run_a.texts, run_b.texts)
    similarity_a = maths.cosine_similarity(run_a.matrix())
    similarity_b = maths.cosine_similarity(run_b.matrix()[order_b])
    agreement = maths.ranking_agreement(similarity_a, similarity_b, k)
    spearman = [None if np.isnan(value) else float(value) for value in agreement.spearman]
    worst_first = sorted(
        range(run_a.count), key=lambda i: (agreement.overlap[i], spearman[i] if spearman[i] is not None else 2, i)
    )
    rows = [
        ComparedText(
            index=i,
            text=run_a.texts[i],
            overlap=float(agreement.overlap[i]),
            spearman=spearman[i],
            neighbours_a=[run_a.texts[j] for j in agreement.neighbours_a[i]],
            neighbours_b=[run_a.texts[j] for j in agreement.neighbours_b[i]],
        )
        for i in worst_first[:COMPARE_ROWS]
    ]
    valid = [value for value in spearman if value is not None]
    return Comparison(
        k=agreement.k,
        mean_overlap=agreement.mean_overlap,
        mean_spearman=float(np.mean(valid)) if valid else None,
        rows=rows,
        total=run_a.count,
        same_order=bool(np.array_equal(order_b, np.arange(run_a.count))),
    )


def _alignment(texts_a: list[str], texts_b: list[str]) -> np.ndarray:
    """Indices into run B giving A's order of texts; NotComparable unless both hold the same texts."""
    if texts_a == texts_b:
        return np.arange(len(texts_a))
    if sorted(texts_a) != sorted(texts_b):
        raise NotComparable("These runs are not over the same texts, so their neighbours cannot be compared.")
    positions: dict[str, list[int]] = {}
    for index, text in enumerate(texts_b):
        positions.setdefault(text, []).append(index)
    return np.array([positions[text].pop(0) for text in texts_a])
