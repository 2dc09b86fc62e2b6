"""Whole-body validation with messages in the API's own terms, keyed by field."""

from __future__ import annotations

import pytest

from playground.schema.specs import endpoints_of
from playground.schema.validation import validate_request
from tests.schema.documents import invented_document, research_document, single_field_document

VALID = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def chat():
    return endpoints_of(invented_document())["chat"]


def test_a_valid_body_has_no_errors(chat):
    body = {**VALID, "flux_capacitor": 3, "mood": "calm", "plan": {"steps": ["a"]}, "stop": ["x"], "drift": None}
    assert validate_request(chat, body) == {}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"flux_capacitor": 8}, {"flux_capacitor": "flux_capacitor must be ≤ 7"}),
        ({"flux_capacitor": 0}, {"flux_capacitor": "flux_capacitor must be ≥ 1"}),
        ({"flux_capacitor": 2.5}, {"flux_capacitor": "flux_capacitor must be an integer"}),
        ({"spark": 0}, {"spark": "spark must be > 0"}),
        ({"balance": "high"}, {"balance": "balance must be a number"}),
        ({"mood": "loud"}, {"mood": "mood must be one of: calm, bold"}),
        ({"stop": ["a", "b", "c", "d", "e"]}, {"stop": "stop may have at most 4 items"}),
        ({"stop": 5}, {"stop": "stop must be a string or an array"}),
        ({"plan": {}}, {"plan": "plan.steps is required"}),
        ({"plan": {"steps": []}}, {"plan": "plan.steps must have at least 1 item"}),
        ({"plan": {"steps": ["a"], "budget": -1}}, {"plan": "plan.budget must be ≥ 0"}),
        ({"nickname": "much too long"}, {"nickname": "nickname may be at most 8 characters long"}),
        ({"verbose": "yes"}, {"verbose": "verbose must be true or false"}),
    ],
)
def test_each_problem_is_described_in_api_terms(chat, fields, expected):
    assert validate_request(chat, {**VALID, **fields}) == expected


def test_a_missing_required_field_is_keyed_by_its_own_name(chat):
    assert validate_request(chat, {"model": "m"}) == {"messages": "messages is required"}


def test_nested_paths_name_list_positions(chat):
    body = {**VALID, "messages": [{"role": "user", "content": "hi"}, {"role": "tool", "content": "x"}]}
    assert validate_request(chat, body) == {"messages": "messages[1].role must be one of: system, user, assistant"}


def test_each_field_gets_its_own_message(chat):
    errors = validate_request(chat, {**VALID, "flux_capacitor": 9, "spark": -1})
    assert errors == {"flux_capacitor": "flux_capacitor must be ≤ 7", "spark": "spark must be > 0"}


def test_the_best_alternative_explains_a_union():
    chat = endpoints_of(research_document())["chat"]
    body = {"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_schema"}}
    assert validate_request(chat, body) == {"response_format": "response_format.json_schema is required"}


def test_an_unknown_field_is_named_when_the_schema_is_closed():
    document = single_field_document("3.1.0", {"type": "integer"})
    document["components"]["schemas"]["Request"]["additionalProperties"] = False
    chat = endpoints_of(document)["chat"]
    assert validate_request(chat, {"knob": 1, "top_k": 5}) == {"top_k": "top_k is not a parameter this API accepts"}


def test_a_3_0_exclusive_maximum_rejects_the_bound_itself():
    chat = endpoints_of(single_field_document("3.0.3", {"type": "number", "maximum": 1, "exclusiveMaximum": True}))
    assert validate_request(chat["chat"], {"knob": 1}) == {"knob": "knob must be < 1"}
    assert validate_request(chat["chat"], {"knob": 0.99}) == {}


def test_a_3_0_nullable_field_accepts_null():
    chat = endpoints_of(single_field_document("3.0.3", {"type": "integer", "nullable": True}))["chat"]
    assert validate_request(chat, {"knob": None}) == {}


def test_a_body_that_is_not_an_object_is_keyed_by_the_empty_name(chat):
    assert validate_request(chat, []) == {"": "the request body must be an object"}
