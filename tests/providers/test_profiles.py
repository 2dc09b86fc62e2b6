"""The built-in provider profiles: one OpenAPI 3.1 document per provider kind, true to that API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

PROFILES_DIR = Path(__file__).resolve().parents[2] / "playground" / "providers" / "profiles"

CHAT = ("post", "/chat/completions")
COMPLETIONS = ("post", "/completions")
IMAGES = ("post", "/images/generations")
EMBEDDINGS = ("post", "/embeddings")
MODELS = ("get", "/models")

ENDPOINTS = {
    "openai": {CHAT, COMPLETIONS, IMAGES, EMBEDDINGS, MODELS},
    "ionos-model-hub": {CHAT, COMPLETIONS, IMAGES, EMBEDDINGS, MODELS},
    "ionos-legacy": {CHAT, COMPLETIONS, IMAGES, EMBEDDINGS, MODELS},
    "research": {CHAT},
    "jamai-base": {
        ("post", "/api/v1/chat/completions"),
        ("post", "/api/v1/embeddings"),
        ("post", "/api/v1/rerank"),
        ("get", "/api/v1/models"),
    },
    "vllm": {CHAT, COMPLETIONS, EMBEDDINGS, MODELS},
    "ollama": {CHAT, COMPLETIONS, EMBEDDINGS, MODELS},
    "llamacpp": {CHAT, COMPLETIONS, EMBEDDINGS, MODELS},
}
PROFILES = sorted(ENDPOINTS)
SERVERS = {
    "openai": "https://api.openai.com/v1",
    "ionos-model-hub": "https://openai.inference.de-txl.ionos.com/v1",
    "ionos-legacy": "https://openai.inference.de-txl.ionos.com/v1",
    "jamai-base": "https://api.jamaibase.com",
    "vllm": "http://localhost:8000/v1",
    "ollama": "http://localhost:11434/v1",
    "llamacpp": "http://localhost:8080/v1",
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
TYPING_KEYWORDS = {"type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref"}


@cache
def _load(stem: str) -> str:
    return (PROFILES_DIR / f"{stem}.json").read_text()


def load(stem: str) -> dict[str, Any]:
    """A fresh copy of the document, so a test cannot change what the next one reads."""
    return json.loads(_load(stem))


def pointer(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"only local references are used: {ref}"
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[part]
    return node


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = pointer(doc, schema["$ref"])
    return schema


def variants(doc: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema's non-null alternatives, references followed (nullable wrappers unwrapped)."""
    schema = resolve(doc, schema)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options is None:
        return [schema]
    return [resolve(doc, option) for option in options if option.get("type") != "null"]


