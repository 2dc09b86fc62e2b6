"""The demo upstream as a whole: keys, models, routing, its OpenAPI document, pace, and its mount point."""

from __future__ import annotations

import ast
import asyncio
import time
from pathlib import Path

import httpx
import orjson
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from playground.demo import catalog, wire
from playground.demo.app import application
from playground.demo.keys import demo_key
from playground.providers.profiles import profile_document

INVALID_KEY = {
    "error": {
        "message": "This demo server answers only keys made by this Playground installation; "
        "use the Demo provider's key.",
        "type": "invalid_request_error",
        "code": "invalid_api_key",
    }
}
MODEL_IDS = [
    "demo-chat",
    "demo-fast",
    "demo-slow",
    "demo-flaky",
    "demo-ratelimited",
    "demo-broken",
    "demo-long",
    "demo-image",
    "demo-embed",
    "demo-rerank",
]


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Token abc", "Basic dXNlcjpwYXNz"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/models"),
        ("POST", "/chat/completions"),
        ("POST", "/images/generations"),
        ("POST", "/embeddings"),
        ("POST", "/rerank"),
    ],
)
def test_it_refuses_calls_without_a_bearer_key(demo_upstream_url, authorization, method, path):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = httpx.request(method, demo_upstream_url + path, headers=headers, json={})
    assert response.status_code == 401
    assert response.json() == INVALID_KEY
    assert response.headers["www-authenticate"] == 'Bearer realm="playground-demo"'


def test_the_bearer_scheme_is_case_insensitive(demo_upstream_url):
    response = httpx.get(demo_upstream_url + "/models", headers={"Authorization": f"bearer {demo_key('any-case')}"})
    assert response.status_code == 200


def test_it_lists_the_models(demo):
    response = demo.get("/models")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["object"] == "list"
    assert [model["id"] for model in body["data"]] == MODEL_IDS
    for model in body["data"]:
        assert model == {"id": model["id"], "object": "model", "created": 1735689600, "owned_by": "playground-demo"}


def test_it_retrieves_one_model(demo):
    assert demo.get("/models/demo-slow").json()["id"] == "demo-slow"
    missing = demo.get("/models/gpt-7")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "model_not_found"


def test_unknown_paths_get_a_json_404(demo):
    response = demo.get("/files")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "message": "Invalid URL (GET /demo/v1/files)",
        "type": "invalid_request_error",
        "code": "unknown_url",
    }


def test_wrong_methods_get_a_405_naming_the_right_one(demo):
    response = demo.get("/chat/completions")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert demo.post("/models").status_code == 405


def test_a_body_that_is_not_json_is_a_400(demo):
    response = demo.post("/chat/completions", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "could not parse the JSON body" in response.json()["error"]["message"]
    assert demo.post("/chat/completions", json=["a", "list"]).status_code == 400


def test_the_openapi_document_is_public_and_describes_every_endpoint(demo_upstream_url):
    response = httpx.get(demo_upstream_url + "/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": "/demo/v1"}]
    assert {"/models", "/chat/completions", "/completions", "/images/generations", "/embeddings"} <= set(
        document["paths"]
    )
    schemas = document["components"]["schemas"]
    chat = schemas["CreateChatCompletionRequest"]
    assert chat["required"] == ["model", "messages"]
    temperature = chat["properties"]["temperature"]
    assert (temperature["minimum"], temperature["maximum"], temperature["default"]) == (0, 2, 1)
    assert "null" in temperature["type"]
    assert schemas["ChatMessage"]["properties"]["role"]["enum"] == ["system", "developer", "user", "assistant", "tool"]
    stop_branches = chat["properties"]["stop"]["anyOf"]
    assert {"type": "string"} in stop_branches
    assert any(branch.get("type") == "array" and branch["maxItems"] == 4 for branch in stop_branches)
    assert "size" in schemas["CreateImageRequest"]["properties"]
    assert schemas["CreateEmbeddingRequest"]["properties"]["dimensions"]["default"] == 256
    for path in ["/chat/completions", "/completions", "/images/generations", "/embeddings", "/rerank"]:
        reference = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert reference.rsplit("/", 1)[-1] in schemas


def test_the_document_served_is_the_demo_providers_profile(demo):
    assert demo.get("/openapi.json").json() == profile_document("demo")


def test_the_document_describes_every_model_of_the_catalog():
    document = profile_document("demo")
    for model in catalog.MODELS.values():
        assert f"`{model.id}`: {model.purpose}" in document["info"]["description"]
    schemas = document["components"]["schemas"]
    for request in ("CreateChatCompletionRequest", "CreateCompletionRequest"):
        model = schemas[request]["properties"]["model"]
        assert model["examples"] == catalog.CHAT_MODELS
        for model_id in catalog.CHAT_MODELS:
            assert f"`{model_id}`: {catalog.MODELS[model_id].purpose}" in model["description"]


def _imported_modules(path: Path) -> list[str]:
    modules = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            modules.append(node.module or "")
        elif isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
    return modules


