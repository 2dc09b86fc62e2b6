"""Whole-body validation with messages in the API's own terms, keyed by field."""

from __future__ import annotations

import pytest

from playground.providers.profiles import profile_document, profile_names
from playground.schema.kinds import alternatives, choices_of, type_of
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


def _tags(schema) -> list | None:
    """The `type` values of a union of objects told apart by `type`, or None for another schema."""
    shapes, _ = alternatives(schema)
    objects = [shape for shape in shapes if type_of(shape) == "object"]
    tags = [choices_of((shape.get("properties") or {}).get("type") or {}) for shape in objects]
    return [value for values in tags for value in values] if len(objects) > 1 and all(tags) else None


def tagged_unions(profile: str):
    """(endpoint, field, a value with a wrong tag, the tag values) for every field that is such a
    union, or a list of them (tools)."""
    wrong = {"type": "no-such-type"}
    for endpoint in endpoints_of(profile_document(profile)).values():
        for spec in endpoint.params:
            found = _tags(spec.schema)
            if found:
                yield endpoint, spec.name, wrong, found
                continue
            lists = [shape for shape in alternatives(spec.schema)[0] if type_of(shape) == "array"]
            found = _tags(lists[0].get("items")) if len(lists) == 1 else None
            if found:
                yield endpoint, spec.name, [wrong], found


@pytest.mark.parametrize("profile", profile_names())
def test_a_wrong_tag_is_answered_with_every_value_the_union_allows(profile):
    for endpoint, field, value, tags in tagged_unions(profile):
        message = validate_request(endpoint, {field: value})[field]
        listed = message.split(" must be one of: ")[1].split(", ")
        assert sorted(listed) == sorted(dict.fromkeys(tags)), (profile, field, message)


def test_the_issue_s_unions_are_among_those_checked():
    found = {(profile, field) for profile in profile_names() for _, field, _, _ in tagged_unions(profile)}
    assert {("ionos-model-hub", "response_format"), ("jamai-base", "tools")} <= found


def test_a_union_of_single_values_names_them_all():
    document = single_field_document("3.1.0", {"anyOf": [{"const": "low"}, {"const": "high"}, {"type": "integer"}]})
    chat = endpoints_of(document)["chat"]
    assert validate_request(chat, {"knob": "medium"}) == {"knob": "knob must be one of: low, high"}


def test_a_right_tag_with_a_wrong_part_is_explained_by_its_own_alternative():
    chat = endpoints_of(profile_document("ionos-model-hub"))["chat"]
    body = {"response_format": {"type": "json_schema", "json_schema": {"name": "has space"}}}
    assert validate_request(chat, body)["response_format"].startswith("response_format.json_schema.name must match")
