"""Parameter specs read from invented fields: every widget fact comes from the schema, none from the name."""

from __future__ import annotations

import dataclasses

import pytest

from playground.chat.services import model_for_provider
from playground.embeddings.selectors import model_suggestions
from playground.providers.models import Provider
from playground.providers.profiles import profile_document
from playground.schema.specs import endpoints_of, model_names_in, model_names_of, models_path_of, param_spec
from tests.schema.documents import invented_document, single_field_document


@pytest.fixture
def chat():
    return endpoints_of(invented_document())["chat"]


def spec(endpoint, name):
    return next(param for param in endpoint.params if param.name == name)


def test_it_finds_the_chat_endpoint_under_any_prefix(chat):
    assert chat.path == "/v9/chat/completions"
    assert chat.endpoint == "chat"


def test_content_fields_are_not_parameters(chat):
    assert chat.content_fields == ("model", "messages")
    assert {"model", "messages"}.isdisjoint(param.name for param in chat.params)


def test_common_fields_come_first_then_the_rest_in_schema_order(chat):
    names = [param.name for param in chat.params]
    assert names[:1] == ["stop"]
    assert spec(chat, "stop").common
    assert names[1:] == ["flux_capacitor", "mood", "plan", "balance", "drift", "spark", "verbose", "nickname"]
    assert not any(param.common for param in chat.params[1:])


def test_an_integer_keeps_its_range_default_and_unit_step(chat):
    flux = spec(chat, "flux_capacitor")
    assert (flux.kind, flux.minimum, flux.maximum, flux.step) == ("integer", 1, 7, 1)
    assert flux.has_default and flux.default == 3


def test_a_description_becomes_plain_help_text(chat):
    assert spec(chat, "flux_capacitor").description == "How much flux to apply."


def test_a_chained_ref_to_a_string_enum_is_an_enum(chat):
    mood = spec(chat, "mood")
    assert mood.kind == "enum"
    assert mood.choices == ("calm", "bold")
    assert mood.description == "The answer's mood."


def test_a_referenced_object_is_json_with_its_resolved_schema(chat):
    plan = spec(chat, "plan")
    assert plan.kind == "json"
    assert plan.schema["required"] == ["steps"]
    assert plan.schema["properties"]["steps"]["items"] == {"type": "string"}


def test_nullable_numbers_are_numbers_in_both_notations(chat):
    balance, drift = spec(chat, "balance"), spec(chat, "drift")
    assert (balance.kind, balance.nullable, balance.minimum, balance.maximum) == ("number", True, -1, 1)
    assert dataclasses.replace(drift, name="balance") == balance


def test_a_numeric_exclusive_minimum_is_kept_as_exclusive(chat):
    spark = spec(chat, "spark")
    assert (spark.minimum, spark.exclusive_minimum, spark.maximum, spark.exclusive_maximum) == (0, True, 10, False)
    assert spark.step == 0.1  # a hundredth of the range's order of magnitude


def test_a_string_or_list_of_strings_is_a_string_list_with_its_limit(chat):
    stop = spec(chat, "stop")
    assert (stop.kind, stop.max_items, stop.min_items, stop.nullable) == ("string_list", 4, 1, True)
    assert not stop.has_default


def test_booleans_and_free_strings(chat):
    assert (spec(chat, "verbose").kind, spec(chat, "verbose").default) == ("boolean", False)
    assert spec(chat, "nickname").kind == "string"


def test_the_models_path_is_found_by_its_ending():
    assert models_path_of(invented_document()) == "/v9/models"


def test_an_api_without_a_models_path_suggests_models_from_its_model_field():
    research = profile_document("research")
    assert models_path_of(research) is None
    assert model_names_of(endpoints_of(research)) == ("researcher",)


def test_model_suggestions_gather_enums_examples_and_defaults_once_each():
    model = {"anyOf": [{"type": "string", "enum": ["big", "small"]}, {"type": "string", "examples": ["small", "tiny"]}]}
    document = {
        "openapi": "3.1.0",
        "paths": {
            "/chat/completions": {
                "post": {"requestBody": {"content": {"application/json": {"schema": {"properties": {"model": model}}}}}}
            }
        },
    }
    assert model_names_of(endpoints_of(document)) == ("big", "small", "tiny")


