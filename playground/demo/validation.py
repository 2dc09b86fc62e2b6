"""Check a request body against the demo's own OpenAPI schemas, with errors worded as the API words them.

Only the JSON Schema keywords the document uses are understood: $ref, type, enum, const,
minimum/maximum, minLength/maxLength, pattern, minItems/maxItems, items, properties,
required, additionalProperties and anyOf/oneOf. Unknown request fields are ignored.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import orjson

from playground.demo.openapi import SCHEMAS
from playground.demo.wire import ApiError

_ARTICLES = {
    "number": "a number",
    "integer": "an integer",
    "string": "a string",
    "boolean": "a boolean",
    "array": "an array",
    "object": "an object",
    "null": "null",
}


class _Invalid(Exception):
    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def validate(body: dict[str, Any], schema_name: str) -> None:
    """Raise a 400 ApiError naming the first field of `body` that breaks the named schema."""
    try:
        _check(body, SCHEMAS[schema_name], "")
    except _Invalid as invalid:
        raise ApiError(400, invalid.message, param=invalid.param or None) from None


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _has_type(value: Any, name: str) -> bool:
    actual = _json_type(value)
    if name == "number":
        return actual in ("integer", "number")
    if name == "integer":
        return actual == "integer" or (actual == "number" and value.is_integer())
    return actual == name


def _types(schema: dict[str, Any]) -> list[str]:
    declared = schema.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    text = orjson.dumps(value).decode()
    return text if len(text) <= 40 else text[:39] + "…"


def _number(limit: float) -> str:
    return str(int(limit)) if float(limit).is_integer() else str(limit)


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _field(path: str) -> str:
    return path or "The request body"


@cache
def _pattern(source: str) -> re.Pattern[str]:
    return re.compile(source)


def _check(value: Any, schema: dict[str, Any], path: str) -> None:
    schema = _resolve(schema)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        _check_branches(value, [_resolve(branch) for branch in branches], path)
    types = _types(schema)
    if types and not any(_has_type(value, name) for name in types):
        wanted = _either([_ARTICLES[name] for name in types])
        raise _Invalid(f"{_field(path)} must be {wanted} (got {_show(value)})", path)
    if value is None:
        return
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(str(choice) for choice in schema["enum"] if choice is not None)
        raise _Invalid(f"{_field(path)} must be one of {choices} (got {_show(value)})", path)
    if "const" in schema and value != schema["const"]:
        raise _Invalid(f"{_field(path)} must be {_show(schema['const'])} (got {_show(value)})", path)
    if isinstance(value, int | float) and not isinstance(value, bool):
        _check_range(value, schema, path)
    elif isinstance(value, str):
        _check_string(value, schema, path)
    elif isinstance(value, list):
        _check_array(value, schema, path)
    elif isinstance(value, dict):
        _check_object(value, schema, path)


def _check_branches(value: Any, branches: list[dict[str, Any]], path: str) -> None:
    failures = []
    for branch in branches:
        try:
            _check(value, branch, path)
        except _Invalid as invalid:
            failures.append((branch, invalid))
        else:
            return
    # Report the branch whose type fits the value (a too-long stop list, not "must be a string").
    fitting = [invalid for branch, invalid in failures if any(_has_type(value, name) for name in _types(branch))]
    if len(fitting) == 1:
        raise fitting[0]
    wanted = _either([_ARTICLES[name] for branch in branches for name in _types(branch)] or ["valid"])
    raise _Invalid(f"{_field(path)} must be {wanted} (got {_show(value)})", path)


def _check_range(value: float, schema: dict[str, Any], path: str) -> None:
    low, high = schema.get("minimum"), schema.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            bounds = f"between {_number(low)} and {_number(high)}"
        elif low is not None:
            bounds = f"at least {_number(low)}"
        else:
            bounds = f"at most {_number(high)}"
        raise _Invalid(f"{_field(path)} must be {bounds} (got {_show(value)})", path)


def _check_string(value: str, schema: dict[str, Any], path: str) -> None:
    if len(value) < schema.get("minLength", 0):
        if schema["minLength"] == 1:
            raise _Invalid(f"{_field(path)} must not be empty", path)
        raise _Invalid(f"{_field(path)} must be at least {schema['minLength']} characters long", path)
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise _Invalid(f"{_field(path)} must be at most {schema['maxLength']} characters long (got {len(value)})", path)
    if "pattern" in schema and not _pattern(schema["pattern"]).search(value):
        raise _Invalid(f"{_field(path)} must match the pattern {schema['pattern']} (got {_show(value)})", path)


def _check_array(value: list[Any], schema: dict[str, Any], path: str) -> None:
    if len(value) < schema.get("minItems", 0):
        noun = "item" if schema["minItems"] == 1 else "items"
        raise _Invalid(f"{_field(path)} must have at least {schema['minItems']} {noun}", path)
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        raise _Invalid(f"{_field(path)} must have at most {schema['maxItems']} items (got {len(value)})", path)
    if "items" in schema:
        for index, item in enumerate(value):
            _check(item, schema["items"], f"{path}[{index}]")


def _check_object(value: dict[str, Any], schema: dict[str, Any], path: str) -> None:
    prefix = f"{path}." if path else ""
    for name in schema.get("required", []):
        if name not in value:
            raise _Invalid(f"Missing required parameter: '{prefix}{name}'.", prefix + name)
    properties = schema.get("properties", {})
    for name, item in value.items():
        if name in properties:
            _check(item, properties[name], prefix + name)
        elif isinstance(schema.get("additionalProperties"), dict):
            _check(item, schema["additionalProperties"], prefix + name)
