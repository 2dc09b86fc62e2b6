"""Turns a request schema from an OpenAPI document into plain, self-contained JSON Schema 2020-12."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from playground.schema.documents import SchemaError, lookup

# Beyond this many schema nodes (refs fanning out, YAML aliases) a request schema is refused.
MAX_NODES = 200_000

_SCHEMA_KEYWORDS = frozenset(
    {
        "items",
        "additionalProperties",
        "additionalItems",
        "unevaluatedItems",
        "unevaluatedProperties",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "propertyNames",
    }
)
_SCHEMA_LIST_KEYWORDS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_MAP_KEYWORDS = frozenset({"properties", "patternProperties", "dependentSchemas", "$defs", "definitions"})
_ANY_SCHEMA_KEYWORDS = _SCHEMA_KEYWORDS | _SCHEMA_LIST_KEYWORDS
# In an allOf the stricter bound wins; for any other keyword the first one given.
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains")
_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
# Identifiers and references of a document of its own. Resolution has replaced every `$ref`
# it could; from what is left, jsonschema would look up an anchor or a URL, and fail.
_REFERENCING = frozenset(
    {"$ref", "$dynamicRef", "$recursiveRef", "$id", "$anchor", "$dynamicAnchor", "$recursiveAnchor", "$schema"}
)


def resolve_schema(schema: Any, document: dict[str, Any]) -> Any:
    """Expand local `$ref`s, merge `allOf`, and rewrite OpenAPI 3.0 forms as JSON Schema.

    A reference met again inside its own expansion becomes `{}` (any value), so recursive
    schemas (a tree of nodes, a JSON value) stay finite. `nullable: true` becomes a `null`
    type or alternative, boolean `exclusiveMinimum`/`exclusiveMaximum` become numeric bounds,
    and `readOnly` properties (response-only) are dropped, since this is for request bodies.
    Keywords JSON Schema cannot read are dropped (see _drop_malformed). Raises SchemaError
    when the expansion grows past MAX_NODES.
    """
    budget = [MAX_NODES]

    def walk(node: Any, expanding: tuple[str, ...]) -> Any:
        if not isinstance(node, dict):
            return node
        budget[0] -= 1
        if budget[0] < 0:
            raise SchemaError("A request schema in this document is too large once its references are expanded.")
        if "$ref" in node:
            ref = node["$ref"]
            target: Any = {}
            if isinstance(ref, str) and ref not in expanding:
                found = lookup(document, ref)
                if isinstance(found, dict | bool):
                    target = walk(found, (*expanding, ref))
            if target is True or target is False:
                target = {} if target else {"not": {}}
            rest = {key: value for key, value in node.items() if key != "$ref"}
            if not rest:
                return target
            return _normalise({**target, **_walk_keywords(rest, walk, expanding)})
        return _normalise(_walk_keywords(node, walk, expanding))

    return walk(schema, ())


def _walk_keywords(node: dict[str, Any], walk: Callable[..., Any], expanding: tuple[str, ...]) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_KEYWORDS and isinstance(value, dict):
            resolved[key] = walk(value, expanding)
        elif key in _ANY_SCHEMA_KEYWORDS and isinstance(value, list):
            resolved[key] = [walk(item, expanding) for item in value]
        elif key in _SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            resolved[key] = {name: walk(item, expanding) for name, item in value.items()}
        else:
            resolved[key] = value
    return resolved


def _normalise(node: dict[str, Any]) -> dict[str, Any]:
    if isinstance(node.get("allOf"), list):
        node = merge_all_of(node)
    _numeric_exclusive_bounds(node)
    _drop_malformed(node)
    _drop_read_only(node)
    if "nullable" in node:
        return _with_null(node) if node.pop("nullable") is True else node
    return node


def merge_all_of(node: dict[str, Any]) -> dict[str, Any]:
    """One schema with the constraints of every `allOf` part; the node's own keywords come first."""
    merged = {key: value for key, value in node.items() if key != "allOf"}
    for part in node["allOf"]:
        if isinstance(part, dict):
            merged = _combine(merged, part)
    return merged


