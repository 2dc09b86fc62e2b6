"""Pages of the embeddings playground: runs of a project, a new run, one run with its charts,
neighbours of a query, a comparison of two runs, CSV downloads, and reranking documents."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from playground.accounts.models import Role
from playground.accounts.scoping import project_for
from playground.embeddings import exports, rerank, selectors, services
from playground.embeddings.forms import (
    CompareForm,
    NeighboursForm,
    RerankForm,
    RunForm,
    place_rerank_error,
    place_run_error,
    request_check,
    rerank_check,
    settings_forms,
)
from playground.embeddings.models import EmbeddingRun, Status
from playground.providers.keys import NoKey
from playground.schema.forms import parameter_form
from playground.upstream import errors


def _chosen(providers: list, value) -> object | None:
    """The provider picked by id among `providers`, else the first of them."""
    return next((p for p in providers if str(p.pk) == str(value)), providers[0] if providers else None)


@require_GET
@login_required
def run_list(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(request.user, project_id)
    context = {
        "project": project,
        "runs": selectors.runs_of(project),
        "can_create": project.member_role.at_least(Role.MEMBER),
    }
    return render(request, "embeddings/run_list.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def run_create(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(request.user, project_id, role=Role.MEMBER)
    providers = selectors.embedding_providers(project.team)
    provider = _chosen(providers, request.POST.get("provider") or request.GET.get("provider"))
    endpoint = selectors.embeddings_endpoint(provider)
    suggestions = selectors.model_suggestions(provider, endpoint)
    model = selectors.default_model(project, provider, suggestions)
    initial = {"provider": provider.pk if provider else None, "model": model}
    data = request.POST if request.method == "POST" else None
    form = RunForm(data, request.FILES or None, providers=providers, initial=initial)
    params = parameter_form(endpoint, data) if endpoint is not None else None
    context = {"project": project, "form": form, "params": params, "providers": providers, "models": suggestions}
    if request.htmx and request.method == "GET":
        return render(request, "embeddings/run_create.html#provider-settings", context)
    if data is not None and form.is_valid() and (params is None or params.is_valid()) and endpoint is not None:
        batch_size = services.batch_size_for(provider)
        texts = form.parsed.texts
        call = request_check(
            form=form, params=params, endpoint=endpoint, texts=texts, batch_size=batch_size,
            input_field=form.input_field, user=request.user, project=project,
        )  # fmt: skip
        if call is not None:
            run = services.run_create(
                project=project, user=request.user, provider=provider, model=form.cleaned_data["model"].strip(),
                params=params.request_fields(), parsed=form.parsed, name=form.cleaned_data["name"],
            )  # fmt: skip
            services.run_start(run, call)
            return redirect("embedding_run_detail", run_id=run.pk)
    return render(request, "embeddings/run_create.html", context, status=400 if data is not None else 200)


@require_GET
@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = services.run_mark_stale(selectors.run_for(request.user, run_id))
    return render(request, "embeddings/run_detail.html", _detail_context(run))


def _detail_context(run: EmbeddingRun, *, retry_data=None, neighbours_form: NeighboursForm | None = None) -> dict:
    """Everything the run page shows; members also get the form to embed the texts again."""
    can_run = run.member_role.at_least(Role.MEMBER)
    context = {
        "run": run,
        "project": run.project,
        "can_run": can_run,
        "charts": selectors.run_charts(run),
        "neighbours_form": neighbours_form or NeighboursForm(),
        "compare_form": CompareForm(runs=selectors.comparable_runs(run)) if run.status == Status.DONE else None,
    }
    if can_run and run.is_finished:
        context.update(_retry_context(run, retry_data))
    return context


def _retry_context(run: EmbeddingRun, data) -> dict:
    providers = selectors.embedding_providers(run.project.team)
    provider = _chosen(providers, data.get("provider") if data is not None else run.provider_id)
    endpoint = selectors.embeddings_endpoint(provider)
    same = provider is not None and provider.pk == run.provider_id
    form, params = settings_forms(
        data, providers=providers, provider=provider, endpoint=endpoint, model=run.model if same else "",
        params=run.params if same else {},
    )  # fmt: skip
    placed = data is None and same and run.status == Status.ERROR
    if placed:
        place_run_error(run, form, params)
    return {
        "retry_form": form,
        "retry_params": params,
        "retry_endpoint": endpoint,
        "retry_placed": placed,
        "models": selectors.model_suggestions(provider, endpoint),
    }


@require_POST
@login_required
def run_retry(request: HttpRequest, run_id: int) -> HttpResponse:
    """Embed the same texts again, with the settings in the form."""
    run = selectors.run_for(request.user, run_id, role=Role.MEMBER)
    if not run.is_finished:
        messages.error(request, "Wait until the run has finished.")
        return redirect("embedding_run_detail", run_id=run.pk)
    context = _detail_context(run, retry_data=request.POST)
    form, params, endpoint = context["retry_form"], context["retry_params"], context["retry_endpoint"]
    if not form.errors and endpoint is not None and not params.errors:
        provider = form.cleaned_data["provider"]
        call = request_check(
            form=form, params=params, endpoint=endpoint, texts=run.texts, batch_size=services.batch_size_for(provider),
            input_field=None, user=request.user, project=run.project,
        )  # fmt: skip
        if call is not None:
            new = services.run_retry(
                run=run, user=request.user, provider=provider, model=form.cleaned_data["model"].strip(),
                params=params.request_fields(),
            )  # fmt: skip
            services.run_start(new, call)
            return redirect("embedding_run_detail", run_id=new.pk)
    return render(request, "embeddings/run_detail.html", context, status=400)


@require_GET
@login_required
def run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    """The progress bar while a run embeds; once it has finished, the page reloads itself."""
    run = services.run_mark_stale(selectors.run_for(request.user, run_id, light=True))
    if run.is_finished and request.htmx:
        return HttpResponseClientRefresh()
    return render(request, "embeddings/run_detail.html#progress", {"run": run})


@require_POST
@login_required
def run_neighbours(request: HttpRequest, run_id: int) -> HttpResponse:
    """The texts of the run nearest to a query text (embedded with one call)."""
    run = selectors.run_for(request.user, run_id, role=Role.MEMBER)
    form = NeighboursForm(request.POST)
    context = {"run": run, "neighbours_form": form, "can_run": True}
    if run.status != Status.DONE:
        form.add_error(None, "The run has no vectors yet.")
    elif form.is_valid():
        try:
            context["neighbours"] = services.neighbours_find(
                run=run, user=request.user, query=form.cleaned_data["query"].strip(), k=form.cleaned_data["k"] or 10
            )
        except (errors.UpstreamError, NoKey) as error:
            form.add_error("query", str(error))
    if request.htmx:  # htmx swaps only 2xx answers: the errors come back as a 200 fragment
        return render(request, "embeddings/run_detail.html#neighbours", context)
    context = {**_detail_context(run, neighbours_form=form), "neighbours": context.get("neighbours")}
    return render(request, "embeddings/run_detail.html", context, status=400 if form.errors else 200)


@require_GET
@login_required
def run_compare(request: HttpRequest, run_id: int) -> HttpResponse:
    run = selectors.run_for(request.user, run_id)
    form = CompareForm(request.GET or None, runs=selectors.comparable_runs(run))
    comparison = None
    if form.is_valid():
        other = selectors.run_for(request.user, form.cleaned_data["other"].pk)
        try:
            comparison = selectors.run_comparison(run, other, k=form.cleaned_data["k"] or 5)
        except selectors.NotComparable as error:
            form.add_error("other", str(error))
    context = {"run": run, "project": run.project, "form": form, "comparison": comparison}
    return render(request, "embeddings/run_compare.html", context, status=400 if form.errors else 200)


def _csv_response(rows, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@login_required
def run_vectors_csv(request: HttpRequest, run_id: int) -> HttpResponse:
    run = selectors.run_for(request.user, run_id)
    if run.status != Status.DONE:
        return HttpResponse("This run has no vectors.", status=404, content_type="text/plain")
    return _csv_response(exports.vectors_csv(run), f"embeddings-run-{run.pk}-vectors.csv")


@require_GET
@login_required
def run_similarity_csv(request: HttpRequest, run_id: int) -> HttpResponse:
    run = selectors.run_for(request.user, run_id)
    if run.status != Status.DONE:
        return HttpResponse("This run has no vectors.", status=404, content_type="text/plain")
    similarity = selectors.similarity_matrix(run)
    return _csv_response(exports.similarity_csv(run, similarity), f"embeddings-run-{run.pk}-similarity.csv")


@require_http_methods(["GET", "POST"])
@login_required
def run_delete(request: HttpRequest, run_id: int) -> HttpResponse:
    """Members delete their own runs, admins any run of the team."""
    run = selectors.run_for(request.user, run_id, role=Role.MEMBER, light=True)
    if run.user_id != request.user.pk and not run.member_role.at_least(Role.ADMIN):
        messages.error(request, "Only the person who made a run, or a team admin, can delete it.")
        return redirect("embedding_run_detail", run_id=run.pk)
    if request.method == "POST":
        services.run_delete(run=run)
        messages.success(request, f"“{run}” deleted.")
        return redirect("embedding_runs", project_id=run.project_id)
    context = {
        "what": f"embedding run “{run}”",
        "consequences": f"Its {run.text_count} texts and their vectors are deleted. "
        "Usage records of its requests stay.",
        "cancel_url": reverse("embedding_run_detail", args=[run.pk]),
    }
    return render(request, "_confirm_delete.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def rerank_documents(request: HttpRequest, project_id: int) -> HttpResponse:
    """Documents ranked by a rerank model's relevance to a query: one call, shown and not stored."""
    project = project_for(request.user, project_id, role=Role.MEMBER if request.method == "POST" else Role.VIEWER)
    providers = selectors.rerank_providers(project.team)
    asked = request.POST.get("provider") or request.GET.get("provider")
    provider = _chosen(providers, asked)
    endpoint = selectors.rerank_endpoint(provider)
    suggestions = selectors.model_suggestions(provider, endpoint, hint="rerank")
    initial = {
        "provider": provider.pk if provider else None,
        "model": selectors.rerank_default_model(provider, suggestions),
    }
    data = request.POST if request.method == "POST" else None
    form = RerankForm(data, providers=providers, initial=initial)
    params = parameter_form(endpoint, data) if endpoint is not None else None
    context = {
        "project": project, "form": form, "params": params, "providers": providers, "models": suggestions,
        "can_run": project.member_role.at_least(Role.MEMBER),
        "not_offered": selectors.unoffered_provider(project.team, asked, providers),
    }  # fmt: skip
    if request.htmx and request.method == "GET":
        return render(request, "embeddings/rerank.html#provider-settings", context)
    if data is not None and params is not None and all([form.is_valid(), params.is_valid()]):
        checked = rerank_check(form=form, params=params, endpoint=endpoint, user=request.user, project=project)
        if checked is not None:
            body, (target, call_context) = checked
            try:
                context["ranking"] = rerank.rerank_documents(target=target, context=call_context, body=body)
            except errors.UpstreamError as error:
                place_rerank_error(error, form, params)
    failed = data is not None and "ranking" not in context
    if request.htmx:  # htmx swaps only 2xx answers: the errors come back as a 200 fragment
        return render(request, "embeddings/rerank.html#workspace", context)
    return render(request, "embeddings/rerank.html", context, status=400 if failed else 200)
