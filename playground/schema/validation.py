"""Validates a whole request body against the endpoint's schema, with messages keyed by field."""

from __future__ import annotations

import ast
import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, relevance

from playground.schema.messages import (
    bound_message,
    choices_message,
    join_path,
    max_items_message,
    min_items_message,
    required_message,
    type_message,
)
from playground.schema.specs import EndpointSchema
from playground.schema.text import number_text, value_text

BODY = ""  # the key for errors about the body as a whole
_BOUNDS = {"minimum": "≥", "exclusiveMinimum": ">", "maximum": "≤", "exclusiveMaximum": "<"}


def validate_request(endpoint: EndpointSchema, body: dict[str, Any]) -> dict[str, str]:
    """{field: message} for every field the body gets wrong, {} when it is valid.

    The key is the top-level field the problem is in (a missing required field, an unknown
    one), or "" for the body as a whole; the message names the full path ("plan.steps is
    required"). Draft 2020-12; OpenAPI 3.0 forms were already rewritten when the schema was
    resolved. One message per field: the most relevant error (see best_error).
    """
    validator = Draft202012Validator(endpoint.request_schema)
    grouped: dict[str, list[tuple[ValidationError, str | None]]] = {}
    for error in validator.iter_errors(body):
        for key, name in _keys(error):
            grouped.setdefault(key, []).append((error, name))
    messages = {}
    for key, entries in grouped.items():
        best = best_error([error for error, _ in entries])
        name = next((name for error, name in entries if error is best), None) or _named_property(best)
        messages[key] = describe(best, name)
    return messages


def best_error(errors: list[ValidationError]) -> ValidationError:
    """The most relevant error, looking inside unions for the alternative the value was meant for.

    jsonschema's best_match prefers the deepest error inside an anyOf/oneOf, which for a tagged
    union (response_format) is often the tag of the wrong alternative ("type must be text").
    Here the alternative that fits best is chosen first: one whose type matches the value and
    whose properties' const/enum tags match, with the fewest errors.
    """
    best = max(errors, key=relevance)
    while best.context:
        alternatives: dict[Any, list[ValidationError]] = {}
        for sub in best.context:
            alternatives.setdefault(sub.relative_schema_path[0], []).append(sub)
        ranked = sorted(alternatives.values(), key=_misfit)
        if _misfit(ranked[0])[0]:
            break  # every alternative wants another type: the union itself says it best
        tag = _unmatched_tag(list(alternatives.values()))
        if tag is not None:
            return tag
        best = min(ranked[0], key=relevance)
    return best


def _unmatched_tag(alternatives: list[list[ValidationError]]) -> ValidationError | None:
    """When every alternative of the value's type refuses the same tag (response_format.type
    "xml": not "text", not "json_object", not "json_schema"), one error naming all the values
    the alternatives allow there, rather than the first alternative's one value."""
    fitting = [errors for errors in alternatives if not _misfit(errors)[0]]
    tags_of = [
        {tuple(error.relative_path): error for error in errors if error.validator in ("const", "enum")}
        for errors in fitting
    ]
    shared = set.intersection(*(set(tags) for tags in tags_of)) if tags_of else set()
    if not shared:
        return None
    path = min(shared, key=lambda found: (len(found), str(found)))
    values: list[Any] = []
    for tags in tags_of:
        error = tags[path]
        allowed = [error.validator_value] if error.validator == "const" else list(error.validator_value)
        values.extend(
            value for value in allowed if not any(value == seen and type(value) is type(seen) for seen in values)
        )
    first = tags_of[0][path]
    return ValidationError(
        f"{first.instance!r} is not one of {values!r}",
        validator="enum",
        validator_value=values,
        instance=first.instance,
        schema={"enum": values},
        path=path,
        parent=first.parent,
    )


def _misfit(errors: list[ValidationError]) -> tuple[bool, bool, int]:
    wrong_type = any(error.validator == "type" and not error.relative_path for error in errors)
    wrong_tag = any(error.validator in ("const", "enum") and len(error.relative_path) == 1 for error in errors)
    return wrong_type, wrong_tag, len(errors)


