"""Loading uploaded documents and finding their endpoints."""

from __future__ import annotations

import json

import pytest

from playground.schema.specs import SchemaError, endpoints_of, load_document, models_path_of
from tests.schema.documents import RESEARCH_YAML, invented_document


def test_a_yaml_upload_parses_into_endpoints():
    document = load_document(RESEARCH_YAML)
    chat = endpoints_of(document)["chat"]
    temperature = chat.params[0]
    assert (temperature.name, temperature.kind, temperature.maximum, temperature.nullable) == (
        "temperature",
        "number",
        2,
        True,
    )
    top_p = chat.params[1]
    assert (top_p.minimum, top_p.exclusive_minimum) == (0, True)
    assert chat.message_roles == ("user", "system", "developer")
    assert models_path_of(document) == "/v1/models"


def test_yaml_numbers_as_keys_become_strings():
    document = load_document(RESEARCH_YAML)
    assert "200" in document["paths"]["/v1/models"]["get"]["responses"]


def test_a_json_upload_parses_also_as_bytes_with_a_byte_order_mark():
    text = json.dumps(invented_document())
    assert load_document(text) == invented_document()
    assert load_document(("\ufeff" + text).encode()) == invented_document()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"openapi": "3.1.0", "paths": {', "not valid JSON: Expecting property name"),
        ("key: [unclosed", "neither valid JSON nor valid YAML at line"),
        ("[1, 2]", "top level is not an object"),
        ('{"swagger": "2.0", "paths": {}}', "Swagger 2"),
        ("title: My notes\nitems: []\n", 'no "openapi" version'),
        ('{"openapi": "4.0.0", "paths": {"/x": {}}}', "OpenAPI 4.0.0 is not supported"),
        ('{"openapi": "3.1.0", "info": {}}', "no paths"),
    ],
)
def test_a_document_that_is_not_openapi_3_is_refused_in_plain_words(text, message):
    with pytest.raises(SchemaError, match=message):
        load_document(text)


def test_a_yaml_alias_bomb_is_refused():
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{n}: &a{n} [*a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}]" for n in range(1, 12)]
    with pytest.raises(SchemaError, match="too large"):
        load_document("openapi: 3.0.0\n" + "\n".join(lines))


def post(schema):
    return {"post": {"requestBody": {"content": {"application/json": {"schema": schema}}}, "responses": {}}}


def test_each_endpoint_kind_is_found_by_its_path_ending():
    document = {
        "openapi": "3.1.0",
        "paths": {
            "/api/v1/chat/completions": post({"type": "object", "properties": {"messages": {}}}),
            "/api/v1/completions": post({"type": "object", "properties": {"prompt": {}}}),
            "/api/v1/images/generations/": post({"type": "object", "properties": {"prompt": {}, "n": {}}}),
            "/api/v1/embeddings": post({"type": "object", "properties": {"input": {}, "dimensions": {}}}),
        },
    }
    endpoints = endpoints_of(document)
    assert {name: endpoint.path for name, endpoint in endpoints.items()} == {
        "chat": "/api/v1/chat/completions",
        "completions": "/api/v1/completions",
        "images": "/api/v1/images/generations/",
        "embeddings": "/api/v1/embeddings",
    }
    assert endpoints["embeddings"].content_fields == ("input",)
    assert endpoints["images"].params[0].common


def test_the_plainest_matching_path_wins():
    document = {
        "openapi": "3.1.0",
        "paths": {
            "/v1/tables/{table}/embeddings": post({"type": "object", "properties": {"a": {}}}),
            "/v2/gen/knowledge/embeddings": post({"type": "object", "properties": {"b": {}}}),
            "/v1/embeddings": post({"type": "object", "properties": {"c": {}}}),
        },
    }
    assert endpoints_of(document)["embeddings"].path == "/v1/embeddings"


def test_a_request_body_may_be_a_ref_and_the_media_type_may_carry_a_charset():
    document = {
        "openapi": "3.0.3",
        "paths": {"/chat/completions": {"post": {"requestBody": {"$ref": "#/components/requestBodies/Chat"}}}},
        "components": {
            "requestBodies": {
                "Chat": {
                    "content": {
                        "application/json; charset=utf-8": {
                            "schema": {"type": "object", "properties": {"seed": {"type": "integer"}}}
                        }
                    }
                }
            }
        },
    }
    assert endpoints_of(document)["chat"].params[0].name == "seed"


def test_an_operation_without_a_json_body_is_not_an_endpoint():
    document = {
        "openapi": "3.1.0",
        "paths": {
            "/images/generations": {"post": {"requestBody": {"content": {"multipart/form-data": {"schema": {}}}}}},
            "/embeddings": {"get": {}},
        },
    }
    assert endpoints_of(document) == {}
    assert models_path_of(document) is None
