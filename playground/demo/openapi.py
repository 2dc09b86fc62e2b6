"""The demo's OpenAPI 3.1 document; its request schemas are also what the demo validates against."""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson

from playground.demo.catalog import CHAT_MODELS, MODELS

ROLES = ["system", "developer", "user", "assistant", "tool"]
IMAGE_SIZES = ["256x256", "512x512", "1024x1024", "1792x1024", "1024x1792"]
# IONOS writes sizes as 1024*1024; the demo accepts both spellings.
IMAGE_SIZE_NAMES = IMAGE_SIZES + [size.replace("x", "*") for size in IMAGE_SIZES]
MAX_EMBEDDING_INPUTS = 2048
MAX_RERANK_DOCUMENTS = 1000


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _chat_model_field() -> dict[str, Any]:
    return {
        "type": "string",
        "description": "ID of the model to use. " + "; ".join(f"`{m}`: {MODELS[m].purpose}" for m in CHAT_MODELS) + ".",
        "examples": CHAT_MODELS,
    }


# The sampling fields that /chat/completions and /completions share.
_SAMPLING = {
    "temperature": {
        "type": ["number", "null"],
        "minimum": 0,
        "maximum": 2,
        "default": 1,
        "description": "Sampling temperature between 0 and 2. Higher values make the output more random.",
    },
    "top_p": {
        "type": ["number", "null"],
        "minimum": 0,
        "maximum": 1,
        "default": 1,
        "description": "Nucleus sampling: only the tokens making up the top_p probability mass are considered.",
    },
    "n": {
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": 4,
        "default": 1,
        "description": "How many choices to generate for each input.",
    },
    "presence_penalty": {
        "type": ["number", "null"],
        "minimum": -2,
        "maximum": 2,
        "default": 0,
        "description": "Between -2 and 2. Positive values penalise tokens that have appeared at all so far.",
    },
    "frequency_penalty": {
        "type": ["number", "null"],
        "minimum": -2,
        "maximum": 2,
        "default": 0,
        "description": "Between -2 and 2. Positive values penalise tokens by how often they have appeared so far.",
    },
    "stop": {
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 4},
            {"type": "null"},
        ],
        "default": None,
        "description": "Up to 4 sequences where generation stops. The stop sequence is not part of the answer.",
    },
    "seed": {
        "type": ["integer", "null"],
        "minimum": -9223372036854775808,
        "maximum": 9223372036854775807,
        "description": "Ask for deterministic sampling. The demo is deterministic anyway.",
    },
    "stream": {
        "type": ["boolean", "null"],
        "default": False,
        "description": "Stream the answer as server-sent events, ending with `data: [DONE]`.",
    },
    "stream_options": _nullable(_ref("StreamOptions")),
    "logit_bias": {
        "type": ["object", "null"],
        "additionalProperties": {"type": "integer", "minimum": -100, "maximum": 100},
        "default": None,
        "description": "Map of token IDs to a bias from -100 to 100 added to their logits.",
    },
    "user": {"type": "string", "description": "A stable identifier for your end user."},
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message", "type"],
                "properties": {
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                    "param": {"type": ["string", "null"]},
                    "code": {"type": ["string", "null"]},
                },
            }
        },
    },
    "Model": {
        "type": "object",
        "required": ["id", "object", "created", "owned_by"],
        "properties": {
            "id": {"type": "string"},
            "object": {"type": "string", "const": "model"},
            "created": {"type": "integer"},
            "owned_by": {"type": "string"},
        },
    },
    "ModelList": {
        "type": "object",
        "required": ["object", "data"],
        "properties": {
            "object": {"type": "string", "const": "list"},
            "data": {"type": "array", "items": _ref("Model")},
        },
    },
    "ContentPart": {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"type": "string", "enum": ["text", "image_url", "input_audio", "file"]},
            "text": {"type": "string", "description": "The text, for a part of type `text`."},
            "image_url": {"type": "object", "description": "For a part of type `image_url`: `{url, detail}`."},
        },
    },
    "ChatMessage": {
        "type": "object",
        "required": ["role", "content"],
        "properties": {
            "role": {"type": "string", "enum": ROLES, "description": "Who wrote the message."},
            "content": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "items": _ref("ContentPart")},
                    {"type": "null"},
                ],
                "description": "The text, or a list of content parts. Null for an assistant message with tool calls.",
            },
            "name": {"type": "string", "description": "An optional name for the participant."},
            "tool_calls": {
                "type": "array",
                "items": {"type": "object"},
                "description": "Tool calls the assistant made.",
            },
            "tool_call_id": {"type": "string", "description": "For a `tool` message: the call it answers."},
        },
    },
    "FunctionObject": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {
                "type": "string",
                "pattern": "^[a-zA-Z0-9_-]{1,64}$",
                "description": "The function's name: letters, digits, underscores and dashes, at most 64.",
            },
            "description": {"type": "string", "description": "What the function does."},
            "parameters": {"type": "object", "description": "The function's arguments as a JSON Schema object."},
            "strict": {"type": ["boolean", "null"], "default": False},
        },
    },
    "Tool": {
        "type": "object",
        "required": ["type", "function"],
        "properties": {"type": {"type": "string", "enum": ["function"]}, "function": _ref("FunctionObject")},
    },
    "NamedToolChoice": {
        "type": "object",
        "required": ["type", "function"],
        "properties": {
            "type": {"type": "string", "enum": ["function"]},
            "function": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        },
    },
    "ToolChoice": {
        "anyOf": [{"type": "string", "enum": ["none", "auto", "required"]}, _ref("NamedToolChoice")],
        "description": "`none`, `auto` (the default when tools are given), `required`, or "
        '`{"type": "function", "function": {"name": ...}}` to force one function.',
    },
    "ResponseFormat": {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"type": "string", "enum": ["text", "json_object", "json_schema"], "default": "text"},
            "json_schema": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "schema": {"type": "object"},
                    "strict": {"type": ["boolean", "null"], "default": False},
                },
                "description": "For type `json_schema`: the schema the answer must follow.",
            },
        },
        "description": "`json_object` or `json_schema` make the answer a JSON object.",
    },
    "StreamOptions": {
        "type": "object",
        "properties": {
            "include_usage": {
                "type": "boolean",
                "default": False,
                "description": "Send one more chunk before `[DONE]` with empty choices and the usage.",
            }
        },
        "description": "Options for a streamed answer; only with `stream: true`.",
    },
    "CreateChatCompletionRequest": {
        "type": "object",
        "required": ["model", "messages"],
        "properties": {
            "model": _chat_model_field(),
            "messages": {
                "type": "array",
                "minItems": 1,
                "items": _ref("ChatMessage"),
                "description": "The conversation so far.",
            },
            **_SAMPLING,
            "max_tokens": {
                "type": ["integer", "null"],
                "minimum": 1,
                "deprecated": True,
                "description": "Deprecated name of `max_completion_tokens`.",
            },
            "max_completion_tokens": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "The most tokens to generate; a longer answer ends with finish_reason `length`.",
            },
            "logprobs": {
                "type": ["boolean", "null"],
                "default": False,
                "description": "Return the log probability of each output token.",
            },
            "top_logprobs": {
                "type": ["integer", "null"],
                "minimum": 0,
                "maximum": 20,
                "description": "How many most likely tokens to return at each position; needs `logprobs: true`.",
            },
            "response_format": _ref("ResponseFormat"),
            "tools": {
                "type": "array",
                "maxItems": 128,
                "items": _ref("Tool"),
                "description": "Functions the model may call.",
            },
            "tool_choice": _ref("ToolChoice"),
        },
    },
    "CreateCompletionRequest": {
        "type": "object",
        "required": ["model", "prompt"],
        "properties": {
            "model": _chat_model_field(),
            "prompt": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"type": "string"}, "minItems": 1},
                ],
                "description": "The text to continue. For a list, the demo continues the first.",
            },
            **_SAMPLING,
            "max_tokens": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "The most tokens to generate; a longer answer ends with finish_reason `length`.",
            },
            "logprobs": {
                "type": ["integer", "null"],
                "minimum": 0,
                "maximum": 5,
                "description": "Include the log probabilities of this many most likely tokens at each position.",
            },
        },
    },
    "CreateImageRequest": {
        "type": "object",
        "required": ["prompt"],
        "properties": {
            "prompt": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4000,
                "description": "What to draw. The demo writes it on the picture.",
            },
            "model": {"type": "string", "default": "demo-image", "examples": ["demo-image"]},
            "n": {"type": ["integer", "null"], "minimum": 1, "maximum": 4, "default": 1},
            "size": {
                "type": ["string", "null"],
                "enum": [*IMAGE_SIZE_NAMES, None],
                "default": "1024x1024",
                "description": "Width x height, written 1024x1024 or 1024*1024.",
            },
            "response_format": {
                "type": ["string", "null"],
                "enum": ["b64_json", "url", None],
                "default": "b64_json",
                "description": "Return the PNG inline as base64, or a URL to fetch it from.",
            },
            "user": {"type": "string", "description": "A stable identifier for your end user."},
        },
    },
    "CreateEmbeddingRequest": {
        "type": "object",
        "required": ["model", "input"],
        "properties": {
            "model": {"type": "string", "examples": ["demo-embed"]},
            "input": {
                "anyOf": [
                    {"type": "string", "minLength": 1},
                    {
                        "type": "array",
                        "items": {"type": "string", "minLength": 1},
                        "minItems": 1,
                        "maxItems": MAX_EMBEDDING_INPUTS,
                    },
                ],
                "description": f"A text, or a list of up to {MAX_EMBEDDING_INPUTS} texts, to embed.",
            },
            "dimensions": {
                "type": "integer",
                "minimum": 1,
                "maximum": 2048,
                "default": 256,
                "description": "Length of each vector.",
            },
            "encoding_format": {
                "type": "string",
                "enum": ["float", "base64"],
                "default": "float",
                "description": "`float` lists, or base64 of little-endian float32 bytes.",
            },
            "user": {"type": "string", "description": "A stable identifier for your end user."},
        },
    },
    "CreateRerankRequest": {
        "type": "object",
        "required": ["model", "query", "documents"],
        "properties": {
            "model": {"type": "string", "examples": ["demo-rerank"]},
            "query": {
                "type": "string",
                "minLength": 1,
                "description": "The text the documents are ranked against.",
            },
            "documents": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 1,
                "maxItems": MAX_RERANK_DOCUMENTS,
                "description": f"Up to {MAX_RERANK_DOCUMENTS} texts to rank by their relevance to the query.",
            },
            "top_n": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "Return only this many of the most relevant documents (all of them when left out).",
            },
            "return_documents": {
                "type": ["boolean", "null"],
                "default": False,
                "description": "Repeat each document's text in its result.",
            },
        },
    },
    "Usage": {
        "type": "object",
        "properties": {
            "prompt_tokens": {"type": "integer"},
            "completion_tokens": {"type": "integer"},
            "total_tokens": {"type": "integer"},
        },
    },
    "ChatCompletion": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "chat.completion"},
            "created": {"type": "integer"},
            "model": {"type": "string"},
            "system_fingerprint": {"type": "string"},
            "choices": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "index": {"type": "integer"},
                        "message": {"type": "object"},
                        "logprobs": {"type": ["object", "null"]},
                        "finish_reason": {"type": "string", "enum": ["stop", "length", "tool_calls"]},
                    },
                },
            },
            "usage": _ref("Usage"),
        },
    },
    "ChatCompletionChunk": {
        "type": "object",
        "description": "One server-sent event of a streamed chat completion.",
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "chat.completion.chunk"},
            "created": {"type": "integer"},
            "model": {"type": "string"},
            "choices": {"type": "array", "items": {"type": "object"}},
            "usage": {"anyOf": [_ref("Usage"), {"type": "null"}]},
        },
    },
    "Completion": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "text_completion"},
            "created": {"type": "integer"},
            "model": {"type": "string"},
            "choices": {"type": "array", "items": {"type": "object"}},
            "usage": _ref("Usage"),
        },
    },
    "ImagesResponse": {
        "type": "object",
        "properties": {
            "created": {"type": "integer"},
            "data": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "b64_json": {"type": "string"},
                        "url": {"type": "string"},
                        "revised_prompt": {"type": "string"},
                    },
                },
            },
        },
    },
    "EmbeddingsResponse": {
        "type": "object",
        "properties": {
            "object": {"const": "list"},
            "data": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "object": {"const": "embedding"},
                        "index": {"type": "integer"},
                        "embedding": {"anyOf": [{"type": "array", "items": {"type": "number"}}, {"type": "string"}]},
                    },
                },
            },
            "model": {"type": "string"},
            "usage": _ref("Usage"),
        },
    },
    "RerankResponse": {
        "type": "object",
        "properties": {
            "object": {"const": "list"},
            "model": {"type": "string"},
            "results": {
                "type": "array",
                "description": "The documents, most relevant first.",
                "items": {
                    "type": "object",
                    "properties": {
                        "index": {"type": "integer", "description": "The document's position in the request."},
                        "relevance_score": {"type": "number", "minimum": 0, "maximum": 1},
                        "document": {
                            "type": "object",
                            "properties": {"text": {"type": "string"}},
                            "description": "With `return_documents: true`: the document.",
                        },
                    },
                },
            },
            "usage": _ref("Usage"),
        },
    },
}