def test_chat_embeddings_and_the_provider_read_the_same_model_names():
    model = {"anyOf": [{"type": "string", "enum": ["big", "small"]}, {"type": "string", "examples": ["tiny"]}]}
    request = {"content": {"application/json": {"schema": {"properties": {"model": {**model, "default": " big "}}}}}}
    document = {
        "openapi": "3.1.0",
        "paths": {path: {"post": {"requestBody": request}} for path in ("/chat/completions", "/embeddings")},
    }
    endpoints = endpoints_of(document)
    assert model_names_in(endpoints["chat"]) == (("big", "small", "tiny"), False)
    assert model_names_in(endpoints["embeddings"]).names == model_names_of(endpoints) == ("big", "small", "tiny")
    provider = Provider(name="P", profile="openai", uploaded_schema=document)
    assert model_for_provider(provider, endpoint="chat").model == "big"
    assert model_suggestions(provider, endpoints["embeddings"]) == ["big", "small", "tiny"]


def test_a_model_enum_is_closed_and_a_malformed_model_field_names_nothing():
    closed = {"properties": {"model": {"type": "string", "enum": ["only"]}}}
    assert model_names_in(_chat_endpoint(closed)) == (("only",), True)
    assert model_names_in(_chat_endpoint({"properties": {"model": ["x"]}})) == ((), False)
    assert model_names_in(None) == ((), False)


def _chat_endpoint(request_schema):
    document = {
        "openapi": "3.1.0",
        "paths": {
            "/chat/completions": {
                "post": {"requestBody": {"content": {"application/json": {"schema": request_schema}}}}
            }
        },
    }
    return endpoints_of(document)["chat"]


@pytest.mark.parametrize(
    ("schema", "kind"),
    [
        ({"type": "number"}, "number"),
        ({"type": ["integer", "null"]}, "integer"),
        ({"anyOf": [{"type": "integer"}, {"type": "number"}]}, "number"),
        ({"type": "string", "enum": ["a", "b", None]}, "enum"),
        ({"anyOf": [{"const": "none"}, {"const": "auto"}, {"type": "null"}]}, "enum"),
        ({"enum": [1, 2, 4]}, "enum"),
        ({"type": "array", "items": {"type": "string"}}, "string_list"),
        ({"type": "array", "items": {"type": "integer"}}, "json"),
        ({"type": "object", "additionalProperties": {"type": "integer"}}, "json"),
        ({"anyOf": [{"type": "string", "enum": ["none", "auto"]}, {"type": "object"}]}, "json"),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, "json"),
        ({}, "json"),
        ({"anyOf": [{"type": "string"}, {"enum": ["gpt-x", "gpt-y"]}]}, "string"),
    ],
)
def test_kinds_follow_the_schema_shape(schema, kind):
    assert param_spec("anything", schema).kind == kind


def test_a_nullable_enum_does_not_offer_null():
    enum = param_spec("size", {"type": ["string", "null"], "enum": ["1024x1024", "1024*1024", None]})
    assert enum.choices == ("1024x1024", "1024*1024")
    assert enum.nullable


def test_a_string_with_suggested_values_keeps_them_as_choices():
    model = param_spec("voice", {"anyOf": [{"type": "string"}, {"enum": ["alloy", "echo"]}]})
    assert model.choices == ("alloy", "echo")


def test_steps_follow_multiple_of_or_the_range():
    assert param_spec("a", {"type": "number", "minimum": 0, "maximum": 2}).step == 0.01
    assert param_spec("b", {"type": "number", "minimum": 0, "maximum": 100}).step == 1
    assert param_spec("c", {"type": "number", "minimum": 0.001}).step == 0.001
    assert param_spec("d", {"type": "number", "multipleOf": 0.5}).step == 0.5
    assert param_spec("e", {"type": "integer", "minimum": 0, "maximum": 10000}).step == 1


def test_a_null_default_counts_as_no_default():
    assert not param_spec("stop", {"type": ["string", "null"], "default": None}).has_default


def test_examples_are_read_in_both_notations():
    assert param_spec("a", {"type": "object", "example": {"x": 1}}).example == {"x": 1}
    assert param_spec("b", {"type": "object", "examples": [{"y": 2}]}).example == {"y": 2}


def test_a_required_parameter_is_marked_required():
    document = single_field_document("3.1.0", {"type": "integer"})
    document["components"]["schemas"]["Request"]["required"] = ["knob"]
    assert endpoints_of(document)["chat"].params[0].required


def test_long_descriptions_are_cut_at_a_word():
    text = param_spec("a", {"description": "word " * 200}).description
    assert len(text) <= 301
    assert text.endswith("word…")
