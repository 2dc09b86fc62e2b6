"""Reading an uploaded OpenAPI document and finding operations in it by the end of their path."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import yaml

# YAML aliases can expand a small file into a huge tree; past this many values it is refused.
MAX_VALUES = 1_000_000
# Real OpenAPI documents nest a few dozen levels. Deeper ones are refused before they are
# built: libyaml's composer recurses on the C stack (a 40,000-level `[[[…` killed the
# process) and its scanner takes time quadratic in the depth (100,000 levels: 25 s).
MAX_DEPTH = 200
TOO_DEEP = f"The document nests more than {MAX_DEPTH} levels deep, far more than any real one needs."
# libyaml's loader when PyYAML was built with it: several times faster on a 3 MB document.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SchemaError(Exception):
    """The document cannot be used; the message is plain words for the person who supplied it."""


def load_document(text: str | bytes) -> dict[str, Any]:
    """Parse JSON or YAML text into an OpenAPI 3.x document that has paths."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise SchemaError("The file is not UTF-8 text, so it cannot be JSON or YAML.") from error
    document = _parse(text.lstrip("\ufeff"))
    if not isinstance(document, dict):
        raise SchemaError("This is not an OpenAPI document: its top level is not an object of named fields.")
    if "swagger" in document:
        raise SchemaError("This is a Swagger 2 document; only OpenAPI 3.x is supported. Convert it to OpenAPI 3 first.")
    version = document.get("openapi")
    if version is None:
        raise SchemaError('This is not an OpenAPI document: it has no "openapi" version field.')
    if not str(version).startswith("3."):
        raise SchemaError(f"OpenAPI {version} is not supported; only OpenAPI 3.x documents are.")
    if not isinstance(document.get("paths"), dict) or not document["paths"]:
        raise SchemaError("The document has no paths, so it describes no endpoints to call.")
    return document


def _parse(text: str) -> Any:
    try:
        return shallow(json.loads(text))
    except RecursionError:
        raise SchemaError(TOO_DEEP) from None
    except ValueError as json_error:
        try:
            _yaml_shallow(text)
            loaded = yaml.load(text, Loader=_YAML_LOADER)
        except yaml.YAMLError as yaml_error:
            if text.lstrip().startswith("{"):
                raise SchemaError(
                    f"The file is not valid JSON: {json_error.msg} at line {json_error.lineno}, "
                    f"column {json_error.colno}."
                ) from json_error
            mark = getattr(yaml_error, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise SchemaError(f"The file is neither valid JSON nor valid YAML{where}.") from yaml_error
        return _plain(loaded, [MAX_VALUES])


def _yaml_shallow(text: str) -> None:
    """Refuse YAML nested past MAX_DEPTH, from libyaml's event stream, which is read lazily:
    a hostile document is stopped a few hundred events in, and a real one costs a tenth more."""
    depth = 0
    for event in yaml.parse(text, Loader=_YAML_LOADER):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise SchemaError(TOO_DEEP)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def shallow(document: Any) -> Any:
    """`document`, if it nests no deeper than MAX_DEPTH (checked without recursion)."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise SchemaError(TOO_DEEP)
        if isinstance(value, dict):
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
    return document


def _plain(value: Any, budget: list[int]) -> Any:
    """YAML's values as JSON's: string keys (YAML reads `200:` as a number), dates as text."""
    budget[0] -= 1
    if budget[0] < 0:
        raise SchemaError("The document is too large once its YAML aliases are expanded.")
    if isinstance(value, dict):
        return {str(key): _plain(item, budget) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item, budget) for item in value]
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def find_operation(
    document: dict[str, Any], method: str, accepts: Callable[[str], bool]
) -> tuple[str, dict[str, Any]] | None:
    """The operation for `method` whose path `accepts` (a predicate on the path without its trailing slash).

    When several paths match, the plainest wins: no path parameters, then fewest segments, then
    document order — so `/v1/embeddings` beats `/v1/tables/{id}/embeddings`.
    """
    candidates = []
    for order, (path, item) in enumerate((document.get("paths") or {}).items()):
        operation = item.get(method) if isinstance(item, dict) else None
        if isinstance(operation, dict) and isinstance(path, str) and accepts(path.rstrip("/")):
            candidates.append(("{" in path, path.count("/"), order, path, operation))
    if not candidates:
        return None
    *_, path, operation = min(candidates, key=lambda candidate: candidate[:3])
    return path, operation


def models_path_of(document: dict[str, Any]) -> str | None:
    """The GET path that lists models (ends with /models), if the document has one."""
    found = find_operation(document, "get", lambda path: path.endswith("/models"))
    return found[0] if found else None


def lookup(document: dict[str, Any], ref: str) -> Any:
    """What a local reference such as `#/components/schemas/Foo` points at, or None."""
    if not ref.startswith("#"):
        return None
    node: Any = document
    for raw in ref[1:].split("/")[1:]:
        part = _unescape(raw)
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _unescape(part: str) -> str:
    return unquote(part).replace("~1", "/").replace("~0", "~")