def _combine(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    combined = dict(first)
    for key, value in second.items():
        if key not in combined or not _readable(key, combined[key]):
            combined[key] = value
        elif key == "properties" and isinstance(value, dict):
            properties = dict(combined[key])
            for name, sub in value.items():
                same = properties.get(name)
                both_dicts = isinstance(same, dict) and isinstance(sub, dict)
                properties[name] = _combine(same, sub) if both_dicts else sub
            combined[key] = properties
        elif key == "required" and isinstance(value, list):
            combined[key] = [*combined[key], *(name for name in value if name not in combined[key])]
        elif key in _LOWER_BOUNDS and _numbers(combined[key], value):
            combined[key] = max(combined[key], value)
        elif key in _UPPER_BOUNDS and _numbers(combined[key], value):
            combined[key] = min(combined[key], value)
        elif key == "type":
            combined[key] = _intersect_types(combined[key], value)
        elif key == "enum" and isinstance(value, list):
            combined[key] = [item for item in combined[key] if item in value] or value
        elif key == "additionalProperties" and value is False:
            combined[key] = False
        elif key in ("anyOf", "oneOf") and combined[key] != value:
            # Two unions cannot be one; keep the second as a part jsonschema still checks.
            combined["allOf"] = [*combined.get("allOf", []), {key: value}]
    return combined


def _numbers(*values: Any) -> bool:
    return all(isinstance(value, int | float) and not isinstance(value, bool) for value in values)


def _intersect_types(first: Any, second: Any) -> Any:
    first_list = first if isinstance(first, list) else [first]
    second_list = second if isinstance(second, list) else [second]
    common = [kind for kind in first_list if kind in second_list]
    if "integer" in first_list and "number" in second_list and "integer" not in common:
        common.append("integer")
    if not common:
        return second
    return common[0] if len(common) == 1 else common


def _numeric_exclusive_bounds(node: dict[str, Any]) -> None:
    """OpenAPI 3.0 writes `minimum: 0, exclusiveMinimum: true`; JSON Schema writes `exclusiveMinimum: 0`."""
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if isinstance(node.get(exclusive), bool) and node.pop(exclusive) and bound in node:
            node[exclusive] = node.pop(bound)


def _drop_read_only(node: dict[str, Any]) -> None:
    properties = node.get("properties")
    if not isinstance(properties, dict):
        return
    read_only = [name for name, sub in properties.items() if isinstance(sub, dict) and sub.get("readOnly") is True]
    if not read_only:
        return
    node["properties"] = {name: sub for name, sub in properties.items() if name not in read_only}
    if isinstance(node.get("required"), list):
        node["required"] = [name for name in node["required"] if name not in read_only]


_DESCRIBING = ("title", "description", "default", "example", "examples", "deprecated")


def _with_null(node: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.0's `nullable: true` as JSON Schema: null added to the type, enum or alternatives."""
    kind = node.get("type")
    if isinstance(kind, str):
        node["type"] = [kind, "null"]
    elif isinstance(kind, list):
        node["type"] = kind if "null" in kind else [*kind, "null"]
    else:
        union = next((key for key in ("anyOf", "oneOf") if isinstance(node.get(key), list)), None)
        if union:
            node[union] = [*node[union], {"type": "null"}]
        else:
            described = {key: node.pop(key) for key in _DESCRIBING if key in node}
            return {"anyOf": [node, {"type": "null"}], **described}
    if isinstance(node.get("enum"), list) and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]
    return node


def _drop_malformed(node: dict[str, Any]) -> None:
    """Drop what JSON Schema cannot read, as if the document had not written it: a keyword
    whose value has the wrong form (`pattern: "("`, `maximum: "x"`, `enum: 5`, `items: 3`),
    subschemas that are not schemas, and references left unresolved. A provider's own
    document may hold any of these, and checking a value against them raises, not answers."""
    for key in [key for key in node if key in _REFERENCING]:
        del node[key]
    for key, value in list(node.items()):
        if key in _SCHEMA_LIST_KEYWORDS and isinstance(value, list):
            value = node[key] = [item for item in value if isinstance(item, dict | bool)]
        elif key in _SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            named = {name: item for name, item in value.items() if isinstance(item, dict | bool)}
            value = node[key] = {
                name: item for name, item in named.items() if key != "patternProperties" or _compiles(name)
            }
        elif key == "required" and isinstance(value, list):
            value = node[key] = [name for name in value if isinstance(name, str)]
        if not _readable(key, value):
            del node[key]


def _readable(key: str, value: Any) -> bool:
    check = _WELL_FORMED.get(key)
    return check is None or check(value)


def _compiles(pattern: Any) -> bool:
    try:
        re.compile(pattern)
    except (re.error, TypeError, RecursionError, OverflowError):
        return False
    return True


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_type(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(isinstance(kind, str) and kind in _TYPES for kind in value)
    return isinstance(value, str) and value in _TYPES


# What each keyword's value must be for jsonschema (and the forms) to read it.
_WELL_FORMED: dict[str, Callable[[Any], bool]] = {
    **dict.fromkeys(_SCHEMA_KEYWORDS, lambda value: isinstance(value, dict | bool)),
    **dict.fromkeys(_SCHEMA_LIST_KEYWORDS, lambda value: isinstance(value, list) and bool(value)),
    **dict.fromkeys(_SCHEMA_MAP_KEYWORDS, lambda value: isinstance(value, dict)),
    **dict.fromkeys((*_LOWER_BOUNDS, *_UPPER_BOUNDS), _is_count),
    **dict.fromkeys(("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"), _is_number),
    "multipleOf": lambda value: _is_number(value) and value > 0,
    "pattern": lambda value: isinstance(value, str) and _compiles(value),
    "type": _is_type,
    "enum": lambda value: isinstance(value, list),
    "required": lambda value: isinstance(value, list),
    "uniqueItems": lambda value: isinstance(value, bool),
    "format": lambda value: isinstance(value, str),
    "dependentRequired": lambda value: (
        isinstance(value, dict)
        and all(isinstance(names, list) and all(isinstance(name, str) for name in names) for names in value.values())
    ),
}
