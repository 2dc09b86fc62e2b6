"""POST /completions on the demo: the legacy text completion, whole and streamed."""

from __future__ import annotations

from playground.demo.content import tokenize
from tests.demo.streams import read_stream

PROMPT = "Once upon a time there was a table"


def complete(demo, **fields):
    response = demo.post("/completions", json={"model": "demo-fast", "prompt": PROMPT, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def test_it_continues_the_prompt_in_the_text_completion_format(demo):
    body = complete(demo)
    assert body["id"].startswith("cmpl-demo-")
    assert body["object"] == "text_completion"
    assert body["model"] == "demo-fast"
    [choice] = body["choices"]
    assert choice["index"] == 0
    assert choice["logprobs"] is None
    assert choice["finish_reason"] == "stop"
    assert choice["text"].startswith(" … and that is where the demo model takes over")
    assert "No parameters beyond `model` and `prompt` were sent." in choice["text"]
    assert "| Model |" in choice["text"]  # the prompt mentions a table
    words = len(PROMPT.split())
    completion = len(tokenize(choice["text"]))
    assert body["usage"] == {
        "prompt_tokens": words,
        "completion_tokens": completion,
        "total_tokens": words + completion,
    }


def test_a_list_of_prompts_continues_the_first(demo):
    body = demo.post("/completions", json={"model": "demo-fast", "prompt": ["Write code", "Make a table"]}).json()
    assert "```python" in body["choices"][0]["text"]
    assert "| Model |" not in body["choices"][0]["text"]


def test_the_stream_joins_into_the_whole_text(demo):
    whole = complete(demo, max_tokens=30, temperature=1.2)
    body = {"model": "demo-fast", "prompt": PROMPT, "max_tokens": 30, "temperature": 1.2}
    stream = read_stream(demo, "/completions", {**body, "stream_options": {"include_usage": True}})
    assert stream.headers["content-type"].startswith("text/event-stream")
    *chunks, finish, usage = stream.events
    assert all(chunk["object"] == "text_completion" for chunk in stream.events)
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in chunks)
    assert "".join(chunk["choices"][0]["text"] for chunk in chunks) == whole["choices"][0]["text"]
    assert finish["choices"][0]["finish_reason"] == "length"
    assert usage["choices"] == []
    assert usage["usage"] == whole["usage"]
    assert stream.done


def test_a_stop_sequence_and_a_limit_apply(demo):
    assert complete(demo, stop=["demo"])["choices"][0]["text"] == " … and that is where the "
    limited = complete(demo, max_tokens=3)["choices"][0]
    assert limited == {"index": 0, "text": " … and ", "logprobs": None, "finish_reason": "length"}


def test_logprobs_come_in_the_legacy_shape(demo):
    logprobs = complete(demo, max_tokens=4, logprobs=2)["choices"][0]["logprobs"]
    assert logprobs["tokens"] == [" ", "… ", "and ", "that "]
    assert all(value < 0 for value in logprobs["token_logprobs"])
    assert [len(alternatives) for alternatives in logprobs["top_logprobs"]] == [2, 2, 2, 2]
    assert logprobs["text_offset"] == [len(PROMPT), len(PROMPT) + 1, len(PROMPT) + 3, len(PROMPT) + 7]


def test_a_prompt_is_required(demo):
    response = demo.post("/completions", json={"model": "demo-fast"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "prompt"
    bad = demo.post("/completions", json={"model": "demo-fast", "prompt": PROMPT, "logprobs": 6})
    assert bad.json()["error"]["message"] == "logprobs must be between 0 and 5 (got 6)"
