"""Embedding runs: create one, embed its texts batch by batch in a task that does not hold up
any request, reuse a run's texts with other settings, and embed a query for its neighbours."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from playground import upstream
from playground.embeddings import maths
from playground.embeddings.inputs import ParsedInput
from playground.embeddings.models import EmbeddingRun, Status
from playground.providers.keys import provider_schema, target_for
from playground.providers.profiles import profile_meta
from playground.schema.kinds import alternatives
from playground.upstream import errors
from playground.upstream.client import is_server_loop
from playground.upstream.sync import call_sync

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 256

# Runs embedding in this process's event loop; held so that the tasks are not collected.
_running: set[asyncio.Task] = set()


def batch_size_for(provider) -> int:
    """Texts per request: the EMBEDDINGS_BATCH_SIZE setting, lowered to what the provider's
    schema (maxItems of a list `input`) or profile (`x-playground.embeddings_batch_size`) allows."""
    limits = [getattr(settings, "EMBEDDINGS_BATCH_SIZE", DEFAULT_BATCH_SIZE) or DEFAULT_BATCH_SIZE]
    profile_limit = profile_meta(provider.profile).get("embeddings_batch_size")
    if isinstance(profile_limit, int) and profile_limit > 0:
        limits.append(profile_limit)
    endpoint = provider_schema(provider).endpoints.get("embeddings")
    if endpoint is not None:
        input_schema = (endpoint.request_schema.get("properties") or {}).get("input")
        for shape in alternatives(input_schema)[0]:
            if shape.get("type") == "array" and isinstance(shape.get("maxItems"), int) and shape["maxItems"] > 0:
                limits.append(shape["maxItems"])
    return max(1, min(limits))


def request_body(model: str, params: dict[str, Any], texts: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model} if model else {}
    return {**body, "input": texts, **params}


def run_create(
    *, project, user, provider, model: str, params: dict[str, Any], parsed: ParsedInput, name: str = ""
) -> EmbeddingRun:
    return EmbeddingRun.objects.create(
        project=project,
        user=user,
        provider=provider,
        provider_name=provider.name,
        name=name.strip()[:200],
        model=model,
        params=params,
        texts=parsed.texts,
        labels=parsed.labels,
        text_count=len(parsed.texts),
        first_text=parsed.texts[0][:200] if parsed.texts else "",
        batch_size=batch_size_for(provider),
    )


def run_start(run: EmbeddingRun, call: tuple) -> None:
    """Embed the run's texts. Under the ASGI server this starts a task on the server's loop and
    returns at once (the page then polls the progress); elsewhere (the test client, commands)
    the run completes before this returns."""
    async_to_sync(_start)(run.pk, *call)


async def _start(run_id: int, target: upstream.Target, context: upstream.CallContext) -> None:
    loop = asyncio.get_running_loop()
    if is_server_loop(loop):
        # A context of its own: the request's would tie the task's database work to the
        # request's thread, which is gone once the response is sent.
        task = loop.create_task(run_execute(run_id, target, context, background=True), context=contextvars.Context())
        _running.add(task)
        task.add_done_callback(_forget)
        return
    try:
        await run_execute(run_id, target, context)
    finally:
        await upstream.close_clients(loop)


def _forget(task: asyncio.Task) -> None:
    _running.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error("Embedding run task failed", exc_info=task.exception())


async def run_execute(
    run_id: int, target: upstream.Target, context: upstream.CallContext, *, background: bool = False
) -> None:
    """Embed every batch of the run, saving progress after each; store the vectors at the end.

    One upstream call (and so one usage record) per batch. An error ends the run with the
    provider's message; what was embedded before it is not kept (a run is all or nothing).
    """
    run = await _load(run_id, background)
    started = time.monotonic()
    vectors: list[np.ndarray] = []
    try:
        await _save(run_id, status=Status.RUNNING, done_count=0)
        for start in range(0, run.count, run.batch_size):
            batch = run.texts[start : start + run.batch_size]
            result = await upstream.embeddings(target, request_body(run.model, run.params, batch), context=context)
            vectors.extend(_checked_batch(result.vectors, len(batch), vectors[0].shape[0] if vectors else None))
            await _save(run_id, done_count=start + len(batch))
        matrix = np.vstack(vectors).astype(np.float32)
        if not np.isfinite(matrix).all():
            raise errors.InvalidResponse("The provider's vectors contain values that are not numbers (NaN or ∞).")
        run.set_matrix(matrix)
        await _save(
            run_id, status=Status.DONE, dim=run.dim, vectors=run.vectors, duration_ms=_ms_since(started), error=""
        )
    except errors.UpstreamError as error:
        duration = _ms_since(started)
        await _save(run_id, status=Status.ERROR, error=error.message, error_kind=error.kind, duration_ms=duration)
    except asyncio.CancelledError:
        await asyncio.shield(_save(run_id, status=Status.ERROR, error="The run was stopped.", error_kind="cancelled"))
        raise
    except Exception:
        logger.exception("Embedding run %s failed", run_id)
        await _save(
            run_id,
            status=Status.ERROR,
            error="The run failed inside Playground; the error is in the server log.",
            error_kind="internal",
            duration_ms=_ms_since(started),
        )
    finally:
        if background:
            await sync_to_async(close_old_connections)()


def _checked_batch(vectors: list[np.ndarray], expected: int, dim: int | None) -> list[np.ndarray]:
    if len(vectors) != expected:
        raise errors.InvalidResponse(f"The provider returned {len(vectors)} vectors for {expected} texts.")
    lengths = {vector.shape[0] for vector in vectors} | ({dim} if dim else set())
    if len(lengths) > 1:
        raise errors.InvalidResponse(
            "The provider returned vectors of different lengths (" + ", ".join(str(n) for n in sorted(lengths)) + ")."
        )
    if 0 in lengths:
        raise errors.InvalidResponse("The provider returned empty vectors.")
    return vectors


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


@sync_to_async
def _load(run_id: int, background: bool) -> EmbeddingRun:
    if background:
        close_old_connections()  # a long-lived thread: drop a connection the database closed
    return EmbeddingRun.objects.get(pk=run_id)


@sync_to_async
def _save(run_id: int, **fields: Any) -> None:
    EmbeddingRun.objects.filter(pk=run_id).update(updated_at=timezone.now(), **fields)


def run_mark_stale(run: EmbeddingRun) -> EmbeddingRun:
    """A run that has made no progress for longer than one call may take was left behind by a
    server that stopped: say so, rather than show it as running for ever."""
    if run.is_finished:
        return run
    provider = run.provider
    limit = (provider.total_timeout if provider and provider.total_timeout else None) or settings.UPSTREAM_TOTAL_TIMEOUT
    if timezone.now() - run.updated_at < timedelta(seconds=limit + 60):
        return run
    run.status, run.error_kind = Status.ERROR, "interrupted"
    run.error = "The server stopped while this run was in progress. Run it again."
    run.save(update_fields=["status", "error", "error_kind", "updated_at"])
    return run


def run_retry(*, run: EmbeddingRun, user, provider, model: str, params: dict[str, Any]) -> EmbeddingRun:
    """A new run over the same texts and labels, with other settings."""
    parsed = ParsedInput(texts=list(run.texts), labels=list(run.labels))
    return run_create(
        project=run.project, user=user, provider=provider, model=model, params=params, parsed=parsed, name=run.name
    )


@dataclass(frozen=True)
class Neighbour:
    index: int
    text: str
    label: str
    score: float


def neighbours_find(*, run: EmbeddingRun, user, query: str, k: int) -> list[Neighbour]:
    """Embed `query` with the run's provider, model and parameters (one call) and return the
    k texts of the run most similar to it, best first. Raises UpstreamError or NoKey."""
    if run.provider is None:
        raise errors.UpstreamError("The provider of this run was deleted, so a query cannot be embedded.")
    target, context = target_for(user, run.provider, project=run.project)
    result = call_sync(upstream.embeddings, target, request_body(run.model, run.params, [query]), context=context)
    [vector] = _checked_batch(result.vectors, 1, run.dim)
    indices, scores = maths.nearest(run.matrix(), vector, k)
    return [
        Neighbour(index=int(i), text=run.texts[i], label=run.label_of(int(i)), score=float(score))
        for i, score in zip(indices, scores, strict=True)
    ]


def run_delete(*, run: EmbeddingRun) -> None:
    run.delete()
