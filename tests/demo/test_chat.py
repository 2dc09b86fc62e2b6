"""POST /chat/completions on the demo: answers, streaming, limits, logprobs, tool calls, JSON mode, validation."""

from __future__ import annotations

import json

import pytest

from playground.demo.content import tokenize
from tests.demo.streams import read_stream

QUESTION = "What can you do for me today?"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_forecast",
            "description": "Forecast for a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "days": {"type": "integer"},
                    "metric": {"type": "boolean"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"place": {"type": "string"}}},
        },
    },
]


def chat(model="demo-fast", content=QUESTION, **fields):
    return {"model": model, "messages": [{"role": "user", "content": content}], **fields}


def answer(demo, body):
    response = demo.post("/chat/completions", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_it_answers_in_the_chat_completion_format(demo):
    body = answer(demo, chat())
    assert body["id"].startswith("chatcmpl-demo-")
    assert body["object"] == "chat.completion"
    assert isinstance(body["created"], int)
    assert body["model"] == "demo-fast"
    assert body["system_fingerprint"] == "demo"
    [choice] = body["choices"]
    assert choice["index"] == 0
    assert choice["message"]["role"] == "assistant"
    assert choice["logprobs"] is None
    assert choice["finish_reason"] == "stop"


def test_the_answer_quotes_the_question_and_lists_no_parameters(demo):
    content = answer(demo, chat())["choices"][0]["message"]["content"]
    first_line, second_line = content.splitlines()[:2]
    assert first_line == f'You said: "{QUESTION}"'
    assert second_line == "No parameters beyond `model` and `messages` were sent."
    assert "built-in demo model" in content
    assert "`demo-flaky`" in content


def test_a_long_question_is_quoted_shortened(demo):
    content = answer(demo, chat(content="word " * 100))["choices"][0]["message"]["content"]
    first_line = content.splitlines()[0]
    assert first_line.endswith('…"')
    assert len(first_line) < 100


def test_the_answer_names_the_parameters_it_received(demo):
    content = answer(demo, chat(temperature=0.7, max_tokens=200, surprise="ignored"))["choices"][0]["message"]
    assert "Parameters received: `temperature` = 0.7, `max_tokens` = 200." in content["content"]
    assert "surprise" not in content["content"]


def test_the_same_request_gets_the_same_answer(demo):
    first = answer(demo, chat(model="demo-chat", seed=3))["choices"][0]["message"]["content"]
    second = answer(demo, chat(model="demo-chat", seed=3))["choices"][0]["message"]["content"]
    assert first == second


@pytest.mark.parametrize(
    ("question", "expected", "absent"),
    [
        ("Show me some code", "```python\n", "| Model |"),
        ("Can I see a table?", "| Model | What it is for |\n| --- | --- |\n| `demo-chat` |", "```python"),
        ("Make me a list", "\n- Mention **code**", "| Model |"),
    ],
)
def test_keywords_bring_formatted_content(demo, question, expected, absent):
    content = answer(demo, chat(content=question))["choices"][0]["message"]["content"]
    assert expected in content
    assert absent not in content
    assert "built-in demo model" not in content


def test_several_keywords_bring_several_sections(demo):
    content = answer(demo, chat(content="code, then a table and a list"))["choices"][0]["message"]["content"]
    assert content.index("```python") < content.index("| Model |") < content.index("\n- ")
    assert content.count("```") == 2


def test_usage_counts_words_plus_three_per_message_and_the_tokens_sent(demo):
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Hello there"}, {"type": "text", "text": "friend"}]},
        {"role": "assistant", "content": None, "tool_calls": []},
        {"role": "user", "content": "One two three four"},
    ]
    body = answer(demo, {"model": "demo-fast", "messages": messages})
    content = body["choices"][0]["message"]["content"]
    assert content.startswith('You said: "One two three four"')
    assert body["usage"] == {
        "prompt_tokens": 2 + 3 + 0 + 4 + 4 * 3,
        "completion_tokens": len(tokenize(content)),
        "total_tokens": 2 + 3 + 0 + 4 + 4 * 3 + len(tokenize(content)),
    }