def test_the_demo_imports_nothing_from_the_rest_of_the_playground():
    # It stands alone: its own modules, Django, the stdlib, third-party packages and the
    # project's environment readers. Its document is read as a file (see demo/openapi.py).
    folder = Path(__file__).resolve().parents[2] / "playground" / "demo"
    borrowed = [
        f"{path.relative_to(folder)}: {module}"
        for path in sorted(folder.rglob("*.py"))
        for module in _imported_modules(path)
        if module.startswith("playground") and not module.startswith(("playground.demo", "playground.env"))
    ]
    assert borrowed == []


def _bounded_fields():
    from playground.demo.openapi import SCHEMAS

    fields = SCHEMAS["CreateChatCompletionRequest"]["properties"]
    return [
        (name, field["minimum"], field.get("maximum"))
        for name, field in fields.items()
        if "minimum" in field and abs(field["minimum"]) < 1000
    ]


@pytest.mark.parametrize(("name", "low", "high"), _bounded_fields())
def test_the_demo_enforces_exactly_the_ranges_its_document_declares(demo, name, low, high):
    body = {"model": "demo-fast", "messages": [{"role": "user", "content": "hi"}], "logprobs": True}
    assert demo.post("/chat/completions", json={**body, name: low}).status_code == 200
    below = demo.post("/chat/completions", json={**body, name: low - 1})
    assert below.status_code == 400
    assert below.json()["error"]["param"] == name
    if high is not None:
        assert demo.post("/chat/completions", json={**body, name: high}).status_code == 200
        above = demo.post("/chat/completions", json={**body, name: high + 1})
        assert above.status_code == 400
        assert above.json()["error"]["param"] == name


async def test_the_main_asgi_app_serves_the_demo_under_its_prefix():
    from playground.asgi import http_app

    transport = httpx.ASGITransport(app=http_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/demo/v1/models", headers={"Authorization": f"Bearer {demo_key('main-app')}"})
    assert response.status_code == 200
    assert response.json()["data"][0]["id"] == "demo-chat"


async def test_demo_pace_ms_sets_the_time_per_token(monkeypatch):
    # 60 ms a token: 360 ms to the first token, then 4 more tokens. The default pace would take 250 ms.
    monkeypatch.setenv("DEMO_PACE_MS", "60")
    body = {"model": "demo-chat", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, "stream": True}
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        started = time.perf_counter()
        response = await client.post(
            "/demo/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {demo_key('pace')}"}
        )
        elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert response.text.count('"content":"') == 6  # the role chunk and five tokens
    assert elapsed >= 0.55


async def test_a_stream_stops_when_the_client_leaves(monkeypatch):
    monkeypatch.setenv("DEMO_PACE_MS", "5")  # about 0.5 s for the whole answer, were it all sent
    request = orjson.dumps({"model": "demo-chat", "messages": [{"role": "user", "content": "hi"}], "stream": True})
    left = asyncio.Event()
    received = []
    sent = []

    async def receive():
        if not received:
            received.append(request)
            return {"type": "http.request", "body": request, "more_body": False}
        await left.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        if len(sent) == 5:  # headers, the role chunk and three tokens
            left.set()

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/demo/v1/chat/completions",
        "headers": [(b"authorization", f"Bearer {demo_key('leaving')}".encode())],
        "scheme": "http",
        "server": ("testserver", 80),
    }
    await asyncio.wait_for(application(scope, receive, send), timeout=5)
    assert 5 <= len(sent) <= 6
    assert all(message.get("more_body") for message in sent[1:])
    assert b"[DONE]" not in b"".join(message.get("body", b"") for message in sent)


async def test_a_stream_sends_keep_alive_comments_while_it_waits_long(monkeypatch):
    # Scaled down: keep-alive after 50 ms of waiting instead of 1 s; the first token comes after 240 ms.
    monkeypatch.setattr(wire, "KEEP_ALIVE_AFTER_S", 0.05)
    monkeypatch.setenv("DEMO_PACE_MS", "40")
    body = {"model": "demo-chat", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2, "stream": True}
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            "/demo/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {demo_key('wait')}"}
        )
    before_first_event = response.text.split("data: ")[0]
    assert before_first_event.count(": keep-alive\n\n") == 4
    assert response.text.count(": keep-alive") == 4


def test_the_request_schemas_are_valid_json_schema_and_agree_with_the_demo(demo):
    document = demo.get("/openapi.json").json()
    registry = Registry().with_resource("urn:demo", Resource.from_contents(document, DRAFT202012))

    def validator(name):
        schema = {"$ref": f"urn:demo#/components/schemas/{name}"}
        return Draft202012Validator(schema, registry=registry)

    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    chat = validator("CreateChatCompletionRequest")
    good = {
        "model": "demo-fast",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        "temperature": 0.5,
        "stop": ["\n"],
        "logit_bias": {"50256": -100},
        "response_format": {"type": "json_object"},
        "stream_options": None,
    }
    assert list(chat.iter_errors(good)) == []
    assert demo.post("/chat/completions", json=good).status_code == 200
    for bad in [{"temperature": 2.5}, {"stop": ["a"] * 5}, {"messages": [{"role": "robot", "content": "x"}]}]:
        assert list(chat.iter_errors({**good, **bad})) != []
        assert demo.post("/chat/completions", json={**good, **bad}).status_code == 400
    image = validator("CreateImageRequest")
    assert list(image.iter_errors({"prompt": "a cat", "size": "512*512"})) == []
    assert list(image.iter_errors({"prompt": "a cat", "size": "100x100"})) != []
