"""Check a request body against the demo's own OpenAPI schemas, with errors worded as the API words them.

jsonschema finds the problem; this module only says it in the request's terms: the field's
path (`messages[0].role`), what it must be, and what it got. Unknown request fields are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from playground.demo.openapi import document
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


def validate(body: dict[str, Any], schema_name: str) -> None:
    """Raise a 400 ApiError naming the field of `body` that breaks the named schema."""
    # Of several problems, the one nearest the top of the body; inside anyOf, the alternative
    # whose type fits the value (a too-long stop list, not "must be a string").
    error = best_match(_validator(schema_name).iter_errors(body))
    if error is None:
        return
    path = list(error.absolute_path)
    if error.validator == "required":
        # One error per missing field, in the order the schema lists them: this is the first.
        name = next(name for name in error.validator_value if name not in error.instance)
        field = _field([*path, name])
        raise ApiError(400, f"Missing required parameter: '{field}'.", param=field)
    field = _field(path)
    raise ApiError(400, _describe(error, field or "The request body"), param=field or None)


@cache
def _validator(schema_name: str) -> Draft202012Validator:
    # The named schema, with the document's components beside it so that its $refs resolve.
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": document()["components"]}
    return Draft202012Validator(root)


def _field(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _describe(error: ValidationError, field: str) -> str:
    rule, limit, value = error.validator, error.validator_value, error.instance
    got = f" (got {_show(value)})"
    if rule in ("minimum", "maximum"):
        return f"{field} must be {_bounds(error.schema)}{got}"
    if rule == "type":
        return f"{field} must be {_either([_ARTICLES[name] for name in _listed(limit)])}{got}"
    if rule in ("anyOf", "oneOf"):
        # Every alternative wants another type ("stop must be a string, an array or null").
        wanted = [name for sub in error.context if sub.validator == "type" for name in _listed(sub.validator_value)]
        return f"{field} must be {_either([_ARTICLES[name] for name in dict.fromkeys(wanted)] or ['valid'])}{got}"
    if rule == "enum":
        return f"{field} must be one of {', '.join(str(choice) for choice in limit if choice is not None)}{got}"
    if rule == "const":
        return f"{field} must be {_show(limit)}{got}"
    if rule == "minLength":
        return f"{field} must not be empty" if limit == 1 else f"{field} must be at least {limit} characters long"
    if rule == "maxLength":
        return f"{field} must be at most {limit} characters long (got {len(value)})"
    if rule == "pattern":
        return f"{field} must match the pattern {limit}{got}"
    if rule == "minItems":
        return f"{field} must have at least {limit} item{'' if limit == 1 else 's'}"
    if rule == "maxItems":
        return f"{field} must have at most {limit} items (got {len(value)})"
    return f"{field}: {error.message}"


def _bounds(schema: dict[str, Any]) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"between {_number(low)} and {_number(high)}"
    return f"at least {_number(low)}" if low is not None else f"at most {_number(high)}"


def _listed(types: str | list[str]) -> list[str]:
    return [types] if isinstance(types, str) else types


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