def test_no_user_message_still_gets_an_answer(demo):
    body = answer(demo, {"model": "demo-fast", "messages": [{"role": "system", "content": "Be kind."}]})
    assert body["choices"][0]["message"]["content"].startswith("There is no user message")


@pytest.mark.parametrize("model", ["demo-fast", "demo-chat"])
def test_the_streamed_text_is_the_whole_answer(demo, model):
    body = chat(model=model, temperature=0.2, content="a list and a table")
    whole = answer(demo, body)
    stream = read_stream(demo, "/chat/completions", body)
    assert stream.status == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.headers["cache-control"] == "no-cache"
    assert stream.chat_text() == whole["choices"][0]["message"]["content"]
    assert stream.done
    first, *tokens, last = stream.events
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    for event in [first, *tokens, last]:
        assert event["id"] == stream.events[0]["id"]
        assert event["id"].startswith("chatcmpl-demo-")
        assert event["object"] == "chat.completion.chunk"
        assert event["model"] == model
        assert event["system_fingerprint"] == "demo"
        assert "usage" not in event
    assert [len(event["choices"][0]["delta"]["content"].split()) for event in tokens] == [1] * len(tokens)
    assert all(event["choices"][0]["finish_reason"] is None for event in tokens)
    assert last["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}


@pytest.mark.parametrize("limit", ["max_tokens", "max_completion_tokens"])
def test_a_token_limit_cuts_the_answer_with_finish_reason_length(demo, limit):
    body = answer(demo, chat(**{limit: 7}))
    content = body["choices"][0]["message"]["content"]
    assert len(tokenize(content)) == 7
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 7
    stream = read_stream(demo, "/chat/completions", chat(**{limit: 7}))
    assert stream.chat_text() == content
    assert stream.finish_reasons() == ["length"]


def test_a_stop_sequence_ends_the_answer_before_it(demo):
    body = answer(demo, chat(stop=["nothing like this", "\n"]))
    assert body["choices"][0]["message"]["content"] == f'You said: "{QUESTION}"'
    assert body["choices"][0]["finish_reason"] == "stop"
    content = answer(demo, chat(stop="received"))["choices"][0]["message"]["content"]
    assert content == f'You said: "{QUESTION}"\nParameters '
    stream = read_stream(demo, "/chat/completions", chat(stop="received"))
    assert stream.chat_text() == content
    assert stream.finish_reasons() == ["stop"]


def test_a_token_limit_before_the_stop_sequence_wins(demo):
    body = answer(demo, chat(stop="Parameters", max_tokens=2))
    assert body["choices"][0]["message"]["content"] == "You said: "
    assert body["choices"][0]["finish_reason"] == "length"


def test_include_usage_adds_a_last_chunk_with_the_usage(demo):
    body = chat(max_tokens=12)
    whole = answer(demo, body)
    stream = read_stream(demo, "/chat/completions", {**body, "stream_options": {"include_usage": True}})
    *chunks, usage_chunk = stream.events
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"] == whole["usage"] == {"prompt_tokens": 10, "completion_tokens": 12, "total_tokens": 22}
    assert all(chunk["usage"] is None for chunk in chunks)
    assert stream.done


def test_n_gives_that_many_choices(demo):
    body = answer(demo, chat(n=3, max_tokens=4))
    assert [choice["index"] for choice in body["choices"]] == [0, 1, 2]
    assert body["usage"]["completion_tokens"] == 12
    stream = read_stream(demo, "/chat/completions", chat(n=2, max_tokens=4))
    assert stream.chat_text(0) == stream.chat_text(1) == body["choices"][0]["message"]["content"]
    assert stream.finish_reasons(0) == stream.finish_reasons(1) == ["length"]


def test_logprobs_describe_every_token(demo):
    body = answer(demo, chat(max_tokens=6, logprobs=True, top_logprobs=3))
    choice = body["choices"][0]
    tokens = tokenize(choice["message"]["content"])
    items = choice["logprobs"]["content"]
    assert [item["token"] for item in items] == tokens
    for item in items:
        assert item["logprob"] < 0
        assert item["bytes"] == list(item["token"].encode())
        alternatives = item["top_logprobs"]
        assert len(alternatives) == 3
        assert len({alternative["token"] for alternative in alternatives}) == 3
        assert [a["logprob"] for a in alternatives] == sorted((a["logprob"] for a in alternatives), reverse=True)
    again = answer(demo, chat(max_tokens=6, logprobs=True, top_logprobs=3))
    assert again["choices"][0]["logprobs"] == choice["logprobs"]
    stream = read_stream(demo, "/chat/completions", chat(max_tokens=6, logprobs=True, top_logprobs=3))
    streamed = [c["logprobs"]["content"][0] for c in stream.choice_events() if c["delta"].get("content")]
    assert streamed == items


def test_top_logprobs_needs_logprobs(demo):
    response = demo.post("/chat/completions", json=chat(top_logprobs=2))
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "top_logprobs"


def test_tool_choice_required_calls_the_first_tool_with_arguments_from_its_schema(demo):
    body = answer(demo, chat(tools=TOOLS, tool_choice="required"))
    [choice] = body["choices"]
    assert choice["finish_reason"] == "tool_calls"
    message = choice["message"]
    assert message["content"] is None
    [call] = message["tool_calls"]
    assert call["id"].startswith("call_demo_")
    assert call["type"] == "function"
    assert call["function"]["name"] == "get_forecast"
    assert json.loads(call["function"]["arguments"]) == {"city": "demo", "days": 1, "metric": True, "unit": "celsius"}


def test_a_named_tool_choice_calls_that_function(demo):
    choice = {"type": "function", "function": {"name": "get_weather"}}
    call = answer(demo, chat(tools=TOOLS, tool_choice=choice))["choices"][0]["message"]["tool_calls"][0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"place":"demo"}'}


def test_asking_about_the_weather_with_tools_calls_a_weather_tool(demo):
    message = answer(demo, chat(content="What's the weather in Oslo?", tools=TOOLS))["choices"][0]["message"]
    assert message["tool_calls"][0]["function"]["name"] == "get_weather"
    text = answer(demo, chat(content="What's the weather in Oslo?", tools=TOOLS, tool_choice="none"))
    assert text["choices"][0]["message"]["content"].startswith("You said:")
    assert answer(demo, chat(tools=TOOLS))["choices"][0]["finish_reason"] == "stop"


def test_a_streamed_tool_call_arrives_in_fragments_that_join_into_the_arguments(demo):
    whole = answer(demo, chat(tools=TOOLS, tool_choice="required"))["choices"][0]["message"]["tool_calls"][0]
    stream = read_stream(demo, "/chat/completions", chat(tools=TOOLS, tool_choice="required"))
    calls = [choice["delta"]["tool_calls"][0] for choice in stream.choice_events() if "tool_calls" in choice["delta"]]
    first, *fragments = calls
    assert first == {
        "index": 0,
        "id": whole["id"],
        "type": "function",
        "function": {"name": whole["function"]["name"], "arguments": ""},
    }
    assert len(fragments) > 3
    assert all(set(fragment) == {"index", "function"} and fragment["index"] == 0 for fragment in fragments)
    arguments = "".join(fragment["function"]["arguments"] for fragment in fragments)
    assert arguments == whole["function"]["arguments"]
    assert json.loads(arguments)["city"] == "demo"
    assert stream.finish_reasons() == ["tool_calls"]
    assert stream.done


def test_json_object_mode_answers_with_a_json_object(demo):
    content = answer(demo, chat(response_format={"type": "json_object"}, temperature=0))["choices"][0]["message"]
    value = json.loads(content["content"])
    assert value["answer"].startswith("You said:")
    assert value["parameters"] == {"response_format": {"type": "json_object"}, "temperature": 0}


def test_json_schema_mode_answers_with_an_object_that_fits_the_schema(demo):
    schema = {"type": "object", "properties": {"title": {"type": "string"}, "score": {"type": "number"}}}
    response_format = {"type": "json_schema", "json_schema": {"name": "review", "schema": schema}}
    content = answer(demo, chat(response_format=response_format))["choices"][0]["message"]["content"]
    assert json.loads(content) == {"title": "demo", "score": 1}


@pytest.mark.parametrize(
    ("fields", "message", "param"),
    [
        ({"temperature": 3}, "temperature must be between 0 and 2 (got 3)", "temperature"),
        ({"temperature": "hot"}, 'temperature must be a number or null (got "hot")', "temperature"),
        ({"top_p": 1.5}, "top_p must be between 0 and 1 (got 1.5)", "top_p"),
        ({"n": 5}, "n must be between 1 and 4 (got 5)", "n"),
        ({"n": 1.5}, "n must be an integer or null (got 1.5)", "n"),
        ({"max_tokens": 0}, "max_tokens must be at least 1 (got 0)", "max_tokens"),
        ({"max_completion_tokens": -1}, "max_completion_tokens must be at least 1 (got -1)", "max_completion_tokens"),
        ({"presence_penalty": -2.5}, "presence_penalty must be between -2 and 2 (got -2.5)", "presence_penalty"),
        ({"frequency_penalty": 9}, "frequency_penalty must be between -2 and 2 (got 9)", "frequency_penalty"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop must have at most 4 items (got 5)", "stop"),
        ({"stop": 7}, "stop must be a string, an array or null (got 7)", "stop"),
        ({"logprobs": "yes"}, 'logprobs must be a boolean or null (got "yes")', "logprobs"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs must be between 0 and 20 (got 21)", "top_logprobs"),
        ({"seed": "lucky"}, 'seed must be an integer or null (got "lucky")', "seed"),
        (
            {"response_format": {"type": "xml"}},
            'response_format.type must be one of text, json_object, json_schema (got "xml")',
            "response_format.type",
        ),
        ({"stream": "yes"}, 'stream must be a boolean or null (got "yes")', "stream"),
        (
            {"stream_options": {"include_usage": 1}},
            "stream_options.include_usage must be a boolean (got 1)",
            "stream_options.include_usage",
        ),
        ({"user": 5}, "user must be a string (got 5)", "user"),
        ({"logit_bias": {"50256": 101}}, "logit_bias.50256 must be between -100 and 100 (got 101)", "logit_bias.50256"),
        ({"messages": []}, "messages must have at least 1 item", "messages"),
        ({"messages": [{"content": "hi"}]}, "Missing required parameter: 'messages[0].role'.", "messages[0].role"),
        (
            {"messages": [{"role": "robot", "content": "hi"}]},
            'messages[0].role must be one of system, developer, user, assistant, tool (got "robot")',
            "messages[0].role",
        ),
        (
            {"tools": [{"type": "function", "function": {"name": "has spaces"}}]},
            'tools[0].function.name must match the pattern ^[a-zA-Z0-9_-]{1,64}$ (got "has spaces")',
            "tools[0].function.name",
        ),
        (
            {"tools": TOOLS, "tool_choice": "sometimes"},
            'tool_choice must be one of none, auto, required (got "sometimes")',
            "tool_choice",
        ),
        (
            {"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "nope"}}},
            "tool_choice names the function `nope`, which is not in tools",
            "tool_choice",
        ),
        ({"tool_choice": "required"}, "tool_choice is only allowed when tools are given", "tool_choice"),
    ],
)
def test_bad_values_are_refused_in_the_apis_own_words(demo, fields, message, param):
    response = demo.post("/chat/completions", json={**chat(), **fields})
    assert response.status_code == 400
    assert response.json() == {"error": {"message": message, "type": "invalid_request_error", "param": param}}


def test_model_and_messages_are_required(demo):
    response = demo.post("/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Missing required parameter: 'model'."
    assert demo.post("/chat/completions", json={"model": "demo-chat"}).json()["error"]["param"] == "messages"


def test_an_unknown_model_is_a_404(demo):
    response = demo.post("/chat/completions", json=chat(model="gpt-9"))
    assert response.status_code == 404
    assert response.json()["error"] == {
        "message": "The model `gpt-9` does not exist.",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }


def test_an_embedding_model_cannot_chat(demo):
    response = demo.post("/chat/completions", json=chat(model="demo-embed"))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "model_not_supported"


def test_nulls_count_as_not_sent(demo):
    content = answer(demo, chat(temperature=None, stop=None, max_tokens=None))["choices"][0]["message"]["content"]
    assert "No parameters beyond" in content
