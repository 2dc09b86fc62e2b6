"""Resolving request schemas: refs (nested, chained, recursive), allOf, and OpenAPI 3.0 vs 3.1 forms."""

from __future__ import annotations

import dataclasses

import pytest

from playground.schema.resolve import resolve_schema
from playground.schema.specs import SchemaError, endpoints_of
from tests.schema.documents import single_field_document


def knob(version, field):
    return endpoints_of(single_field_document(version, field))["chat"].params[0]


def without_schema(spec):
    return dataclasses.replace(spec, schema={})


def test_nullable_forms_of_3_0_and_3_1_give_the_same_spec():
    old = knob("3.0.3", {"type": "number", "nullable": True, "minimum": 0, "maximum": 2, "default": 1})
    typed = knob("3.1.0", {"type": ["number", "null"], "minimum": 0, "maximum": 2, "default": 1})
    union = knob("3.1.0", {"anyOf": [{"type": "number", "minimum": 0, "maximum": 2}, {"type": "null"}], "default": 1})
    assert old == typed
    assert without_schema(union) == without_schema(typed)
    assert (typed.kind, typed.nullable, typed.maximum, typed.default) == ("number", True, 2, 1)


def test_exclusive_bounds_of_3_0_and_3_1_give_the_same_spec():
    old = knob("3.0.3", {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 1})
    new = knob("3.1.0", {"type": "number", "exclusiveMinimum": 0, "maximum": 1})
    assert old == new
    assert old.schema == {"type": "number", "exclusiveMinimum": 0, "maximum": 1}


def test_a_false_exclusive_flag_leaves_the_bound_inclusive():
    spec = knob("3.0.3", {"type": "number", "minimum": 0, "exclusiveMinimum": False})
    assert (spec.minimum, spec.exclusive_minimum) == (0, False)
    assert spec.schema == {"type": "number", "minimum": 0}


def test_a_nullable_enum_of_3_0_gets_null_in_its_values():
    spec = knob("3.0.3", {"type": "string", "enum": ["a", "b"], "nullable": True})
    assert spec.schema["enum"] == ["a", "b", None]
    assert spec.choices == ("a", "b")
    assert spec.nullable


def test_a_nullable_ref_is_wrapped_in_an_alternative():
    document = single_field_document("3.0.3", {"allOf": [{"$ref": "#/components/schemas/Shape"}], "nullable": True})
    document["components"]["schemas"]["Shape"] = {"type": "object", "properties": {"x": {"type": "integer"}}}
    spec = endpoints_of(document)["chat"].params[0]
    assert spec.schema["type"] == ["object", "null"]
    assert spec.kind == "json"


def test_all_of_merges_properties_required_and_the_stricter_bounds():
    document = {"components": {"schemas": {"Low": {"type": "integer", "minimum": 0, "maximum": 10}}}}
    merged = resolve_schema(
        {
            "allOf": [
                {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/Low"}}, "required": ["a"]},
                {"properties": {"a": {"minimum": 2}, "b": {"type": "string"}}, "required": ["b", "a"]},
            ],
            "description": "Both.",
        },
        document,
    )
    assert merged["required"] == ["a", "b"]
    assert merged["properties"]["a"] == {"type": "integer", "minimum": 2, "maximum": 10}
    assert merged["description"] == "Both."
    assert "allOf" not in merged


def test_siblings_of_a_ref_override_its_description():
    document = {"components": {"schemas": {"T": {"type": "number", "description": "Generic."}}}}
    resolved = resolve_schema({"$ref": "#/components/schemas/T", "description": "Specific."}, document)
    assert resolved == {"type": "number", "description": "Specific."}


def test_a_recursive_ref_is_left_open_the_second_time():
    document = {
        "components": {
            "schemas": {
                "Node": {
                    "type": "object",
                    "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}},
                }
            }
        }
    }
    resolved = resolve_schema({"$ref": "#/components/schemas/Node"}, document)
    assert resolved["properties"]["children"]["items"] == {}


def test_mutually_recursive_refs_terminate():
    document = {
        "components": {
            "schemas": {
                "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
                "B": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}}},
            }
        }
    }
    resolved = resolve_schema({"$ref": "#/components/schemas/A"}, document)
    assert resolved["properties"]["b"]["properties"]["a"] == {}


def test_a_missing_ref_reads_as_any_value():
    assert resolve_schema({"$ref": "#/components/schemas/Nowhere"}, {}) == {}


def test_a_property_named_like_a_keyword_is_not_taken_for_one():
    resolved = resolve_schema(
        {"type": "object", "properties": {"type": {"type": "string"}, "nullable": {"type": "boolean"}}}, {}
    )
    assert resolved["properties"] == {"type": {"type": "string"}, "nullable": {"type": "boolean"}}


def test_read_only_properties_are_dropped_from_a_request():
    resolved = resolve_schema(
        {"type": "object", "required": ["id", "x"], "properties": {"id": {"readOnly": True}, "x": {}}}, {}
    )
    assert resolved == {"type": "object", "required": ["x"], "properties": {"x": {}}}


def test_refs_that_fan_out_past_the_limit_are_refused():
    schemas = {f"L{level}": {"type": "object", "properties": {}} for level in range(20)}
    for level in range(19):
        target = {"$ref": f"#/components/schemas/L{level + 1}"}
        schemas[f"L{level}"]["properties"] = {"left": target, "right": target}
    with pytest.raises(SchemaError, match="too large"):
        resolve_schema({"$ref": "#/components/schemas/L0"}, {"components": {"schemas": schemas}})


@pytest.mark.parametrize(
    ("field", "kept"),
    [
        ({"type": "string", "pattern": "(", "maxLength": 8}, {"type": "string", "maxLength": 8}),
        ({"type": "number", "maximum": "x", "minimum": 0}, {"type": "number", "minimum": 0}),
        ({"type": "string", "enum": 5, "minLength": "x"}, {"type": "string"}),
        ({"type": "array", "items": 3, "minItems": -1}, {"type": "array"}),
        ({"type": ["object", 5], "multipleOf": 0}, {}),
        ({"anyOf": [5, {"type": "string"}, "x"]}, {"anyOf": [{"type": "string"}]}),
        ({"oneOf": [], "allOf": 5}, {}),
        ({"$dynamicRef": "#nowhere", "$id": 5, "type": "string"}, {"type": "string"}),
        (
            {"type": "object", "required": [5, "a"], "properties": {"a": {"type": "integer"}, "b": 5}},
            {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}},
        ),
        (
            {"type": "object", "patternProperties": {"(": {}, "^x_": {}}},
            {"type": "object", "patternProperties": {"^x_": {}}},
        ),
    ],
)
def test_what_json_schema_cannot_read_is_dropped_and_the_rest_kept(field, kept):
    assert knob("3.1.0", field).schema == kept


def test_a_malformed_request_schema_still_gives_its_fields():
    document = single_field_document("3.0.3", {"type": "integer", "nullable": True})
    document["components"]["schemas"]["Request"] |= {
        "required": 5,
        "allOf": [{"required": 5, "properties": [1]}, {"required": ["knob"], "properties": {"knob": {"enum": 5}}}],
    }
    [spec] = endpoints_of(document)["chat"].params
    assert (spec.name, spec.kind, spec.required, spec.nullable) == ("knob", "integer", True, True)
