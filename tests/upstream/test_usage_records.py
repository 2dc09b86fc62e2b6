"""Every upstream call writes one usage record, whatever its outcome, and each attempt that
failed and was retried one more (a 429 absorbed by a retry still shows as rate limited);
keys never leak."""

from __future__ import annotations

import json
import logging

import pytest

from playground.upstream import CallContext, Target, chat, errors, models, stream_chat
from playground.usage.models import UsageRecord
from tests.factories import ProjectFactory, UserFactory
from tests.upstream.raw_server import RawServer, Reply, json_reply, sse_chunks

pytestmark = pytest.mark.django_db(transaction=True)
KEY = "sk-live-SECRET-abcdefghijklmnop1234"
BODY = {"model": "demo-model", "messages": [{"role": "user", "content": "Hello there, how are you today?"}]}


@pytest.fixture
def context(db):
    project = ProjectFactory()
    user = UserFactory()
    return CallContext(team_id=project.team_id, project_id=project.pk, user_id=user.pk, provider_id=7, key_id=9)


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.UPSTREAM_BACKOFF_BASE = 0.01


def target(server) -> Target:
    return Target(base_url=server.url, api_key=KEY, allow_local=True, name="Raw")


async def records() -> list[UsageRecord]:
    return [record async for record in UsageRecord.objects.order_by("pk")]


async def run_stream(server, context, stop_after: int | None = None) -> str:
    text = ""
    async with stream_chat(target(server), BODY, context=context) as events:
        async for event in events:
            text += getattr(event, "text", "") or ""
            if stop_after is not None and len(text) >= stop_after:
                break
    return text


async def test_a_streamed_answer_records_the_upstreams_usage(context):
    usage = {"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}}
    raw = sse_chunks("Hi ", "there", done=False) + b"data: " + json.dumps(usage).encode() + b"\n\ndata: [DONE]\n\n"
    async with RawServer(Reply(parts=[(0, raw)])) as server:
        await run_stream(server, context)
    [record] = await records()
    assert (record.status, record.http_status, record.endpoint, record.model) == ("ok", 200, "chat", "demo-model")
    assert (record.prompt_tokens, record.completion_tokens, record.tokens_estimated) == (11, 2, False)
    assert (record.team_id, record.project_id, record.user_id) == (context.team_id, context.project_id, context.user_id)
    assert (record.provider_id, record.key_id, record.provider_name) == (7, 9, "Raw")
    assert record.ttft_ms is not None and record.total_ms >= record.ttft_ms


async def test_without_usage_from_the_upstream_tokens_are_estimated_and_flagged(context):
    async with RawServer(Reply(parts=[(0, sse_chunks("x" * 40))])) as server:
        await run_stream(server, context)
    [record] = await records()
    assert record.tokens_estimated
    assert record.completion_tokens == 10
    assert record.prompt_tokens == round(len(BODY["messages"][0]["content"]) / 4)


async def test_stopping_early_records_a_cancelled_call(context):
    async with RawServer(Reply(parts=[(0, sse_chunks("first ")), (2.0, sse_chunks("never"))])) as server:
        text = await run_stream(server, context, stop_after=1)
    assert text == "first "
    [record] = await records()
    assert record.status == "cancelled"


async def test_each_rate_limited_attempt_is_recorded(context):
    async with RawServer(json_reply(429, {"error": {"message": "too many"}}, **{"Retry-After": "0"})) as server:
        with pytest.raises(errors.RateLimited):
            await run_stream(server, context)
        assert len(server.requests) == 3
    found = [(r.status, r.http_status, r.retries, r.error_kind) for r in await records()]
    assert found == [("rate_limited", 429, retries, "rate_limited") for retries in (0, 1, 2)]
    assert [r.error_message.startswith("Retried: ") for r in await records()] == [True, True, False]


async def test_a_retried_then_successful_call_records_the_failed_attempt_and_the_answer(context):
    async with RawServer(
        json_reply(500, {"error": {"message": "oops"}}), Reply(parts=[(0, sse_chunks("ok"))])
    ) as server:
        await run_stream(server, context)
    failed, answered = await records()
    assert (failed.status, failed.retries, failed.http_status, failed.prompt_tokens) == ("error", 0, 500, None)
    assert (answered.status, answered.retries, answered.http_status) == ("ok", 1, 200)


async def test_a_429_absorbed_by_a_retry_shows_on_the_dashboard(context, client):
    from asgiref.sync import sync_to_async
    from django.urls import reverse

    from playground.accounts.models import Project, Role
    from tests.factories import MembershipFactory

    async with RawServer(
        json_reply(429, {"error": {"message": "slow down"}}, **{"Retry-After": "0"}),
        Reply(parts=[(0, sse_chunks("ok"))]),
    ) as server:
        assert await run_stream(server, context) == "ok"

    def dashboard() -> str:
        project = Project.objects.get(pk=context.project_id)
        admin = UserFactory()
        MembershipFactory(team=project.team, user=admin, role=Role.ADMIN)
        client.force_login(admin)
        return client.get(reverse("usage_dashboard"), {"team": project.team_id}).content.decode()

    page = await sync_to_async(dashboard)()
    assert "<dt>Rate limited (429)</dt><dd>1</dd>" in page


async def test_errors_record_their_kind_and_message(context):
    async with RawServer(json_reply(400, {"error": {"message": "temperature must be <= 2"}})) as server:
        with pytest.raises(errors.BadRequest):
            await chat(target(server), BODY, context=context)
    [record] = await records()
    assert (record.status, record.http_status, record.error_kind) == ("error", 400, "bad_request")
    assert "temperature must be <= 2" in record.error_message


async def test_non_streamed_and_models_calls_are_recorded(context):
    answer = {
        "choices": [{"message": {"role": "assistant", "content": "hey"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }
    async with RawServer(json_reply(200, answer), json_reply(200, {"data": [{"id": "a"}, {"id": "b"}]})) as server:
        result = await chat(target(server), BODY, context=context)
        found = await models(target(server), context=context)
    assert result.text == "hey" and [model.id for model in found] == ["a", "b"]
    chat_record, models_record = await records()
    assert (chat_record.endpoint, chat_record.prompt_tokens, chat_record.completion_tokens) == ("chat", 5, 1)
    assert (models_record.endpoint, models_record.status, models_record.prompt_tokens) == ("models", "ok", None)


async def test_the_key_appears_in_no_log_error_or_record(context, caplog):
    caplog.set_level(logging.DEBUG)
    for quieted in ("httpx", "httpcore"):  # quiet by default; listen to everything they say
        caplog.set_level(logging.DEBUG, logger=quieted)
    echo = {"error": {"message": f"Incorrect API key provided: {KEY}"}}
    async with RawServer(
        Reply(parts=[(0, sse_chunks("fine"))]), json_reply(401, echo), json_reply(500, echo)
    ) as server:
        await run_stream(server, context)
        raised = []
        for _ in range(2):
            try:
                await chat(target(server), BODY, context=context)
            except errors.UpstreamError as error:
                raised.append(error)
    assert len(raised) == 2
    assert KEY not in caplog.text
    assert KEY[-8:] not in caplog.text
    for error in raised:
        assert KEY not in f"{error} {error!r} {error.upstream_message} {error.args}"
    for record in await records():
        assert KEY not in json.dumps({f.name: str(getattr(record, f.attname)) for f in record._meta.fields})
    assert KEY not in repr(Target(base_url="https://api.example.com/v1", api_key=KEY, headers={"X-Key": KEY}))
