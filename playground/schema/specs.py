"""Parameter specs for each OpenAI-style endpoint of an OpenAPI document: what a form needs to know per field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from playground.schema.documents import SchemaError, find_operation, load_document, lookup, models_path_of
from playground.schema.examples import example_of
from playground.schema.kinds import alternatives, choices_of, traits
from playground.schema.resolve import resolve_schema
from playground.schema.roles import message_roles
from playground.schema.text import help_text

__all__ = [
    "CONTENT_FIELDS",
    "EndpointSchema",
    "ModelNames",
    "ParamSpec",
    "SchemaError",
    "endpoints_of",
    "load_document",
    "model_names_in",
    "model_names_of",
    "models_path_of",
    "param_spec",
]

# The fields each page supplies itself (model picker, conversation, prompt box, inputs list).
CONTENT_FIELDS = ("model", "messages", "prompt", "input")
# The rerank page's own boxes. Only there: elsewhere a field called `query` or `documents`
# (a chat API's retrieval options, say) is a parameter like any other.
_CONTENT_OF = {"rerank": ("model", "query", "documents")}

# Shown first, outside "Advanced", in this order. Only prominence depends on names; every
# field's widget, range and default come from the schema.
_COMMON = ("temperature", "top_p", "max_tokens", "max_completion_tokens", "stream", "stop")
COMMON_FIELDS = {
    "chat": _COMMON,
    "completions": _COMMON,
    "images": (*_COMMON, "size", "n", "quality", "response_format"),
    "embeddings": (*_COMMON, "dimensions", "encoding_format"),
    "rerank": ("top_n", "return_documents"),
}

_ENDPOINT_PATHS = {
    "chat": lambda path: path.endswith("/chat/completions"),
    "completions": lambda path: path.endswith("/completions") and not path.endswith("/chat/completions"),
    "images": lambda path: path.endswith("/images/generations"),
    "embeddings": lambda path: path.endswith("/embeddings"),
    # Cohere, Jina, vLLM and JamAI Base all serve it as .../rerank.
    "rerank": lambda path: path.endswith("/rerank"),
}


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: str  # number | integer | boolean | enum | string | string_list | json
    description: str = ""
    has_default: bool = False
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    step: float | None = None
    choices: tuple = ()
    min_items: int | None = None
    max_items: int | None = None
    nullable: bool = False
    required: bool = False
    common: bool = False
    example: Any = None
    schema: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EndpointSchema:
    endpoint: str  # chat | completions | images | embeddings | rerank
    path: str
    request_schema: dict
    params: tuple[ParamSpec, ...]
    content_fields: tuple[str, ...]
    message_roles: tuple[str, ...] | None = None


def param_spec(name: str, schema: Any, *, required: bool = False, common: bool = False) -> ParamSpec:
    """The spec of one resolved field schema. A null default counts as no default."""
    schema = schema if isinstance(schema, dict) else {}
    shapes, _ = alternatives(schema)
    first = shapes[0] if len(shapes) == 1 else {}
    described = schema.get("description") or first.get("description")
    default = schema.get("default", first.get("default"))
    example = example_of(schema)
    if example is None:
        example = example_of(first)
    return ParamSpec(
        name=name,
        description=help_text(described),
        has_default=default is not None,
        default=default,
        required=required,
        common=common,
        example=example,
        schema=schema,
        **traits(schema),
    )


def endpoints_of(document: dict[str, Any]) -> dict[str, EndpointSchema]:
    """Every endpoint of the five kinds that has a POST operation with a JSON request body.

    Raises SchemaError when a request schema is too large or too deep to expand.
    """
    found: dict[str, EndpointSchema] = {}
    for endpoint, accepts in _ENDPOINT_PATHS.items():
        operation = find_operation(document, "post", accepts)
        if operation is None:
            continue
        path, post = operation
        schema = _request_schema(document, post)
        if schema is not None:
            try:
                found[endpoint] = _endpoint_schema(endpoint, path, resolve_schema(schema, document))
            except RecursionError:
                raise SchemaError(
                    f"The request schema of {path} nests too deeply once its references are expanded."
                ) from None
    return found


def _request_schema(document: dict[str, Any], operation: dict[str, Any]) -> Any:
    body = operation.get("requestBody")
    if isinstance(body, dict) and isinstance(body.get("$ref"), str):
        body = lookup(document, body["$ref"])
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict):
        return None
    for media_type, media in content.items():
        base = media_type.split(";")[0].strip().lower()
        if (base == "application/json" or base.endswith("+json")) and isinstance(media, dict):
            return media.get("schema", {})
    return None


def _endpoint_schema(endpoint: str, path: str, request_schema: Any) -> EndpointSchema:
    request_schema = request_schema if isinstance(request_schema, dict) else {}
    properties = request_schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    required = set(request_schema.get("required") or [])
    content = _CONTENT_OF.get(endpoint, CONTENT_FIELDS)
    common = [name for name in COMMON_FIELDS[endpoint] if name in properties and name not in content]
    rest = [name for name in properties if name not in common and name not in content]
    params = tuple(
        param_spec(name, properties[name], required=name in required, common=name in common)
        for name in (*common, *rest)
    )
    return EndpointSchema(
        endpoint=endpoint,
        path=path,
        request_schema=request_schema,
        params=params,
        content_fields=tuple(name for name in content if name in properties),
        message_roles=message_roles(request_schema) if endpoint == "chat" else None,
    )


def model_names_of(endpoints: dict[str, EndpointSchema]) -> tuple[str, ...]:
    """The model names a document itself offers: those of each endpoint's `model` field
    (model_names_in), chat first. For APIs with no endpoint that lists their models."""
    names: dict[str, None] = {}
    for endpoint in endpoints.values():
        names.update(dict.fromkeys(model_names_in(endpoint).names))
    return tuple(names)


class ModelNames(NamedTuple):
    names: tuple[str, ...]
    closed: bool  # the field's enum allows these names only


def model_names_in(endpoint: EndpointSchema | None) -> ModelNames:
    """The model names an endpoint's `model` field gives: the values its enum or const allows,
    then its default, example and examples, in each of its alternatives, once each."""
    properties = endpoint.request_schema.get("properties") if endpoint is not None else None
    model = properties.get("model") if isinstance(properties, dict) else None
    if not isinstance(model, dict):
        return ModelNames((), False)
    shapes, _ = alternatives(model)
    found = [value for shape in shapes for value in choices_of(shape)]
    for shape in (model, *shapes):
        examples = shape.get("examples")
        found += [shape.get("default"), shape.get("example"), *(examples if isinstance(examples, list) else ())]
    names = dict.fromkeys(value.strip() for value in found if isinstance(value, str) and value.strip())
    return ModelNames(tuple(names), bool(shapes) and all(choices_of(shape) for shape in shapes))
