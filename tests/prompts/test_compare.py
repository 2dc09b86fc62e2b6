"""Compare mode on the demo upstream: four columns stream at once over the chat sockets; a slow one
and a failing one hold up nothing. "Save this setup" makes a version from a column."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient
from django.urls import reverse

from playground.chat import generation
from playground.chat.models import Message
from playground.prompts import services
from playground.prompts.models import CompareRun
from tests.chat.conftest import frames_until_done
from tests.prompts.conftest import make_prompt

pytestmark = pytest.mark.django_db(transaction=True)

MODELS = ["demo-chat", "demo-slow", "demo-broken", "demo-fast"]


@pytest.fixture
def quiz(team_with_roles, demo_provider):
    return make_prompt(
        team_with_roles.team,
        team_with_roles.users["member"],
        name="Quiz",
        provider=demo_provider,
        messages=[{"role": "user", "content": "Ask me about {{topic}}"}],
    )


async def watch(socket) -> tuple[list[dict], float]:
    frames = await frames_until_done(socket, timeout=30)
    return frames, time.monotonic()


async def test_four_columns_stream_concurrently_and_a_slow_or_failing_one_holds_up_nothing(
    team_with_roles, demo_provider, quiz, connect
):
    member = team_with_roles.users["member"]
    setups = [services.Setup(demo_provider, model, {"max_tokens": 60}) for model in MODELS]
    run = await sync_to_async(services.compare_create)(
        version=quiz.current_version,
        project=team_with_roles.project,
        user=member,
        values={"topic": "tides"},
        setups=setups,
    )
    columns = [column async for column in run.columns.select_related("conversation").order_by("position")]
    sockets = []
    for column in columns:  # one chat socket per column, as the compare page opens them
        socket, connected, _ = await connect(column.conversation)
        assert connected
        sockets.append(socket)
    started = time.monotonic()

    services.generations_start(await sync_to_async(services.compare_start)(run=run, user=member))
    results = await asyncio.gather(*(watch(socket) for socket in sockets))
    columns = [column async for column in run.columns.select_related("conversation").order_by("position")]

    by_model = dict(zip(MODELS, results, strict=True))
    for model, (frames, _) in by_model.items():
        deltas = [frame for frame in frames if frame["type"] == "delta"]
        assert deltas, model
        assert [frame["seq"] for frame in deltas] == list(range(1, len(deltas) + 1)), model
        assert {frame["message"] for frame in frames} == {by_model_answer(columns, model)}, model
    assert [by_model[model][0][-1]["status"] for model in MODELS] == ["done", "done", "error", "done"]
    # demo-slow waits 3 s before answering; the others finished well before it.
    slow_done = by_model["demo-slow"][1]
    assert slow_done - started >= 2.5
    assert all(by_model[model][1] < slow_done for model in ("demo-chat", "demo-broken", "demo-fast"))

    answers = {m.model: m async for m in Message.objects.filter(pk__in=[c.answer_id for c in columns])}
    for model in ("demo-chat", "demo-slow", "demo-fast"):
        assert answers[model].status == "done" and "Ask me about tides" in answers[model].content
        assert answers[model].ttft_ms is not None and answers[model].completion_tokens
    broken = answers["demo-broken"]
    assert broken.status == "error" and broken.error and broken.content  # what arrived is kept
    for socket in sockets:
        await socket.disconnect()


def by_model_answer(columns, model: str) -> int:
    return next(column.answer_id for column in columns if column.conversation.model == model)


async def test_the_compare_page_runs_the_columns_and_shows_their_statistics(team_with_roles, demo_provider, quiz):
    client = AsyncClient()
    await client.aforce_login(team_with_roles.users["member"])
    data = {"var_topic": "tides", "project": team_with_roles.project.pk}
    data |= {"c1-provider": demo_provider.pk, "c1-model": "demo-fast", "c1-params": '{"max_tokens": 30}'}
    data |= {"c2-provider": demo_provider.pk, "c2-model": "demo-broken", "c2-params": ""}
    data |= {"c3-provider": demo_provider.pk, "c3-model": "", "c4-provider": "", "c4-model": ""}

    response = await client.post(reverse("version_compare", args=[quiz.pk, 1]), data)

    run = await CompareRun.objects.aget()
    assert response.url == reverse("compare_detail", args=[run.pk])
    columns = [column async for column in run.columns.select_related("conversation").order_by("position")]
    assert [(c.conversation.model, c.conversation.params) for c in columns] == [
        ("demo-fast", {"max_tokens": 30}),
        ("demo-broken", {}),
    ]
    await asyncio.gather(*(generation.LIVE[c.answer_id].task for c in columns if c.answer_id in generation.LIVE))

    page = (await client.get(response.url)).content.decode()
    assert page.count('class="compare-column') == 2
    assert "Time to first token" in page and "tokens/s" in page
    assert 'data-socket="/ws/chat/' in page and "js/compare.js" in page
    fragment = (await client.get(reverse("compare_column", args=[run.pk, 2]))).content.decode()
    assert 'data-status="error"' in fragment and 'role="alert"' in fragment


async def test_save_this_setup_makes_a_new_version_with_the_columns_provider_model_and_parameters(
    team_with_roles, demo_provider, quiz
):
    member = team_with_roles.users["member"]
    setups = [services.Setup(demo_provider, "demo-fast", {"temperature": 1.5, "max_tokens": 20})]
    run = await sync_to_async(services.compare_create)(
        version=quiz.current_version, project=team_with_roles.project, user=member, values={"topic": "x"}, setups=setups
    )
    sends = await sync_to_async(services.compare_start)(run=run, user=member)
    services.generations_start(sends)
    await generation.LIVE[sends[0].answer.pk].task
    client = AsyncClient()
    await client.aforce_login(member)

    await client.post(reverse("compare_save", args=[run.pk, 1]))

    version = await quiz.versions.aget(number=2)
    assert (version.model, version.params, version.provider_id) == (
        "demo-fast",
        {"temperature": 1.5, "max_tokens": 20},
        demo_provider.pk,
    )
    assert version.messages == (await quiz.versions.aget(number=1)).messages
    assert version.note == f"Setup of column 1 in compare run {run.pk}: demo-fast"


async def test_a_column_that_cannot_run_is_refused_before_anything_starts(team_with_roles, demo_provider, quiz):
    from tests.factories import ProviderFactory

    keyless = await sync_to_async(ProviderFactory)(team=team_with_roles.team, name="No key", profile="demo")
    client = AsyncClient()
    await client.aforce_login(team_with_roles.users["member"])
    data = {"var_topic": "tides", "project": team_with_roles.project.pk}
    data |= {"c1-provider": demo_provider.pk, "c1-model": "demo-fast", "c1-params": "[1]"}
    data |= {"c2-provider": keyless.pk, "c2-model": "demo-chat"}
    data |= {"c3-provider": demo_provider.pk, "c3-model": "demo-chat", "c3-params": '{"temperature": 9}'}

    response = await client.post(reverse("version_compare", args=[quiz.pk, 1]), data)

    assert response.status_code == 400
    page = response.content.decode()
    assert "Parameters are a JSON object" in page
    assert "There is no API key for No key you may use." in page
    assert "temperature must be ≤ 2" in page
    assert not await CompareRun.objects.aexists()
