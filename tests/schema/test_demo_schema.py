"""The built-in demo upstream's own OpenAPI document read through the schema package."""

from __future__ import annotations

import json

import pytest

from playground.demo.openapi import document
from playground.schema.forms import parameter_form
from playground.schema.specs import endpoints_of, load_document, models_path_of
from playground.schema.validation import validate_request


@pytest.fixture(scope="module")
def endpoints():
    # Through load_document, as an uploaded or fetched copy would come.
    return endpoints_of(load_document(json.dumps(document())))


def spec(endpoint, name):
    return next(param for param in endpoint.params if param.name == name)


def test_it_offers_all_five_endpoints_and_the_models_list(endpoints):
    assert {name: endpoint.path for name, endpoint in endpoints.items()} == {
        "chat": "/chat/completions",
        "completions": "/completions",
        "images": "/images/generations",
        "embeddings": "/embeddings",
        "rerank": "/rerank",
    }
    assert models_path_of(document()) == "/models"


def test_chat_temperature_is_a_number_from_0_to_2_defaulting_to_1(endpoints):
    temperature = spec(endpoints["chat"], "temperature")
    assert (temperature.kind, temperature.minimum, temperature.maximum, temperature.default) == ("number", 0, 2, 1)
    assert (temperature.step, temperature.common, temperature.nullable) == (0.01, True, True)


def test_chat_common_fields_are_in_the_fixed_order(endpoints):
    common = [param.name for param in endpoints["chat"].params if param.common]
    assert common == ["temperature", "top_p", "max_tokens", "max_completion_tokens", "stream", "stop"]


def test_chat_stop_takes_up_to_4_strings(endpoints):
    stop = spec(endpoints["chat"], "stop")
    assert (stop.kind, stop.max_items) == ("string_list", 4)


def test_chat_messages_accept_the_usual_roles(endpoints):
    roles = endpoints["chat"].message_roles
    assert {"system", "user", "assistant"} <= set(roles)
    assert endpoints["chat"].content_fields == ("model", "messages")


def test_chat_structured_fields_are_json_editors(endpoints):
    chat = endpoints["chat"]
    for name in ("response_format", "tools", "tool_choice", "logit_bias", "stream_options"):
        assert spec(chat, name).kind == "json", name


def test_image_sizes_are_a_select_without_null(endpoints):
    size = spec(endpoints["images"], "size")
    assert size.kind == "enum"
    assert "1024x1024" in size.choices and "1024*1024" in size.choices
    assert None not in size.choices
    assert [param.name for param in endpoints["images"].params if param.common] == ["size", "n", "response_format"]


def test_embeddings_offer_dimensions_and_encoding_first(endpoints):
    embeddings = endpoints["embeddings"]
    assert [param.name for param in embeddings.params if param.common] == ["dimensions", "encoding_format"]
    assert embeddings.content_fields == ("model", "input")


def test_a_chat_form_checks_the_demo_ranges_and_response_format(endpoints):
    form = parameter_form(
        endpoints["chat"],
        {"p-temperature": "2.5", "p-response_format": '{"type": "yaml"}', "p-top_logprobs": "21"},
    )
    assert not form.is_valid()
    assert form.errors == {
        "temperature": ["temperature must be ≤ 2"],
        "top_logprobs": ["top_logprobs must be ≤ 20"],
        "response_format": ["response_format.type must be one of: text, json_object, json_schema"],
    }


def test_a_chat_form_body_with_messages_is_a_valid_request(endpoints):
    form = parameter_form(
        endpoints["chat"],
        {"p-temperature": "0.7", "p-stop": "END", "p-tool_choice": '"auto"'},
    )
    assert form.is_valid(), form.errors
    body = {"model": "demo-chat", "messages": [{"role": "user", "content": "Hi"}], **form.request_fields()}
    assert validate_request(endpoints["chat"], body) == {}
    assert body["stop"] == ["END"] and body["tool_choice"] == "auto"


def test_the_response_format_editor_offers_a_starting_example(endpoints):
    form = parameter_form(endpoints["chat"])
    views = {param.spec.name: param for param in form.advanced_params}
    assert json.loads(views["response_format"].example_text) == {"type": "text"}
    # The function's name must match ^[a-zA-Z0-9_-]{1,64}$: a word saying what to write, not "".
    assert json.loads(views["tools"].example_text) == [{"type": "function", "function": {"name": "your_name"}}]
