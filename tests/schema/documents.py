"""OpenAPI documents for the schema tests: invented fields, a FastAPI-style research API, 3.0 and 3.1 forms."""

from __future__ import annotations

import copy
from typing import Any

STOP = {
    "anyOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 4},
        {"type": "null"},
    ],
    "description": "Up to 4 sequences where generation stops.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _post(schema_name: str) -> dict[str, Any]:
    return {
        "post": {
            "requestBody": {"content": {"application/json": {"schema": _ref(schema_name)}}},
            "responses": {"200": {"description": "OK"}},
        }
    }


def invented_document() -> dict[str, Any]:
    """Fields no code has heard of: every widget must come from the schema alone (OpenAPI 3.1)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Invented", "version": "1"},
        "paths": {
            "/v9/chat/completions": _post("InventedRequest"),
            "/v9/models": {"get": {"responses": {"200": {"description": "OK"}}}},
        },
        "components": {
            "schemas": {
                "Knobs": {
                    "type": "object",
                    "properties": {
                        "flux_capacitor": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 7,
                            "default": 3,
                            "description": "How much [flux](https://example.com/flux) to **apply**.",
                        },
                    },
                },
                "Mood": {"type": "string", "enum": ["calm", "bold"], "description": "The answer's mood."},
                "MoodAlias": _ref("Mood"),
                "Plan": {
                    "type": "object",
                    "required": ["steps"],
                    "properties": {
                        "steps": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                        "budget": {"type": "number", "minimum": 0},
                    },
                },
                "Message": {
                    "type": "object",
                    "required": ["role", "content"],
                    "properties": {
                        "role": {"type": "string", "enum": ["system", "user", "assistant"]},
                        "content": {"type": "string"},
                    },
                },
                "InventedRequest": {
                    "allOf": [
                        _ref("Knobs"),
                        {
                            "type": "object",
                            "required": ["model", "messages"],
                            "properties": {
                                "model": {"type": "string"},
                                "messages": {"type": "array", "items": _ref("Message")},
                                "mood": _ref("MoodAlias"),
                                "plan": _ref("Plan"),
                                "balance": {"type": ["number", "null"], "minimum": -1, "maximum": 1},
                                "drift": {"type": "number", "nullable": True, "minimum": -1, "maximum": 1},
                                "spark": {"type": "number", "exclusiveMinimum": 0, "maximum": 10},
                                "stop": STOP,
                                "verbose": {"type": "boolean", "default": False},
                                "nickname": {"type": "string", "maxLength": 8},
                            },
                        },
                    ]
                },
            }
        },
    }


def with_version(document: dict[str, Any], version: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed["openapi"] = version
    return changed


def single_field_document(version: str, field: dict[str, Any]) -> dict[str, Any]:
    """A chat endpoint whose request has one parameter, `knob`."""
    return {
        "openapi": version,
        "info": {"title": "One field", "version": "1"},
        "paths": {"/chat/completions": _post("Request")},
        "components": {"schemas": {"Request": {"type": "object", "properties": {"knob": field}}}},
    }


def _message(role: str, *, style: str = "const") -> dict[str, Any]:
    role_schema = {"type": "string", "const": role} if style == "const" else {"type": "string", "enum": [role]}
    return {
        "type": "object",
        "title": f"ChatCompletion{role.title()}MessageParam",
        "required": ["role", "content"],
        "properties": {"role": {**role_schema, "title": "Role"}, "content": {"type": "string", "title": "Content"}},
    }


def research_document(*, discriminated: bool = False) -> dict[str, Any]:
    """Like the FastAPI "research" chat API: only user, system and developer messages."""
    roles = ["user", "system", "developer"]
    names = [f"ChatCompletion{role.title()}MessageParam" for role in roles]
    schemas = {
        name: _message(role, style="enum" if discriminated else "const")
        for name, role in zip(names, roles, strict=True)
    }
    items: dict[str, Any] = {"anyOf": [_ref(name) for name in names]}
    if discriminated:
        mapping = {role: f"#/components/schemas/{name}" for name, role in zip(names, roles, strict=True)}
        items = {"oneOf": [_ref(name) for name in names], "discriminator": {"propertyName": "role", "mapping": mapping}}
    schemas["ResponseFormatJSONSchema"] = {
        "type": "object",
        "required": ["type", "json_schema"],
        "properties": {"type": {"type": "string", "const": "json_schema"}, "json_schema": {"type": "object"}},
    }
    schemas["ResponseFormatText"] = {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"type": "string", "const": "text"}},
    }
    schemas["ChatCompletionRequest"] = {
        "type": "object",
        "title": "ChatCompletionRequest",
        "description": "Model for /v1/chat/completions request body.",
        "required": ["messages"],
        "properties": {
            "messages": {"type": "array", "items": items, "title": "Messages"},
            "model": {"type": "string", "default": "researcher", "title": "Model"},
            "temperature": {
                "anyOf": [{"type": "number", "maximum": 2.0, "minimum": 0.0}, {"type": "null"}],
                "default": 1.0,
                "description": "What sampling temperature to use, between 0 and 2.",
            },
            "top_p": {"anyOf": [{"type": "number", "maximum": 1.0, "minimum": 0.0}, {"type": "null"}], "default": 1.0},
            "stop": STOP,
            "max_tokens": {"anyOf": [{"type": "integer"}, {"type": "null"}], "title": "Max Tokens"},
            "presence_penalty": {"anyOf": [{"type": "number", "maximum": 2.0, "minimum": -2.0}, {"type": "null"}]},
            "logit_bias": {
                "anyOf": [
                    {"type": "object", "additionalProperties": {"type": "integer", "maximum": 100, "minimum": -100}},
                    {"type": "null"},
                ]
            },
            "logprobs": {"anyOf": [{"type": "boolean"}, {"type": "null"}], "default": False},
            "response_format": {
                "anyOf": [{"oneOf": [_ref("ResponseFormatJSONSchema"), _ref("ResponseFormatText")]}, {"type": "null"}]
            },
            "stream": {"type": "boolean", "default": False},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Research API", "version": "0.1.0"},
        "paths": {"/v1/chat/completions": _post("ChatCompletionRequest")},
        "components": {"schemas": schemas},
    }


RESEARCH_YAML = """\
openapi: 3.0.3
info:
  title: Research API
  version: 0.1.0
paths:
  /v1/chat/completions:
    post:
      requestBody:
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/Request'
      responses:
        200:
          description: OK
  /v1/models:
    get:
      responses:
        200:
          description: OK
components:
  schemas:
    Request:
      type: object
      required: [messages]
      properties:
        messages:
          type: array
          items:
            type: object
            properties:
              role: {type: string, enum: [user, system, developer]}
              content: {type: string}
        temperature:
          type: number
          minimum: 0
          maximum: 2
          default: 1
          nullable: true
        top_p:
          type: number
          minimum: 0
          exclusiveMinimum: true
          maximum: 1
"""
