"""Starting text for a JSON editor: the schema's own example, or a skeleton of its required parts,
and only ever one the schema accepts ("Insert example" must not insert an error)."""

from __future__ import annotations

import math
import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, UnknownType

from playground.schema.kinds import alternatives, choices_of, type_of

_MISSING = object()
_PLACEHOLDERS = {"string": "", "number": 0, "integer": 0, "boolean": False, "null": None}
_MAX_DEPTH = 6
# `minItems` is the document's word: an array gets at most this many items, and where the
# schema asks for more the validator refuses the skeleton (no button) rather than a page
# render building ten million of them.
_MAX_ITEMS = 3
# The values one example may be built from, however arrays and objects nest; beyond, no example.
_MAX_VALUES = 1_000
# The other alternatives of a union tried for an example, after the first.
_MAX_ALTERNATIVES = 8
# What a malformed schema raises when it is checked (a bad `pattern`, `"minLength": "x"`).
_MALFORMED = (re.error, TypeError, ValueError, SchemaError, UnknownType)


class _TooLarge(Exception):
    """The skeleton would take more than its budget of values."""


class _Budget:
    def __init__(self) -> None:
        self.left = _MAX_VALUES

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise _TooLarge


def example_of(schema: Any) -> Any:
    """The schema's `example` (OpenAPI 3.0) or first `examples` entry (3.1), or None."""
    found = _own_example(schema)
    return None if found is _MISSING else found


def insertable_example(schema: Any, given: Any = None) -> Any:
    """What "Insert example" puts into the editor of a field with this (resolved) schema: `given`
    (the field's own example), else a skeleton of the schema (from its example or default, then
    without them), else one of its other alternatives — the first of those the schema accepts.
    None when none is accepted (then no button is shown), when the schema is too malformed to
    check a value against, or when a skeleton would be too large to be any help.
    """
    if not isinstance(schema, dict):
        return None
    validator = Draft202012Validator(schema)
    plain = {key: value for key, value in schema.items() if key not in ("example", "examples", "default")}
    budget = _Budget()
    try:
        shapes, _ = alternatives(plain)
        candidates = [
            lambda: given,
            lambda: skeleton(schema, budget=budget),
            lambda: skeleton(plain, budget=budget),
            *(lambda shape=shape: skeleton(shape, budget=budget) for shape in shapes[1 : 1 + _MAX_ALTERNATIVES]),
        ]
        for candidate in candidates:
            value = candidate()
            if value is not None and validator.is_valid(value):
                return value
    except _MALFORMED:
        return None
    return None


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


def skeleton(schema: Any, *, budget: _Budget | None = None) -> Any:
    """A value shaped like the schema: examples and defaults where given, required properties
    with placeholder values elsewhere (a word naming the field for a string, zero or the
    lowest allowed number, false), as many items and entries as the schema asks for at least
    (up to _MAX_ITEMS). None when it would take more than _MAX_VALUES values (`budget`, shared
    by the tries of one example)."""
    try:
        return _skeleton(schema, 0, "", budget or _Budget())
    except _TooLarge:
        return None


def _skeleton(schema: Any, depth: int, name: str, budget: _Budget) -> Any:
    """`name` is the property the value is for, which a string placeholder is made from."""
    budget.spend()
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
        return _skeleton(shape, depth, name, budget)
    kind = type_of(shape)
    if depth > _MAX_DEPTH:
        return {} if kind == "object" else [] if kind == "array" else _PLACEHOLDERS.get(kind or "")
    if kind == "object":
        return _object_skeleton(shape, depth, budget)
    if kind == "array":
        items = shape.get("items")
        if not isinstance(items, dict) or not items:
            return []
        count = shape.get("minItems") if isinstance(shape.get("minItems"), int) else 1
        return [_skeleton(items, depth + 1, "", budget) for _ in range(min(max(count, 1), _MAX_ITEMS))]
    if kind in ("number", "integer"):
        return _number_skeleton(shape, kind)
    if kind == "string":
        return _string_skeleton(shape, name)
    return _PLACEHOLDERS.get(kind or "")


def _object_skeleton(shape: dict[str, Any], depth: int, budget: _Budget) -> dict[str, Any]:
    properties = shape.get("properties") if isinstance(shape.get("properties"), dict) else {}
    required = [name for name in shape.get("required", []) if isinstance(name, str)]
    wanted = list(dict.fromkeys(required))
    # minProperties beyond the required ones ("give one of json, regex, choice..."): the first
    # properties listed fill the gap.
    at_least = shape.get("minProperties") if isinstance(shape.get("minProperties"), int) else 0
    for name in properties:
        if len(wanted) >= at_least:
            break
        if name not in wanted:
            wanted.append(name)
    if wanted:
        return {name: _skeleton(properties.get(name, {}), depth + 1, name, budget) for name in wanted}
    additional = shape.get("additionalProperties")
    if not properties and isinstance(additional, dict) and additional:
        # A map such as logit_bias: one entry shows the shape of the values.
        return {"key": _skeleton(additional, depth + 1, "", budget)}
    return {}


def _number_skeleton(shape: dict[str, Any], kind: str) -> int | float:
    """Zero, or the lowest value allowed when zero is not."""
    low, high = _bound(shape, "minimum"), _bound(shape, "maximum")
    low_open, high_open = _bound(shape, "exclusiveMinimum"), _bound(shape, "exclusiveMaximum")
    if low is not None:
        return math.ceil(low) if kind == "integer" else low
    if low_open is not None:
        if kind == "integer":
            return math.floor(low_open) + 1
        ceiling = high if high is not None else high_open
        return (low_open + ceiling) / 2 if ceiling is not None and ceiling <= low_open + 1 else low_open + 1
    if high is not None and high < 0:
        return math.floor(high) if kind == "integer" else high
    if high_open is not None and high_open <= 0:
        return math.ceil(high_open) - 1 if kind == "integer" else high_open - 1
    return 0


def _bound(shape: dict[str, Any], keyword: str) -> float | None:
    value = shape.get(keyword)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _string_skeleton(shape: dict[str, Any], name: str) -> str:
    """A word that says what to write instead ("your_table_id"), kept only if the shape's own
    pattern and lengths allow it; else a plainer word, else an empty string."""
    checker = Draft202012Validator({key: shape[key] for key in ("minLength", "maxLength", "pattern") if key in shape})
    words = [f"your_{name}" if name else "", "example", "x"]
    return next((word for word in words if word and checker.is_valid(word)), "")