def the_variant(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    [only] = variants(doc, schema)
    return only


def request_name(doc: dict[str, Any], path: str) -> str:
    ref = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[1]


def request_schema(doc: dict[str, Any], path: str) -> dict[str, Any]:
    return doc["components"]["schemas"][request_name(doc, path)]


def fields(stem: str, path: str = "/chat/completions") -> dict[str, dict[str, Any]]:
    return request_schema(load(stem), path)["properties"]


def validator(doc: dict[str, Any], path: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{request_name(doc, path)}", "components": doc["components"]}
    )


def valid(stem: str, path: str, body: dict[str, Any]) -> bool:
    return validator(load(stem), path).is_valid(body)


def walk(node: Any, where: str = "#") -> Iterator[tuple[str, Any]]:
    yield where, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{where}/{index}")


def schemas_in(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object in the document: components and the inline ones under them, recursively."""

    def visit(schema: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
        if not isinstance(schema, dict):
            return
        yield where, schema
        for name, sub in schema.get("properties", {}).items():
            yield from visit(sub, f"{where}/properties/{name}")
        for key in ("items", "additionalProperties", "not"):
            yield from visit(schema.get(key), f"{where}/{key}")
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            for index, sub in enumerate(schema.get(key, [])):
                yield from visit(sub, f"{where}/{key}/{index}")

    for name, schema in doc["components"]["schemas"].items():
        yield from visit(schema, f"#/components/schemas/{name}")
    for where, node in walk(doc["paths"], "#/paths"):
        if isinstance(node, dict) and isinstance(node.get("schema"), dict):
            yield from visit(node["schema"], f"{where}/schema")


def enum_values(doc: dict[str, Any], schema: dict[str, Any]) -> set[Any]:
    values: set[Any] = set()
    for variant in variants(doc, schema):
        values.update(v for v in variant.get("enum", []) if v is not None)
    return values


# --- Every document -------------------------------------------------------------------------


def test_the_folder_holds_exactly_the_built_in_profiles():
    # demo.json describes our own demo upstream, not an outside API; tests/demo checks it.
    assert {path.stem for path in PROFILES_DIR.glob("*.json")} == {*PROFILES, "demo"}


@pytest.mark.parametrize("stem", PROFILES)
def test_profile_is_an_openapi_31_document_with_its_playground_block(stem):
    doc = load(stem)
    assert doc["openapi"] == "3.1.0"
    info = doc["info"]
    assert info["title"] and info["version"]
    assert "2026-11" in info["description"]
    assert doc["servers"][0]["url"].startswith(("http://", "https://"))
    assert doc["paths"]
    block = doc["x-playground"]
    assert set(block) == {"profile", "label", "auth", "stream_usage"}
    assert block["profile"] == stem
    assert block["label"].strip()
    assert block["auth"] in {"bearer", "none-or-bearer"}
    assert isinstance(block["stream_usage"], bool)
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    optional_auth = {} in doc["security"]
    assert optional_auth == (block["auth"] == "none-or-bearer")


@pytest.mark.parametrize("stem", sorted(SERVERS))
def test_profile_points_at_the_usual_base_url(stem):
    assert load(stem)["servers"][0]["url"] == SERVERS[stem]


@pytest.mark.parametrize("stem", PROFILES)
def test_profile_describes_where_it_was_written_from(stem):
    description = load(stem)["info"]["description"]
    sources = {
        "openai": "platform.openai.com",
        "ionos-model-hub": "000_02231bf6f706e402.txt",
        "ionos-legacy": "001_678b70cced9918cd.txt",
        "research": "002_b196cc52b4a3b551.txt",
        "jamai-base": "003_67839ff88eee6ade.txt",
        "vllm": "vllm-project/vllm",
        "ollama": "ollama/ollama",
        "llamacpp": "tools/server/README.md",
    }
    assert sources[stem] in description


@pytest.mark.parametrize("stem", PROFILES)
def test_profile_has_exactly_the_endpoints_its_api_has(stem):
    doc = load(stem)
    found = {(method, path) for path, item in doc["paths"].items() for method in item if method in HTTP_METHODS}
    assert found == ENDPOINTS[stem]


@pytest.mark.parametrize("stem", PROFILES)
def test_every_post_takes_a_json_request_schema_and_answers_200(stem):
    doc = load(stem)
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            assert "200" in operation["responses"], (path, method)
            ok = resolve(doc, operation["responses"]["200"])
            assert "application/json" in ok["content"], (path, method)
            if method != "post":
                continue
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert set(schema) == {"$ref"}
            assert schema["$ref"].startswith("#/components/schemas/") and schema["$ref"].endswith("Request")
            assert resolve(doc, schema)["type"] == "object"


@pytest.mark.parametrize("stem", PROFILES)
def test_every_reference_points_at_something_that_exists(stem):
    doc = load(stem)
    refs = [(where, node["$ref"]) for where, node in walk(doc) if isinstance(node, dict) and "$ref" in node]
    assert refs, "a profile without references would not exercise the resolver"
    for where, ref in refs:
        try:
            target = pointer(doc, ref)
        except (KeyError, IndexError, TypeError):
            pytest.fail(f"{where}: {ref} points nowhere")
        assert isinstance(target, dict), f"{where}: {ref}"


@pytest.mark.parametrize("stem", PROFILES)
def test_every_property_has_a_type_and_a_description(stem):
    doc = load(stem)
    checked = 0
    for where, schema in schemas_in(doc):
        for name, prop in schema.get("properties", {}).items():
            assert TYPING_KEYWORDS & set(prop), f"{where}/properties/{name} has no type"
            assert isinstance(prop.get("description"), str) and prop["description"].strip(), (
                f"{where}/properties/{name} has no description"
            )
            checked += 1
        if schema.get("type") == "array" or (isinstance(schema.get("type"), list) and "array" in schema["type"]):
            assert "items" in schema, f"{where} is an array of nothing in particular"
            assert TYPING_KEYWORDS & set(schema["items"]), f"{where}/items has no type"
    assert checked > 10


@pytest.mark.parametrize("stem", PROFILES)
def test_request_schemas_are_valid_json_schema_2020_12(stem):
    doc = load(stem)
    for name, schema in doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        if name.endswith("Request"):
            assert schema["type"] == "object"
            assert set(schema.get("required", [])) <= set(schema["properties"]), name


@pytest.mark.parametrize("stem", PROFILES)
def test_defaults_fit_their_own_schema(stem):
    doc = load(stem)
    for where, schema in schemas_in(doc):
        if "default" not in schema:
            continue
        plain = {k: v for k, v in schema.items() if k not in {"default", "description", "examples"}}
        check = Draft202012Validator({**plain, "components": doc["components"]})
        assert check.is_valid(schema["default"]), f"{where}: default {schema['default']!r} does not fit"


@pytest.mark.parametrize("stem", PROFILES)
def test_a_one_message_chat_is_accepted(stem):
    doc = load(stem)
    [chat_path] = [path for path in doc["paths"] if path.endswith("/chat/completions")]
    body = {"model": "some-model", "messages": [{"role": "user", "content": "Hello"}]}
    assert valid(stem, chat_path, body)
    assert not valid(stem, chat_path, {"model": "some-model", "messages": []})
    assert not valid(stem, chat_path, {**body, "messages": [{"role": "narrator", "content": "Hello"}]})


@pytest.mark.parametrize("stem", PROFILES)
def test_stream_usage_is_claimed_only_where_stream_options_exist(stem):
    doc = load(stem)
    [chat_path] = [path for path in doc["paths"] if path.endswith("/chat/completions")]
    chat = request_schema(doc, chat_path)["properties"]
    if doc["x-playground"]["stream_usage"]:
        options = the_variant(doc, chat["stream_options"])
        assert options["properties"]["include_usage"]["type"] == "boolean"
    else:
        assert "stream_options" not in chat


# --- IONOS AI Model Hub (seed 000) ----------------------------------------------------------


def test_ionos_chat_defaults_are_the_seeds():
    chat = fields("ionos-model-hub")
    defaults = {name: chat[name].get("default") for name in chat if "default" in chat[name]}
    assert defaults == {
        "temperature": 1,
        "top_p": -1,
        "n": 1,
        "stream": False,
        "max_tokens": 16,
        "max_completion_tokens": 16,
        "presence_penalty": 0,
        "frequency_penalty": 0,
    }
    assert "minimum" not in chat["top_p"], "top_p defaults to -1, so no range may exclude it"
    assert chat["max_tokens"]["deprecated"] is True


def test_ionos_chat_offers_the_response_formats_tool_choices_and_four_stops():
    doc = load("ionos-model-hub")
    chat = request_schema(doc, "/chat/completions")["properties"]
    formats = {resolve(doc, option)["properties"]["type"]["enum"][0] for option in chat["response_format"]["oneOf"]}
    assert formats == {"text", "json_object", "json_schema"}
    assert enum_values(doc, chat["tool_choice"]) == {"none", "auto", "required"}
    named = [v for v in variants(doc, chat["tool_choice"]) if v.get("type") == "object"]
    assert named and named[0]["required"] == ["type", "function"]
    assert chat["stop"]["maxItems"] == 4
    assert valid(
        "ionos-model-hub",
        "/chat/completions",
        {
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        },
    )
    assert not valid(
        "ionos-model-hub",
        "/chat/completions",
        {
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "stop": ["a", "b", "c", "d", "e"],
        },
    )


def test_ionos_images_use_asterisk_sizes_and_only_base64():
    images = fields("ionos-model-hub", "/images/generations")
    assert images["size"]["enum"] == ["1024*1024", "1792*1024", "1024*1792"]
    assert images["size"]["default"] == "1024*1024"
    assert images["response_format"]["enum"] == ["b64_json"]
    assert images["n"]["default"] == 1
    assert not valid("ionos-model-hub", "/images/generations", {"model": "m", "prompt": "p", "size": "1024x1024"})


def test_ionos_embeddings_take_a_string_or_a_list():
    for text in ("one text", ["one", "two"]):
        assert valid("ionos-model-hub", "/embeddings", {"model": "m", "input": text})
    assert not valid("ionos-model-hub", "/embeddings", {"model": "m", "input": 3})


def test_ionos_rate_limit_answers_carry_their_headers():
    doc = load("ionos-model-hub")
    for path, item in doc["paths"].items():
        for operation in item.values():
            limited = resolve(doc, operation["responses"]["429"])
            assert set(limited["headers"]) == {"Retry-After", "X-RateLimit-Limit", "X-RateLimit-Burst"}, path
    for path in ("/chat/completions", "/completions", "/images/generations", "/embeddings"):
        assert {"200", "400", "429", "500"} == set(doc["paths"][path]["post"]["responses"])


# --- IONOS older revision (seed 001) --------------------------------------------------------


def test_ionos_legacy_lacks_the_newer_fields():
    chat = fields("ionos-legacy")
    for name in ("response_format", "max_completion_tokens", "tool_choice", "tools"):
        assert name not in chat
    assert set(chat) == {
        "model", "messages", "temperature", "top_p", "n", "stream", "stop", "max_tokens",
        "presence_penalty", "frequency_penalty", "logit_bias", "user",
    }  # fmt: skip
    assert fields("ionos-legacy", "/completions").keys() == (set(chat) - {"messages"}) | {"prompt"}


def test_ionos_legacy_images_and_embeddings_follow_the_older_page():
    images = fields("ionos-legacy", "/images/generations")
    assert images["response_format"]["enum"] == ["b64_json"]
    assert images["size"]["default"] == "1024*1024"
    embeddings = fields("ionos-legacy", "/embeddings")
    assert embeddings["input"]["type"] == "array"
    assert embeddings["input"]["items"]["type"] == "string"
    assert load("ionos-legacy")["paths"]["/chat/completions"]["post"]["responses"].keys() == {"200"}


# --- Research API (seed 002) ----------------------------------------------------------------


def test_research_accepts_user_system_and_developer_messages_only():
    doc = load("research")
    chat = request_schema(doc, "/chat/completions")["properties"]
    message = resolve(doc, chat["messages"]["items"])
    assert set(message["properties"]["role"]["enum"]) == {"user", "system", "developer"}
    history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    assert not valid("research", "/chat/completions", {"messages": history})
    assert valid("research", "/chat/completions", {"messages": [{"role": "developer", "content": "Be brief."}]})


def test_research_ranges_are_the_seeds():
    chat = fields("research")
    assert (chat["temperature"]["minimum"], chat["temperature"]["maximum"]) == (0, 2)
    assert (chat["top_p"]["minimum"], chat["top_p"]["maximum"]) == (0, 1)
    for penalty in ("presence_penalty", "frequency_penalty"):
        assert (chat[penalty]["minimum"], chat[penalty]["maximum"]) == (-2, 2)
    bias = chat["logit_bias"]["additionalProperties"]
    assert (bias["minimum"], bias["maximum"]) == (-100, 100)
    assert chat["logprobs"]["type"] == "boolean"
    too_hot = {"messages": [{"role": "user", "content": "x"}], "temperature": 2.5}
    assert not valid("research", "/chat/completions", too_hot)


def test_research_response_format_is_json_schema_or_text():
    doc = load("research")
    chat = request_schema(doc, "/chat/completions")["properties"]
    kinds = {variant["properties"]["type"]["enum"][0] for variant in variants(doc, chat["response_format"])}
    assert kinds == {"json_schema", "text"}
    body = {"messages": [{"role": "user", "content": "x"}]}
    assert valid("research", "/chat/completions", {**body, "response_format": None})
    assert not valid("research", "/chat/completions", {**body, "response_format": {"type": "json_object"}})


# --- JamAI Base (seed 003) ------------------------------------------------------------------


def test_jamai_sampling_fields_follow_the_seed():
    chat = fields("jamai-base", "/api/v1/chat/completions")
    for name, default in (("temperature", 0.2), ("top_p", 0.6)):
        low = chat[name].get("minimum", chat[name].get("exclusiveMinimum"))
        assert low == 0.001 and chat[name]["default"] == default, name
    assert chat["max_tokens"]["default"] == 2048
    assert chat["stream"]["default"] is False


def test_jamai_rag_params_need_a_table_and_take_k_from_1_to_1024():
    doc = load("jamai-base")
    chat = request_schema(doc, "/api/v1/chat/completions")["properties"]
    rag = the_variant(doc, chat["rag_params"])
    assert rag["required"] == ["table_id"]
    k = rag["properties"]["k"]
    assert (k["type"], k["minimum"], k["maximum"], k["default"]) == ("integer", 1, 1024, 3)
    assert {"reranking_model", "search_query", "inline_citations"} <= set(rag["properties"])
    assert rag["properties"]["inline_citations"]["type"] == "boolean"
    message = [{"role": "user", "content": "What does the paper say?"}]
    path = "/api/v1/chat/completions"
    assert valid("jamai-base", path, {"messages": message, "rag_params": {"table_id": "papers", "k": 5}})
    assert not valid("jamai-base", path, {"messages": message, "rag_params": {"table_id": "papers", "k": 0}})
    assert not valid("jamai-base", path, {"messages": message, "rag_params": {"k": 5}})


def test_jamai_tools_are_web_search_code_interpreter_and_function():
    doc = load("jamai-base")
    chat = request_schema(doc, "/api/v1/chat/completions")["properties"]
    kinds = {resolve(doc, tool)["properties"]["type"]["enum"][0] for tool in chat["tools"]["items"]["oneOf"]}
    assert kinds == {"web_search", "code_interpreter", "function"}
    assert enum_values(doc, chat["tool_choice"]) == {"none", "auto", "required"}


def test_jamai_declares_its_extra_headers():
    doc = load("jamai-base")
    headers = {header["name"]: header for header in doc["x-playground-headers"]}
    assert set(headers) == {"X-PROJECT-ID", "X-USER-ID"}
    for header in headers.values():
        assert header["required"] is False and header["secret"] is False and header["description"]
    declared = {resolve(doc, p)["name"] for p in doc["paths"]["/api/v1/chat/completions"]["post"]["parameters"]}
    assert declared == {"X-PROJECT-ID", "X-USER-ID"}


def test_jamai_embeddings_know_queries_from_documents():
    embeddings = fields("jamai-base", "/api/v1/embeddings")
    assert embeddings["type"]["enum"] == ["query", "document"]


def test_jamai_rerank_takes_a_model_a_query_and_documents_only():
    rerank = fields("jamai-base", "/api/v1/rerank")
    assert set(rerank) == {"model", "query", "documents"}


# --- OpenAI ---------------------------------------------------------------------------------


def test_openai_chat_ranges():
    chat = fields("openai")
    assert (chat["temperature"]["minimum"], chat["temperature"]["maximum"], chat["temperature"]["default"]) == (0, 2, 1)
    assert (chat["top_p"]["minimum"], chat["top_p"]["maximum"], chat["top_p"]["default"]) == (0, 1, 1)
    assert (chat["n"]["minimum"], chat["n"]["maximum"], chat["n"]["default"]) == (1, 128, 1)
    arrays = [option for option in chat["stop"]["anyOf"] if option.get("type") == "array"]
    assert [option["maxItems"] for option in arrays] == [4]
    assert {"string", "null"} <= {option.get("type") for option in chat["stop"]["anyOf"]}


def test_openai_roles_include_the_assistant_and_tools():
    doc = load("openai")
    message = resolve(doc, request_schema(doc, "/chat/completions")["properties"]["messages"]["items"])
    assert message["properties"]["role"]["enum"] == ["system", "developer", "user", "assistant", "tool"]


def test_openai_image_sizes_are_written_with_an_x():
    doc = load("openai")
    images = request_schema(doc, "/images/generations")["properties"]
    sizes = enum_values(doc, images["size"])
    assert {"256x256", "512x512", "1024x1024", "1792x1024", "1024x1792"} <= sizes
    assert not any("*" in size for size in sizes)
    assert enum_values(doc, images["response_format"]) == {"url", "b64_json"}


def test_openai_embeddings_take_up_to_2048_inputs():
    doc = load("openai")
    embeddings = request_schema(doc, "/embeddings")["properties"]
    string_lists = [v for v in variants(doc, embeddings["input"]) if v.get("items", {}).get("type") == "string"]
    assert string_lists[0]["maxItems"] == 2048
    assert embeddings["encoding_format"]["enum"] == ["float", "base64"]
    assert embeddings["dimensions"]["minimum"] == 1
    assert not valid("openai", "/embeddings", {"model": "m", "input": ["x"] * 2049})


# --- Self-hosted servers --------------------------------------------------------------------


def test_vllm_offers_its_sampling_extras_and_structured_outputs():
    doc = load("vllm")
    for path in ("/chat/completions", "/completions"):
        body = request_schema(doc, path)["properties"]
        assert {"top_k", "min_p", "repetition_penalty", "structured_outputs"} <= set(body)
        assert not any(name.startswith("guided_") for name in body), "vLLM removed the guided_* fields"
    chat = request_schema(doc, "/chat/completions")["properties"]
    assert the_variant(doc, chat["repetition_penalty"])["exclusiveMinimum"] == 0
    structured = the_variant(doc, chat["structured_outputs"])
    assert {"json", "regex", "choice", "grammar"} <= set(structured["properties"])


def test_ollama_leaves_out_what_it_ignores():
    chat = fields("ollama")
    for name in ("tool_choice", "logit_bias", "user", "n"):
        assert name not in chat
    assert {"best_of", "echo", "n"}.isdisjoint(fields("ollama", "/completions"))
    assert fields("ollama", "/completions")["prompt"]["type"] == "string"


def test_llamacpp_offers_its_samplers_but_only_one_choice():
    chat = fields("llamacpp")
    assert {"top_k", "min_p", "typical_p", "repeat_penalty", "mirostat", "grammar", "json_schema"} <= set(chat)
    assert chat["mirostat"]["enum"] == [0, 1, 2]
    assert {"n", "echo", "best_of", "suffix"}.isdisjoint(fields("llamacpp", "/completions"))
