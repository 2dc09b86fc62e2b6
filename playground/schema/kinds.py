"""Reads one resolved field schema as a widget kind with its range, step, choices and list limits."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

_SCALAR_TYPES = ("string", "number", "integer", "boolean")


def alternatives(schema: Any) -> tuple[list[dict[str, Any]], bool]:
    """The non-null shapes a schema allows (anyOf/oneOf and type lists split apart), and whether null is allowed.

    Keywords beside an `anyOf` (say `type: string` with alternatives of enums and patterns)
    are carried into every alternative, the alternative's own winning.
    """
    if not isinstance(schema, dict):
        return [{}], False
    union = schema.get("anyOf") if isinstance(schema.get("anyOf"), list) else schema.get("oneOf")
    if isinstance(union, list) and union:
        outer = {key: value for key, value in schema.items() if key not in ("anyOf", "oneOf")}
        shapes, nullable = [], False
        for option in union:
            found, option_nullable = alternatives({**outer, **option} if isinstance(option, dict) else option)
            shapes.extend(found)
            nullable = nullable or option_nullable
        return shapes, nullable
    kind = schema.get("type")
    if isinstance(kind, list):
        shapes, nullable = [], "null" in kind
        for single in kind:
            if single != "null":
                found, single_nullable = alternatives({**schema, "type": single})
                shapes.extend(found)
                nullable = nullable or single_nullable
        return shapes, nullable
    if kind == "null" or ("const" in schema and schema["const"] is None):
        return [], True
    if isinstance(schema.get("enum"), list):
        values = [value for value in schema["enum"] if value is not None]
        if not values:
            return [], True
        nullable = len(values) < len(schema["enum"])
        return [{**schema, "enum": values}], nullable
    return [schema], False


def type_of(shape: dict[str, Any]) -> str | None:
    """A shape's JSON type, stated or implied by its other keywords."""
    kind = shape.get("type")
    if isinstance(kind, str):
        return kind
    values = choices_of(shape)
    if values:
        return _value_type(values[0])
    if "properties" in shape or "additionalProperties" in shape or "required" in shape:
        return "object"
    if "items" in shape or "prefixItems" in shape or "maxItems" in shape or "minItems" in shape:
        return "array"
    if any(key in shape for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
        return "number"
    if any(key in shape for key in ("minLength", "maxLength", "pattern")):
        return "string"
    return None


def choices_of(shape: dict[str, Any]) -> list[Any]:
    if "const" in shape:
        return [shape["const"]]
    enum = shape.get("enum")
    return list(enum) if isinstance(enum, list) else []


def _value_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def _is_string_list(shape: dict[str, Any]) -> bool:
    if type_of(shape) != "array" or not isinstance(shape.get("items"), dict):
        return False
    item_shapes, _ = alternatives(shape["items"])
    return bool(item_shapes) and all(type_of(item) == "string" for item in item_shapes)


def _dedupe(values: list[Any]) -> tuple[Any, ...]:
    unique: list[Any] = []
    for value in values:
        if not any(value == seen and type(value) is type(seen) for seen in unique):
            unique.append(value)
    return tuple(unique)


def traits(schema: dict[str, Any]) -> dict[str, Any]:
    """The widget-relevant facts of a field: kind, bounds, step, choices, list limits, nullable.

    Kinds: enum when every alternative is a set of scalar values; number, integer, boolean or
    string for one scalar shape (number and integer together are number); string_list for an
    array of strings, alone or beside a plain string; json for everything else (objects,
    other arrays, mixed unions). A free string beside enumerated strings stays a string and
    keeps the values as suggestions.
    """
    shapes, nullable = alternatives(schema)
    found: dict[str, Any] = {"kind": "json", "nullable": nullable}
    kinds = [type_of(shape) for shape in shapes]
    enumerated = [shape for shape in shapes if choices_of(shape)]
    if shapes and len(enumerated) == len(shapes):
        values = [value for shape in shapes for value in choices_of(shape)]
        if all(_value_type(value) in _SCALAR_TYPES for value in values):
            return {**found, "kind": "enum", "choices": _dedupe(values)}
        return found
    if len(shapes) == 1 and kinds[0] in _SCALAR_TYPES:
        return {**found, **_scalar(kinds[0], shapes[0])}
    if shapes and set(kinds) == {"number", "integer"}:
        return {**found, **_scalar("number", shapes[kinds.index("number")])}
    if set(kinds) == {"string"}:
        suggestions = [value for shape in enumerated for value in choices_of(shape)]
        return {**found, "kind": "string", "choices": _dedupe(suggestions)}
    lists = [shape for shape in shapes if _is_string_list(shape)]
    others = [kind for shape, kind in zip(shapes, kinds, strict=True) if not _is_string_list(shape)]
    if len(lists) == 1 and not enumerated and all(kind == "string" for kind in others):
        limits = {"min_items": lists[0].get("minItems"), "max_items": lists[0].get("maxItems")}
        return {**found, "kind": "string_list", **limits}
    return found


def _scalar(kind: str, shape: dict[str, Any]) -> dict[str, Any]:
    if kind in ("boolean", "string"):
        return {"kind": kind}
    minimum, exclusive_minimum = _bound(shape, "minimum", "exclusiveMinimum", max)
    maximum, exclusive_maximum = _bound(shape, "maximum", "exclusiveMaximum", min)
    return {
        "kind": kind,
        "minimum": minimum,
        "maximum": maximum,
        "exclusive_minimum": exclusive_minimum,
        "exclusive_maximum": exclusive_maximum,
        "step": sensible_step(kind, minimum, maximum, shape.get("multipleOf")),
    }


def _bound(
    shape: dict[str, Any], inclusive: str, exclusive: str, stricter: Callable[[float, float], float]
) -> tuple[float | None, bool]:
    """The tighter of an inclusive and an exclusive bound, and whether it is exclusive."""
    inclusive_value, exclusive_value = _number(shape.get(inclusive)), _number(shape.get(exclusive))
    if exclusive_value is None:
        return inclusive_value, False
    if inclusive_value is None or stricter(inclusive_value, exclusive_value) == exclusive_value:
        return exclusive_value, True
    return inclusive_value, False


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return value
    return None


def sensible_step(kind: str, minimum: float | None, maximum: float | None, multiple_of: Any = None) -> float:
    """`multipleOf` if given; 1 for integers; else about a hundredth of the range's order of magnitude
    (0.01 for 0..2), never coarser than the precision the bounds are written with (0.001 for ≥ 0.001)."""
    if _number(multiple_of) is not None and multiple_of > 0:
        return int(multiple_of) if kind == "integer" and float(multiple_of).is_integer() else multiple_of
    if kind == "integer":
        return 1
    step = 0.01
    if minimum is not None and maximum is not None and math.isfinite(maximum - minimum) and maximum > minimum:
        step = 10.0 ** (math.floor(math.log10(maximum - minimum)) - 2)
    for bound in (minimum, maximum):
        if bound is not None and not float(bound).is_integer():
            exponent = Decimal(repr(float(bound))).normalize().as_tuple().exponent
            if isinstance(exponent, int):
                step = min(step, 10.0**exponent)
    return step
