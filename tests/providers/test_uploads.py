"""Hostile OpenAPI uploads and oversized bodies: a message beside the field, never a 500 or a crash."""

from __future__ import annotations

import json
import tracemalloc

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.asgi import application
from playground.schema.documents import MAX_DEPTH

CHAT = "/v1/chat/completions"


def openapi(schema, components=None) -> dict:
    document = {
        "openapi": "3.0.0",
        "paths": {CHAT: {"post": {"requestBody": {"content": {"application/json": {"schema": schema}}}}}},
    }
    if components:
        document["components"] = {"schemas": components}
    return document


def nested_json(depth: int) -> str:
    return json.dumps(openapi({}))[:-1] + ', "x-deep": ' + "[" * depth + "]" * depth + "}"


def nested_yaml(depth: int, style: str) -> str:
    head = "openapi: '3.0.0'\npaths:\n  /v1/chat/completions: {}\nx-deep: "
    if style == "flow":
        return head + "[" * depth + "]" * depth + "\n"
    if style == "compact":
        return head + "\n" + "- " * depth + "x\n"
    return head + "\n" + "".join(" " * (level + 1) + f"k{level}:\n" for level in range(depth)) + " " * depth + " v\n"


def fan_out(levels: int, width: int) -> str:
    """Each schema refers `width` times to the next: width ** levels nodes once expanded."""
    components = {
        f"S{level}": {
            "type": "object",
            "properties": {f"p{i}": {"$ref": f"#/components/schemas/S{level + 1}"} for i in range(width)},
        }
        for level in range(levels)
    }
    components[f"S{levels}"] = {"type": "string"}
    return json.dumps(openapi({"$ref": "#/components/schemas/S0"}, components))


@pytest.fixture
def upload(client, team_with_roles, demo_provider):
    client.force_login(team_with_roles.users["admin"])
    url = reverse("schema_upload", args=[demo_provider.pk])

    def send(text: str):
        response = client.post(url, {"document": text})
        assert response.status_code in (200, 302), response.status_code
        demo_provider.refresh_from_db()
        page = response.content.decode() if response.status_code == 200 else ""
        return demo_provider.schema_source == "uploaded", page

    return send


def field_error(page: str) -> str:
    """The text of the document box's field (label, errors and the box)."""
    box = page.index('id="id_document"')
    return page[page.rindex('<div class="field', 0, box) : page.index("</textarea>", box)]


@pytest.mark.parametrize(
    "text",
    [
        nested_json(100_000),
        nested_yaml(40_000, "flow"),  # crashed the process (libyaml's composer) before the depth check
        nested_yaml(100_000, "compact"),
        nested_yaml(MAX_DEPTH + 5, "block"),
    ],
    ids=["json", "yaml-flow", "yaml-compact", "yaml-block"],
)
def test_a_document_nested_too_deeply_is_refused_beside_the_field(upload, text):
    used, page = upload(text)
    assert not used
    assert f"nests more than {MAX_DEPTH} levels" in field_error(page)


def test_references_that_fan_out_are_refused_with_bounded_memory(upload):
    tracemalloc.start()
    used, page = upload(fan_out(levels=40, width=2))  # 2**40 nodes if expanded
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert not used
    assert "too large once its references are expanded" in field_error(page)
    assert peak < 300 * 1024 * 1024, f"peak {peak >> 20} MB"


def test_a_pasted_document_over_5_mb_is_refused_beside_the_field(upload):
    used, page = upload("x" * (5 * 1024 * 1024 + 1))
    assert not used
    assert "longer than 5 MB" in field_error(page)


def test_a_file_over_5_mb_is_refused_beside_its_field(client, team_with_roles, demo_provider):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(team_with_roles.users["admin"])
    big = SimpleUploadedFile("spec.json", b" " * (5 * 1024 * 1024 + 1), content_type="application/json")
    page = client.post(reverse("schema_upload", args=[demo_provider.pk]), {"file": big}).content.decode()
    box = page.index('id="id_file"')
    assert "larger than 5 MB" in page[page.rindex('<div class="field', 0, box) : box]
    demo_provider.refresh_from_db()
    assert demo_provider.schema_source != "uploaded"


documents = st.one_of(
    st.builds(nested_json, st.integers(1, 2 * MAX_DEPTH)),
    st.builds(nested_yaml, st.integers(1, 2 * MAX_DEPTH), st.sampled_from(["flow", "compact", "block"])),
    st.builds(fan_out, st.integers(1, 30), st.integers(1, 4)),
    st.text(max_size=300),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=40,
    ).map(lambda value: json.dumps({"openapi": "3.1.0", "paths": {CHAT: {"post": value}}})),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=documents)
def test_any_upload_is_used_or_refused_with_a_reason_never_a_500(upload, text):
    used, page = upload(text)
    if not used:
        assert "has-error" in field_error(page) or "form-errors" in page


# --- The body limit, in front of Django (playground/limits.py) ------------------------------


async def call(scope_headers, chunks):
    """One HTTP request through the real ASGI application; the response and how much it read."""
    sent: list[dict] = []
    pending = list(chunks)
    reads = 0

    async def receive():
        nonlocal reads
        reads += 1
        if not pending:
            return {"type": "http.disconnect"}
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/teams/",
        "raw_path": b"/teams/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), *scope_headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    await application(scope, receive, send)
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start["status"], body.decode(), reads


async def test_a_body_declared_over_the_limit_is_refused_before_it_is_read(settings):
    settings.REQUEST_MAX_BYTES = 1024
    status, page, reads = await call([(b"content-length", b"5000")], [b"x" * 5000])
    assert (status, reads) == (413, 0)
    assert "larger than" in page and "choose a smaller file" in page


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(settings):
    settings.REQUEST_MAX_BYTES = 1024
    chunks = [b"x" * 600] * 50
    status, page, reads = await call([(b"transfer-encoding", b"chunked")], chunks)
    assert status == 413 and "larger than" in page
    assert reads == 2  # it stopped at the chunk that passed the limit, not at the 50th


def test_a_document_with_malformed_schemas_is_used_and_its_form_pages_render(upload, client, demo_provider):
    fields = {
        "pattern": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string", "pattern": "("}}},
        "length": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string", "minLength": "x"}}},
        "ceiling": {"type": "number", "maximum": "x"},
        "choice": {"enum": 5},
        "listed": {"type": "array", "items": 3},
        "either": {"oneOf": []},
    }
    request = {"type": "object", "required": 5, "properties": {"model": {"type": "string"}, **fields}}
    used, _ = upload(json.dumps(openapi(request)))
    assert used
    url = reverse("parameters", args=[demo_provider.pk, "chat"])
    page = client.get(url)
    assert page.status_code == 200
    assert all(f'name="p-{name}"' in page.content.decode() for name in fields)
    answered = client.post(url, {"model": "m", **{f"p-{name}": '{"a": "b"}' for name in fields}})
    assert answered.status_code in (200, 400)
    assert 'name="p-pattern"' in answered.content.decode()
