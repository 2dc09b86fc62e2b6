"""The demo models that misbehave on purpose: flaky, rate limited, broken, slow, and very long."""

from __future__ import annotations

import time
import uuid

import httpx

from playground.demo.content import tokenize
from playground.demo.keys import demo_key
from tests.demo.streams import read_stream


def chat(model, **fields):
    return {"model": model, "messages": [{"role": "user", "content": "Hello"}], **fields}


def test_demo_flaky_fails_every_other_call(demo):
    statuses = [demo.post("/chat/completions", json=chat("demo-flaky")).status_code for _ in range(4)]
    assert statuses == [500, 200, 500, 200]
    failure = demo.post("/chat/completions", json=chat("demo-flaky", stream=True))
    assert failure.json() == {
        "error": {"message": "The demo model failed on purpose (every other call).", "type": "server_error"}
    }
    stream = read_stream(demo, "/chat/completions", chat("demo-flaky"))
    assert stream.status == 200
    assert stream.done


def test_demo_flaky_counts_calls_per_key(demo, demo_upstream_url):
    assert demo.post("/chat/completions", json=chat("demo-flaky")).status_code == 500
    other_key = {"Authorization": f"Bearer {demo_key(f'other-{uuid.uuid4().hex}')}"}
    other = httpx.post(demo_upstream_url + "/chat/completions", json=chat("demo-flaky"), headers=other_key)
    assert other.status_code == 500
    assert demo.post("/chat/completions", json=chat("demo-flaky")).status_code == 200


def test_demo_flaky_and_demo_ratelimited_keep_separate_counts(demo):
    assert demo.post("/chat/completions", json=chat("demo-flaky")).status_code == 500
    assert demo.post("/chat/completions", json=chat("demo-ratelimited")).status_code == 429


def test_demo_ratelimited_refuses_every_other_call_with_retry_after(demo):
    refused = demo.post("/chat/completions", json=chat("demo-ratelimited"))
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["x-ratelimit-limit"] == "10"
    assert refused.headers["x-ratelimit-burst"] == "2"
    error = refused.json()["error"]
    assert error["type"] == "rate_limit_exceeded"
    assert "Retry after 1 s" in error["message"]
    assert demo.post("/chat/completions", json=chat("demo-ratelimited")).status_code == 200
    assert demo.post("/completions", json={"model": "demo-ratelimited", "prompt": "Hi"}).status_code == 429


def test_demo_broken_breaks_its_stream_with_an_error_event_and_no_done(demo):
    stream = read_stream(demo, "/chat/completions", chat("demo-broken"))
    assert stream.status == 200
    assert not stream.done
    *chunks, error = stream.events
    assert error == {"error": {"message": "The demo stream broke on purpose.", "type": "server_error"}}
    assert len(tokenize(stream.chat_text())) == 10
    assert stream.finish_reasons() == []
    assert stream.lines[-1] == 'data: {"error":{"message":"The demo stream broke on purpose.","type":"server_error"}}'


def test_demo_broken_fails_a_whole_answer_with_a_500(demo):
    response = demo.post("/chat/completions", json=chat("demo-broken"))
    assert response.status_code == 500
    assert response.json()["error"] == {"message": "The demo stream broke on purpose.", "type": "server_error"}


def test_demo_slow_waits_three_seconds_before_its_headers_then_keeps_alive(demo):
    started = time.monotonic()
    with demo.stream("POST", "/chat/completions", json=chat("demo-slow", stream=True, max_tokens=3)) as response:
        waited = time.monotonic() - started
        lines = [line for line in response.iter_lines() if line]
    assert waited >= 3.0
    assert response.status_code == 200
    assert lines[0] == ": keep-alive"
    assert lines[1].startswith("data: ")
    assert lines[-1] == "data: [DONE]"


def test_demo_long_answers_with_more_than_three_thousand_tokens(demo):
    body = demo.post("/chat/completions", json=chat("demo-long")).json()
    content = body["choices"][0]["message"]["content"]
    assert body["usage"]["completion_tokens"] == len(tokenize(content)) >= 3000
    assert content.count("\n## Part ") >= 20
    assert body["choices"][0]["finish_reason"] == "stop"