def _keys(error: ValidationError) -> list[tuple[str, str | None]]:
    """Which field(s) an error belongs to; for root `required` and unknown fields, the field named."""
    path = list(error.absolute_path)
    if path:
        return [(str(path[0]), _named_property(error))]
    if error.validator == "required":
        name = _named_property(error)
        return [(name, name)] if name else [(BODY, None)]
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        return [(name, name) for name in _unexpected(error)] or [(BODY, None)]
    return [(BODY, None)]


def _named_property(error: ValidationError) -> str | None:
    if error.validator == "required":
        match = re.match(r"(.+) is a required property$", error.message)
        if match:
            try:
                return str(ast.literal_eval(match.group(1)))
            except (ValueError, SyntaxError):
                pass
        missing = [name for name in error.validator_value if name not in error.instance]
        return missing[0] if missing else None
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        unexpected = _unexpected(error)
        return unexpected[0] if unexpected else None
    return None


def _unexpected(error: ValidationError) -> list[str]:
    if not isinstance(error.instance, dict):
        return []
    known = error.schema.get("properties") or {}
    patterns = list((error.schema.get("patternProperties") or {}).keys())
    return [
        name
        for name in error.instance
        if name not in known and not any(re.search(pattern, name) for pattern in patterns)
    ]


def describe(error: ValidationError, name: str | None = None) -> str:
    """One error in the API's terms: "temperature must be ≤ 2", "stop may have at most 4 items"."""
    path = join_path(*error.absolute_path) or "the request body"
    rule, limit = error.validator, error.validator_value
    if rule in _BOUNDS:
        return bound_message(path, _BOUNDS[rule], limit)
    if rule == "type":
        return type_message(path, limit)
    if rule == "enum":
        return choices_message(path, limit)
    if rule == "const":
        return f"{path} must be {value_text(limit)}"
    if rule == "required":
        return required_message(join_path(*error.absolute_path, name or "a field"))
    if rule in ("additionalProperties", "unevaluatedProperties"):
        field = join_path(*error.absolute_path, name) if name else path
        return f"{field} is not a parameter this API accepts" if not error.absolute_path else f"{field} is not allowed"
    if rule == "maxItems":
        return max_items_message(path, limit)
    if rule == "minItems":
        return min_items_message(path, limit)
    return _describe_other(error, path)


def _describe_other(error: ValidationError, path: str) -> str:
    rule, limit = error.validator, error.validator_value
    if rule == "minLength":
        return f"{path} must not be empty" if limit == 1 else f"{path} must be at least {limit} characters long"
    if rule == "maxLength":
        return f"{path} may be at most {limit} characters long"
    if rule == "pattern":
        return f"{path} must match the pattern {limit}"
    if rule == "multipleOf":
        return f"{path} must be a multiple of {number_text(limit)}"
    if rule == "minProperties":
        return f"{path} must have at least {limit} entr{'y' if limit == 1 else 'ies'}"
    if rule == "maxProperties":
        return f"{path} may have at most {limit} entr{'y' if limit == 1 else 'ies'}"
    if rule == "uniqueItems":
        return f"{path} must not repeat items"
    if rule in ("anyOf", "oneOf"):
        wrong_type = [sub for sub in error.context if sub.validator == "type" and not sub.relative_path]
        if len({sub.relative_schema_path[0] for sub in wrong_type}) == len(limit):
            # Every alternative wants another type: "stop must be a string or an array".
            kinds = [sub.validator_value for sub in wrong_type]
            return type_message(path, [kind for value in kinds for kind in _as_list(value)])
        if rule == "oneOf" and not error.context:
            return f"{path} matches more than one of the allowed forms"
        return f"{path} does not match any of the allowed forms"
    if rule is None or rule == "not" or error.schema is False:
        return f"{path} is not allowed here"
    return f"{path}: {error.message}"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