def _errors(*statuses: int) -> dict[str, Any]:
    described = {
        400: "The request is not valid; `error.param` names the field.",
        401: "No key, or one this Playground installation did not make (use the Demo provider's key).",
        404: "The model does not exist.",
        429: "Rate limited (demo-ratelimited, every other call); see Retry-After.",
        500: "Failed on purpose (demo-flaky every other call; demo-broken when not streaming).",
    }
    error = {"content": {"application/json": {"schema": _ref("Error")}}}
    return {str(status): {"description": described[status], **error} for status in statuses}


def _post(summary: str, request: str, response: str, *, stream: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": _ref(response)}}
    if stream:
        content["text/event-stream"] = {
            "schema": {"type": "string"},
            "description": "With `stream: true`: `data: {chunk}` events, then `data: [DONE]`.",
        }
    return {
        "post": {
            "summary": summary,
            "operationId": summary.replace(" ", "_").lower(),
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(request)}}},
            "responses": {"200": {"description": "OK", "content": content}, **_errors(400, 401, 404, 429, 500)},
        }
    }


@cache
def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Playground demo upstream",
            "version": "1.0.0",
            "description": "The built-in OpenAI-compatible demo. It answers only bearer keys made by this "
            "Playground installation (its Demo provider has one); this document and the signed image "
            "addresses it hands out need no key. "
            + " ".join(f"`{model.id}`: {model.purpose}." for model in MODELS.values()),
        },
        "servers": [{"url": "/demo/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/models": {
                "get": {
                    "summary": "List models",
                    "operationId": "list_models",
                    "responses": {
                        "200": {"description": "OK", "content": {"application/json": {"schema": _ref("ModelList")}}},
                        **_errors(401),
                    },
                }
            },
            "/models/{model}": {
                "get": {
                    "summary": "Retrieve a model",
                    "operationId": "retrieve_model",
                    "parameters": [{"name": "model", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "OK", "content": {"application/json": {"schema": _ref("Model")}}},
                        **_errors(401, 404),
                    },
                }
            },
            "/chat/completions": _post(
                "Create chat completion", "CreateChatCompletionRequest", "ChatCompletion", stream=True
            ),
            "/completions": _post("Create completion", "CreateCompletionRequest", "Completion", stream=True),
            "/images/generations": _post("Create image", "CreateImageRequest", "ImagesResponse"),
            "/embeddings": _post("Create embeddings", "CreateEmbeddingRequest", "EmbeddingsResponse"),
            "/rerank": _post("Rerank documents", "CreateRerankRequest", "RerankResponse"),
            "/images/files/{name}": {
                "get": {
                    "summary": "Download a generated image",
                    "operationId": "download_image",
                    "security": [],
                    "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "The PNG", "content": {"image/png": {}}},
                        "404": {"description": "Not an image this demo made"},
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
    }


@cache
def document_bytes() -> bytes:
    return orjson.dumps(document())
