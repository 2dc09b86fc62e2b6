""" "Insert example": what the button puts into a JSON editor is always a value the same form accepts."""

from __future__ import annotations

import json

import pytest

from playground.providers.profiles import profile_document, profile_names
from playground.schema.examples import insertable_example, skeleton
from playground.schema.forms import parameter_form
from playground.schema.specs import endpoints_of, param_spec
from tests.schema.documents import single_field_document


def offered_examples(profile: str) -> list[tuple[str, str, str]]:
    """(endpoint, field, example text) for every field of the profile's forms with an example button."""
    found = []
    for name, endpoint in endpoints_of(profile_document(profile)).items():
        form = parameter_form(endpoint)
        for param in [*form.common_params, *form.advanced_params]:
            if param.example_text:
                found.append((name, param.spec.name, param.example_text))
    return found


@pytest.mark.parametrize("profile", profile_names())
def test_every_example_a_profile_offers_is_accepted_by_its_own_form(profile):
    examples = offered_examples(profile)
    for endpoint_name, field, text in examples:
        endpoint = endpoints_of(profile_document(profile))[endpoint_name]
        form = parameter_form(endpoint, {f"p-{field}": text})
        form.is_valid()
        assert field not in form.errors, (profile, endpoint_name, field, text, form.errors[field])
        assert field in form.request_fields()


def test_the_examples_checked_include_the_ones_the_issue_found_rejected():
    offered = {
        (profile, endpoint, field) for profile in profile_names() for endpoint, field, _ in offered_examples(profile)
    }
    assert ("ionos-model-hub", "chat", "response_format") in offered
    assert ("jamai-base", "chat", "rag_params") in offered
    assert len(offered) > 30  # every profile with JSON fields is in


def test_a_required_string_gets_a_word_to_replace_rather_than_nothing():
    rag = {spec.name: spec for spec in endpoints_of(profile_document("jamai-base"))["chat"].params}["rag_params"]
    table_id = insertable_example(rag.schema, rag.example)["table_id"]
    assert table_id.strip()
    schema = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "pattern": "^[a-z]+$"}}}
    assert insertable_example(schema)["name"].isalpha()


def test_an_example_fills_min_properties_min_items_and_exclusive_bounds():
    schema = {
        "type": "object",
        "required": ["steps", "ratio", "count"],
        "minProperties": 4,
        "properties": {
            "steps": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.5},
            "count": {"type": "integer", "exclusiveMinimum": 2},
            "note": {"type": "string"},
        },
    }
    example = insertable_example(schema)
    assert set(example) == {"steps", "ratio", "count", "note"}
    assert len(example["steps"]) == 2
    assert 0 < example["ratio"] <= 0.5 and example["count"] == 3


def test_the_schemas_own_example_is_kept_when_valid_and_replaced_when_not():
    good = {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}, "example": {"a": 5}}
    assert insertable_example(good, {"a": 5}) == {"a": 5}
    bad = {**good, "example": {"a": "five"}}
    assert insertable_example(bad, {"a": "five"}) == {"a": 0}
    assert skeleton(bad) == {"a": "five"}  # the raw skeleton would have inserted the error


def test_no_button_when_no_example_can_be_valid():
    document = single_field_document("3.1.0", {"type": "object", "example": {"x": 1}, "not": {}})
    endpoint = endpoints_of(document)["chat"]
    form = parameter_form(endpoint)
    assert form.advanced_params[0].example_text == ""
    assert "Insert example" not in str(form)


def test_the_example_of_a_union_is_the_first_alternative_that_validates():
    schema = {
        "anyOf": [
            {"type": "object", "required": ["a"], "properties": {"a": {"const": 1}}, "not": {}},
            {"type": "array", "items": {"type": "integer"}},
        ]
    }
    spec = param_spec("knob", schema)
    assert json.loads(json.dumps(insertable_example(spec.schema, spec.example))) == [0]


def test_an_example_has_at_most_three_items_and_none_when_the_schema_asks_for_more():
    schema = {"type": "array", "items": {"type": "integer"}, "minItems": 100_000}
    assert skeleton(schema) == [0, 0, 0]
    assert insertable_example(schema) is None  # three items are too few: no button
    assert insertable_example({**schema, "minItems": 3}) == [0, 0, 0]


def test_nested_arrays_and_wide_objects_give_no_example_rather_than_a_huge_one():
    wide = {"type": "object", "required": [f"field_{number}" for number in range(5_000)]}
    schema = {"type": "array", "minItems": 3, "items": {"type": "array", "minItems": 3, "items": wide}}
    assert skeleton(schema) is None
    assert insertable_example(schema) is None


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "required": ["a"], "properties": {"a": {"type": "string", "pattern": "("}}},
        {"type": "object", "required": ["a"], "properties": {"a": {"type": "string", "minLength": "x"}}},
        {"type": "object", "required": ["a"], "properties": {"a": {"enum": 5}}},
        {"type": "object", "required": 5},
        {"type": "object", "minProperties": "x", "properties": {"a": {}}},
    ],
)
def test_a_malformed_schema_offers_no_example_rather_than_an_error(schema):
    assert insertable_example(schema) is None
