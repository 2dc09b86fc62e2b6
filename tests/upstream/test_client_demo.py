"""The upstream client against the built-in demo upstream over a real socket, model by model."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pytest

from playground.demo.keys import demo_key
from playground.upstream import (
    CallContext,
    Target,
    Timeouts,
    chat,
    completion,
    embeddings,
    errors,
    images,
    models,
    openapi,
    stream_chat,
    stream_completion,
)
from playground.upstream.events import (
    Finish,
    Logprobs,
    Retrying,
    TextDelta,
    ToolCallAccumulator,
    ToolCallDelta,
    Usage,
)

NO_RECORD = CallContext(record=False)


@pytest.fixture
def demo(demo_upstream_url):
    # A key of its own, because the demo counts flaky and rate-limited calls per key.
    return Target(
        base_url=demo_upstream_url, api_key=demo_key(f"tok-{uuid.uuid4().hex}"), allow_local=True, name="Demo"
    )


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.UPSTREAM_BACKOFF_BASE = 0.01


def ask(model: str, text: str = "Hello", **params) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": text}], **params}


async def stream(target, body, *, completion_mode=False) -> list:
    opener = stream_completion if completion_mode else stream_chat
    async with opener(target, body, context=NO_RECORD) as events:
        return [event async for event in events]


def text_of(events) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


async def test_models_list(demo):
    found = {model.id for model in await models(demo, context=NO_RECORD)}
    assert {"demo-chat", "demo-fast", "demo-slow", "demo-flaky", "demo-ratelimited", "demo-broken"} <= found


async def test_chat_stream_matches_the_whole_answer_and_reports_usage(demo):
    body = ask("demo-chat", "Show me a table", temperature=0.5)
    events = await stream(demo, body)
    whole = await chat(demo, body, context=NO_RECORD)
    assert text_of(events) == whole.text
    assert "`temperature` = 0.5" in whole.text
    [usage] = [event for event in events if isinstance(event, Usage)]
    assert usage.completion_tokens == whole.usage.completion_tokens and not usage.estimated
    assert [event.reason for event in events if isinstance(event, Finish)] == ["stop"]


async def test_max_tokens_cuts_with_finish_reason_length(demo):
    events = await stream(demo, ask("demo-fast", max_tokens=5))
    assert [event.reason for event in events if isinstance(event, Finish)] == ["length"]
    assert len(text_of(events).split()) == 5
    assert [event.completion_tokens for event in events if isinstance(event, Usage)] == [5]


async def test_logprobs_are_passed_on(demo):
    events = await stream(demo, ask("demo-fast", logprobs=True, top_logprobs=2, max_tokens=3))
    tokens = [token for event in events if isinstance(event, Logprobs) for token in event.tokens]
    assert len(tokens) == 3 and all(token["logprob"] <= 0 for token in tokens)


async def test_tool_call_streamed_in_fragments_merges_to_valid_json(demo):
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
    events = await stream(demo, ask("demo-fast", "What is the weather?", tools=[tool], tool_choice="required"))
    fragments = [event for event in events if isinstance(event, ToolCallDelta)]
    assert len(fragments) > 2
    merged = ToolCallAccumulator()
    for fragment in fragments:
        merged.add(fragment)
    [call] = merged.result()
    assert call.name == "get_weather" and isinstance(json.loads(call.arguments), dict)
    assert [event.reason for event in events if isinstance(event, Finish)] == ["tool_calls"]


async def test_slow_model_trips_a_short_first_byte_timeout(demo):
    impatient = Target(
        base_url=demo.base_url, api_key=demo.api_key, allow_local=True, timeouts=Timeouts.from_settings(first_byte=0.5)
    )
    with pytest.raises(errors.FirstByteTimeout) as caught:
        await stream(impatient, ask("demo-slow"))
    assert "did not start answering within 0.5 s" in caught.value.message


async def test_flaky_model_is_retried_to_success(demo):
    events = await stream(demo, ask("demo-flaky"))
    retries = [event for event in events if isinstance(event, Retrying)]
    assert len(retries) == 1 and retries[0].error.status == 500
    assert text_of(events)


async def test_rate_limited_model_waits_for_retry_after_and_shows_the_limits(demo):
    events = await stream(demo, ask("demo-ratelimited"))
    [retry] = [event for event in events if isinstance(event, Retrying)]
    assert retry.delay_s >= 1.0
    assert (retry.error.limit, retry.error.burst) == ("10", "2")
    assert text_of(events)


async def test_broken_stream_keeps_the_text_and_raises_a_stream_error(demo):
    received = []
    with pytest.raises(errors.StreamError) as caught:
        async with stream_chat(demo, ask("demo-broken"), context=NO_RECORD) as events:
            async for event in events:
                received.append(event)
    assert len(text_of(received)) > 10
    assert "broke on purpose" in caught.value.message


async def test_long_model_streams_thousands_of_tokens(demo):
    events = await stream(demo, ask("demo-long"))
    [usage] = [event for event in events if isinstance(event, Usage)]
    assert usage.completion_tokens >= 3000
    assert len(text_of(events)) > 10_000


async def test_bad_parameter_carries_the_upstreams_message(demo):
    with pytest.raises(errors.BadRequest) as caught:
        await chat(demo, ask("demo-chat", temperature=3), context=NO_RECORD)
    assert "temperature must be between 0 and 2" in caught.value.message


async def test_missing_key_is_an_authentication_error(demo_upstream_url):
    with pytest.raises(errors.AuthenticationFailed):
        await models(Target(base_url=demo_upstream_url, allow_local=True), context=NO_RECORD)


async def test_a_key_this_installation_did_not_make_is_an_authentication_error(demo_upstream_url):
    target = Target(base_url=demo_upstream_url, api_key="sk-any-value-works", allow_local=True)
    with pytest.raises(errors.AuthenticationFailed) as caught:
        await models(target, context=NO_RECORD)
    assert "only keys made by this Playground installation" in caught.value.message


async def test_text_completion_streams(demo):
    events = await stream(
        demo, {"model": "demo-fast", "prompt": "Once upon a time", "max_tokens": 8}, completion_mode=True
    )
    assert [event.completion_tokens for event in events if isinstance(event, Usage)] == [8]
    whole = await completion(
        demo, {"model": "demo-fast", "prompt": "Once upon a time", "max_tokens": 8}, context=NO_RECORD
    )
    assert whole.text == text_of(events)


async def test_images_in_both_size_dialects(demo):
    for size in ("256x256", "256*256"):
        result = await images(
            demo,
            {"model": "demo-image", "prompt": "a red fox", "size": size, "response_format": "b64_json"},
            context=NO_RECORD,
        )
        assert result.images[0]["b64_json"]


async def test_embeddings_float_and_base64_agree(demo):
    texts = ["the cat sat", "the cat slept", "quantum physics"]
    floats = await embeddings(demo, {"model": "demo-embed", "input": texts}, context=NO_RECORD)
    packed = await embeddings(
        demo, {"model": "demo-embed", "input": texts, "encoding_format": "base64"}, context=NO_RECORD
    )
    assert len(floats.vectors) == 3
    for a, b in zip(floats.vectors, packed.vectors, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    cat, cat2, physics = floats.vectors
    assert float(cat @ cat2) > float(cat @ physics)


async def test_the_demo_serves_its_openapi_document(demo):
    document = await openapi(demo, context=NO_RECORD)
    assert "/chat/completions" in document["paths"]
