"""Starting text for a JSON editor: the schema's own example, or a skeleton of its required parts."""

from __future__ import annotations

from typing import Any

from playground.schema.kinds import alternatives, choices_of, type_of

_MISSING = object()
_PLACEHOLDERS = {"string": "", "number": 0, "integer": 0, "boolean": False, "null": None}


def example_of(schema: Any) -> Any:
    """The schema's `example` (OpenAPI 3.0) or first `examples` entry (3.1), or None."""
    found = _own_example(schema)
    return None if found is _MISSING else found


def _own_example(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return _MISSING
    if "example" in schema:
        return schema["example"]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    if isinstance(examples, dict) and examples:
        first = next(iter(examples.values()))
        return first.get("value", first) if isinstance(first, dict) else first
    return _MISSING


def skeleton(schema: Any, depth: int = 0) -> Any:
    """A value shaped like the schema: examples and defaults where given, required properties
    with placeholder values (empty strings, zero or the minimum, false) elsewhere."""
    found = _own_example(schema)
    if found is not _MISSING:
        return found
    if not isinstance(schema, dict):
        return None
    if schema.get("default") is not None:
        return schema["default"]
    shapes, _ = alternatives(schema)
    if not shapes:
        return None
    shape = shapes[0]
    values = choices_of(shape)
    if values:
        return values[0]
    if shape is not schema:
        return skeleton(shape, depth)
    kind = type_of(shape)
    if depth > 6:
        return {} if kind == "object" else [] if kind == "array" else _PLACEHOLDERS.get(kind or "")
    if kind == "object":
        return _object_skeleton(shape, depth)
    if kind == "array":
        items = shape.get("items")
        return [skeleton(items, depth + 1)] if isinstance(items, dict) and items else []
    if kind in ("number", "integer"):
        return shape.get("minimum", shape.get("exclusiveMinimum", 0))
    return _PLACEHOLDERS.get(kind or "")


def _object_skeleton(shape: dict[str, Any], depth: int) -> dict[str, Any]:
    properties = shape.get("properties") if isinstance(shape.get("properties"), dict) else {}
    required = [name for name in shape.get("required", []) if isinstance(name, str)]
    if required:
        return {name: skeleton(properties.get(name, {}), depth + 1) for name in required}
    additional = shape.get("additionalProperties")
    if not properties and isinstance(additional, dict) and additional:
        # A map such as logit_bias: one entry shows the shape of the values.
        return {"key": skeleton(additional, depth + 1)}
    return {}
